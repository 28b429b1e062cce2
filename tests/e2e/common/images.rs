//! Test images in every colour model and layout a scanner, phone or editor writes: JPEGs in
//! RGB, grey, CMYK and YCCK (with and without the Adobe marker) with any EXIF orientation, and
//! PNGs in every colour type and bit depth, plain or interlaced (Adam7), written by a small
//! encoder of our own so every variant is reachable.
//!
//! Every image shows the same picture, four coloured quadrants, so a test can check both the
//! colours and which way up the image came out.

#![allow(dead_code)]

use image::{DynamicImage, GenericImageView, ImageEncoder, RgbImage};

/// The four quadrants, as they are stored: top-left, top-right, bottom-left, bottom-right.
pub const QUADRANTS: [[u8; 3]; 4] = [[210, 30, 30], [30, 150, 60], [40, 60, 200], [235, 200, 40]];

/// The stored colour at pixel (x, y) of a `w` × `h` test picture.
pub fn quadrant_colour(x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    let right = x >= w / 2;
    let bottom = y >= h / 2;
    QUADRANTS[usize::from(bottom) * 2 + usize::from(right)]
}

/// The test picture in RGB.
pub fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb(quadrant_colour(x, y, w, h)))
}

/// Grey value of an RGB colour (as the picture is stored in grey variants).
pub fn grey(c: [u8; 3]) -> u8 {
    ((u32::from(c[0]) * 299 + u32::from(c[1]) * 587 + u32::from(c[2]) * 114) / 1000) as u8
}

/// A minimal EXIF block (APP1 payload without the "Exif\0\0" header) with an orientation tag.
pub fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
    exif.extend_from_slice(&orientation.to_le_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    exif
}

/// The kinds of JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegKind {
    /// Three-channel YCbCr (JFIF).
    Rgb,
    /// One channel.
    Grey,
    /// Four channels, CMYK, with Adobe's marker (inverted, as Photoshop and PIL write it).
    CmykAdobe,
    /// CMYK without the Adobe marker.
    CmykPlain,
    /// Four channels, YCCK (Photoshop's default for CMYK).
    Ycck,
}

/// A JPEG of the test picture.
pub fn jpeg(kind: JpegKind, w: u16, h: u16, orientation: u16) -> Vec<u8> {
    let pic = picture(u32::from(w), u32::from(h));
    let mut out = Vec::new();
    match kind {
        JpegKind::Rgb | JpegKind::Grey => {
            let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
            if orientation != 1 {
                enc.set_exif_metadata(exif_orientation(orientation))
                    .unwrap();
            }
            if kind == JpegKind::Grey {
                let g: Vec<u8> = pic.pixels().map(|p| grey(p.0)).collect();
                enc.write_image(&g, u32::from(w), u32::from(h), image::ExtendedColorType::L8)
                    .unwrap();
            } else {
                enc.write_image(
                    pic.as_raw(),
                    u32::from(w),
                    u32::from(h),
                    image::ExtendedColorType::Rgb8,
                )
                .unwrap();
            }
        }
        JpegKind::CmykAdobe | JpegKind::CmykPlain | JpegKind::Ycck => {
            // Ink amounts (0 = no ink) from RGB, with black generation.
            let cmyk: Vec<u8> = pic
                .pixels()
                .flat_map(|p| {
                    let [c, m, y] = p.0.map(|v| 255 - v);
                    let k = c.min(m).min(y);
                    let f = |v: u8| {
                        if k == 255 {
                            0
                        } else {
                            ((u16::from(v - k) * 255) / (255 - u16::from(k))) as u8
                        }
                    };
                    [f(c), f(m), f(y), k]
                })
                .collect();
            let colour = if kind == JpegKind::Ycck {
                jpeg_encoder::ColorType::CmykAsYcck
            } else {
                jpeg_encoder::ColorType::Cmyk
            };
            let enc = jpeg_encoder::Encoder::new(&mut out, 92);
            enc.encode(&cmyk, w, h, colour).unwrap();
            if kind == JpegKind::CmykPlain {
                out = strip_segment(&out, 0xEE);
            }
        }
    }
    out
}

/// A JPEG without its segments of marker `marker` (e.g. 0xEE, Adobe's APP14).
fn strip_segment(data: &[u8], marker: u8) -> Vec<u8> {
    let mut out = data[..2].to_vec();
    let mut i = 2;
    while i + 4 <= data.len() {
        let m = data[i + 1];
        if m == 0xDA {
            out.extend_from_slice(&data[i..]);
            break;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        if m != marker {
            out.extend_from_slice(&data[i..i + 2 + len]);
        }
        i += 2 + len;
    }
    out
}

/// PNG colour types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PngColour {
    /// Grey.
    Grey,
    /// Grey with alpha.
    GreyAlpha,
    /// RGB.
    Rgb,
    /// RGB with alpha.
    Rgba,
    /// Palette (indexed), with transparency for one entry.
    Palette,
}

impl PngColour {
    /// The PNG colour type of this colour model.
    const fn colour_type(self) -> u8 {
        match self {
            PngColour::Grey => 0,
            PngColour::Rgb => 2,
            PngColour::Palette => 3,
            PngColour::GreyAlpha => 4,
            PngColour::Rgba => 6,
        }
    }
}

/// A PNG of the test picture in `colour` at `depth` bits (8 or 16; palette: 1, 2, 4 or 8),
/// interlaced (Adam7) or not. Alpha variants are opaque except a transparent strip along the
/// top-left quadrant's top rows (which must print as white paper).
pub fn png(colour: PngColour, depth: u8, interlaced: bool, w: u32, h: u32) -> Vec<u8> {
    let pic = picture(w, h);
    let transparent = |x: u32, y: u32| x < w / 2 && y < (h / 8).max(1) && h >= 8;
    // Samples of one pixel, each as a u16 to be written at `depth` bits.
    let samples = |x: u32, y: u32| -> Vec<u16> {
        let c = pic.get_pixel(x, y).0;
        let scale = |v: u8| {
            if depth == 16 {
                u16::from(v) * 257
            } else {
                u16::from(v)
            }
        };
        let alpha = if transparent(x, y) { 0 } else { scale(255) };
        match colour {
            PngColour::Grey => vec![scale(grey(c))],
            PngColour::GreyAlpha => vec![scale(grey(c)), alpha],
            PngColour::Rgb => c.iter().map(|&v| scale(v)).collect(),
            PngColour::Rgba => c.iter().map(|&v| scale(v)).chain([alpha]).collect(),
            PngColour::Palette => {
                let q = QUADRANTS.iter().position(|&qc| qc == c).unwrap_or(0) as u16;
                vec![if transparent(x, y) { 4 } else { q }]
            }
        }
    };
    let channels = samples(0, 0).len();
    let bits_per_pixel = channels * usize::from(depth);
    // Adam7 passes: (x0, y0, dx, dy); one pass covering everything when not interlaced.
    let passes: Vec<(u32, u32, u32, u32)> = if interlaced {
        vec![
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ]
    } else {
        vec![(0, 0, 1, 1)]
    };
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in passes {
        if x0 >= w || y0 >= h {
            continue;
        }
        for y in (y0..h).step_by(dy as usize) {
            raw.push(0); // filter: none
            let mut bits: Vec<bool> = Vec::new();
            let mut bytes: Vec<u8> = Vec::new();
            for x in (x0..w).step_by(dx as usize) {
                for s in samples(x, y) {
                    match depth {
                        16 => bytes.extend_from_slice(&s.to_be_bytes()),
                        8 => bytes.push(s as u8),
                        d => (0..d).rev().for_each(|b| bits.push((s >> b) & 1 == 1)),
                    }
                }
            }
            if bits_per_pixel < 8 {
                bytes.extend(pack_bits(&bits));
            }
            raw.extend_from_slice(&bytes);
        }
    }
    let colour_type = colour.colour_type();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour_type, 0, 0, u8::from(interlaced)]);
    chunk(&mut out, b"IHDR", &ihdr);
    if colour == PngColour::Palette {
        let mut plte: Vec<u8> = QUADRANTS.iter().flatten().copied().collect();
        plte.extend_from_slice(&[0, 0, 0]);
        chunk(&mut out, b"PLTE", &plte);
        chunk(&mut out, b"tRNS", &[255, 255, 255, 255, 0]);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &raw).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Bits packed into bytes, most significant first (the last byte padded with zeros).
fn pack_bits(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8)
        .map(|chunk| {
            (chunk.iter().enumerate()).fold(0u8, |b, (i, &bit)| b | (u8::from(bit) << (7 - i)))
        })
        .collect()
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The picture as a viewer shows a file of `w` × `h` stored pixels with EXIF `orientation`:
/// the stored picture turned and flipped, transparent parts white.
pub fn expected(w: u32, h: u32, orientation: u16, grey_only: bool) -> RgbImage {
    let mut img = DynamicImage::ImageRgb8(picture(w, h));
    img.apply_orientation(
        image::metadata::Orientation::from_exif(orientation as u8).expect("orientation 1–8"),
    );
    let mut rgb = img.to_rgb8();
    if grey_only {
        for p in rgb.pixels_mut() {
            let g = grey(p.0);
            p.0 = [g, g, g];
        }
    }
    rgb
}

/// Mean colour of the region (fractions of the width and height) of an image.
pub fn mean(img: &RgbImage, x0: f64, y0: f64, x1: f64, y1: f64) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let xs = ((x0 * f64::from(w)) as u32)
        ..((x1 * f64::from(w)) as u32).max((x0 * f64::from(w)) as u32 + 1);
    let ys = ((y0 * f64::from(h)) as u32)
        ..((y1 * f64::from(h)) as u32).max((y0 * f64::from(h)) as u32 + 1);
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for y in ys {
        for x in xs.clone() {
            let p = img.get_pixel(x.min(w - 1), y.min(h - 1)).0;
            for c in 0..3 {
                sum[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

/// The largest difference, over the four quadrants' centres and channels, between the mean
/// colours of two images of the same aspect ratio: a coarse pixel diff.
pub fn quadrant_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    let mut worst = 0f64;
    for (x0, y0) in [(0.1, 0.3), (0.6, 0.3), (0.1, 0.6), (0.6, 0.6)] {
        let (ma, mb) = (
            mean(a, x0, y0, x0 + 0.3, y0 + 0.1),
            mean(b, x0, y0, x0 + 0.3, y0 + 0.1),
        );
        for c in 0..3 {
            worst = worst.max((ma[c] - mb[c]).abs());
        }
    }
    worst
}

/// The pixel size of an image.
pub fn size(img: &DynamicImage) -> (u32, u32) {
    img.dimensions()
}
