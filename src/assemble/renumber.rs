//! Reads the frame Typst wrote (pdf-writer: a classic cross-reference table, direct stream
//! lengths, no object streams) without parsing it whole: its objects and trailer, the
//! stand-ins among its form XObjects, and each object copied under a new number, every other
//! byte as it was — for a frame written after evidence that took the low numbers (see
//! [`super::Ahead`]). A PDF of another shape is refused, never copied wrong.

use anyhow::{Context, bail};

/// The objects of a PDF in the order of their offsets: (number, offset).
pub fn objects(pdf: &[u8]) -> anyhow::Result<Vec<(u32, usize)>> {
    let at = super::start_xref(pdf).context("排版结果没有交叉引用表")?;
    let table = pdf.get(at..).context("排版结果的交叉引用表位置不对")?;
    let Some(rest) = table.strip_prefix(b"xref") else {
        bail!("排版结果的交叉引用不是表格形式");
    };
    let end = find(rest, b"trailer").context("排版结果的交叉引用表没有 trailer")?;
    let mut words = rest[..end]
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let mut out = Vec::new();
    while let Some(first) = words.next() {
        let first: u32 = number(first)?;
        let count: u32 = number(words.next().context("交叉引用表不完整")?)?;
        for n in first..first.saturating_add(count) {
            let (Some(offset), Some(generation), Some(kind)) =
                (words.next(), words.next(), words.next())
            else {
                bail!("交叉引用表不完整");
            };
            match kind {
                b"n" if number::<u32>(generation)? == 0 => out.push((n, number(offset)?)),
                b"n" => bail!("排版结果的对象 {n} 不是第 0 代"),
                b"f" => {}
                _ => bail!("交叉引用表有无法识别的条目"),
            }
        }
    }
    out.sort_by_key(|&(_, offset)| offset);
    Ok(out)
}

fn number<T: std::str::FromStr>(word: &[u8]) -> anyhow::Result<T> {
    std::str::from_utf8(word)
        .ok()
        .and_then(|w| w.parse().ok())
        .context("交叉引用表有无法识别的数字")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// What [`copy`] saw of an object.
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    /// Bytes of `src` the object took (through `endobj`).
    pub used: usize,
    /// Where its stream data is in `src`, if it is a stream.
    pub data: Option<std::ops::Range<usize>>,
    /// Its dictionary says `/Subtype /Form`.
    pub form: bool,
    /// Its dictionary says `/Filter /FlateDecode`.
    pub flate: bool,
}

/// Copies the object at the start of `src` (`N G obj … endobj`) to `out` as object `new`, each
/// reference `n g R` in it as `map(n) g R`; says what it saw.
pub fn copy(
    src: &[u8],
    new: u32,
    map: &dyn Fn(u32) -> u32,
    out: &mut Vec<u8>,
) -> anyhow::Result<Seen> {
    let mut seen = Seen::default();
    // The last name read in the object's own dictionary (its value may be the next token).
    let mut key: &[u8] = b"";
    let mut s = Scanner { src, at: 0 };
    let number_end = s.header()?;
    out.extend_from_slice(new.to_string().as_bytes());
    out.extend_from_slice(&src[number_end..s.at]);
    let mut length: Option<usize> = None;
    let mut depth = 0usize;
    let mut after_length = false;
    loop {
        let Some(&b) = src.get(s.at) else {
            bail!("对象没有 endobj");
        };
        let start = s.at;
        match b {
            b'(' => {
                s.string()?;
                after_length = false;
            }
            b'<' if src.get(s.at + 1) == Some(&b'<') => {
                s.at += 2;
                depth += 1;
            }
            b'>' if src.get(s.at + 1) == Some(&b'>') => {
                s.at += 2;
                depth = depth.saturating_sub(1);
            }
            b'<' => {
                s.at = start + find(&src[start..], b">").context("十六进制字符串没有结尾")? + 1;
                after_length = false;
            }
            b'%' => s.line(),
            b'/' => {
                s.at += 1;
                s.regular();
                let name = &src[start..s.at];
                if depth == 1 {
                    seen.form |= key == b"/Subtype" && name == b"/Form";
                    seen.flate |= key == b"/Filter" && name == b"/FlateDecode";
                    key = name;
                }
                after_length = depth == 1 && name == b"/Length";
            }
            b'0'..=b'9' => {
                s.regular();
                let token = &src[start..s.at];
                if let Some((n, end)) = reference(src, start, s.at) {
                    out.extend_from_slice(map(n).to_string().as_bytes());
                    out.extend_from_slice(&src[s.at..end]);
                    s.at = end;
                    after_length = false;
                    continue;
                }
                if after_length {
                    length = Some(number(token)?);
                }
                after_length = false;
            }
            _ if is_regular(b) => {
                s.regular();
                let word = &src[start..s.at];
                if word == b"endobj" {
                    out.extend_from_slice(word);
                    seen.used = s.at;
                    return Ok(seen);
                }
                if word == b"stream" {
                    seen.data = Some(s.stream_data(length)?);
                }
                after_length = false;
            }
            _ => s.at += 1,
        }
        out.extend_from_slice(&src[start..s.at]);
    }
}

/// The form XObjects among `objects` of `pdf` whose content starts with `marker`: (object
/// number, what follows the marker). Only objects with `/Form` in them are read.
pub fn marked_forms(
    pdf: &[u8],
    objects: &[(u32, usize)],
    marker: &[u8],
) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut last = None;
    for at in memchr::memmem::find_iter(pdf, b"/Form") {
        // The object holding it: the last one starting before it.
        let i = objects.partition_point(|&(_, o)| o <= at);
        let Some(&(n, start)) = i.checked_sub(1).and_then(|i| objects.get(i)) else {
            continue;
        };
        if last == Some(n) {
            continue;
        }
        last = Some(n);
        let seen = copy(&pdf[start..], n, &|n| n, &mut Vec::new())
            .with_context(|| format!("排版结果的对象 {n} 无法读出"))?;
        let (true, Some(data)) = (seen.form, seen.data) else {
            continue;
        };
        let data = &pdf[start + data.start..start + data.end];
        let body = if seen.flate {
            let mut inflated = Vec::new();
            use std::io::Read;
            // The marker is at the start: a few bytes of the content are enough.
            let _ = flate2::read::ZlibDecoder::new(data)
                .take(marker.len() as u64 + 64)
                .read_to_end(&mut inflated);
            inflated
        } else {
            data.to_vec()
        };
        if let Some(rest) = body.strip_prefix(marker) {
            out.push((n, rest.to_vec()));
        }
    }
    Ok(out)
}

/// The trailer of a PDF written by pdf-writer: `/Root` and `/Info` (object numbers) and `/ID`
/// as it is written (`[…]`).
pub fn trailer(pdf: &[u8]) -> anyhow::Result<(u32, Option<u32>, Option<Vec<u8>>)> {
    let at = memchr::memmem::rfind(pdf, b"trailer").context("排版结果没有 trailer")?;
    let dict = &pdf[at + 7..];
    let reference = |key: &[u8]| -> Option<u32> {
        let from = memchr::memmem::find(dict, key)? + key.len();
        let mut s = Scanner {
            src: dict,
            at: from,
        };
        s.space();
        let start = s.at;
        s.integer()?;
        reference(dict, start, s.at).map(|(n, _)| n)
    };
    let root = reference(b"/Root").context("排版结果没有 /Root")?;
    let id = memchr::memmem::find(dict, b"/ID").and_then(|from| {
        let mut s = Scanner {
            src: dict,
            at: from + 3,
        };
        s.space();
        let start = s.at;
        (dict.get(start) == Some(&b'[')).then_some(())?;
        s.at += 1;
        loop {
            s.space();
            match dict.get(s.at)? {
                b']' => return Some(dict[start..=s.at].to_vec()),
                b'(' => s.string().ok()?,
                b'<' => s.at += find(&dict[s.at..], b">")? + 1,
                _ => return None,
            }
        }
    });
    Ok((root, reference(b"/Info"), id))
}

/// `n g R` at `start` (`n` ends at `end`): the number and where the `R` ends.
fn reference(src: &[u8], start: usize, end: usize) -> Option<(u32, usize)> {
    let n: u32 = std::str::from_utf8(&src[start..end]).ok()?.parse().ok()?;
    let mut s = Scanner { src, at: end };
    if !s.space() {
        return None;
    }
    s.integer()?;
    if !s.space() || src.get(s.at) != Some(&b'R') {
        return None;
    }
    s.at += 1;
    match src.get(s.at) {
        Some(&b) if is_regular(b) => None,
        _ => Some((n, s.at)),
    }
}

/// PDF's white-space and delimiter characters end a regular run.
fn is_regular(b: u8) -> bool {
    !matches!(
        b,
        b'\0'
            | b'\t'
            | b'\n'
            | b'\x0c'
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

struct Scanner<'a> {
    src: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn rest(&self) -> &[u8] {
        &self.src[self.at.min(self.src.len())..]
    }

    /// `N G obj` (up to `obj`); where the number ends.
    fn header(&mut self) -> anyhow::Result<usize> {
        self.integer().context("对象开头不是对象编号")?;
        let number_end = self.at;
        if !self.space() || self.integer().is_none() {
            bail!("对象开头没有代号");
        }
        self.space();
        if !self.rest().starts_with(b"obj") {
            bail!("对象开头没有 obj");
        }
        Ok(number_end)
    }

    /// After `stream`: its end of line, then `length` bytes of data, passed over; where the
    /// data is.
    fn stream_data(&mut self, length: Option<usize>) -> anyhow::Result<std::ops::Range<usize>> {
        if self.rest().starts_with(b"\r\n") {
            self.at += 2;
        } else if self.rest().starts_with(b"\n") {
            self.at += 1;
        } else {
            bail!("stream 后没有换行");
        }
        let len = length.context("流的长度不是直接写出的数字")?;
        let from = self.at;
        self.at = (self.at.checked_add(len))
            .filter(|&e| e <= self.src.len())
            .context("流比文件长")?;
        Ok(from..self.at)
    }

    /// Skips white space; whether there was any.
    fn space(&mut self) -> bool {
        let from = self.at;
        while self
            .src
            .get(self.at)
            .is_some_and(|&b| matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))
        {
            self.at += 1;
        }
        self.at > from
    }

    /// An unsigned integer.
    fn integer(&mut self) -> Option<()> {
        let from = self.at;
        while self.src.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > from).then_some(())
    }

    fn regular(&mut self) {
        while self.src.get(self.at).is_some_and(|&b| is_regular(b)) {
            self.at += 1;
        }
    }

    fn line(&mut self) {
        while self
            .src
            .get(self.at)
            .is_some_and(|&b| b != b'\n' && b != b'\r')
        {
            self.at += 1;
        }
    }

    /// A literal string: balanced parentheses, `\\` escaping the next byte.
    fn string(&mut self) -> anyhow::Result<()> {
        let mut depth = 0usize;
        while let Some(&b) = self.src.get(self.at) {
            self.at += 1;
            match b {
                b'\\' => self.at += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        bail!("字符串没有结尾")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renumbered(src: &[u8], new: u32, map: &dyn Fn(u32) -> u32) -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let seen = copy(src, new, map, &mut out).unwrap();
        (out, seen.used)
    }

    #[test]
    fn references_are_renumbered_and_nothing_else() {
        let src = b"7 0 obj\n<</Type/Page/Parent 2 0 R/Annots[12 0 R 13 0 R]/Title(12 0 R \\) (x) 3 0 R)/A<3130> /N 5 /M [1 0 0 1 0 0]>>\nendobj\n8 0 obj";
        let (out, used) = renumbered(src, 107, &|n| n + 100);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "107 0 obj\n<</Type/Page/Parent 102 0 R/Annots[112 0 R 113 0 R]/Title(12 0 R \\) (x) 3 0 R)/A<3130> /N 5 /M [1 0 0 1 0 0]>>\nendobj"
        );
        assert_eq!(&src[used..], b"\n8 0 obj");
    }

    #[test]
    fn stream_data_is_copied_as_it_is_by_its_length() {
        let mut src =
            b"3 0 obj\n<</Length 13/Resources<</XObject<</X 4 0 R>>>>>>\nstream\n".to_vec();
        src.extend_from_slice(b"4 0 R endobj)");
        src.extend_from_slice(b"\nendstream\nendobj\n");
        let (out, _) = renumbered(&src, 9, &|n| n * 10);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("9 0 obj\n<</Length 13/Resources<</XObject<</X 40 0 R>>>>>>"));
        assert!(
            text.contains("stream\n4 0 R endobj)\nendstream\nendobj"),
            "{text}"
        );
    }

    #[test]
    fn a_marked_form_is_found_and_the_trailer_read() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut objects = Vec::new();
        let mut add = |pdf: &mut Vec<u8>, n: u32, dict: &str, data: &[u8]| {
            objects.push((n, pdf.len()));
            let head = format!("{n} 0 obj\n<<{dict}/Length {}>>\nstream\n", data.len());
            pdf.extend_from_slice(head.as_bytes());
            pdf.extend_from_slice(data);
            pdf.extend_from_slice(b"\nendstream\nendobj\n");
        };
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut z, b"% mark abc 3\n").unwrap();
        let packed = z.finish().unwrap();
        add(
            &mut pdf,
            1,
            "/Type/XObject/Subtype/Form/Filter/FlateDecode",
            &packed,
        );
        add(
            &mut pdf,
            2,
            "/Type/XObject/Subtype/Form",
            b"q 1 0 0 1 0 0 cm Q",
        );
        add(&mut pdf, 3, "/Subtype/Image/Note(/Form)", b"% mark no");
        let found = marked_forms(&pdf, &objects, b"% mark ").unwrap();
        assert_eq!(found, vec![(1, b"abc 3\n".to_vec())]);
        pdf.extend_from_slice(b"trailer\n<</Size 4/Root 2 0 R/Info 1 0 R/ID[(a]\\)b)<00ff>]>>\n");
        let (root, info, id) = trailer(&pdf).unwrap();
        assert_eq!((root, info), (2, Some(1)));
        assert_eq!(id.unwrap(), b"[(a]\\)b)<00ff>]".to_vec());
    }

    #[test]
    fn an_indirect_length_is_refused() {
        let src = b"3 0 obj\n<</Length 4 0 R>>\nstream\nabc\nendstream\nendobj\n";
        assert!(copy(src, 3, &|n| n, &mut Vec::new()).is_err());
    }

    #[test]
    fn the_table_gives_every_object_in_use() {
        let pdf = b"%PDF-1.7\n1 0 obj\nnull\nendobj\n2 0 obj\nnull\nendobj\nxref\n0 3\n0000000000 65535 f\r\n0000000009 00000 n\r\n0000000029 00000 n\r\ntrailer\n<</Size 3>>\nstartxref\n49\n%%EOF\n";
        assert_eq!(&pdf[49..53], b"xref");
        assert_eq!(objects(pdf).unwrap(), vec![(1, 9), (2, 29)]);
    }
}
