//! Reads the text of page images with the built-in OCR engine (`dossier::ocr`) and prints
//! each line with its box and confidence, then the time per page; what `bench/ocr.py` runs.
//!
//!     cargo run --release --example ocr_page -- 扫描件.png [更多图片 …]

use std::time::Instant;

fn main() {
    let start = Instant::now();
    let engine = match dossier::ocr::Engine::new() {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("无法加载识别模型：{e}");
            std::process::exit(2);
        }
    };
    eprintln!("加载模型：{:.3} 秒", start.elapsed().as_secs_f64());
    let mut pages = 0;
    let mut total = 0.0;
    for path in std::env::args().skip(1) {
        let page = match image::open(&path) {
            Ok(img) => img.to_rgb8(),
            Err(e) => {
                eprintln!("{path}：无法读取图片（{e}）");
                std::process::exit(2);
            }
        };
        let t = Instant::now();
        let lines = match engine.recognise(&page) {
            Ok(lines) => lines,
            Err(e) => {
                eprintln!("{path}：识别失败（{e}）");
                std::process::exit(2);
            }
        };
        let seconds = t.elapsed().as_secs_f64();
        for l in &lines {
            let [x0, y0, x1, y1] = l.bbox.map(|v| v.round() as i64);
            println!(
                "{path}\t{x0},{y0},{x1},{y1}\t{:.2}\t{}",
                l.confidence, l.text
            );
        }
        eprintln!("{path}：{} 行，{seconds:.3} 秒", lines.len());
        pages += 1;
        total += seconds;
    }
    if pages > 0 {
        eprintln!("每页 {:.3} 秒（{pages} 页）", total / f64::from(pages));
    }
}
