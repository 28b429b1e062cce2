//! What a raster image is before any pixel is decoded: its pixel size (from the header), whether
//! the file is complete, and for JPEGs the Adobe colour transform. `check` uses it so that a
//! truncated scan or a "decompression bomb" is an error at its record, found in milliseconds,
//! not a grey band on paper or an allocation failure that aborts `build`.
//!
//! - JPEG: the marker segments are walked to the start of the scan, then the entropy-coded data
//!   to the end-of-image marker (progressive files have several scans). A file that ends before
//!   it is truncated: a viewer shows grey or nothing where the rest of the picture was.
//! - PNG: every chunk's length and CRC are checked, up to `IEND`.
//! - GIF and WebP: the header gives the size; the decoder finds the rest.
//!
//! The pixel budget ([`MAX_PIXELS`], [`MAX_JPEG_PIXELS`]) bounds the memory normalising an image
//! takes: a PNG, GIF or WebP is decoded whole (4–8 bytes a pixel), a JPEG at 1/2–1/8 of its size
//! in the IDCT.

use std::fmt;

/// The most pixels a PNG, GIF or WebP may have: 100 million, a 600-dpi scan of an A2 sheet
/// (about 400 MB decoded, 800 MB at 16 bits a channel).
pub const MAX_PIXELS: u64 = 100_000_000;
/// The most pixels a JPEG may have: 250 million, beyond a 200-megapixel phone photo. JPEGs are
/// decoded at a fraction of their size, so they may be larger than other images.
pub const MAX_JPEG_PIXELS: u64 = 250_000_000;

/// The format of an image, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

/// What the structure of an image file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// JPEG only: the Adobe APP14 colour transform (0 = CMYK or RGB, 1 = YCbCr, 2 = YCCK), if
    /// the file has an Adobe marker.
    pub adobe_transform: Option<u8>,
    /// JPEG only: the number of colour components (1 grey, 3 colour, 4 CMYK/YCCK).
    pub components: u8,
    /// JPEG only: the EXIF orientation (1–8; 1 when there is none).
    pub orientation: u8,
    /// JPEG only: the start-of-frame marker's second byte (0xC0 baseline, 0xC1 extended,
    /// 0xC2 progressive, others lossless or arithmetic coding); 0 for other formats.
    pub sof: u8,
    /// JPEG only: bits per sample (8 or 12); 8 for other formats.
    pub precision: u8,
}

impl Header {
    /// Whether a PDF reader decodes this JPEG as it is (a DCTDecode stream): Huffman-coded
    /// baseline, extended or progressive, 8 bits, grey or three-colour. CMYK and YCCK are left
    /// to the decoder (the meaning of their Adobe inversion differs between readers).
    pub fn pdf_compatible_jpeg(&self) -> bool {
        matches!(self.sof, 0xC0..=0xC2) && self.precision == 8 && matches!(self.components, 1 | 3)
    }
}

impl Header {
    /// Width and height as the image is shown, its EXIF orientation applied.
    pub fn shown_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Why an image cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    /// The file ends before the image does.
    Truncated(String),
    /// The structure is broken (a bad length, a checksum that does not match).
    Corrupt(String),
    /// More pixels than the budget allows.
    TooLarge {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// The budget for this format.
        max: u64,
    },
    /// No size, or a zero size.
    NoSize,
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Truncated(why) => write!(f, "图片不完整：{why}"),
            Defect::Corrupt(why) => write!(f, "图片数据损坏：{why}"),
            Defect::TooLarge { width, height, max } => write!(
                f,
                "图片有 {width}×{height} = {:.0} 百万像素，超过了 {:.0} 百万像素的上限",
                (*width as f64) * (*height as f64) / 1e6,
                *max as f64 / 1e6
            ),
            Defect::NoSize => write!(f, "图片尺寸为 0 或读不出尺寸"),
        }
    }
}

/// Reads the structure of an image of format `format`, checking it is complete and within the
/// pixel budget.
pub fn examine(format: Format, data: &[u8]) -> Result<Header, Defect> {
    let header = match format {
        Format::Jpeg => jpeg(data)?,
        Format::Png => png(data)?,
        Format::Gif => gif(data)?,
        Format::Webp => webp(data)?,
    };
    if header.width == 0 || header.height == 0 {
        return Err(Defect::NoSize);
    }
    let max = if format == Format::Jpeg {
        MAX_JPEG_PIXELS
    } else {
        MAX_PIXELS
    };
    if u64::from(header.width) * u64::from(header.height) > max {
        return Err(Defect::TooLarge {
            width: header.width,
            height: header.height,
            max,
        });
    }
    Ok(header)
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn le24(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
        *d.get(at + 2)?,
        0,
    ]))
}

/// Walks a JPEG's markers and scans to its end-of-image marker.
fn jpeg(d: &[u8]) -> Result<Header, Defect> {
    let truncated = || Defect::Truncated("文件在图像数据中间就结束了（可能没有复制完整）".into());
    if !d.starts_with(&[0xFF, 0xD8]) {
        return Err(Defect::Corrupt("缺少 JPEG 文件头".into()));
    }
    let mut header: Option<Header> = None;
    let mut adobe = None;
    let mut orientation = 1;
    let mut i = 2;
    loop {
        // Fill bytes (0xFF) may precede a marker.
        while d.get(i) == Some(&0xFF) && d.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (d.get(i), d.get(i + 1)) else {
            return Err(if i >= d.len() {
                truncated()
            } else {
                Defect::Corrupt(format!("第 {i} 字节处应是标记，数据不对"))
            });
        };
        i += 2;
        match marker {
            0xD9 => break, // end of image
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len = usize::from(be16(d, i).ok_or_else(truncated)?);
        if len < 2 {
            return Err(Defect::Corrupt(format!("标记 FF{marker:02X} 的长度不对")));
        }
        let seg = d.get(i + 2..i + len).ok_or_else(truncated)?;
        match marker {
            // Start of frame (any coding process except DHT/JPG/DAC, which share the range).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let (Some(h), Some(w)) = (be16(seg, 1), be16(seg, 3)) else {
                    return Err(Defect::Corrupt("图像尺寸段太短".into()));
                };
                header = Some(Header {
                    width: u32::from(w),
                    height: u32::from(h),
                    adobe_transform: None,
                    components: seg.get(5).copied().unwrap_or(0),
                    orientation: 1,
                    sof: marker,
                    precision: seg.first().copied().unwrap_or(0),
                });
            }
            0xEE if seg.starts_with(b"Adobe") => adobe = seg.get(11).copied(),
            0xE1 if seg.starts_with(b"Exif\0\0") => {
                orientation = exif_orientation(&seg[6..]).unwrap_or(1);
            }
            _ => {}
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data: ends at a marker other than a stuffed 0xFF00 or a restart.
            // memchr jumps from one 0xFF to the next (about one byte in 256 here).
            loop {
                let Some(at) = d.get(i..).and_then(|rest| memchr::memchr(0xFF, rest)) else {
                    return Err(truncated());
                };
                i += at;
                match d.get(i + 1) {
                    None => return Err(truncated()),
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => i += 1,
                    Some(_) => break,
                }
            }
        }
    }
    let mut h = header.ok_or_else(|| Defect::Corrupt("没有图像尺寸段".into()))?;
    h.adobe_transform = adobe;
    h.orientation = orientation;
    Ok(h)
}

/// The orientation tag (0x0112) of an EXIF block (a TIFF structure), if it has one.
fn exif_orientation(tiff: &[u8]) -> Option<u8> {
    let big = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let b = [*tiff.get(at)?, *tiff.get(at + 1)?];
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries.min(512)).find_map(|i| {
        let at = ifd + 2 + i * 12;
        (u16_at(at)? == 0x0112)
            .then(|| u16_at(at + 8))
            .flatten()
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| (1..=8).contains(v))
    })
}

/// Checks every chunk of a PNG (length, CRC) up to `IEND`.
fn png(d: &[u8]) -> Result<Header, Defect> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !d.starts_with(SIGNATURE) {
        return Err(Defect::Corrupt("缺少 PNG 文件头".into()));
    }
    let mut i = SIGNATURE.len();
    let mut size = None;
    loop {
        let Some(len) = be32(d, i) else {
            return Err(Defect::Truncated(
                "文件在图像数据中间就结束了（缺少结束块 IEND，可能没有复制完整）".into(),
            ));
        };
        let len = len as usize;
        let Some(chunk) = d.get(i + 4..i + 8 + len) else {
            return Err(Defect::Truncated(
                "文件在图像数据中间就结束了（可能没有复制完整）".into(),
            ));
        };
        let Some(crc) = be32(d, i + 8 + len) else {
            return Err(Defect::Truncated("文件在最后一个数据块中间结束".into()));
        };
        let kind = &chunk[..4];
        if crc32fast::hash(chunk) != crc {
            return Err(Defect::Corrupt(format!(
                "数据块 {} 的校验和不对",
                String::from_utf8_lossy(kind)
            )));
        }
        if kind == b"IHDR" {
            size = Some((be32(chunk, 4).unwrap_or(0), be32(chunk, 8).unwrap_or(0)));
        }
        if kind == b"IEND" {
            break;
        }
        i += 12 + len;
    }
    let (width, height) = size.ok_or_else(|| Defect::Corrupt("没有 IHDR 块".into()))?;
    Ok(Header {
        width,
        height,
        adobe_transform: None,
        components: 0,
        orientation: 1,
        sof: 0,
        precision: 8,
    })
}

fn gif(d: &[u8]) -> Result<Header, Defect> {
    let (Some(w), Some(h)) = (le16(d, 6), le16(d, 8)) else {
        return Err(Defect::Truncated("文件太短".into()));
    };
    Ok(Header {
        width: u32::from(w),
        height: u32::from(h),
        adobe_transform: None,
        components: 0,
        orientation: 1,
        sof: 0,
        precision: 8,
    })
}

fn webp(d: &[u8]) -> Result<Header, Defect> {
    let short = || Defect::Truncated("文件太短".into());
    let riff = be32(d, 4).map(u32::swap_bytes).ok_or_else(short)? as usize;
    if d.len() < riff + 8 {
        return Err(Defect::Truncated(
            "文件比它自己声明的短（可能没有复制完整）".into(),
        ));
    }
    let (w, h) = match d.get(12..16) {
        Some(b"VP8 ") => (
            u32::from(le16(d, 26).ok_or_else(short)? & 0x3FFF),
            u32::from(le16(d, 28).ok_or_else(short)? & 0x3FFF),
        ),
        Some(b"VP8L") => {
            let bits = u32::from_le_bytes(
                d.get(21..25)
                    .ok_or_else(short)?
                    .try_into()
                    .unwrap_or([0; 4]),
            );
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        Some(b"VP8X") => (
            le24(d, 24).ok_or_else(short)? + 1,
            le24(d, 27).ok_or_else(short)? + 1,
        ),
        _ => return Err(Defect::Corrupt("不认识的 WebP 格式".into())),
    };
    Ok(Header {
        width: w,
        height: h,
        adobe_transform: None,
        components: 0,
        orientation: 1,
        sof: 0,
        precision: 8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;

    fn jpeg_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .write_image(
                &vec![128u8; (w * h * 3) as usize],
                w,
                h,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        out
    }

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                &vec![9u8; (w * h) as usize],
                w,
                h,
                image::ExtendedColorType::L8,
            )
            .unwrap();
        out
    }

    #[test]
    fn complete_images_give_their_size() {
        let h = examine(Format::Jpeg, &jpeg_of(64, 48)).unwrap();
        assert_eq!((h.width, h.height, h.components), (64, 48, 3));
        assert_eq!(h.adobe_transform, None);
        let h = examine(Format::Png, &png_of(30, 20)).unwrap();
        assert_eq!((h.width, h.height), (30, 20));
    }

    #[test]
    fn the_exif_orientation_turns_the_shown_size() {
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
        let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&6u16.to_le_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        enc.set_exif_metadata(exif).unwrap();
        enc.write_image(
            &vec![9u8; 40 * 30 * 3],
            40,
            30,
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
        let h = examine(Format::Jpeg, &out).unwrap();
        assert_eq!((h.orientation, h.shown_size()), (6, (30, 40)));
        assert_eq!(
            examine(Format::Jpeg, &jpeg_of(40, 30))
                .unwrap()
                .shown_size(),
            (40, 30)
        );
    }

    #[test]
    fn truncated_and_damaged_images_are_found() {
        let j = jpeg_of(64, 48);
        for cut in [j.len() - 2, j.len() / 2, 200] {
            assert!(
                matches!(examine(Format::Jpeg, &j[..cut]), Err(Defect::Truncated(_))),
                "cut at {cut}"
            );
        }
        let p = png_of(30, 20);
        assert!(matches!(
            examine(Format::Png, &p[..p.len() - 12]),
            Err(Defect::Truncated(_))
        ));
        let mut flipped = p.clone();
        let mid = p.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(matches!(
            examine(Format::Png, &flipped),
            Err(Defect::Corrupt(_))
        ));
    }

    #[test]
    fn the_pixel_budget_is_read_from_the_header() {
        // A PNG that claims 100000 × 100000 pixels: only its header is read.
        let mut p = png_of(1, 1);
        p[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        p[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32fast::hash(&p[12..29]);
        p[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            examine(Format::Png, &p),
            Err(Defect::TooLarge {
                width: 100_000,
                height: 100_000,
                max: MAX_PIXELS
            })
        );
    }
}
