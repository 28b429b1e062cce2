//! Remakes the evidence files of the sample dossier from its item files.
//!
//! ```text
//! cargo run --release --features sample --example make_sample -- [dossier]
//! ```
//!
//! Every file a record names is written from the record itself (title, 文号, 责任者, date),
//! by its extension: `.pdf` an official document of several pages, `.jpg` a photo (landscape,
//! portrait, or stored sideways with an EXIF orientation tag), `.png` a scanned page or a
//! screen capture, `.xlsx`/`.docx` an office file that cannot be typeset. Everything is
//! visibly marked 示例 (sample) and fictitious. The output is deterministic: running it twice
//! gives the same bytes.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use dossier::model::{Date, FileEntry, Record};
use dossier::typeset::{self, DossierWorld, Fonts};
use image::RgbImage;

mod common;
use common::{Rng, exif_orientation, jpeg, png};

fn main() -> Result<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| "dossier".into());
    let root = Path::new(&root);
    let sources = dossier::load::load(root)?;
    if sources.report.has_errors() {
        eprint!("{}", sources.report.render(root, false));
        bail!("the item files have errors");
    }
    let date = sources.config.as_ref().map_or(
        Date {
            year: 2022,
            month: 5,
            day: 20,
        },
        |c| c.date.value,
    );
    let fonts = Arc::new(Fonts::embedded());
    let mut written = 0usize;
    let mut bytes = 0u64;
    for (_, item) in &sources.items {
        for rec in item.records.iter().flatten() {
            let rec = &rec.value;
            for node in rec.files.iter().flat_map(|f| f.iter()) {
                let entry = FileEntry::from_node(node);
                let rel = dossier::evidence::normalise(&entry.path.value)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                let data = make(&fonts, item.item.value, rec, &entry, &rel, date)
                    .with_context(|| format!("generating {rel}"))?;
                let path = root.join(&rel);
                std::fs::create_dir_all(path.parent().expect("a file has a parent"))?;
                std::fs::write(&path, &data)?;
                written += 1;
                bytes += data.len() as u64;
            }
        }
    }
    eprintln!("wrote {written} files, {:.1} MB", bytes as f64 / 1e6);
    Ok(())
}

fn make(
    fonts: &Arc<Fonts>,
    item: u32,
    rec: &Record,
    entry: &FileEntry,
    rel: &str,
    date: Date,
) -> Result<Vec<u8>> {
    let ext = rel.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let mut rng = Rng::from(rel);
    let doc = Doc::of(item, rec);
    match ext.as_str() {
        "pdf" => {
            let min = entry.pages.as_ref().map_or(0, |p| p.value.max_page() + 1);
            let pages = if rel.contains("纲要") {
                6
            } else {
                (2 + rng.below(3) as u32).max(min)
            };
            pdf(fonts, &document_source(&doc, pages, &mut rng), date)
        }
        "jpg" | "jpeg" => photo(fonts, &doc, rel, &mut rng, date),
        "png" => scan(fonts, &doc, rel, &mut rng, date),
        "xlsx" => Ok(xlsx(&doc)?),
        "docx" => Ok(docx(&doc)?),
        other => bail!("no generator for .{other} files"),
    }
}

/// The record fields the generator uses.
struct Doc {
    item: u32,
    title: String,
    number: Option<String>,
    issuer: String,
    date: String,
}

impl Doc {
    fn of(item: u32, r: &Record) -> Doc {
        Doc {
            item,
            title: r
                .title
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
            number: r.doc_number.as_ref().map(|s| s.0.clone()),
            issuer: r.issuer.clone().unwrap_or_else(|| "民权县人民政府".into()),
            date: r
                .date
                .as_ref()
                .map_or_else(String::new, |d| d.value.chinese()),
        }
    }
}

/// A Typst string literal.
fn lit(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const SENTENCES: &[&str] = &[
    "坚持以习近平新时代中国特色社会主义思想为指导，牢固树立质量第一的强烈意识。",
    "各乡镇（街道）、各有关部门要把质量工作摆上重要议事日程，主要负责同志亲自抓、负总责。",
    "围绕制冷装备、食品加工、纺织服装等主导产业，组织开展质量提升和标准化对标活动。",
    "健全质量工作考核评价机制，将质量指标纳入年度目标管理考核，考核结果作为领导干部评价的重要依据。",
    "充分发挥国家冷冻冷藏设备质量监督检验中心的技术支撑作用，为企业提供检验检测、计量校准和技术咨询服务。",
    "加大质量宣传力度，利用电视、报纸、网络和户外广告等多种形式，营造全社会重视质量、关心质量的良好氛围。",
    "严格落实企业质量主体责任，督促企业建立健全质量管理体系，提升全员、全过程、全方位质量管理水平。",
    "加强对重点产品、重点工程和重点服务项目的监督检查，对发现的问题及时督促整改，形成闭环管理。",
    "建立质量工作信息报送制度，各成员单位每季度末报送工作进展情况，领导小组办公室汇总后通报。",
    "强化经费保障，县财政安排专项资金，保证技术标准、计量检测、质量监督抽查和质量奖励等工作需要。",
    "深化“放管服”改革，推行“双随机、一公开”监管，提高市场监管的公平性、规范性和有效性。",
    "鼓励企业参与国家标准、行业标准和团体标准的制定修订，以先进标准引领产品和服务质量提升。",
    "畅通12315投诉举报渠道，及时受理、依法处理消费者投诉，切实维护消费者合法权益。",
    "组织开展群众质量满意度测评，针对薄弱环节制定改进措施，不断提高群众的获得感和满意度。",
    "各责任单位要对照任务分解表，逐项细化工作措施，明确责任科室和责任人，确保按时完成。",
    "加强质量人才培养，组织企业质量负责人参加质量管理培训，推广卓越绩效、六西格玛等先进质量管理方法。",
    "落实工程质量终身责任制，严格执行工程建设强制性标准，确保工程质量安全。",
    "推进农业标准化生产，建设绿色食品原料标准化生产基地，提高农产品质量安全水平。",
];

const HEADINGS: &[&str] = &[
    "一、总体要求",
    "二、主要任务",
    "三、工作措施",
    "四、保障措施",
    "五、工作要求",
    "六、有关事项",
];

fn paragraph(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| *rng.pick(SENTENCES))
        .collect::<Vec<_>>()
        .concat()
}

/// Typst source of an official document: a red header when it has a 文号, then its title and
/// numbered sections, one per page, with the original document's own page numbers.
fn document_source(doc: &Doc, pages: u32, rng: &mut Rng) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        r#"#set document(title: {title})
#set text(font: ("Noto Serif CJK SC",), size: 15pt, lang: "zh", region: "cn")
#set par(first-line-indent: (amount: 2em, all: true), justify: true, leading: 0.9em, spacing: 0.9em)
#set page(paper: "a4", margin: (top: 37mm, bottom: 35mm, left: 28mm, right: 26mm),
  header: align(center, text(8pt, fill: luma(120), font: "Noto Sans CJK SC")[示例材料 · 内容虚构 · 由 dossier 示例生成器生成]),
  footer: context align(center, text(13pt)[— #counter(page).display() —]),
  foreground: place(center + horizon, rotate(-30deg, text(110pt, fill: rgb(200, 0, 0, 28), font: "Noto Sans CJK SC", weight: "bold")[示例])))
"#,
        title = lit(&doc.title)
    ));
    if let Some(number) = &doc.number {
        let organ = doc.issuer.split('　').next().unwrap_or(&doc.issuer);
        s.push_str(&format!(
            r##"#align(center, text(30pt, fill: rgb("#d40000"), font: "Noto Serif CJK SC", weight: "bold", tracking: 0.05em, {organ}))
#v(8mm)
#align(center, text(15pt, {number}))
#v(-2mm)
#line(length: 100%, stroke: 1.2pt + rgb("#d40000"))
#v(6mm)
"##,
            organ = lit(&format!("{organ}文件")),
            number = lit(number)
        ));
    } else {
        s.push_str(&format!(
            "#align(right, text(12pt, font: \"Noto Sans CJK SC\", {}))\n#v(6mm)\n",
            lit(&doc.issuer)
        ));
    }
    s.push_str(&format!(
        "#align(center, block(width: 90%, text(20pt, font: \"Noto Serif CJK SC\", weight: \"bold\", {})))\n#v(6mm)\n",
        lit(&doc.title)
    ));
    s.push_str(&format!("#par({})\n", lit(&format!("为认真贯彻落实《民权县创建“河南省质量强县示范县”实施方案》，扎实做好指标{}各项工作，{}", doc.item, paragraph(rng, 2)))));
    for p in 0..pages {
        if p > 0 {
            s.push_str("#pagebreak()\n");
        }
        let heading = HEADINGS[p as usize % HEADINGS.len()];
        s.push_str(&format!(
            "#block(above: 1.2em, below: 0.8em, text(font: \"Noto Sans CJK SC\", {}))\n",
            lit(heading)
        ));
        for _ in 0..if p == 0 { 2 } else { 4 } {
            s.push_str(&format!("#par({})\n", lit(&paragraph(rng, 3))));
        }
        if p + 1 == pages {
            s.push_str(&format!(
                "#v(1fr)\n#align(right, block(text({})))\n#align(right, block(text({})))\n",
                lit(&doc.issuer),
                lit(&doc.date)
            ));
        }
    }
    s
}

fn compile(fonts: &Arc<Fonts>, source: String, date: Date) -> Result<typst_layout::PagedDocument> {
    let world = DossierWorld::new(fonts.clone(), source, vec![], None, date);
    let compiled = typeset::compile(&world);
    compiled
        .output
        .map_err(|e| anyhow::anyhow!("typst: {}", typeset::describe(&world, &e)))
}

fn pdf(fonts: &Arc<Fonts>, source: &str, date: Date) -> Result<Vec<u8>> {
    let doc = compile(fonts, source.to_string(), date)?;
    typeset::export_pdf(&doc, "dossier-sample", date, false)
        .map_err(|e| anyhow::anyhow!("pdf: {} errors", e.len()))
}

fn raster(fonts: &Arc<Fonts>, source: String, ppt: f64, date: Date) -> Result<RgbImage> {
    let doc = compile(fonts, source, date)?;
    let page = doc.pages().first().context("no page")?;
    let opts = typst_render::RenderOptions {
        pixel_per_pt: typst::utils::Scalar::new(ppt),
        ..Default::default()
    };
    let pixmap = typst_render::render(page, &opts);
    let (w, h) = (pixmap.width(), pixmap.height());
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    RgbImage::from_raw(w, h, rgb).context("pixmap size")
}

fn add_noise(img: &mut RgbImage, rng: &mut Rng, amount: i32) {
    for p in img.pixels_mut() {
        let n = (rng.below((2 * amount + 1) as u64) as i32) - amount;
        for c in p.0.iter_mut() {
            *c = (i32::from(*c) + n).clamp(0, 255) as u8;
        }
    }
}

/// A photo: an event scene with a banner, a board on posts, or a laboratory, drawn with Typst
/// and rasterised, with a little sensor noise.
fn photo(fonts: &Arc<Fonts>, doc: &Doc, rel: &str, rng: &mut Rng, date: Date) -> Result<Vec<u8>> {
    let exif_rotated = rel.contains("社区宣传栏");
    let portrait = exif_rotated || rel.contains("315");
    let (w, h) = if portrait {
        (300.0, 400.0)
    } else {
        (400.0, 300.0)
    };
    let mut s = format!(
        "#set page(width: {w}pt, height: {h}pt, margin: 0pt, fill: gradient.linear(rgb(\"#8fb8de\"), rgb(\"#e3edf5\"), angle: 90deg))\n#set text(font: \"Noto Sans CJK SC\", lang: \"zh\")\n"
    );
    s.push_str("#place(bottom, rect(width: 100%, height: 38%, fill: gradient.linear(rgb(\"#7a8a6a\"), rgb(\"#55654a\"), angle: 90deg)))\n");
    let board = doc.title.contains("宣传")
        && (doc.title.contains("展板") || doc.title.contains("牌") || doc.title.contains("栏"));
    if board {
        s.push_str(&format!(
            "#place(center + top, dy: 18%, block(width: 78%, height: 46%, fill: rgb(\"#1f4e8c\"), stroke: 4pt + rgb(\"#c9c9c9\"), inset: 12pt, align(center + horizon, stack(spacing: 10pt, text(fill: white, size: 20pt, weight: \"bold\")[质量第一　诚信为本], text(fill: rgb(\"#ffd966\"), size: 12pt)[民权县创建“河南省质量强县示范县”], text(fill: white, size: 9pt, {})))))\n",
            lit(&doc.title)
        ));
        s.push_str("#place(left + bottom, dx: 24%, dy: -10%, rect(width: 6pt, height: 34%, fill: rgb(\"#777777\")))\n#place(right + bottom, dx: -24%, dy: -10%, rect(width: 6pt, height: 34%, fill: rgb(\"#777777\")))\n");
    } else if doc.title.contains("实验室") || doc.title.contains("检测中心") {
        s.push_str("#place(top, rect(width: 100%, height: 62%, fill: rgb(\"#eef1f3\")))\n");
        for i in 0..4 {
            s.push_str(&format!("#place(left + top, dx: {}%, dy: 40%, rect(width: 20%, height: 16%, fill: rgb(\"#d0d7de\"), stroke: 1pt + rgb(\"#9aa5b1\")))\n", 3 + i * 24));
        }
        s.push_str("#place(center + top, dy: 6%, text(16pt, fill: rgb(\"#1f4e8c\"), weight: \"bold\")[民权县综合检验检测中心])\n");
    } else {
        let banner = doc
            .title
            .trim_end_matches("照片")
            .trim_end_matches("现场")
            .to_string();
        s.push_str(&format!(
            "#place(center + top, dy: 12%, block(width: 86%, height: 22%, fill: rgb(\"#c0181f\"), inset: 8pt, align(center + horizon, text(fill: white, size: {}pt, weight: \"bold\", {}))))\n",
            if portrait { 12 } else { 15 },
            lit(&banner)
        ));
    }
    let people = if board { 5 } else { 24 };
    for _ in 0..people {
        let x = rng.below(90) + 2;
        let y = 62 + rng.below(26);
        let shirt = rng.pick(&[
            "#2f3b52", "#8c2d19", "#3d6b45", "#d8d8d8", "#1c1c1c", "#5b4a8a",
        ]);
        let scale = 0.7 + (y as f64 - 62.0) / 40.0;
        s.push_str(&format!(
            "#place(left + top, dx: {x}%, dy: {y}%, stack(circle(radius: {:.1}pt, fill: rgb(\"#e0b592\")), rect(width: {:.1}pt, height: {:.1}pt, fill: rgb(\"{shirt}\"), radius: 2pt)))\n",
            7.0 * scale,
            16.0 * scale,
            26.0 * scale
        ));
    }
    s.push_str(&format!(
        "#place(bottom + right, dx: -8pt, dy: -6pt, text(7pt, fill: white)[示例照片 · {}])\n",
        doc.date
    ));
    let mut img = raster(fonts, s, 5.0, date)?;
    add_noise(&mut img, rng, 4);
    let mut exif = None;
    if exif_rotated {
        // Stored sideways; the EXIF orientation 6 tells viewers to turn it 90° clockwise.
        img = image::imageops::rotate270(&img);
        exif = Some(exif_orientation(6));
    }
    jpeg(&img, 80, exif)
}

/// A scanned page (grey, slightly noisy, 150 dpi) or, for a 截图, a TV screen capture.
fn scan(fonts: &Arc<Fonts>, doc: &Doc, rel: &str, rng: &mut Rng, date: Date) -> Result<Vec<u8>> {
    if rel.contains("截图") {
        let s = format!(
            "#set page(width: 480pt, height: 270pt, margin: 0pt, fill: gradient.linear(rgb(\"#0b3d91\"), rgb(\"#1a73c9\")))\n#set text(font: \"Noto Sans CJK SC\", lang: \"zh\", fill: white)\n#place(top + left, dx: 14pt, dy: 12pt, text(10pt)[民权电视台　新闻综合频道])\n#place(center + horizon, stack(spacing: 14pt, align(center, text(26pt, weight: \"bold\")[质量强县在行动]), align(center, text(12pt, {}))))\n#place(bottom, rect(width: 100%, height: 34pt, fill: rgb(200, 0, 0, 200), inset: 8pt, text(12pt)[民权县全力创建河南省质量强县示范县　{}]))\n#place(top + right, dx: -12pt, dy: 10pt, text(9pt)[示例截图])\n",
            lit(&doc.title),
            doc.date
        );
        return png(&raster(fonts, s, 2.5, date)?);
    }
    let mut src = document_source(doc, 1, rng);
    src.push_str("#place(top + right, dx: 6mm, dy: -20mm, rotate(8deg, text(11pt, fill: rgb(\"#1a3a8a\"), font: \"Dossier Kai\")[已阅，请抓好落实。\\ 　　　　——示例批示]))\n");
    let rgb = raster(fonts, src, 150.0 / 72.0, date)?;
    let mut grey = image::imageops::grayscale(&rgb);
    for p in grey.pixels_mut() {
        let n = rng.below(9) as i32 - 4;
        // Paper is never pure white in a scan.
        p.0[0] = ((i32::from(p.0[0]) * 93 / 100) + 8 + n).clamp(0, 255) as u8;
    }
    png(&grey)
}

fn zip_of(files: &[(&str, String)]) -> Result<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let time = zip::DateTime::from_date_and_time(2022, 1, 1, 0, 0, 0)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(time);
        for (name, text) in files {
            z.start_file(*name, opts)?;
            z.write_all(text.as_bytes())?;
        }
        z.finish()?;
    }
    Ok(buf.into_inner())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A small spreadsheet: a statistics table for the record.
fn xlsx(doc: &Doc) -> Result<Vec<u8>> {
    let rows: Vec<Vec<String>> = {
        let mut rows = vec![
            vec![doc.title.clone()],
            vec![
                "序号".into(),
                "单位".into(),
                "项目".into(),
                "数量".into(),
                "备注".into(),
            ],
        ];
        let units = [
            "县市场监管局",
            "县财政局",
            "县农业农村局",
            "县住房和城乡建设局",
            "县工信和科技局",
            "县商务局",
        ];
        for (i, u) in units.iter().enumerate() {
            rows.push(vec![
                (i + 1).to_string(),
                (*u).into(),
                "质量工作经费（万元）".into(),
                format!("{}", 12 + i * 7),
                "示例数据".into(),
            ]);
        }
        rows
    };
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, v) in row.iter().enumerate() {
            let col = (b'A' + c as u8) as char;
            sheet.push_str(&format!(
                "<c r=\"{col}{}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                r + 1,
                xml_escape(v)
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    zip_of(&[
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="示例" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into()),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

/// A small Word document with the record's title and a few paragraphs.
fn docx(doc: &Doc) -> Result<Vec<u8>> {
    let mut rng = Rng::from(&doc.title);
    let mut body = format!(
        "<w:p><w:r><w:t>{}</w:t></w:r></w:p>",
        xml_escape(&doc.title)
    );
    body.push_str("<w:p><w:r><w:t>（示例材料，内容虚构）</w:t></w:r></w:p>");
    for _ in 0..4 {
        body.push_str(&format!(
            "<w:p><w:r><w:t>{}</w:t></w:r></w:p>",
            xml_escape(&paragraph(&mut rng, 3))
        ));
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    zip_of(&[
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.into()),
        ("word/document.xml", document),
    ])
}
