//! The status page: one self-contained HTML file (styles and the unit filter inline, no
//! network, no fonts to fetch) that opens from `file://` in the Chromium-based browsers county
//! offices use and prints on A4 landscape. Every number is in the HTML as written (the filter
//! only hides rows), so the page reads the same with scripts off; elements carry ids and
//! `data-` attributes so tests and other tools can read the numbers back.

use std::fmt::Write;

use super::{CriterionStatus, Progress, RecordRef, Totals, UnitStatus, percent};

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            _ => s.push(c),
        }
    }
    s
}

const STYLE: &str = r#"
:root { --ok: #1a7f37; --bad: #c00000; --warn: #b35900; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  margin: 0 auto; max-width: 1400px; padding: 16px 24px; color: #1f2328; font-size: 14px; line-height: 1.5; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #1f2328; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.bar { background: #eaeef2; border-radius: 4px; height: 10px; width: 100%; min-width: 80px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--ok); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
table.criteria { table-layout: fixed; }
td.state { white-space: nowrap; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr.item > td { background: #f6f8fa; font-weight: 600; }
.ok { color: var(--ok); } .bad { color: var(--bad); font-weight: 600; } .warn { color: var(--warn); }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px; border: 1px solid currentColor; white-space: nowrap; }
.controls { position: sticky; top: 0; background: #fff; padding: 8px 0; border-bottom: 1px solid var(--line); z-index: 1; }
select { font-size: 14px; padding: 2px 4px; }
.unit-card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; break-inside: avoid; }
.unit-card.overdue { border-color: var(--bad); }
.unit-card h3 { margin-top: 0; display: flex; gap: 12px; align-items: center; }
ul { margin: 4px 0; padding-left: 20px; }
a { color: #0550ae; }
[hidden] { display: none !important; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .controls { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  var select = document.getElementById('unit');
  function apply(name) {
    var key = '|' + name + '|';
    document.querySelectorAll('[data-units]').forEach(function (el) {
      el.hidden = name !== '' && el.getAttribute('data-units').indexOf(key) < 0;
    });
    document.querySelectorAll('.unit-card').forEach(function (el) {
      el.hidden = name !== '' && el.getAttribute('data-unit') !== name;
    });
    document.getElementById('showing').textContent = name === '' ? '全部单位' : name;
  }
  select.addEventListener('change', function () {
    history.replaceState(null, '', select.value === '' ? '#' : '#单位=' + encodeURIComponent(select.value));
    apply(select.value);
  });
  var m = /^#单位=(.*)$/.exec(decodeURIComponent(location.hash));
  if (m) {
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === m[1]; });
    if (found) { select.value = m[1]; apply(m[1]); }
  }
})();
"#;

/// The page.
pub fn page(p: &Progress) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}：材料收集进度</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&p.title)
    );
    header(&mut s, p);
    controls(&mut s, p);
    by_item(&mut s, p);
    by_unit(&mut s, p);
    owed_list(&mut s, p);
    let _ = write!(s, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    s
}

/// A progress bar.
fn bar(part: usize, whole: usize) -> String {
    format!(
        "<div class=\"bar\" title=\"{part}/{whole}\"><span style=\"width:{}%\"></span></div>",
        percent(part, whole)
    )
}

/// Title, date and the totals.
fn header(s: &mut String, p: &Progress) {
    let t: &Totals = &p.totals;
    let _ = write!(
        s,
        "<h1>{}</h1>\n<p class=\"muted\">材料收集进度，截至 <span id=\"today\">{}</span>。",
        esc(&p.title),
        esc(&p.today)
    );
    if let Some(pdf) = &p.built_pdf {
        let _ = write!(
            s,
            "材料链接指向上次生成的 <a href=\"{}\">{}</a>。",
            esc(pdf),
            esc(pdf)
        );
    } else {
        s.push_str("还没有生成过汇编，材料暂无页码链接。");
    }
    s.push_str("</p>\n");
    if p.errors > 0 {
        let _ = writeln!(
            s,
            "<p class=\"bad\" id=\"errors\" data-count=\"{}\">资料目录里有 {} 个错误（dossier check 查看），有错的材料可能没有算进下面的数字。</p>",
            p.errors, p.errors
        );
    }
    let card = |s: &mut String, id: &str, label: &str, value: usize, extra: &str| {
        let _ = write!(
            s,
            "<div class=\"card\">{label}<b id=\"{id}\">{value}</b>{extra}</div>"
        );
    };
    s.push_str("<div class=\"cards\">");
    card(
        s,
        "covered",
        "有材料的考核内容",
        t.covered,
        &format!(
            "共 <span id=\"criteria\">{}</span> 条 {}",
            t.criteria,
            bar(t.covered, t.criteria)
        ),
    );
    card(s, "missing", "缺材料的考核内容", t.missing, "");
    card(s, "records", "材料", t.records, "件");
    card(s, "pages", "证据页", t.pages, "页");
    card(
        s,
        "targets-met",
        "量化目标已达到",
        t.targets_met,
        &format!(
            "共 {} 项，未达到 <span id=\"targets-failed\">{}</span>，未填实测 {}",
            t.targets, t.targets_failed, t.targets_open
        ),
    );
    card(
        s,
        "units-owing",
        "仍欠材料的单位",
        t.units_owing,
        &format!(
            "共 {} 个单位，欠 <span id=\"owed\">{}</span> 条；逾期 <span id=\"units-overdue\">{}</span> 个",
            t.units, t.owed, t.units_overdue
        ),
    );
    if t.bonus_criteria > 0 {
        card(
            s,
            "bonus-covered",
            "加分项有材料",
            t.bonus_covered,
            &format!("共 {} 条（可选）", t.bonus_criteria),
        );
    }
    s.push_str("</div>\n");
}

/// The unit filter.
fn controls(s: &mut String, p: &Progress) {
    s.push_str("<div class=\"controls\"><label>按单位筛选：<select id=\"unit\"><option value=\"\">全部单位</option>");
    for u in &p.units {
        let _ = write!(
            s,
            "<option value=\"{}\">{}</option>",
            esc(&u.name),
            esc(&u.name)
        );
    }
    s.push_str("</select></label> <span class=\"muted\">当前：<span id=\"showing\">全部单位</span></span></div>\n");
}

/// `|a|b|` for the filter.
fn data_units<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::from("|");
    for n in names {
        s.push_str(n);
        s.push('|');
    }
    esc(&s)
}

/// A record as a link to its page, or as text.
fn record_link(r: &RecordRef) -> String {
    let text = format!("{} {}", esc(&r.label), esc(&r.title));
    let date = r.date.as_deref().map(esc).unwrap_or_default();
    match &r.link {
        Some(href) => format!("<a href=\"{}\" title=\"{date}\">{text}</a>", esc(href)),
        None => format!("<span title=\"{date}\">{text}</span>"),
    }
}

/// Per group, item and criterion.
fn by_item(s: &mut String, p: &Progress) {
    s.push_str("<h2>按指标</h2>\n");
    for g in &p.groups {
        let _ = write!(
            s,
            "<h3>{}、{}</h3>\n<table class=\"criteria\"><colgroup><col style=\"width:36%\"><col style=\"width:15%\"><col style=\"width:27%\"><col style=\"width:4%\"><col style=\"width:7%\"><col style=\"width:11%\"></colgroup>\n<tr><th>指标 / 考核内容</th><th>责任单位</th><th>材料</th><th class=\"num\">页</th><th>状态</th><th>量化目标</th></tr>\n",
            esc(&g.id),
            esc(&g.title)
        );
        for i in &g.items {
            let covered = i.criteria.iter().filter(|c| c.covered).count();
            let units = data_units(i.criteria.iter().flat_map(criterion_units));
            let _ = writeln!(
                s,
                "<tr class=\"item\" id=\"item-{}\" data-units=\"{units}\"><td colspan=\"3\">指标{} {}</td><td class=\"num\">{}</td><td colspan=\"2\">{covered}/{} 条有材料，{} 件 {}</td></tr>",
                i.number,
                i.number,
                esc(&i.title),
                i.pages,
                i.criteria.len(),
                i.records,
                bar(covered, i.criteria.len())
            );
            for c in &i.criteria {
                criterion_row(s, i.number, c);
            }
        }
        s.push_str("</table>\n");
    }
}

/// The units a criterion's row is for: those the table names and those whose records support
/// it (the filter shows the row for each).
fn criterion_units(c: &CriterionStatus) -> impl Iterator<Item = &str> {
    (c.units.iter().map(String::as_str)).chain(
        c.records
            .iter()
            .flat_map(|r| r.units.iter().map(String::as_str)),
    )
}

/// One criterion's row.
fn criterion_row(s: &mut String, item: u32, c: &CriterionStatus) {
    let state = match (c.covered, c.bonus) {
        (true, _) => "<span class=\"ok\">有材料</span>",
        (false, true) => "<span class=\"muted\">加分项（可选）</span>",
        (false, false) => "<span class=\"bad\">缺材料</span>",
    };
    let records: Vec<String> = c.records.iter().map(record_link).collect();
    let targets: Vec<String> = (c.targets.iter())
        .map(|t| {
            let (class, word) = match t.met {
                Some(true) => ("ok", "达到"),
                Some(false) => ("bad", "未达到"),
                None if t.value.is_some() => ("warn", "无法判断"),
                None => ("warn", "未填实测"),
            };
            let value = t.value.map(|v| format!("，实测 {v}")).unwrap_or_default();
            format!(
                "{} {}{value} <span class=\"{class}\">{word}</span>",
                esc(&t.name),
                esc(&t.goal)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "<tr class=\"criterion\" data-item=\"{item}\" data-criterion=\"{}\" data-covered=\"{}\" data-units=\"{}\"><td>{}. {}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"state\">{state}</td><td>{}</td></tr>",
        c.index,
        c.covered,
        data_units(criterion_units(c)),
        c.index,
        esc(&c.text),
        esc(&c.units.join("、")),
        records.join("<br>"),
        c.pages,
        targets.join("<br>")
    );
}

/// One card per unit.
fn by_unit(s: &mut String, p: &Progress) {
    s.push_str("<h2>按单位</h2>\n");
    for u in &p.units {
        unit_card(s, u);
    }
}

/// A unit's card: counts, deadline, what it owes, what it supplied.
fn unit_card(s: &mut String, u: &UnitStatus) {
    let done = u.criteria - u.owes.len().min(u.criteria);
    let deadline = match (&u.deadline, u.overdue) {
        (Some(d), true) => format!("<span class=\"tag bad\">已逾期（截止 {}）</span>", esc(d)),
        (Some(d), false) => format!("<span class=\"tag muted\">截止 {}</span>", esc(d)),
        (None, _) => String::new(),
    };
    let _ = write!(
        s,
        "<section class=\"unit-card{}\" data-unit=\"{}\" data-owed=\"{}\" data-records=\"{}\" data-overdue=\"{}\">\n<h3>{}{deadline}</h3>\n<p>工作任务 {} 项，涉及考核内容 {} 条，已有材料 {done} 条；提供材料 <span class=\"record-count\">{}</span> 件；仍欠 <span class=\"owed-count\">{}</span> 条。</p>{}\n",
        if u.overdue { " overdue" } else { "" },
        esc(&u.name),
        u.owes.len(),
        u.records.len(),
        u.overdue,
        esc(&u.name),
        u.tasks.len(),
        u.criteria,
        u.records.len(),
        u.owes.len(),
        bar(done, u.criteria)
    );
    if !u.owes.is_empty() {
        s.push_str("<p>还欠：</p><ul class=\"owes\">");
        for o in &u.owes {
            let _ = write!(
                s,
                "<li class=\"owed\" data-item=\"{}\" data-criterion=\"{}\">指标{} 第{}条：{}</li>",
                o.item,
                o.criterion,
                o.item,
                o.criterion,
                esc(&o.text)
            );
        }
        s.push_str("</ul>\n");
    }
    if !u.records.is_empty() {
        s.push_str("<details><summary>已提供的材料</summary><ul class=\"supplied\">");
        for r in &u.records {
            let _ = write!(s, "<li>{}</li>", record_link(r));
        }
        s.push_str("</ul></details>\n");
    }
    s.push_str("</section>\n");
}

/// Every (unit, criterion) still owed, as one table to print and send round.
fn owed_list(s: &mut String, p: &Progress) {
    let _ = write!(
        s,
        "<h2>尚缺材料清单（{} 条）</h2>\n<table class=\"owed-list\"><tr><th>单位</th><th>截止日期</th><th>指标</th><th>考核内容</th></tr>\n",
        p.totals.owed
    );
    for u in &p.units {
        for o in &u.owes {
            let _ = writeln!(
                s,
                "<tr data-units=\"{}\"><td>{}</td><td>{}</td><td>指标{} 第{}条</td><td>{}</td></tr>",
                data_units([u.name.as_str()]),
                esc(&u.name),
                u.deadline.as_deref().map(esc).unwrap_or_default(),
                o.item,
                o.criterion,
                esc(&o.text)
            );
        }
    }
    s.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
