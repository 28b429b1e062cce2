//! Evidence files: where a path written in a record may point (inside the dossier root only),
//! what kind of file it is (by content, not by name), and whether it can be typeset: a PDF
//! that opens without a password and has pages, an image whose header reads.
//!
//! Files are only ever opened for reading. The checks here use the same PDF parser as Typst
//! (hayro-syntax), so a file that passes here is one Typst can embed.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file is, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// A PDF document.
    Pdf,
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
    /// A GIF image.
    Gif,
    /// A WebP image.
    Webp,
    /// Anything else: goes into the package only.
    Other,
}

impl Kind {
    /// Whether Typst can put this kind of file into the dossier.
    pub fn typesettable(self) -> bool {
        self != Kind::Other
    }

    /// The raster format of an image kind.
    pub fn raster(self) -> Option<crate::raster::Format> {
        use crate::raster::Format;
        Some(match self {
            Kind::Jpeg => Format::Jpeg,
            Kind::Png => Format::Png,
            Kind::Gif => Format::Gif,
            Kind::Webp => Format::Webp,
            Kind::Pdf | Kind::Other => return None,
        })
    }

    /// Whether this is a raster image.
    pub fn is_image(self) -> bool {
        matches!(self, Kind::Jpeg | Kind::Png | Kind::Gif | Kind::Webp)
    }

    /// Typst's name for the format.
    pub fn typst_format(self) -> Option<&'static str> {
        Some(match self {
            Kind::Pdf => "pdf",
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Other => return None,
        })
    }

    /// A name for messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Jpeg => "JPEG 图片",
            Kind::Png => "PNG 图片",
            Kind::Gif => "GIF 图片",
            Kind::Webp => "WebP 图片",
            Kind::Other => "其他文件",
        }
    }

    /// Detects the kind from the first bytes of a file.
    pub fn sniff(head: &[u8]) -> Kind {
        if head.starts_with(b"%PDF-")
            || head.len() > 5
                && head[..head.len().min(1024)]
                    .windows(5)
                    .any(|w| w == b"%PDF-")
        {
            Kind::Pdf
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Kind::Jpeg
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Kind::Png
        } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            Kind::Gif
        } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            Kind::Webp
        } else {
            Kind::Other
        }
    }
}

/// What inspecting a file found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inspected {
    /// Content kind.
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Pages: a PDF's page count, 1 for an image, 0 for other files.
    pub pages: u32,
    /// Pixel size of an image as it is shown (EXIF orientation applied).
    pub pixels: Option<(u32, u32)>,
    /// Which pages have a text layer.
    pub text: TextLayer,
}

/// Which pages of a file have a text layer: text that can be searched for and copied (a PDF
/// made from a document, a scan with a recognised text layer); a scan or a photo has none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TextLayer {
    /// Not known: a PDF whose page tree was not read with certainty, or not a PDF or image.
    Unknown,
    /// The pages (1-based, inclusive runs) that have one; the others have none.
    Pages(Vec<(u32, u32)>),
}

impl TextLayer {
    /// No page has one (an image).
    pub fn none() -> TextLayer {
        TextLayer::Pages(Vec::new())
    }

    /// From a flag per page, in order.
    pub fn from_flags(flags: &[bool]) -> TextLayer {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for (i, _) in flags.iter().enumerate().filter(|(_, has)| **has) {
            let page = u32::try_from(i + 1).unwrap_or(u32::MAX);
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == page => *last = page,
                _ => runs.push((page, page)),
            }
        }
        TextLayer::Pages(runs)
    }

    /// Whether page `page` (1-based) has one; `None` when not known.
    pub fn has(&self, page: u32) -> Option<bool> {
        match self {
            TextLayer::Unknown => None,
            TextLayer::Pages(runs) => Some(runs.iter().any(|&(a, b)| (a..=b).contains(&page))),
        }
    }
}

/// Why a file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file is empty.
    Empty,
    /// A PDF that needs a password to open.
    Encrypted,
    /// A PDF that opens but carries an owner password (restrictions).
    Restricted,
    /// A PDF without pages.
    NoPages,
    /// A PDF or image that cannot be read; the detail says why.
    Unreadable(String),
    /// The extension says one kind, the content another.
    Mismatch {
        /// Kind by extension.
        named: &'static str,
        /// Kind by content.
        found: Kind,
    },
    /// An image that is truncated, damaged or over the pixel budget.
    Image(crate::raster::Defect),
    /// Not a regular file (a folder, a device).
    NotAFile,
    /// The file could not be opened or read.
    Io(String),
}

/// Inspects the file at `path` (read-only).
pub fn inspect(path: &Path) -> Result<Inspected, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| Problem::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(Problem::NotAFile);
    }
    let size = meta.len();
    if size == 0 {
        return Err(Problem::Empty);
    }
    let mut head = [0u8; 1024];
    let n = {
        let mut f = File::open(path).map_err(|e| Problem::Io(e.to_string()))?;
        read_up_to(&mut f, &mut head).map_err(|e| Problem::Io(e.to_string()))?
    };
    let kind = Kind::sniff(&head[..n]);
    let named = extension_kind(path);
    if let Some(named) = named
        && named.0 != kind
        && (named.0 == Kind::Pdf || kind == Kind::Pdf || kind == Kind::Other)
    {
        return Err(Problem::Mismatch {
            named: named.1,
            found: kind,
        });
    }
    match kind {
        Kind::Pdf => {
            // From the cross-reference data (a few kilobytes of a file of any size) when it
            // reads cleanly; otherwise the whole file, which also tells an encrypted, a
            // restricted or a damaged PDF apart.
            let quick = File::open(path)
                .ok()
                .and_then(|mut f| crate::pdfscan::summary(&mut f, size))
                .filter(|s| s.pages > 0);
            let (pages, text) = match quick {
                Some(s) => (
                    s.pages,
                    s.text
                        .map_or(TextLayer::Unknown, |t| TextLayer::from_flags(&t)),
                ),
                None => {
                    let data = std::fs::read(path).map_err(|e| Problem::Io(e.to_string()))?;
                    (pdf_pages(data)?, TextLayer::Unknown)
                }
            };
            Ok(Inspected {
                kind,
                size,
                pages,
                pixels: None,
                text,
            })
        }
        Kind::Jpeg | Kind::Png | Kind::Gif | Kind::Webp => Ok(Inspected {
            kind,
            size,
            pages: 1,
            pixels: Some(image_header(kind, path, size)?.shown_size()),
            text: TextLayer::none(),
        }),
        Kind::Other => Ok(Inspected {
            kind,
            size,
            pages: 0,
            pixels: None,
            text: TextLayer::Unknown,
        }),
    }
}

/// The header of the image of kind `kind` at `path` (`size` bytes), checked complete: a JPEG
/// from its segments and its end (see [`crate::raster::examine_jpeg_file`]), other formats
/// read whole (an image of a few MB).
fn image_header(kind: Kind, path: &Path, size: u64) -> Result<crate::raster::Header, Problem> {
    let io = |e: std::io::Error| Problem::Io(e.to_string());
    if kind == Kind::Jpeg {
        let mut f = File::open(path).map_err(io)?;
        return crate::raster::examine_jpeg_file(&mut f, size)
            .map_err(io)?
            .map_err(Problem::Image);
    }
    let format = kind.raster().expect("an image kind");
    let data = std::fs::read(path).map_err(io)?;
    let header = crate::raster::examine(format, &data).map_err(Problem::Image)?;
    if matches!(kind, Kind::Gif | Kind::Webp) {
        // The decoder reads the rest of these two formats' structure.
        let reader = image::ImageReader::new(std::io::Cursor::new(&data))
            .with_guessed_format()
            .map_err(io)?;
        reader
            .into_dimensions()
            .map_err(|e| Problem::Unreadable(e.to_string()))?;
    }
    Ok(header)
}

/// Counts the pages of a PDF, refusing encrypted ones.
pub fn pdf_pages(data: Vec<u8>) -> Result<u32, Problem> {
    use hayro_syntax::{LoadPdfError, Pdf};
    let data = std::sync::Arc::new(data);
    let pdf = match Pdf::new(data.clone()) {
        Ok(pdf) => pdf,
        Err(LoadPdfError::Decryption(_)) => return Err(Problem::Encrypted),
        Err(LoadPdfError::Invalid) => {
            return Err(Problem::Unreadable("文件结构损坏，PDF 阅读器打不开".into()));
        }
    };
    // A PDF with only an owner password opens with the empty user password; with any other
    // password it fails. An unencrypted PDF ignores the password.
    if let Err(LoadPdfError::Decryption(_)) = Pdf::new_with_password(data, "\u{1}dossier-probe") {
        return Err(Problem::Restricted);
    }
    let pages = pdf.pages().len();
    if pages == 0 {
        return Err(Problem::NoPages);
    }
    Ok(u32::try_from(pages).unwrap_or(u32::MAX))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn extension_kind(path: &Path) -> Option<(Kind, &'static str)> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => (Kind::Pdf, "PDF"),
        "jpg" | "jpeg" => (Kind::Jpeg, "JPEG 图片"),
        "png" => (Kind::Png, "PNG 图片"),
        "gif" => (Kind::Gif, "GIF 图片"),
        "webp" => (Kind::Webp, "WebP 图片"),
        _ => return None,
    })
}

/// Why a written path may not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// Nothing written.
    Empty,
    /// `/…`, `C:\…`, `\\server\…`.
    Absolute,
    /// A `..` component.
    Parent,
    /// A symlink (somewhere on the way) leads outside the root.
    OutsideRoot(PathBuf),
    /// No file there.
    Missing,
}

/// Normalises a path as written in a record: `\` becomes `/`, `.` and empty components are
/// dropped. Absolute paths and `..` are refused.
pub fn normalise(written: &str) -> Result<String, PathError> {
    let w = written.trim().replace('\\', "/");
    if w.is_empty() {
        return Err(PathError::Empty);
    }
    let bytes = w.as_bytes();
    if w.starts_with('/')
        || (bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic())
    {
        return Err(PathError::Absolute);
    }
    let mut parts = Vec::new();
    for c in w.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(PathError::Parent),
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(PathError::Empty);
    }
    Ok(parts.join("/"))
}

/// Resolves a normalised relative path under `root` (already canonical), following symlinks
/// and refusing any that leave the root.
pub fn resolve(canonical_root: &Path, rel: &str) -> Result<PathBuf, PathError> {
    let joined = canonical_root.join(rel);
    // A dangling symlink on the way also fails here; it is reported as missing.
    if std::fs::symlink_metadata(&joined).is_err() {
        return Err(PathError::Missing);
    }
    let real = std::fs::canonicalize(&joined).map_err(|_| PathError::Missing)?;
    if !real.starts_with(canonical_root) {
        return Err(PathError::OutsideRoot(real));
    }
    Ok(real)
}

/// The SHA-256 of a file, as lowercase hex, read in blocks (memory does not grow with size).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut file = File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_escapes_refused() {
        assert_eq!(
            normalise("evidence\\05\\a.pdf").unwrap(),
            "evidence/05/a.pdf"
        );
        assert_eq!(normalise("./evidence//a.pdf").unwrap(), "evidence/a.pdf");
        assert_eq!(normalise("../x.pdf"), Err(PathError::Parent));
        assert_eq!(normalise("evidence/../../x.pdf"), Err(PathError::Parent));
        assert_eq!(normalise("/etc/passwd"), Err(PathError::Absolute));
        assert_eq!(normalise("C:\\x.pdf"), Err(PathError::Absolute));
        assert_eq!(normalise("\\\\server\\x.pdf"), Err(PathError::Absolute));
        assert_eq!(normalise("  "), Err(PathError::Empty));
    }

    #[test]
    fn kinds_are_sniffed_from_content() {
        assert_eq!(Kind::sniff(b"%PDF-1.7\n"), Kind::Pdf);
        assert_eq!(Kind::sniff(&[0xFF, 0xD8, 0xFF, 0xE1]), Kind::Jpeg);
        assert_eq!(Kind::sniff(b"\x89PNG\r\n\x1a\n...."), Kind::Png);
        assert_eq!(Kind::sniff(b"PK\x03\x04"), Kind::Other);
        assert_eq!(Kind::sniff(b""), Kind::Other);
    }

    #[test]
    fn text_layers_are_kept_as_runs_of_pages() {
        let t = TextLayer::from_flags(&[true, true, false, true, false, false]);
        assert_eq!(t, TextLayer::Pages(vec![(1, 2), (4, 4)]));
        assert_eq!(
            (1..=6).map(|p| t.has(p)).collect::<Vec<_>>(),
            [true, true, false, true, false, false].map(Some)
        );
        assert_eq!(TextLayer::none().has(1), Some(false));
        assert_eq!(TextLayer::Unknown.has(1), None);
    }

    #[test]
    fn garbage_pdfs_are_unreadable_not_a_panic() {
        assert!(matches!(
            pdf_pages(b"%PDF-1.4\nnot really".to_vec()),
            Err(Problem::Unreadable(_) | Problem::NoPages)
        ));
        assert!(pdf_pages(Vec::new()).is_err());
    }
}
