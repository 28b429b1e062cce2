//! The submission package: one zip with the dossier PDF, every evidence file byte for byte,
//! the YAML sources (so the package can be rebuilt) and a manifest with the SHA-256 of every
//! file, as JSON for tools and as CSV for Excel and WPS.
//!
//! Layout (justified in the README): `证据材料/指标05/05-03 题名/原文件名` puts each file where
//! a reviewer holding the PDF looks for it (by item and 件号, the folder named after the title);
//! the original file name is kept because it often says what the file is. The manifest maps
//! every entry back to its original path, which is how `unpack` restores a buildable dossier.
//!
//! Reproducible: entries in a fixed order — the evidence and unreferenced files first (they are
//! written while the PDF is typeset, see [`start`]), the volumes as they are typeset, then 说明,
//! the PDFs not in yet, the sources, the build report and the manifest, which lists the hashes
//! of everything in the order 说明, PDF, sources, evidence, report — the dossier's date as every
//! entry's time, fixed permissions and system. Compressed formats are stored, text deflated.
//! Evidence is streamed through the hasher into the zip, so memory does not grow with it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::digests::Digests;
use crate::evidence::hex;
use crate::load::{CONFIG_FILE, UNITS_FILE};
use crate::model::Date;
use crate::names::{
    EVIDENCE_FOLDER, MANIFEST_CSV, MANIFEST_JSON, README_TXT, REPORT_JSON, SOURCES_FOLDER,
    UNREFERENCED_FOLDER, evidence_path,
};
use crate::validate::Dossier;

/// Identifies the manifest format.
pub const FORMAT: &str = "dossier-package/1";

/// What a packaged file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// The dossier PDF.
    Dossier,
    /// A YAML source or template.
    Source,
    /// An evidence file of a record.
    Evidence,
    /// An evidence file no record references.
    Unreferenced,
    /// The read-me.
    Readme,
    /// The build report.
    Report,
}

impl EntryKind {
    /// The kind as shown in the CSV.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Dossier => "汇编",
            EntryKind::Source => "源文件",
            EntryKind::Evidence => "证据",
            EntryKind::Unreferenced => "未引用",
            EntryKind::Readme => "说明",
            EntryKind::Report => "构建报告",
        }
    }
}

/// One file of the package as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path in the zip.
    pub path: String,
    /// Path relative to the dossier root (empty for generated files).
    pub source: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Item number, for evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    /// 件号 (05-03), for evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Title of the record (evidence) or of the dossier (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Pages of the file (PDF page count, 1 for an image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// Dossier title.
    pub title: String,
    /// County.
    pub county: String,
    /// Version.
    pub version: String,
    /// Date (YYYY-MM-DD).
    pub date: String,
    /// The program that wrote it.
    pub generator: String,
    /// Every file except the manifest itself, in package order.
    pub files: Vec<ManifestEntry>,
}

/// A file to put into the package, before it is hashed.
#[derive(Debug, Clone)]
struct Planned {
    path: String,
    source: String,
    kind: EntryKind,
    item: Option<u32>,
    record: Option<String>,
    title: Option<String>,
    pages: Option<u32>,
}

impl Planned {
    /// The manifest entry of this file, written with `size` bytes of SHA-256 `sha256` (hex).
    fn entry(self, size: u64, sha256: String) -> ManifestEntry {
        ManifestEntry {
            path: self.path,
            source: self.source,
            kind: self.kind,
            size,
            sha256,
            item: self.item,
            record: self.record,
            title: self.title,
            pages: self.pages,
        }
    }
}

/// The sources the package carries, as entries.
fn source_entries(d: &Dossier) -> Vec<Planned> {
    (source_files(d).into_iter())
        .map(|s| Planned::other(format!("{SOURCES_FOLDER}/{s}"), s, EntryKind::Source))
        .collect()
}

/// The entries that can be written before typesetting: the evidence, then the unreferenced
/// files when they are packaged.
fn stored_entries(d: &Dossier, include_unreferenced: bool) -> Vec<Planned> {
    let mut out = evidence_entries(d);
    if include_unreferenced {
        for rel in &d.unreferenced {
            let path = format!("{UNREFERENCED_FOLDER}/{rel}");
            out.push(Planned::other(path, rel.clone(), EntryKind::Unreferenced));
        }
    }
    out
}

impl Planned {
    /// An entry that belongs to no record.
    fn other(path: String, source: String, kind: EntryKind) -> Planned {
        Planned {
            path,
            source,
            kind,
            item: None,
            record: None,
            title: None,
            pages: None,
        }
    }
}

/// The files a dossier is built from, sorted: dossier.yaml, units.yaml, the item files, the
/// template overrides, the text-layer corrections.
fn source_files(d: &Dossier) -> Vec<String> {
    let mut sources = vec![CONFIG_FILE.to_string(), UNITS_FILE.to_string()];
    sources.extend(d.items.iter().filter_map(|i| i.file.clone()));
    for folder in [crate::load::TEMPLATES_DIR, crate::load::OCR_DIR] {
        let dir = d.root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        for e in
            (walkdir::WalkDir::new(&dir).sort_by_file_name().into_iter()).filter_map(Result::ok)
        {
            let scratch = crate::paths::is_scratch_file(&e.file_name().to_string_lossy());
            if e.file_type().is_file()
                && !scratch
                && let Ok(rel) = e.path().strip_prefix(&d.root)
            {
                sources.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    sources.sort();
    sources
}

/// Every evidence file of every record at its package path, sorted by that path. Two files of
/// one record with the same name: the later ones numbered.
fn evidence_entries(d: &Dossier) -> Vec<Planned> {
    let mut evidence = Vec::new();
    for r in d.items.iter().flat_map(|i| &i.records) {
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        for f in &r.files {
            let mut path = evidence_path(r.item, &r.label(), &r.title, &f.rel);
            let n = used.entry(path.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                let (stem, ext) = path
                    .rsplit_once('.')
                    .map_or((path.as_str(), ""), |(a, b)| (a, b));
                path = if ext.is_empty() {
                    format!("{stem} ({n})")
                } else {
                    format!("{stem} ({n}).{ext}")
                };
            }
            evidence.push(Planned {
                path,
                source: f.rel.clone(),
                kind: EntryKind::Evidence,
                item: Some(r.item),
                record: Some(r.label()),
                title: Some(r.title.clone()),
                pages: (f.page_count > 0).then_some(f.page_count),
            });
        }
    }
    evidence.sort_by(|a, b| a.path.cmp(&b.path));
    evidence
}

/// Whether a file is stored (already compressed) or deflated, by its extension.
fn stored(path: &str) -> bool {
    const COMPRESSED: &[&str] = &[
        "pdf", "jpg", "jpeg", "png", "gif", "webp", "heic", "zip", "docx", "xlsx", "pptx", "odt",
        "ods", "odp", "ofd", "mp4", "mov", "avi", "mkv", "m4v", "mp3", "m4a", "aac", "7z", "rar",
        "gz", "bz2", "xz", "zst",
    ];
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    path.contains('.') && COMPRESSED.contains(&ext.as_str())
}

/// A PDF of the dossier to package: its file name and where its bytes are now.
#[derive(Debug, Clone)]
pub struct PackagePdf {
    /// File name in the package.
    pub name: String,
    /// Where the bytes are (a staged temporary file).
    pub path: PathBuf,
    /// Its pages.
    pub pages: usize,
}

/// What goes into a package.
pub struct PackageInput<'a> {
    /// The checked dossier.
    pub dossier: &'a Dossier,
    /// The dossier's PDFs (one, or the master volume and the volumes).
    pub pdfs: Vec<PackagePdf>,
    /// Add unreferenced evidence files.
    pub include_unreferenced: bool,
    /// Date of every entry.
    pub date: Date,
}

/// A package being written: the evidence is in (see [`start`]), PDFs may be added as they are
/// typeset ([`Started::add_pdf`]), the rest follows in [`finish`].
pub struct Started<W: Write + Seek> {
    zip: Zip<W>,
    stored: Vec<ManifestEntry>,
    pdfs: Vec<ManifestEntry>,
}

impl<W: Write + Seek> Started<W> {
    /// Adds a PDF of the dossier (a volume, as soon as it is typeset).
    pub fn add_pdf(&mut self, d: &Dossier, pdf: &PackagePdf) -> anyhow::Result<()> {
        let entry = self.zip.copy(&pdf.path, pdf_entry(d, pdf), None)?;
        self.pdfs.push(entry);
        Ok(())
    }

    /// Adds a PDF of the dossier from its bytes as they are being written to its file (`from`,
    /// see [`PdfSink`]): the same entry as [`Started::add_pdf`] makes from the finished file,
    /// without reading it back. A PDF whose writing stopped is an error.
    pub fn add_pdf_streamed(
        &mut self,
        d: &Dossier,
        pdf: &PackagePdf,
        from: PdfChunks,
    ) -> anyhow::Result<()> {
        let mut p = pdf_entry(d, pdf);
        // Streamed only when it is surely under 2 GiB (see `PdfSink::fits`), as `copy` then
        // decides too: the same entry either way.
        self.zip
            .zip
            .start_file(p.path.as_str(), self.zip.options(&p.path, 0))?;
        let mut hasher = sha2::Sha256::new();
        let mut len = 0u64;
        loop {
            match from.chunks.recv() {
                Ok(Chunk::Bytes(b)) => {
                    hasher.update(&b);
                    len += b.len() as u64;
                    self.zip.zip.write_all(&b)?;
                    // Back to the sink for its next chunk (dropped when it has enough).
                    let _ = from.spare.try_send(b);
                }
                Ok(Chunk::Done(pages)) => {
                    p.pages = u32::try_from(pages).ok();
                    break;
                }
                Err(_) => bail!("{} 没有写完，资料包不完整", pdf.name),
            }
        }
        self.pdfs.push(p.entry(len, hex(&hasher.finalize())));
        Ok(())
    }
}

/// A piece of a PDF on its way to the package while it is written.
pub enum Chunk {
    /// The next bytes.
    Bytes(Vec<u8>),
    /// Every byte was sent and the file was written whole, with this many pages.
    Done(usize),
}

/// Where a PDF's bytes go besides its file: to the package, in chunks of a megabyte, at most
/// a few in flight (the writer waits for the package rather than holding the PDF in memory).
/// When the package stops (it failed), the sink drops what it is given: the PDF is still
/// written whole, and the package's own error is what the build reports.
pub struct PdfSink {
    tx: std::sync::mpsc::SyncSender<Chunk>,
    /// Chunks the package is done with, filled again instead of new ones: a new megabyte is
    /// 256 pages the kernel must find and clear (200 scans, rebuild: page faults 47,600 →
    /// 42,500, system time 0.41 → 0.38 s, 6 MiB more at the peak).
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    stopped: bool,
}

/// The receiving end of a [`PdfSink`], for [`Started::add_pdf_streamed`]: the chunks, and
/// where to hand each back once written.
pub struct PdfChunks {
    chunks: std::sync::mpsc::Receiver<Chunk>,
    spare: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl PdfSink {
    const CHUNK: usize = 1 << 20;

    /// A sink and the receiving end for [`Started::add_pdf_streamed`].
    pub fn new() -> (PdfSink, PdfChunks) {
        let (tx, chunks) = std::sync::mpsc::sync_channel(8);
        // Two spare chunks are enough to keep the writer from asking for new memory while the
        // package keeps up; more would only be held.
        let (spare_tx, spare) = std::sync::mpsc::sync_channel(2);
        let sink = PdfSink {
            tx,
            spare,
            buf: Vec::with_capacity(PdfSink::CHUNK),
            stopped: false,
        };
        (
            sink,
            PdfChunks {
                chunks,
                spare: spare_tx,
            },
        )
    }

    /// Whether a PDF of at most `bound` bytes can be streamed: entries of 2 GiB and more are
    /// written as ZIP64 (decided by their size), so those are copied from the finished file.
    pub fn fits(bound: u64) -> bool {
        bound < 1 << 31
    }

    /// Sends the rest and says the PDF is complete, with its number of `pages`. Without this
    /// call the package sees an unfinished PDF and fails.
    pub fn finish(mut self, pages: usize) {
        self.send();
        if !self.stopped {
            let _ = self.tx.send(Chunk::Done(pages));
        }
    }

    fn send(&mut self) {
        if self.buf.is_empty() || self.stopped {
            self.buf.clear();
            return;
        }
        let next = match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(PdfSink::CHUNK),
        };
        let full = std::mem::replace(&mut self.buf, next);
        self.stopped = self.tx.send(Chunk::Bytes(full)).is_err();
    }
}

impl Write for PdfSink {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        // Chunks of exactly CHUNK bytes: a scan written at once does not grow (and copy) the
        // chunk it lands in.
        let mut rest = b;
        while !self.stopped && !rest.is_empty() {
            let n = (PdfSink::CHUNK - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.buf.len() >= PdfSink::CHUNK {
                self.send();
            }
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The planned entry of a PDF of the dossier.
fn pdf_entry(d: &Dossier, p: &PackagePdf) -> Planned {
    Planned {
        path: p.name.clone(),
        source: String::new(),
        kind: EntryKind::Dossier,
        item: None,
        record: None,
        title: Some(d.config.title.trim().to_string()),
        pages: u32::try_from(p.pages).ok(),
    }
}

/// Starts the package of `d` in `out` with its evidence files (and the unreferenced ones when
/// `include_unreferenced`), each streamed through the hasher — or, unchanged since the package
/// `digests` come from, only through the CRC-32 (the digests are updated to this package's
/// files). Needs nothing typeset, so it runs while the PDF is being typeset; it stops, with an
/// error, as soon as `cancel` is set (the build failed and the package will not be used).
pub fn start<W: Write + Seek>(
    out: W,
    d: &Dossier,
    include_unreferenced: bool,
    date: Date,
    digests: &mut Digests,
    cancel: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<Started<W>> {
    let mut zip = Zip {
        zip: ZipWriter::new(out),
        block: Vec::new(),
        time: DateTime::from_date_and_time(date.year, date.month, date.day, 0, 0, 0)
            .unwrap_or_else(|_| DateTime::default()),
    };
    let mut stored = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for p in stored_entries(d, include_unreferenced) {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            bail!("打包已取消");
        }
        let path = d.canonical_root.join(&p.source);
        used.insert(Digests::key_of(&path));
        stored.push(zip.copy(&path, p, Some(&mut *digests))?);
    }
    digests.retain_only(&used);
    Ok(Started {
        zip,
        stored,
        pdfs: Vec::new(),
    })
}

/// Finishes a package started by [`start`]: the read-me, the PDFs, the sources, then what
/// `after` makes from the entries so far (the build report, which needs the evidence hashes),
/// then the manifest, which lists them all in the order 说明, PDF, sources, evidence, report.
/// Returns the manifest.
pub fn finish<W: Write + Seek>(
    started: Started<W>,
    input: &PackageInput<'_>,
    after: impl FnOnce(&[ManifestEntry]) -> anyhow::Result<Vec<(String, Vec<u8>)>>,
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Manifest> {
    let d = input.dossier;
    let Started {
        mut zip,
        stored,
        pdfs: mut added,
    } = started;
    let readme = readme(input);
    zip.add(README_TXT, readme.as_bytes())?;
    let mut files = vec![ManifestEntry::generated(
        README_TXT,
        EntryKind::Readme,
        readme.as_bytes(),
    )];
    // The PDFs not added yet, then the sources.
    let planned: Vec<(PathBuf, Planned)> = (input.pdfs.iter())
        .filter(|p| !added.iter().any(|a| a.path == p.name))
        .map(|p| (p.path.clone(), pdf_entry(d, p)))
        .chain(
            source_entries(d)
                .into_iter()
                .map(|p| (d.canonical_root.join(&p.source), p)),
        )
        .collect();
    let total = planned.len();
    let mut sources = Vec::new();
    for (i, (path, p)) in planned.into_iter().enumerate() {
        let entry = zip.copy(&path, p, None)?;
        if entry.kind == EntryKind::Dossier {
            added.push(entry);
        } else {
            sources.push(entry);
        }
        progress(i + 1, total);
    }
    // Listed in the order of the dossier's PDFs (the master volume first).
    for p in &input.pdfs {
        if let Some(at) = added.iter().position(|a| a.path == p.name) {
            files.push(added.swap_remove(at));
        }
    }
    files.extend(sources);
    files.extend(stored);
    for (name, bytes) in after(&files)? {
        zip.add(&name, &bytes)?;
        files.push(ManifestEntry::generated(&name, EntryKind::Report, &bytes));
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        title: d.config.title.trim().into(),
        county: d.config.county.trim().into(),
        version: d.config.version.0.trim().into(),
        date: input.date.to_string(),
        generator: format!("dossier {}", env!("CARGO_PKG_VERSION")),
        files,
    };
    zip.add(MANIFEST_CSV, manifest_csv(&manifest).as_bytes())?;
    let json = serde_json::to_string_pretty(&manifest)? + "\n";
    zip.add(MANIFEST_JSON, json.as_bytes())?;
    zip.zip.finish()?.flush()?;
    Ok(manifest)
}

impl ManifestEntry {
    /// The entry of a file the package writes itself (the read-me, the build report).
    fn generated(path: &str, kind: EntryKind, bytes: &[u8]) -> ManifestEntry {
        ManifestEntry {
            path: path.into(),
            source: String::new(),
            kind,
            size: bytes.len() as u64,
            sha256: hex(&sha2::Sha256::digest(bytes)),
            item: None,
            record: None,
            title: None,
            pages: None,
        }
    }
}

/// The package being written: every entry with the same time and permissions.
struct Zip<W: Write + Seek> {
    zip: ZipWriter<W>,
    time: DateTime,
    /// The block evidence is copied through, kept between files.
    block: Vec<u8>,
}

impl<W: Write + Seek> Zip<W> {
    fn options(&self, path: &str, size: u64) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .compression_method(if stored(path) {
                CompressionMethod::Stored
            } else {
                CompressionMethod::Deflated
            })
            .compression_level(if stored(path) { None } else { Some(6) })
            .last_modified_time(self.time)
            .unix_permissions(0o644)
            .system(zip::System::Unix)
            .large_file(size >= 1 << 31)
    }

    /// Adds an entry from bytes.
    fn add(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.zip
            .start_file(path, self.options(path, bytes.len() as u64))?;
        self.zip.write_all(bytes)?;
        Ok(())
    }

    /// Copies a file into the package, streamed and hashed on the way; a file that changes
    /// size while it is copied is an error (it was still being written). With `digests`, a
    /// file whose status and CRC-32 are those kept from an earlier package is not hashed again
    /// (see [`crate::digests`]), and the digests of a settled file hashed now are kept.
    fn copy(
        &mut self,
        path: &Path,
        p: Planned,
        digests: Option<&mut Digests>,
    ) -> anyhow::Result<ManifestEntry> {
        let file = File::open(path).with_context(|| format!("无法读取 {}", path.display()))?;
        let read_at = std::time::SystemTime::now();
        let status = crate::digests::Status::of(&file);
        let expected = file.metadata().map(|m| m.len()).unwrap_or(0);
        let known = (digests.as_deref())
            .zip(status.as_ref())
            .and_then(|(d, s)| d.get(path, s))
            .cloned();
        self.zip
            .start_file(p.path.as_str(), self.options(&p.path, expected))?;
        let mut reader = Digesting {
            inner: file,
            sha: known.is_none().then(sha2::Sha256::new),
            crc: crc32fast::Hasher::new(),
            len: 0,
        };
        copy_in_blocks(&mut reader, &mut self.zip, &mut self.block)
            .with_context(|| format!("打包 {} 时出错", path.display()))?;
        let changed = |len: u64| {
            anyhow::anyhow!(
                "{} 在打包过程中被改动了（大小从 {expected} 变为 {len} 字节），请等文件复制完成后重新生成",
                p.source
            )
        };
        if reader.len != expected {
            return Err(changed(reader.len));
        }
        let after = crate::digests::Status::of(&reader.inner);
        // Written to while it was read (the bytes copied may be half old, half new). Only a
        // change of the status (a new link, new permissions) is not a reason to stop.
        if let (Some(s), Some(a)) = (&status, &after)
            && s.print.modified_ns != a.print.modified_ns
        {
            bail!(
                "{} 在打包过程中被改动了（修改时间变了），请等文件复制完成后重新生成",
                p.source
            );
        }
        let crc = reader.crc.finalize();
        let sha = match (reader.sha, known) {
            (Some(sha), _) => hex(&sha.finalize()),
            (None, Some(k)) if k.crc32 == crc && after == Some(k.status) => k.sha256,
            // The kept digests do not hold after all: hashed again from the file, which must
            // still hold the bytes just copied.
            (None, _) => {
                let (sha, again, len) = digest_file(path)?;
                if len != reader.len {
                    return Err(changed(len));
                }
                if again != crc {
                    bail!(
                        "{} 在打包过程中被改动了（内容与刚复制进资料包的不同），请等文件复制完成后重新生成",
                        p.source
                    );
                }
                sha
            }
        };
        if let Some(d) = digests {
            match status {
                Some(s) if after == Some(s) && s.settled_before(read_at) => {
                    let sha256 = sha.clone();
                    d.keep(
                        path,
                        crate::digests::Digest {
                            status: s,
                            crc32: crc,
                            sha256,
                        },
                    );
                }
                _ => d.forget(path),
            }
        }
        Ok(p.entry(reader.len, sha))
    }
}

/// The SHA-256 (hex), CRC-32 and length of the file at `path`, read in blocks.
fn digest_file(path: &Path) -> anyhow::Result<(String, u32, u64)> {
    let file = File::open(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let mut reader = Digesting::sha256(file);
    copy_in_blocks(&mut reader, &mut io::sink(), &mut Vec::new())
        .with_context(|| format!("无法读取 {}", path.display()))?;
    let sha = reader.sha_hex();
    Ok((sha, reader.crc.finalize(), reader.len))
}

/// Copies all of `from` into `to` through `block` (grown to [`BLOCK`] bytes and kept by the
/// caller): one read and one write per megabyte, where `io::copy` makes one of each per 8 KiB
/// (measured on 200 scans of 0.8 MB: 44,000 system calls a build, 22,000 of each).
fn copy_in_blocks(
    from: &mut impl Read,
    to: &mut impl Write,
    block: &mut Vec<u8>,
) -> io::Result<u64> {
    block.resize(BLOCK, 0);
    let mut copied = 0;
    loop {
        let n = match from.read(block) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&block[..n])?;
        copied += n as u64;
    }
}

/// The size of the block files are copied through (see [`copy_in_blocks`]).
const BLOCK: usize = 1 << 20;

/// Reads through to the inner reader, computing the CRC-32 of every byte and, when asked,
/// the SHA-256.
struct Digesting<R> {
    inner: R,
    sha: Option<sha2::Sha256>,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<R> Digesting<R> {
    /// Reads `inner` computing both digests.
    fn sha256(inner: R) -> Digesting<R> {
        Digesting {
            inner,
            sha: Some(sha2::Sha256::new()),
            crc: crc32fast::Hasher::new(),
            len: 0,
        }
    }

    /// The SHA-256 of what was read, lowercase hex (empty if it was not computed).
    fn sha_hex(&mut self) -> String {
        self.sha
            .take()
            .map(|s| hex(&s.finalize()))
            .unwrap_or_default()
    }
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// The manifest as CSV: UTF-8 with a BOM and CRLF line ends, so Excel and WPS open it with the
/// Chinese intact. A cell a spreadsheet would run as a formula (one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return: a title or a file name can) gets a leading `'`, as
/// OWASP advises for CSV exports; 清单.json keeps every value as it is.
pub fn manifest_csv(m: &Manifest) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header = [
        "包内路径",
        "原路径",
        "类别",
        "大小（字节）",
        "SHA-256",
        "指标",
        "件号",
        "题名",
        "页数",
    ];
    // Writing to memory cannot fail.
    let _ = w.write_record(header);
    for f in &m.files {
        let row = [
            f.path.clone(),
            f.source.clone(),
            f.kind.label().to_string(),
            f.size.to_string(),
            f.sha256.clone(),
            f.item.map(|n| n.to_string()).unwrap_or_default(),
            f.record.clone().unwrap_or_default(),
            f.title.clone().unwrap_or_default(),
            f.pages.map(|n| n.to_string()).unwrap_or_default(),
        ];
        let _ = w.write_record(row.iter().map(|c| inert_cell(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

/// A cell a spreadsheet shows as text: one that would start a formula gets a leading `'`.
pub fn inert_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn readme(input: &PackageInput<'_>) -> String {
    let c = &input.dossier.config;
    let lines = [
        format!("{}　资料包", c.title.trim()),
        format!(
            "版本 {}　日期 {}　由 dossier {} 生成",
            c.version.0.trim(),
            input.date.chinese(),
            env!("CARGO_PKG_VERSION")
        ),
        String::new(),
        "本资料包的内容：".into(),
        format!(
            "  {}　验收资料汇编（{}）",
            crate::diag::list(input.pdfs.iter().map(|p| p.name.as_str())),
            crate::diag::list(input.pdfs.iter().map(|p| format!("{} 页", p.pages)))
        ),
        format!(
            "  {EVIDENCE_FOLDER}/　全部证据原件，未作任何改动，按“指标/件号 题名/原文件名”存放，件号与汇编一致"
        ),
        format!(
            "  {SOURCES_FOLDER}/　生成汇编所用的登记文件（dossier.yaml、units.yaml、items/*.yaml）"
        ),
        format!(
            "  {MANIFEST_CSV}、{MANIFEST_JSON}　每个文件的包内路径、原路径、大小、SHA-256、指标、件号、题名、页数"
        ),
        String::new(),
        "核对：用 dossier verify 本资料包.zip 重新计算每个文件的 SHA-256 并与清单比对；".into(),
        "      也可以用任何能计算 SHA-256 的工具逐个比对清单。".into(),
        "重新生成汇编：dossier unpack 本资料包.zip 新目录，然后 dossier build 新目录。".into(),
    ];
    let mut s = String::from("\u{feff}");
    for l in lines {
        s.push_str(&l);
        s.push_str("\r\n");
    }
    s
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Listed in the manifest, not in the zip.
    Missing(String),
    /// In the zip, not in the manifest.
    Extra(String),
    /// Content differs from the manifest (size or SHA-256), or cannot be read.
    Altered(String, String),
    /// The package as a whole is damaged: its zip directory or its manifest cannot be read, so
    /// its files cannot be checked.
    Damaged(String),
}

/// The result of verifying a package.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Files checked against the manifest.
    pub checked: usize,
    /// Problems, in package order.
    pub findings: Vec<Finding>,
    /// The manifest read from the package (none when it is damaged).
    pub manifest: Option<Manifest>,
}

/// Why a package's manifest could not be read.
#[derive(Debug)]
pub enum ManifestError {
    /// It is not there, and nothing else says the zip is a package: not one of ours.
    NotAPackage(String),
    /// It is there (or the zip is clearly a package) but cannot be read: damage.
    Damaged(String),
    /// A manifest of another format version.
    OtherFormat(String),
}

/// Reads the manifest of a package.
pub fn read_manifest<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> Result<Manifest, ManifestError> {
    let looks_like_package = zip.index_for_name(README_TXT).is_some()
        || zip.index_for_name(MANIFEST_CSV).is_some()
        || zip.index_for_name(REPORT_JSON).is_some();
    let mut f = match zip.by_name(MANIFEST_JSON) {
        Ok(f) => f,
        Err(_) if looks_like_package => {
            return Err(ManifestError::Damaged(format!(
                "资料包里缺少清单 {MANIFEST_JSON}（说明和其他文件都在），无法核对"
            )));
        }
        Err(_) => {
            return Err(ManifestError::NotAPackage(format!(
                "资料包里没有 {MANIFEST_JSON}，它不是 dossier 生成的资料包"
            )));
        }
    };
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(|e| {
        ManifestError::Damaged(format!("清单 {MANIFEST_JSON} 已损坏，读不出来（{e}）"))
    })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| {
        ManifestError::Damaged(format!(
            "清单 {MANIFEST_JSON} 已损坏：第 {} 行第 {} 列的内容不对",
            e.line(),
            e.column()
        ))
    })?;
    if m.format != FORMAT {
        return Err(ManifestError::OtherFormat(format!(
            "清单格式是 {}，本程序只认识 {FORMAT}",
            m.format
        )));
    }
    Ok(m)
}

/// Opens a package as a zip. `Ok(Err(why))`: the file is a zip (it starts like one) whose
/// directory cannot be read, which is damage, not a usage error.
pub fn open_zip(
    path: &Path,
) -> anyhow::Result<Result<zip::ZipArchive<io::BufReader<File>>, String>> {
    let mut file = File::open(path).with_context(|| format!("无法打开 {}", path.display()))?;
    let mut head = [0u8; 4];
    let starts_like_zip = file.read_exact(&mut head).is_ok() && head == *b"PK\x03\x04";
    if starts_like_zip && !has_end_record(&mut file)? {
        return Ok(Err(
            "文件末尾的 zip 目录区不见了（文件不完整，可能没有复制完）".to_string(),
        ));
    }
    file.rewind()
        .with_context(|| format!("无法读取 {}", path.display()))?;
    match zip::ZipArchive::new(io::BufReader::new(file)) {
        Ok(zip) => Ok(Ok(zip)),
        Err(e) if starts_like_zip => Ok(Err(format!(
            "zip 的目录区已损坏，无法读出文件列表（{e}）；资料包可能没有复制完整"
        ))),
        Err(e) => Err(anyhow::anyhow!("{} 不是 zip 文件（{e}）", path.display())),
    }
}

/// Whether a zip file ends with its end-of-central-directory record: the record's signature,
/// with its comment reaching exactly to the end of the file. (A signature elsewhere may be a
/// stored zip inside, such as an .xlsx evidence file, whose directory is not the package's.)
fn has_end_record(file: &mut File) -> anyhow::Result<bool> {
    let len = file.metadata()?.len();
    let tail = len.min(65_557);
    file.seek(io::SeekFrom::Start(len - tail))?;
    let mut buf = Vec::with_capacity(tail as usize);
    file.take(tail).read_to_end(&mut buf)?;
    let n = buf.len();
    Ok((0..n.saturating_sub(21)).rev().any(|i| {
        buf[i..i + 4] == *b"PK\x05\x06"
            && i + 22 + usize::from(u16::from_le_bytes([buf[i + 20], buf[i + 21]])) == n
    }))
}

/// Re-hashes every entry of the package at `path` against its manifest. A package whose zip
/// directory or manifest is damaged is a finding (the package exists but cannot be trusted);
/// a file that is not a zip, or a zip that is not a package, is an error.
pub fn verify(path: &Path) -> anyhow::Result<Verified> {
    let damaged = |why: String| Verified {
        checked: 0,
        findings: vec![Finding::Damaged(why)],
        manifest: None,
    };
    let mut zip = match open_zip(path)? {
        Ok(zip) => zip,
        Err(why) => return Ok(damaged(why)),
    };
    let manifest = match read_manifest(&mut zip) {
        Ok(m) => m,
        Err(ManifestError::Damaged(why)) => return Ok(damaged(why)),
        Err(ManifestError::NotAPackage(why) | ManifestError::OtherFormat(why)) => bail!(why),
    };
    let mut findings = Vec::new();
    let listed: BTreeMap<&str, &ManifestEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map_or_else(|e| format!("（无法读取的文件名：{e}）"), |n| n.into_owned()))
        .collect();
    let mut block = Vec::new();
    for entry in &manifest.files {
        let mut f = match zip.by_name(&entry.path) {
            Ok(f) => f,
            Err(_) => {
                findings.push(Finding::Missing(entry.path.clone()));
                continue;
            }
        };
        let mut reader = Digesting::sha256(&mut f);
        match copy_in_blocks(&mut reader, &mut io::sink(), &mut block) {
            Err(e) => findings.push(Finding::Altered(
                entry.path.clone(),
                format!("读取出错（{e}）"),
            )),
            Ok(_) => {
                let sha = reader.sha_hex();
                if reader.len != entry.size {
                    findings.push(Finding::Altered(
                        entry.path.clone(),
                        format!("大小 {} 字节，清单记为 {}", reader.len, entry.size),
                    ));
                } else if sha != entry.sha256 {
                    findings.push(Finding::Altered(
                        entry.path.clone(),
                        "SHA-256 与清单不符".into(),
                    ));
                }
            }
        }
    }
    for name in names {
        if name != MANIFEST_JSON
            && name != MANIFEST_CSV
            && !name.ends_with('/')
            && !listed.contains_key(name.as_str())
        {
            findings.push(Finding::Extra(name));
        }
    }
    Ok(Verified {
        checked: manifest.files.len(),
        findings,
        manifest: Some(manifest),
    })
}

/// Restores a dossier folder from a package: sources and evidence at their original paths,
/// each checked against the manifest. `dir` must be empty or missing.
pub fn unpack(package: &Path, dir: &Path) -> anyhow::Result<usize> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} 不是空文件夹；为了不覆盖已有文件，请换一个新文件夹名",
            dir.display()
        );
    }
    let mut zip = open_zip(package)?.map_err(|why| anyhow::anyhow!("{why}"))?;
    let manifest = read_manifest(&mut zip).map_err(|e| match e {
        ManifestError::Damaged(why)
        | ManifestError::NotAPackage(why)
        | ManifestError::OtherFormat(why) => anyhow::anyhow!(why),
    })?;
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut block = Vec::new();
    for entry in &manifest.files {
        if !matches!(
            entry.kind,
            EntryKind::Source | EntryKind::Evidence | EntryKind::Unreferenced
        ) {
            continue;
        }
        let rel = crate::evidence::normalise(&entry.source)
            .map_err(|_| anyhow::anyhow!("清单里的原路径“{}”不安全，已停止", entry.source))?;
        if let Some(sha) = written.get(&rel) {
            if *sha != entry.sha256 {
                bail!("清单里 {rel} 出现两次且内容不同");
            }
            continue;
        }
        let target: PathBuf = dir.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap_or(dir))?;
        let mut f = zip
            .by_name(&entry.path)
            .map_err(|_| anyhow::anyhow!("资料包缺少 {}", entry.path))?;
        let mut reader = Digesting::sha256(&mut f);
        let mut out =
            File::create(&target).with_context(|| format!("无法写入 {}", target.display()))?;
        copy_in_blocks(&mut reader, &mut out, &mut block)?;
        if reader.sha_hex() != entry.sha256 {
            bail!(
                "{} 与清单不符（SHA-256 不同），资料包可能已损坏",
                entry.path
            );
        }
        written.insert(rel, entry.sha256.clone());
    }
    Ok(written.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_sink_sends_whole_chunks_in_order() {
        let (mut sink, chunks) = PdfSink::new();
        let bytes: Vec<u8> = (0..(PdfSink::CHUNK * 3 + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        let reader = std::thread::spawn(move || {
            let (mut got, mut sizes) = (Vec::new(), Vec::new());
            loop {
                match chunks.chunks.recv().unwrap() {
                    Chunk::Bytes(b) => {
                        got.extend_from_slice(&b);
                        sizes.push(b.len());
                        let _ = chunks.spare.try_send(b);
                    }
                    Chunk::Done(pages) => return (got, sizes, pages),
                }
            }
        });
        // Pieces larger than a chunk and small ones, as the assembler writes them.
        for piece in bytes.chunks(700_000) {
            let (a, b) = piece.split_at(piece.len() / 3);
            sink.write_all(a).unwrap();
            sink.write_all(b).unwrap();
        }
        sink.finish(7);
        let (got, sizes, pages) = reader.join().unwrap();
        assert_eq!(got, bytes);
        assert_eq!(pages, 7);
        let (last, whole) = sizes.split_last().unwrap();
        assert!(whole.iter().all(|&n| n == PdfSink::CHUNK), "{sizes:?}");
        assert_eq!(*last, 12_345);
    }

    #[test]
    fn a_pdf_sink_fills_a_chunk_handed_back_instead_of_a_new_one() {
        let (mut sink, chunks) = PdfSink::new();
        // Alive in the channel until the sink takes it, so its address is its own.
        let back = vec![9u8; 10];
        let at = back.as_ptr();
        chunks.spare.send(back).unwrap();
        sink.write_all(&vec![1u8; PdfSink::CHUNK + 3]).unwrap();
        assert_eq!(
            sink.buf.as_ptr(),
            at,
            "the next chunk is the one handed back"
        );
        assert_eq!(sink.buf, [1, 1, 1], "emptied before it was filled");
        match chunks.chunks.try_recv() {
            Ok(Chunk::Bytes(b)) => assert_eq!(b.len(), PdfSink::CHUNK),
            _ => panic!("the full chunk was sent"),
        }
    }

    #[test]
    fn compressed_formats_are_stored_and_text_deflated() {
        assert!(stored("a/b.PDF") && stored("x.jpg") && stored("t.xlsx"));
        assert!(!stored("dossier.yaml") && !stored("清单.csv") && !stored("README"));
    }

    #[test]
    fn csv_quotes_and_has_a_bom() {
        let m = Manifest {
            format: FORMAT.into(),
            title: "t".into(),
            county: "c".into(),
            version: "1".into(),
            date: "2022-05-20".into(),
            generator: "g".into(),
            files: vec![ManifestEntry {
                path: "证据材料/a,b.pdf".into(),
                source: "evidence/a,b.pdf".into(),
                kind: EntryKind::Evidence,
                size: 3,
                sha256: "00".into(),
                item: Some(5),
                record: Some("05-01".into()),
                title: Some("关于\"x\"".into()),
                pages: Some(2),
            }],
        };
        let csv = manifest_csv(&m);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"证据材料/a,b.pdf\",\"evidence/a,b.pdf\",证据,3,00,5,05-01,\"关于\"\"x\"\"\",2\r\n"), "{csv}");
        // Cells that would be formulas are neutralised.
        for (title, cell) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
        ] {
            let mut m = m.clone();
            m.files[0].title = Some(title.into());
            let csv = manifest_csv(&m);
            assert!(
                csv.contains(&format!(",05-01,{cell},2\r\n")),
                "{title}: {csv}"
            );
        }
    }
}
