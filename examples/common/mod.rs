//! What the example generators share: a small deterministic random number generator, image
//! encoding and an EXIF orientation block.

/// splitmix64: tiny, fast and the same on every platform, so generated files are reproducible.
pub struct Rng(pub u64);

impl Rng {
    /// Seeded from a text (FNV-1a of its bytes), e.g. a file's path.
    #[allow(dead_code)] // each example uses one of the two seedings
    pub fn from(text: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// One element of a non-empty slice.
    #[allow(dead_code)]
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Encodes an image as JPEG at `quality`, with an EXIF block if one is given.
#[allow(dead_code)]
pub fn jpeg<P>(
    img: &image::ImageBuffer<P, Vec<u8>>,
    quality: u8,
    exif: Option<Vec<u8>>,
) -> anyhow::Result<Vec<u8>>
where
    P: image::Pixel<Subpixel = u8> + image::PixelWithColorType,
{
    use image::ImageEncoder;
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(exif) = exif {
        enc.set_exif_metadata(exif)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    enc.write_image(img.as_raw(), img.width(), img.height(), P::COLOR_TYPE)?;
    Ok(out)
}

/// Encodes an image as PNG.
#[allow(dead_code)]
pub fn png<P>(img: &image::ImageBuffer<P, Vec<u8>>) -> anyhow::Result<Vec<u8>>
where
    P: image::Pixel<Subpixel = u8> + image::PixelWithColorType,
{
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        P::COLOR_TYPE,
    )?;
    Ok(out)
}

/// A minimal little-endian TIFF block (the body of an EXIF segment) holding one IFD0 entry:
/// Orientation = `value` (1 upright, 3 upside down, 6 turn 90° clockwise, 8 counter-clockwise).
pub fn exif_orientation(value: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    t.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&value.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}
