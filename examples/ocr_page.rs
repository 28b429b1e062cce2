//! Reads the text of page images with the built-in OCR engine (`dossier::ocr`) and prints
//! each line with its box and confidence, then the time per page; what `bench/ocr.py` runs.
//! Pages are read side by side, one core each; with `--one-by-one`, one after the other, each
//! on every core.
//!
//!     cargo run --release --example ocr_page -- [--one-by-one] 扫描件.png [更多图片 …]

use std::time::Instant;

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let one_by_one = args.iter().any(|a| a == "--one-by-one");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let start = Instant::now();
    let engine =
        dossier::ocr::Engine::new().unwrap_or_else(|e| fail(format!("无法加载识别模型：{e}")));
    eprintln!("加载模型：{:.3} 秒", start.elapsed().as_secs_f64());
    let pages: Vec<image::RgbImage> = (paths.iter())
        .map(|p| match image::open(p) {
            Ok(img) => img.to_rgb8(),
            Err(e) => fail(format!("{p}：无法读取图片（{e}）")),
        })
        .collect();
    let t = Instant::now();
    let results = if one_by_one {
        pages.iter().map(|p| engine.recognise(p)).collect()
    } else {
        engine.recognise_pages(&pages)
    };
    let seconds = t.elapsed().as_secs_f64();
    for (path, result) in paths.iter().zip(results) {
        let lines = result.unwrap_or_else(|e| fail(format!("{path}：识别失败（{e}）")));
        for l in &lines {
            let [x0, y0, x1, y1] = l.bbox.map(|v| v.round() as i64);
            println!(
                "{path}\t{x0},{y0},{x1},{y1}\t{:.2}\t{}",
                l.confidence, l.text
            );
        }
        eprintln!("{path}：{} 行", lines.len());
    }
    if !pages.is_empty() {
        let how = if one_by_one { "逐页" } else { "并行" };
        eprintln!(
            "每页 {:.3} 秒（{} 页，{how}）",
            seconds / pages.len() as f64,
            pages.len()
        );
    }
}
