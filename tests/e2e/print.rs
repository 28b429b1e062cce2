//! Regression tests for issue 11 ("print-ready: the dossier and the binders as a Chinese archive
//! office prints, stamps and boxes them"). They lay the sample out in-process and look at the
//! pages themselves — where the 归档章, the page numbers and the running heads are, in mm —
//! and compare a handful of key pages with committed reference images, the way Typst tests
//! itself. To accept a deliberate change of layout, regenerate the references:
//!
//! ```text
//! DOSSIER_UPDATE_REFERENCES=1 cargo test --release --test e2e print::
//! ```
//! and look at the PNGs under tests/reference/ before committing them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use dossier::build::{self, Stamp};
use dossier::plan::{self, PlanOptions};
use dossier::typeset::FileCache;
use dossier::validate::Dossier;
use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst::visualize::{Geometry, Paint};
use typst_layout::PagedDocument;

const MM: f64 = 72.0 / 25.4;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A dossier checked, with its typesetting resources (the normalisation cache in the target
/// folder).
fn checked(root: &Path, cache: &str) -> (Dossier, build::Resources, PlanOptions) {
    let sources = dossier::load::load(root).expect("loads");
    let d = dossier::validate::validate(sources)
        .dossier
        .expect("the dossier has no errors");
    let fonts = build::dossier_fonts(&d).expect("fonts");
    let out = crate::common::shared_out(cache);
    let ready = dossier::engine::ready(
        &d,
        fonts,
        Arc::new(FileCache::default()),
        &out,
        dossier::engine::Preparing {
            normalize: true,
            ocr: false,
        },
        &mut dossier::engine::Quiet,
    )
    .expect("resources")
    .expect("no errors");
    let base = ready.plan_options(true);
    (d, ready.res, base)
}

/// Lays out a plan of the dossier.
fn lay(d: &Dossier, res: &build::Resources, opts: &PlanOptions) -> PagedDocument {
    let plan = plan::plan(d, opts);
    build::layout(&plan, d, res, &Stamp::of(d, "dossier", None)).expect("lays out")
}

/// The sample, laid out once: (dossier, duplex document, simplex document, 市场监管局's binder).
fn sample() -> &'static (Dossier, PagedDocument, PagedDocument, PagedDocument) {
    static SAMPLE: OnceLock<(Dossier, PagedDocument, PagedDocument, PagedDocument)> =
        OnceLock::new();
    SAMPLE.get_or_init(|| {
        let (d, res, base) = checked(&repo().join("dossier"), "print-sample");
        let duplex = lay(&d, &res, &base);
        let simplex = lay(
            &d,
            &res,
            &PlanOptions {
                duplex: false,
                ..base.clone()
            },
        );
        let unit = d
            .registry
            .units
            .iter()
            .position(|u| u.short == "市场监管局")
            .expect("the unit");
        let binder = lay(
            &d,
            &res,
            &PlanOptions {
                unit: Some(unit),
                ..base.clone()
            },
        );
        (d, duplex, simplex, binder)
    })
}

/// Something drawn on a page: its kind, its box in points (from the top-left corner), its
/// text (for text) and whether it is red.
#[derive(Debug, Clone)]
struct Drawn {
    text: Option<String>,
    min: Point,
    max: Point,
    red: bool,
    grey_box: bool,
}

fn is_red(paint: &Paint) -> bool {
    match paint {
        Paint::Solid(c) => {
            let [r, g, b, _] = c.to_vec4_u8();
            r > 150 && g < 60 && b < 60
        }
        _ => false,
    }
}

/// Everything on a page with its absolute box (translations and scales of groups applied).
fn drawn(frame: &Frame) -> Vec<Drawn> {
    fn walk(frame: &Frame, ts: Transform, out: &mut Vec<Drawn>) {
        for (pos, item) in frame.items() {
            let at = ts.pre_concat(Transform::translate(pos.x, pos.y));
            let corners = |w: Abs, h: Abs| {
                let a = Point::zero().transform(at);
                let b = Point::new(w, h).transform(at);
                (
                    Point::new(a.x.min(b.x), a.y.min(b.y)),
                    Point::new(a.x.max(b.x), a.y.max(b.y)),
                )
            };
            match item {
                FrameItem::Group(g) => walk(&g.frame, at.pre_concat(g.transform), out),
                FrameItem::Text(t) => {
                    // The run's box: from the baseline up one size, across its advance.
                    let a = Point::new(Abs::zero(), -t.size).transform(at);
                    let b = Point::new(t.width(), Abs::zero()).transform(at);
                    out.push(Drawn {
                        text: Some(t.text.to_string()),
                        min: a,
                        max: b,
                        red: is_red(&t.fill),
                        grey_box: false,
                    });
                }
                FrameItem::Shape(s, _) => {
                    let (min, max) = match &s.geometry {
                        Geometry::Line(p) => corners(p.x, p.y),
                        Geometry::Rect(size) => corners(size.x, size.y),
                        Geometry::Curve(c) => {
                            let r = c.bbox(None);
                            let (a, b) = (r.min.transform(at), r.max.transform(at));
                            (
                                Point::new(a.x.min(b.x), a.y.min(b.y)),
                                Point::new(a.x.max(b.x), a.y.max(b.y)),
                            )
                        }
                    };
                    let stroke = s.stroke.as_ref().map(|st| &st.paint);
                    let grey = stroke.is_some_and(|p| match p {
                        Paint::Solid(c) => {
                            let [r, g, b, _] = c.to_vec4_u8();
                            r == g && g == b && r > 180 && r < 230
                        }
                        _ => false,
                    });
                    out.push(Drawn {
                        text: None,
                        min,
                        max,
                        red: stroke.is_some_and(is_red),
                        grey_box: grey
                            && matches!(s.geometry, Geometry::Rect(_) | Geometry::Curve(_)),
                    });
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(frame, Transform::identity(), &mut out);
    out
}

/// All text on a page, in drawing order, without whitespace.
fn page_text(frame: &Frame) -> String {
    drawn(frame)
        .iter()
        .filter_map(|d| d.text.clone())
        .collect::<String>()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The union box of some drawings.
fn union(items: &[&Drawn]) -> (Point, Point) {
    let mut min = Point::new(Abs::inf(), Abs::inf());
    let mut max = Point::new(-Abs::inf(), -Abs::inf());
    for d in items {
        min = Point::new(min.x.min(d.min.x), min.y.min(d.min.y));
        max = Point::new(max.x.max(d.max.x), max.y.max(d.max.y));
    }
    (min, max)
}

fn mm(a: Abs) -> f64 {
    a.to_pt() / MM
}

/// Physical page (1-based) of each record's first page, by 件号.
fn record_starts(doc: &PagedDocument) -> Vec<(String, usize)> {
    use typst::introspection::Introspector;
    let intro = doc.introspector();
    let mut out: Vec<(String, usize)> = intro
        .query_labelled()
        .iter()
        .filter_map(|c| {
            let name = c.label()?.resolve().to_string();
            let id = name.strip_prefix("rec-").filter(|n| !n.ends_with("-end"))?;
            Some((id.to_string(), intro.page(c.location()?)?.get()))
        })
        .collect();
    out.sort_by_key(|x| x.1);
    out
}

#[test]
fn issue11_every_records_first_page_carries_the_da_t_22_stamp_in_the_top_band() {
    let (d, doc, _, _) = sample();
    let starts = record_starts(doc);
    assert_eq!(
        starts.len(),
        d.items.iter().map(|i| i.records.len()).sum::<usize>()
    );
    for (id, page) in &starts {
        let items = drawn(&doc.pages()[page - 1].frame);
        let red: Vec<&Drawn> = items.iter().filter(|x| x.red && x.text.is_none()).collect();
        assert!(!red.is_empty(), "{id}: no stamp on page {page}");
        let (min, max) = union(&red);
        let (w, h) = (mm(max.x - min.x), mm(max.y - min.y));
        assert!(
            (w - 45.0).abs() <= 1.0 && (h - 16.0).abs() <= 1.0,
            "{id}: stamp {w:.1} × {h:.1} mm"
        );
        assert!(
            mm(min.y) >= 5.0,
            "{id}: stamp {:.1} mm from the paper edge",
            mm(min.y)
        );
        // Above the evidence box, centred over it.
        let boxes: Vec<&Drawn> = items.iter().filter(|x| x.grey_box).collect();
        let (bmin, bmax) = union(&boxes);
        assert!(
            max.y < bmin.y,
            "{id}: the stamp reaches into the evidence box"
        );
        let (centre, box_centre) = (mm(min.x + max.x) / 2.0, mm(bmin.x + bmax.x) / 2.0);
        assert!(
            (centre - box_centre).abs() < 1.0,
            "{id}: stamp centre {centre:.1} vs box {box_centre:.1}"
        );
        // The six labels and their values, in red, inside the stamp.
        let inside: String = items
            .iter()
            .filter(|x| {
                x.red
                    && x.min.x >= min.x
                    && x.max.x <= max.x
                    && x.min.y >= min.y - Abs::pt(1.0)
                    && x.max.y <= max.y
            })
            .filter_map(|x| x.text.clone())
            .collect();
        let rec = d
            .items
            .iter()
            .flat_map(|i| &i.records)
            .find(|r| &r.label() == id)
            .unwrap();
        let year = rec.date.map_or(String::new(), |d| d.year.to_string());
        for want in [
            "全宗号",
            "年度",
            "件号",
            "机构（问题）",
            "保管期限",
            "页数",
            "Z028",
            "永久",
            id,
            &year,
        ] {
            assert!(
                inside.contains(want),
                "{id}: the stamp lacks {want}: {inside}"
            );
        }
    }
}

#[test]
fn issue11_the_catalog_has_the_da_t_22_columns_and_eight_digit_dates() {
    let (d, doc, _, _) = sample();
    let text: String = doc.pages().iter().map(|p| page_text(&p.frame)).collect();
    assert!(
        text.contains("序号档号文号责任者题名日期页数页码备注"),
        "the catalog's header"
    );
    for r in d.items.iter().flat_map(|i| &i.records) {
        if let Some(date) = r.date {
            let eight = format!("{:04}{:02}{:02}", date.year, date.month, date.day);
            assert!(text.contains(&eight), "{}: {eight}", r.label());
            assert!(
                !text.contains(&date.to_string()),
                "{}: a dashed date {date}",
                r.label()
            );
        }
    }
    // 档号 = 全宗号-年度-保管期限代码-件号.
    assert!(text.contains("Z028-2021-Y-01-01"), "an archive number");
}

/// The page-number runs in a page's footer ("— n —"), as one box.
fn page_number_box(frame: &Frame) -> Option<(Point, Point, String)> {
    let h = frame.size().y;
    let items = drawn(frame);
    let foot: Vec<&Drawn> = items
        .iter()
        .filter(|x| {
            x.text
                .as_deref()
                .is_some_and(|t| t.contains('—') || t.trim().parse::<u32>().is_ok())
        })
        .filter(|x| x.min.y > h - Abs::mm(25.0))
        .collect();
    if foot.is_empty() {
        return None;
    }
    let (min, max) = union(&foot);
    let text = foot.iter().filter_map(|x| x.text.clone()).collect();
    Some((min, max, text))
}

#[test]
fn issue11_page_numbers_alternate_sides_and_covers_have_none() {
    let (_, doc, simplex, _) = sample();
    let w = doc.pages()[0].frame.size().x;
    for (i, page) in doc.pages().iter().enumerate() {
        let physical = i + 1;
        let text = page_text(&page.frame);
        if physical <= 2 {
            assert!(
                page_number_box(&page.frame).is_none(),
                "the cover (page {physical}) is numbered"
            );
            assert!(page.numbering.is_none());
            continue;
        }
        if text == "本页无正文" {
            continue;
        }
        let (min, max, shown) =
            page_number_box(&page.frame).unwrap_or_else(|| panic!("page {physical} has no number"));
        let n = page.number;
        assert_eq!(
            shown
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
            format!("—{n}—")
        );
        // GB/T 9704: odd numbers at the right, even at the left, one character (14 pt) in from
        // the text block (28 mm binding inside, 20 mm outside on text pages; 25/12 mm on
        // evidence pages).
        let evidence = drawn(&page.frame).iter().any(|x| x.grey_box);
        let outside = if evidence { 12.0 } else { 20.0 };
        // One character of 14 pt is 4.9 mm; the dash's side bearing may take up to a mm off.
        let expected = (outside + 4.9 - 1.0)..=(outside + 4.9 + 0.3);
        if n % 2 == 1 {
            assert!(min.x > w / 2.0, "page {n} (odd) is numbered at the left");
            let gap = mm(w - max.x);
            assert!(
                expected.contains(&gap),
                "page {n}: {gap:.1} mm from the right edge"
            );
        } else {
            assert!(max.x < w / 2.0, "page {n} (even) is numbered at the right");
            let gap = mm(min.x);
            assert!(
                expected.contains(&gap),
                "page {n}: {gap:.1} mm from the left edge"
            );
        }
    }
    // Printed on one side, every number is at the right.
    for page in simplex.pages().iter().filter(|p| p.numbering.is_some()) {
        if let Some((min, _, _)) = page_number_box(&page.frame) {
            assert!(
                min.x > w / 2.0,
                "simplex page {} numbered at the left",
                page.number
            );
        }
    }
}

#[test]
fn issue11_printed_on_both_sides_every_record_starts_on_a_right_hand_page() {
    let (_, doc, simplex, _) = sample();
    for (id, page) in record_starts(doc) {
        assert!(page % 2 == 1, "{id} starts on page {page}");
    }
    let mut blanks = 0;
    for (i, page) in doc.pages().iter().enumerate() {
        let text = page_text(&page.frame);
        if i == 1 {
            assert!(text.is_empty(), "the back of the cover is blank");
        } else if text == "本页无正文" {
            blanks += 1;
            assert!(i % 2 == 1, "a blank verso on a right-hand page ({})", i + 1);
        } else {
            assert!(
                !text.is_empty(),
                "page {} is empty without saying so",
                i + 1
            );
        }
    }
    assert!(blanks > 5, "{blanks} blank versos");
    // The contents start on a right-hand page.
    let contents = doc
        .pages()
        .iter()
        .position(|p| page_text(&p.frame).starts_with("目录"))
        .unwrap();
    assert_eq!(contents % 2, 0, "the contents on page {}", contents + 1);
    // One side: no blank pages at all.
    assert!(
        simplex
            .pages()
            .iter()
            .all(|p| page_text(&p.frame) != "本页无正文")
    );
    assert!(simplex.pages().len() < doc.pages().len());
}

#[test]
fn issue11_a_two_thousand_character_title_keeps_its_running_head_on_one_line_inside_the_page() {
    let (tmp, root) = crate::common::dossier_with(None);
    let long: String = "关于质量强县示范县创建工作的补充说明"
        .chars()
        .cycle()
        .take(2000)
        .collect();
    let path = root.join("items/05.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("题名: 宣传牌照片及扫描件", &format!("题名: {long}"), 1),
    )
    .unwrap();
    let (d, res, base) = checked(&root, "print-long-title");
    let doc = lay(&d, &res, &base);
    let starts = record_starts(&doc);
    let (_, first) = starts.iter().find(|(id, _)| id == "05-02").unwrap();
    for page in [*first, first + 1] {
        let frame = &doc.pages()[page - 1].frame;
        let items = drawn(frame);
        let head: Vec<&Drawn> = items
            .iter()
            .filter(|x| !x.red && x.text.is_some())
            .filter(|x| x.min.y < Abs::mm(32.0))
            .collect();
        let (min, max) = union(&head);
        let size = frame.size();
        assert!(
            min.x >= Abs::zero() && max.x <= size.x,
            "page {page}: the head leaves the page"
        );
        assert!(
            mm(min.y) >= 5.0,
            "page {page}: the head is {:.1} mm from the top",
            mm(min.y)
        );
        assert!(
            mm(max.y - min.y) < 5.0,
            "page {page}: the head takes {:.1} mm (more than one line)",
            mm(max.y - min.y)
        );
        let shown: String = head.iter().filter_map(|x| x.text.clone()).collect();
        assert!(shown.contains('…'), "page {page}: the title is cut with …");
        assert!(
            shown.contains(&format!("（{}/2）", page - first + 1)),
            "page {page}: {shown}"
        );
    }
    drop(tmp);
}

#[test]
fn issue11_the_binder_ends_with_the_reference_form_and_its_box_sheets_outside_the_count() {
    let (_, _, _, binder) = sample();
    let pages = binder.pages();
    let form = pages
        .iter()
        .rposition(|p| page_text(&p.frame).starts_with("备考表"))
        .expect("a 备考表");
    assert_eq!(form % 2, 0, "the 备考表 on a right-hand page");
    assert!(pages[form].numbering.is_some(), "the 备考表 is counted");
    // Its back is blank, then the box cover and the spine label on their own sheets, none of
    // them numbered.
    let rest = &pages[form + 1..];
    assert_eq!(
        rest.len(),
        5,
        "blank back, box cover + back, spine label + back"
    );
    assert!(page_text(&rest[0].frame).is_empty());
    for p in rest {
        assert!(p.numbering.is_none(), "a box sheet is numbered");
        assert!(page_number_box(&p.frame).is_none());
    }
    assert!(
        page_text(&rest[1].frame).contains("全宗号"),
        "the box cover"
    );
    let spine = page_text(&rest[3].frame);
    for label in [
        "全宗号",
        "年度",
        "机构（问题）",
        "保管期限",
        "起止件号",
        "盒号",
    ] {
        assert!(spine.contains(label), "the spine lacks {label}");
    }
    assert!(
        spine.contains("市场监管局")
            || spine.contains("市场监管局".chars().rev().collect::<String>().as_str())
    );
}

/// The reference images: (name, what to render).
fn reference_pages() -> Vec<(&'static str, &'static typst_layout::Page)> {
    let (_, doc, _, binder) = sample();
    let find = |doc: &'static PagedDocument, want: &str| {
        doc.pages()
            .iter()
            .find(|p| page_text(&p.frame).starts_with(want))
            .unwrap_or_else(|| panic!("no page starting with {want}"))
    };
    let starts = record_starts(doc);
    let first_record = starts.iter().find(|(id, _)| id == "01-01").unwrap().1;
    let spine = binder
        .pages()
        .iter()
        .rev()
        .find(|p| page_text(&p.frame).contains("盒脊标签"))
        .expect("a spine label");
    vec![
        ("cover", &doc.pages()[0]),
        ("contents", find(doc, "目录")),
        ("item-page", find(doc, "指标1制定出台质量发展战略规划")),
        ("evidence-stamp", &doc.pages()[first_record - 1]),
        ("binder-spine", spine),
    ]
}

fn render(page: &typst_layout::Page) -> image::GrayImage {
    let pixmap = typst_render::render(
        page,
        &typst_render::RenderOptions {
            pixel_per_pt: typst::utils::Scalar::new(1.0),
            render_bleed: false,
        },
    );
    let (w, h) = (pixmap.width(), pixmap.height());
    image::GrayImage::from_fn(w, h, |x, y| {
        let p = pixmap.pixel(x, y).expect("inside");
        image::Luma([((u32::from(p.red()) * 299
            + u32::from(p.green()) * 587
            + u32::from(p.blue()) * 114)
            / 1000) as u8])
    })
}

#[test]
fn issue11_key_pages_look_like_their_references() {
    let dir = repo().join("tests/reference");
    let update = std::env::var_os("DOSSIER_UPDATE_REFERENCES").is_some();
    let mut problems = Vec::new();
    for (name, page) in reference_pages() {
        let shown = render(page);
        let path: PathBuf = dir.join(format!("{name}.png"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            shown.save(&path).unwrap();
            eprintln!("wrote {}", path.display());
            continue;
        }
        let want = image::open(&path)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (regenerate with DOSSIER_UPDATE_REFERENCES=1)",
                    path.display()
                )
            })
            .to_luma8();
        if want.dimensions() != shown.dimensions() {
            problems.push(format!(
                "{name}: {:?} vs {:?}",
                shown.dimensions(),
                want.dimensions()
            ));
            continue;
        }
        // A tolerance for anti-aliasing: few pixels may differ much, the mean hardly at all.
        let n = f64::from(want.width() * want.height());
        let diffs: Vec<u8> = want
            .pixels()
            .zip(shown.pixels())
            .map(|(a, b)| a.0[0].abs_diff(b.0[0]))
            .collect();
        let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / n;
        let large = diffs.iter().filter(|&&d| d > 64).count() as f64 / n;
        if mean > 0.5 || large > 0.0005 {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-actual.png"));
            shown.save(&out).unwrap();
            problems.push(format!(
                "{name}: mean difference {mean:.2}, {:.2}% of pixels differ a lot (now: {})",
                large * 100.0,
                out.display()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "layout changed:\n{}",
        problems.join("\n")
    );
}

#[test]
fn issue11_the_new_record_fields_are_checked() {
    for (from, to, message, line) in [
        (
            "    日期: 2021-04-12\n",
            "    日期: 2021-04-12\n    保管期限: 长期\n",
            "保管期限“长期”不是 DA/T 22 的期限",
            9,
        ),
        (
            "    日期: 2021-04-12\n",
            "    日期: 2021-04-12\n    加分: 2\n",
            "指标5不是加分项",
            9,
        ),
    ] {
        let (tmp, root) = crate::common::dossier_with(None);
        let path = root.join("items/05.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let (code, diags, stderr) = crate::common::check_in(tmp.path());
        assert_eq!(code, 1, "{stderr}");
        let e = diags
            .iter()
            .find(|d| d.severity == "错误")
            .expect("an error");
        assert!(e.message.contains(message), "{stderr}");
        assert_eq!(
            (e.file.as_str(), e.line),
            ("items/05.yaml", line),
            "{stderr}"
        );
    }
    // A bonus item: the points must be one its rules give for the criterion the record supports.
    let (tmp, root) = crate::common::dossier_with(None);
    std::fs::copy(
        root.join("evidence/05/方案.pdf"),
        root.join("evidence/方案.pdf"),
    )
    .unwrap();
    let path = root.join("items/21.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("  - 件号: 1\n    题名: 批示\n    责任单位: 县创建办公室\n    考核内容: [4]\n    加分: 1\n    文件: evidence/方案.pdf\n");
    std::fs::write(&path, &text).unwrap();
    let (code, diags, stderr) = crate::common::check_in(tmp.path());
    assert_eq!(code, 1, "{stderr}");
    let e = diags
        .iter()
        .find(|d| d.severity == "错误")
        .expect("an error");
    assert!(e.message.contains("加分 1 不是"), "{stderr}");
    assert!(e.hint.contains("第4条：2分"), "{stderr}");
    std::fs::write(&path, text.replace("    加分: 1\n", "    加分: 2\n")).unwrap();
    let (code, _, stderr) = crate::common::check_in(tmp.path());
    assert_eq!(code, 0, "{stderr}");
}
