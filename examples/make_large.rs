//! Writes a synthetic dossier of a given size for the scale benchmark (`bench/scale.py`).
//!
//! ```text
//! cargo run --release --example make_large -- --pages 5000 --seed 1 --out /tmp/large
//! ```
//!
//! About half of the pages are multi-page scanned PDFs (200 dpi page images), 30 % single
//! 300-dpi JPEG scans of A4 pages, 20 % 12-megapixel phone photos carrying EXIF orientation tags
//! (1, 3, 6, 8). File sizes are realistic (≈0.3 MB per scanned page, ≈1 MB per 300-dpi scan,
//! ≈3–4 MB per photo). Deterministic for a seed. To stay fast it encodes a small pool of page
//! images and photos once and gives every file its own bytes (a JPEG comment with the file's
//! name), so no two files are equal and every one costs a full decode.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dossier::catalog::Catalog;
use dossier::model::Date;
use dossier::normalize::{Jpeg, jpeg_pdf};
use image::RgbImage;

mod common;
use common::{Rng, exif_orientation, jpeg};

fn main() -> Result<()> {
    let mut pages = 500usize;
    let mut seed = 1u64;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--pages" => pages = args.next().context("--pages N")?.parse()?,
            "--seed" => seed = args.next().context("--seed N")?.parse()?,
            "--out" => out = Some(args.next().context("--out DIR")?.into()),
            other => bail!("unknown argument {other}"),
        }
    }
    let out = out.context("--out DIR is required")?;
    if out.exists() && std::fs::read_dir(&out)?.next().is_some() {
        bail!("{} is not empty", out.display());
    }
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);
    eprintln!("encoding the image pool …");
    let pool = Pool::new(&mut rng)?;
    write_dossier(&out, pages, &pool, &mut rng)
}

/// Encoded images every file is made from.
struct Pool {
    /// 200-dpi A4 page scans (grey), for scanned PDFs: (jpeg, width, height).
    pages: Vec<(Vec<u8>, u32, u32)>,
    /// 300-dpi A4 scans (grey).
    scans: Vec<Vec<u8>>,
    /// 12 MP photos (colour), 4000 × 3000.
    photos: Vec<Vec<u8>>,
}

impl Pool {
    fn new(rng: &mut Rng) -> Result<Pool> {
        let pages = (0..4)
            .map(|_| {
                let (w, h) = (1654, 2339);
                Ok((jpeg(&text_page(w, h, rng), 70, None)?, w, h))
            })
            .collect::<Result<_>>()?;
        let scans = (0..3)
            .map(|_| jpeg(&text_page(2480, 3508, rng), 80, None))
            .collect::<Result<_>>()?;
        let photos = (0..3)
            .map(|_| jpeg(&photo(4000, 3000, rng), 85, None))
            .collect::<Result<_>>()?;
        Ok(Pool {
            pages,
            scans,
            photos,
        })
    }
}

/// A grey page with lines of "text" (dark dashes) and a little noise, like a scan.
fn text_page(w: u32, h: u32, rng: &mut Rng) -> image::GrayImage {
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([244]));
    let margin = w / 8;
    let line = h / 60;
    let mut y = h / 10;
    while y < h - h / 10 {
        let mut x = margin;
        while x < w - margin {
            let word = (w / 40) + rng.below(u64::from(w / 12)) as u32;
            for yy in y..(y + line / 2).min(h) {
                for xx in x..(x + word).min(w - margin) {
                    img.put_pixel(xx, yy, image::Luma([40 + (rng.below(40) as u8)]));
                }
            }
            x += word + w / 60;
        }
        y += line;
    }
    for p in img.pixels_mut() {
        if rng.below(50) == 0 {
            p.0[0] = p.0[0].saturating_sub(rng.below(60) as u8);
        }
    }
    img
}

/// A photo-like image: sky and ground gradients, some blocks, sensor noise.
fn photo(w: u32, h: u32, rng: &mut Rng) -> RgbImage {
    let base = [
        rng.below(80) as u8,
        100 + rng.below(80) as u8,
        160 + rng.below(80) as u8,
    ];
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let t = y as f32 / h as f32;
        if t < 0.55 {
            image::Rgb([
                base[0] + (t * 120.0) as u8,
                base[1] + (t * 60.0) as u8,
                base[2],
            ])
        } else {
            image::Rgb([90 + (t * 40.0) as u8, 110 + (t * 30.0) as u8, 60])
        }
    });
    for _ in 0..40 {
        let (x0, y0) = (
            rng.below(u64::from(w)) as u32,
            rng.below(u64::from(h)) as u32,
        );
        let (bw, bh) = (100 + rng.below(500) as u32, 100 + rng.below(700) as u32);
        let c = [
            rng.below(255) as u8,
            rng.below(255) as u8,
            rng.below(255) as u8,
        ];
        for y in y0..(y0 + bh).min(h) {
            for x in x0..(x0 + bw).min(w) {
                img.put_pixel(x, y, image::Rgb(c));
            }
        }
    }
    for p in img.pixels_mut() {
        let n = rng.below(17) as i16 - 8;
        for c in p.0.iter_mut() {
            *c = (i16::from(*c) + n).clamp(0, 255) as u8;
        }
    }
    img
}

/// The JPEG with a comment segment (making its bytes unique) and, for photos, an EXIF
/// orientation, inserted after the start-of-image marker.
fn variant(jpeg: &[u8], comment: &str, orientation: Option<u16>) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + 128);
    out.extend_from_slice(&jpeg[..2]);
    if let Some(o) = orientation {
        let mut tiff = b"Exif\0\0".to_vec();
        tiff.extend_from_slice(&exif_orientation(o));
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((tiff.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&tiff);
    }
    let c = comment.as_bytes();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((c.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(c);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A scanned PDF: one 200-dpi grayscale page image per page (A4).
fn scanned_pdf(pages: &[(Vec<u8>, u32, u32)]) -> Vec<u8> {
    let jpegs: Vec<Jpeg<'_>> = pages
        .iter()
        .map(|(data, width, height)| Jpeg {
            data,
            width: *width,
            height: *height,
            gray: true,
            orientation: 1,
        })
        .collect();
    jpeg_pdf(&jpegs, (595.0, 842.0))
}

/// One synthetic evidence file of record `n` of `item` in `dir`: (path, bytes, pages, title).
fn evidence(
    item: u32,
    n: u32,
    dir: &str,
    pool: &Pool,
    rng: &mut Rng,
) -> (String, Vec<u8>, usize, String) {
    // Page shares: half scanned PDFs, 30 % 300-dpi scans, 20 % photos.
    let roll = rng.below(100);
    if roll < 15 {
        let k = 3 + rng.below(10) as usize;
        let page_list: Vec<(Vec<u8>, u32, u32)> = (0..k)
            .map(|p| {
                let (j, w, h) = &pool.pages[rng.below(pool.pages.len() as u64) as usize];
                (variant(j, &format!("{:02}-{n:03}-{p}", item), None), *w, *h)
            })
            .collect();
        (
            format!("{dir}/扫描件{n:03}.pdf"),
            scanned_pdf(&page_list),
            k,
            format!("指标{}第{n}件扫描文件", item),
        )
    } else if roll < 60 {
        let j = &pool.scans[rng.below(pool.scans.len() as u64) as usize];
        (
            format!("{dir}/扫描{n:03}.jpg"),
            variant(j, &format!("{:02}-{n:03}", item), None),
            1,
            format!("指标{}第{n}件300dpi扫描页", item),
        )
    } else {
        let j = &pool.photos[rng.below(pool.photos.len() as u64) as usize];
        let o = [1u16, 3, 6, 8][rng.below(4) as usize];
        (
            format!("{dir}/照片{n:03}.jpg"),
            variant(j, &format!("{:02}-{n:03}", item), Some(o)),
            1,
            format!("指标{}第{n}张现场照片", item),
        )
    }
}

fn write_dossier(out: &Path, target: usize, pool: &Pool, rng: &mut Rng) -> Result<()> {
    let catalog = Catalog::get();
    std::fs::create_dir_all(out.join("items"))?;
    let date = Date {
        year: 2022,
        month: 5,
        day: 20,
    };
    let config =
        dossier::init::config_yaml(date, &catalog.county, dossier::init::plan_period(catalog))
            .replace(
                "输出文件名: 民权县质量强县示范县验收资料",
                "输出文件名: 规模测试",
            );
    std::fs::write(out.join("dossier.yaml"), config)?;
    std::fs::write(out.join("units.yaml"), dossier::units::DEFAULT_UNITS_YAML)?;
    let mut yaml: Vec<String> = catalog
        .items
        .iter()
        .map(|item| dossier::init::item_yaml(catalog, item, &catalog.county))
        .collect();
    let mut numbers = vec![0u32; catalog.items.len()];
    let (mut pages, mut bytes, mut files) = (0usize, 0u64, 0usize);
    let mut record = 0usize;
    while pages < target {
        let i = record % catalog.items.len();
        record += 1;
        let item = &catalog.items[i];
        numbers[i] += 1;
        let n = numbers[i];
        let dir = format!("evidence/{:02}", item.number);
        std::fs::create_dir_all(out.join(&dir))?;
        let (name, data, kind_pages, title) = evidence(item.number, n, &dir, pool, rng);
        std::fs::write(out.join(&name), &data)?;
        pages += kind_pages;
        bytes += data.len() as u64;
        files += 1;
        let unit = item.unit_names().first().copied().unwrap_or("县创建办公室");
        let day = 1 + rng.below(28);
        let month = 1 + rng.below(12);
        yaml[i].push_str(&format!(
            "  - 件号: {n}\n    题名: {title}\n    日期: 2021-{month:02}-{day:02}\n    责任单位: {unit}\n    考核内容: [{}]\n    文件: {name}\n",
            1 + rng.below(item.criteria.len() as u64)
        ));
    }
    for (item, text) in catalog.items.iter().zip(yaml) {
        std::fs::write(out.join(format!("items/{:02}.yaml", item.number)), text)?;
    }
    eprintln!(
        "wrote {} records, {files} files, {pages} evidence pages, {:.2} GiB to {}",
        record,
        bytes as f64 / f64::from(1 << 30),
        out.display()
    );
    Ok(())
}
