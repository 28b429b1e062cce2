//! Reading PDFs back in tests (lopdf): pages, text, bookmarks, link annotations, metadata.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// A loaded PDF.
pub struct Pdf {
    /// The document.
    pub doc: Document,
    /// Page object ids, index 0 = page 1.
    pub pages: Vec<ObjectId>,
    page_of: BTreeMap<ObjectId, usize>,
}

/// A bookmark: depth (0 = top), title, 1-based target page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    /// 0 for top-level entries.
    pub depth: usize,
    /// Title.
    pub title: String,
    /// Target page (1-based).
    pub page: usize,
}

/// Decodes a PDF text string (UTF-16BE with BOM, or PDFDocEncoding ≈ Latin-1).
pub fn text_string(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(&bytes[3..]).into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    }
}

impl Pdf {
    /// Loads a PDF file.
    pub fn load(path: &Path) -> Pdf {
        let doc = Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        let page_of = pages
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i + 1))
            .collect();
        Pdf {
            doc,
            pages,
            page_of,
        }
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Text of a page (1-based).
    pub fn text(&self, page: usize) -> String {
        self.doc.extract_text(&[page as u32]).unwrap_or_default()
    }

    /// The JPEG (DCTDecode) images drawn on a page (1-based), searched through the page's form
    /// XObjects (embedded PDF pages), as their stored bytes.
    pub fn page_jpegs(&self, page: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let Ok(dict) = self.doc.get_dictionary(self.pages[page - 1]) else {
            return out;
        };
        let mut todo: Vec<Object> = dict.get(b"Resources").ok().cloned().into_iter().collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(res) = todo.pop() {
            let Ok(res) = self.resolve(&res).as_dict() else {
                continue;
            };
            let Ok(xobjects) = res.get(b"XObject").map(|x| self.resolve(x)) else {
                continue;
            };
            let Ok(xobjects) = xobjects.as_dict() else {
                continue;
            };
            for (_, x) in xobjects.iter() {
                if let Object::Reference(id) = x
                    && !seen.insert(*id)
                {
                    continue;
                }
                let Ok(stream) = self.resolve(x).as_stream() else {
                    continue;
                };
                let subtype = stream.dict.get(b"Subtype").and_then(|s| s.as_name()).ok();
                let filter = stream.dict.get(b"Filter").and_then(|f| f.as_name()).ok();
                match (subtype, filter) {
                    (Some(b"Image"), Some(b"DCTDecode")) => out.push(stream.content.clone()),
                    (Some(b"Form"), _) => {
                        if let Ok(r) = stream.dict.get(b"Resources") {
                            todo.push(r.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Every JPEG drawn on a page with the matrix that places it (image unit square → the
    /// page's default space, all `cm` operators and form matrices on the way composed): what a
    /// viewer shows, orientation included.
    pub fn page_jpegs_placed(&self, page: usize) -> Vec<(Vec<u8>, [f64; 6])> {
        let mut out = Vec::new();
        let id = self.pages[page - 1];
        let Ok(dict) = self.doc.get_dictionary(id) else {
            return out;
        };
        let content = self.doc.get_page_content(id);
        let res = dict
            .get(b"Resources")
            .map(|r| self.resolve(r))
            .and_then(Object::as_dict)
            .cloned()
            .unwrap_or_default();
        self.walk_content(&content, &res, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], &mut out, 0);
        out
    }

    fn walk_content(
        &self,
        content: &[u8],
        res: &Dictionary,
        start: [f64; 6],
        out: &mut Vec<(Vec<u8>, [f64; 6])>,
        depth: usize,
    ) {
        let Ok(ops) = lopdf::content::Content::decode(content) else {
            return;
        };
        let num = |o: &Object| {
            o.as_float()
                .map(f64::from)
                .or_else(|_| o.as_i64().map(|i| i as f64))
        };
        let (mut m, mut stack) = (start, Vec::new());
        for op in ops.operations {
            match op.operator.as_str() {
                "q" => stack.push(m),
                "Q" => m = stack.pop().unwrap_or(m),
                "cm" if op.operands.len() == 6 => {
                    let v: Vec<f64> = op.operands.iter().map(|o| num(o).unwrap_or(0.0)).collect();
                    m = compose([v[0], v[1], v[2], v[3], v[4], v[5]], m);
                }
                "Do" if depth < 8 => {
                    let Some(name) = op.operands.first().and_then(|n| n.as_name().ok()) else {
                        continue;
                    };
                    let Some(x) = res
                        .get(b"XObject")
                        .map(|x| self.resolve(x))
                        .and_then(Object::as_dict)
                        .ok()
                        .and_then(|d| d.get(name).ok())
                        .and_then(|x| self.resolve(x).as_stream().ok())
                    else {
                        continue;
                    };
                    let subtype = x.dict.get(b"Subtype").and_then(|s| s.as_name()).ok();
                    let filter = x.dict.get(b"Filter").and_then(|f| f.as_name()).ok();
                    match subtype {
                        Some(b"Image") if filter == Some(b"DCTDecode") => {
                            out.push((x.content.clone(), m));
                        }
                        Some(b"Form") => {
                            let fm: Vec<f64> = (x.dict.get(b"Matrix").and_then(Object::as_array))
                                .map(|a| a.iter().map(|o| num(o).unwrap_or(0.0)).collect())
                                .unwrap_or_else(|_| vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
                            let inner = compose([fm[0], fm[1], fm[2], fm[3], fm[4], fm[5]], m);
                            let body = x
                                .decompressed_content()
                                .unwrap_or_else(|_| x.content.clone());
                            let fres = (x.dict.get(b"Resources").map(|r| self.resolve(r)))
                                .and_then(Object::as_dict)
                                .cloned()
                                .unwrap_or_else(|_| res.clone());
                            self.walk_content(&body, &fres, inner, out, depth + 1);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    /// The base font names of every font the document embeds (subset prefixes included).
    pub fn font_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, object) in self.doc.objects.iter() {
            if let Ok(dict) = object.as_dict()
                && dict.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"Font")
                && let Ok(name) = dict.get(b"BaseFont").and_then(|n| n.as_name())
            {
                out.push(String::from_utf8_lossy(name).into_owned());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Text of every page, in order.
    pub fn all_text(&self) -> Vec<String> {
        (1..=self.page_count()).map(|p| self.text(p)).collect()
    }

    fn resolve<'a>(&'a self, o: &'a Object) -> &'a Object {
        match o {
            Object::Reference(id) => self.doc.get_object(*id).unwrap_or(o),
            _ => o,
        }
    }

    fn dict<'a>(&'a self, o: &'a Object) -> Option<&'a Dictionary> {
        self.resolve(o).as_dict().ok()
    }

    /// The page a destination (array, or an action dictionary with /D) points to. Named
    /// destinations (strings, as Typst writes for labels) are looked up in /Names /Dests.
    fn dest_page(&self, d: &Dictionary) -> Option<usize> {
        let mut dest = match d.get(b"Dest") {
            Ok(dest) => self.resolve(dest),
            Err(_) => {
                let action = self.dict(d.get(b"A").ok()?)?;
                self.resolve(action.get(b"D").ok()?)
            }
        };
        if let Ok(name) = dest.as_str() {
            dest = self.named_dest(name)?;
        }
        let arr = dest.as_array().ok()?;
        let page = arr.first()?.as_reference().ok()?;
        self.page_of.get(&page).copied()
    }

    fn named_dest(&self, name: &[u8]) -> Option<&Object> {
        let catalog = self.doc.catalog().ok()?;
        let names = self.dict(catalog.get(b"Names").ok()?)?;
        let tree = self.dict(names.get(b"Dests").ok()?)?;
        self.find_in_tree(tree, name, 0)
    }

    fn find_in_tree<'a>(
        &'a self,
        node: &'a Dictionary,
        name: &[u8],
        depth: usize,
    ) -> Option<&'a Object> {
        if depth > 32 {
            return None;
        }
        if let Ok(names) = node.get(b"Names").and_then(|n| self.resolve(n).as_array()) {
            for pair in names.chunks(2) {
                if pair[0].as_str().ok() == Some(name) {
                    let v = self.resolve(pair.get(1)?);
                    // A destination or a dictionary holding it under /D.
                    return match v.as_dict() {
                        Ok(d) => d.get(b"D").ok().map(|x| self.resolve(x)),
                        Err(_) => Some(v),
                    };
                }
            }
        }
        if let Ok(kids) = node.get(b"Kids").and_then(|k| self.resolve(k).as_array()) {
            for kid in kids {
                if let Some(found) = self
                    .dict(kid)
                    .and_then(|k| self.find_in_tree(k, name, depth + 1))
                {
                    return Some(found);
                }
            }
        }
        None
    }

    /// Every bookmark, depth first.
    pub fn bookmarks(&self) -> Vec<Bookmark> {
        let mut out = Vec::new();
        let Ok(catalog) = self.doc.catalog() else {
            return out;
        };
        let Some(outlines) = catalog.get(b"Outlines").ok().and_then(|o| self.dict(o)) else {
            return out;
        };
        if let Ok(first) = outlines.get(b"First") {
            self.walk(first, 0, &mut out);
        }
        out
    }

    fn walk(&self, first: &Object, depth: usize, out: &mut Vec<Bookmark>) {
        let mut cur = Some(first);
        let mut guard = 0;
        while let Some(o) = cur {
            guard += 1;
            assert!(guard < 100_000, "outline loop");
            let Some(d) = self.dict(o) else { break };
            let title = d
                .get(b"Title")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(text_string)
                .unwrap_or_default();
            out.push(Bookmark {
                depth,
                title,
                page: self.dest_page(d).unwrap_or(0),
            });
            if let Ok(kid) = d.get(b"First") {
                self.walk(kid, depth + 1, out);
            }
            cur = d.get(b"Next").ok();
        }
    }

    /// Link annotations of a page: target page of each internal link.
    pub fn links(&self, page: usize) -> Vec<usize> {
        let id = self.pages[page - 1];
        let Ok(page_dict) = self.doc.get_dictionary(id) else {
            return Vec::new();
        };
        let Ok(annots) = page_dict.get(b"Annots") else {
            return Vec::new();
        };
        let Ok(list) = self.resolve(annots).as_array() else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|a| self.dict(a))
            .filter(|a| {
                a.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(b"Link".as_slice())
            })
            .filter_map(|a| self.dest_page(a))
            .collect()
    }

    /// A value of the document information dictionary.
    pub fn info(&self, key: &str) -> Option<String> {
        let info = self
            .doc
            .trailer
            .get(b"Info")
            .ok()
            .and_then(|o| self.dict(o))?;
        info.get(key.as_bytes())
            .ok()
            .and_then(|v| v.as_str().ok())
            .map(text_string)
    }

    /// The catalog's /Lang.
    pub fn lang(&self) -> Option<String> {
        self.doc
            .catalog()
            .ok()?
            .get(b"Lang")
            .ok()
            .and_then(|v| v.as_str().ok())
            .map(text_string)
    }

    /// The page labels' number tree (/Nums), flattened: (page index from 0, style, start).
    pub fn page_labels(&self) -> Vec<(i64, String, i64)> {
        let mut out = Vec::new();
        let Ok(catalog) = self.doc.catalog() else {
            return out;
        };
        let Some(labels) = catalog.get(b"PageLabels").ok().and_then(|o| self.dict(o)) else {
            return out;
        };
        let Ok(nums) = labels.get(b"Nums").map(|n| self.resolve(n)) else {
            return out;
        };
        let Ok(nums) = nums.as_array() else {
            return out;
        };
        for pair in nums.chunks(2) {
            let (Some(idx), Some(d)) = (
                pair.first().and_then(|i| i.as_i64().ok()),
                pair.get(1).and_then(|d| self.dict(d)),
            ) else {
                continue;
            };
            let style = d
                .get(b"S")
                .ok()
                .and_then(|s| s.as_name().ok())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            let start = d.get(b"St").ok().and_then(|s| s.as_i64().ok()).unwrap_or(1);
            out.push((idx, style, start));
        }
        out
    }
}

impl Pdf {
    /// The page label of each page (index 0 = page 1) as a viewer shows it: the decimal number
    /// of its range, or none for a page in a range without a style (covers).
    pub fn labels(&self) -> Vec<Option<usize>> {
        let ranges = self.page_labels();
        (0..self.page_count())
            .map(|i| {
                let (start_idx, style, start) = ranges.iter().rev().find(|r| r.0 <= i as i64)?;
                (style == "D").then(|| (start + (i as i64 - start_idx)) as usize)
            })
            .collect()
    }

    /// Whether a page is a blank verso inserted for duplex printing.
    pub fn is_blank_verso(&self, page: usize) -> bool {
        compact(&self.text(page)) == "本页无正文"
    }
}

/// Text without whitespace (extraction inserts spaces and line breaks at will).
pub fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `m` applied after `n` (PDF's row-vector convention: `m × n`).
pub fn compose(m: [f64; 6], n: [f64; 6]) -> [f64; 6] {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

/// The EXIF orientation (1–8) a viewer shows an image in that is drawn with matrix `m`.
pub fn shown_orientation(m: [f64; 6]) -> u16 {
    let s = |v: f64| {
        if v > 1e-6 {
            1
        } else if v < -1e-6 {
            -1
        } else {
            0
        }
    };
    match (s(m[0]), s(m[1]), s(m[2]), s(m[3])) {
        (1, 0, 0, 1) => 1,
        (-1, 0, 0, 1) => 2,
        (-1, 0, 0, -1) => 3,
        (1, 0, 0, -1) => 4,
        (0, -1, -1, 0) => 5,
        (0, -1, 1, 0) => 6,
        (0, 1, 1, 0) => 7,
        (0, 1, -1, 0) => 8,
        other => panic!("an image drawn skewed: {other:?} in {m:?}"),
    }
}
