//! The JSON lines `--format json` writes on stdout, one object per line, each with a `type`.
//! This is the schema (also in the README); fields are never removed within format version 1,
//! new ones may be added.
//!
//! | type | fields |
//! |---|---|
//! | `diagnostic` | `severity` ("error" or "warning"), `code` (the kind of problem: a stable kebab-case name such as `unit-unknown`, set at each place a diagnostic is made), `file`, `line`, `column` (null when unknown), `message`, `hint` (null when none) |
//! | `notice` | `message`: a remark about the outputs (files removed, evidence normalised) |
//! | `output` | `path`, `kind` ("pdf", "package", "report", "binder", "status-page", "status-workbook", "item-file"), `pages` (PDFs), `unit` (binders) |
//! | `unit` | `status`, per unit: `unit`, `tasks`, `records`, `owed` (`[{item, criterion}]`), `deadline`, `overdue` |
//! | `import` | `import`, per record: `action` ("added", "changed", "removed", "already", "kept"), `record` (件号), `sheet`, `row`, `fields` (changed columns) |
//! | `change` | `change` ("added", "removed", "modified", "moved"), `record` (件号), `fields`, `files` (modified), `from`, `to` ([first, last] printed pages, moved) |
//! | `finding` | `finding` ("missing", "extra", "altered", "damaged"), `path`, `why` |
//! | `failure` | `message`, `hint`: the command could not finish for a reason that is not the dossier's (exit code 2) |
//! | `summary` | `command`, `ok`, `errors`, `warnings`, and what the command counted; `build` and `diff` add `changed`, `inputs_changed`, `pdf_changed` and `binders` (the units whose binders change; all `null` on a first build); `build --ocr` adds `ocr`: `pages` (with a text layer), `read` (now, not from the cache), `corrected`, `empty`, `doubtful` (`[{record, seq, rel, page, confidence}]`, lowest first) |
//!
//! Every command ends with exactly one `summary` line (`watch`: one per rebuild). After a
//! `failure` it has `"ok": false, "failed": true`.

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Severity};
use crate::report::Changes;

/// A diagnostic.
pub fn diagnostic(d: &Diagnostic) -> Value {
    let pos = d.place.as_ref().and_then(|p| p.pos);
    json!({
        "type": "diagnostic",
        "severity": match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "code": d.code,
        "file": d.place.as_ref().map(|p| p.file.clone()),
        "line": pos.map(|p| p.line),
        "column": pos.map(|p| p.col),
        "message": d.message,
        "hint": d.hint,
    })
}

/// A notice.
pub fn notice(text: &str) -> Value {
    json!({"type": "notice", "message": text})
}

/// A failure that is not the dossier's.
pub fn failure(message: &str, hint: Option<&str>) -> Value {
    json!({"type": "failure", "message": message, "hint": hint})
}

/// An output written.
pub fn output(
    path: &std::path::Path,
    kind: &str,
    pages: Option<usize>,
    unit: Option<&str>,
) -> Value {
    json!({
        "type": "output",
        "path": path.to_string_lossy(),
        "kind": kind,
        "pages": pages,
        "unit": unit,
    })
}

/// The changes between two builds, one line each.
pub fn changes(c: &Changes) -> Vec<Value> {
    let mut out = Vec::new();
    for id in &c.added {
        out.push(json!({"type": "change", "change": "added", "record": id}));
    }
    for id in &c.removed {
        out.push(json!({"type": "change", "change": "removed", "record": id}));
    }
    for (id, fields, files) in &c.modified {
        out.push(json!({"type": "change", "change": "modified", "record": id, "fields": fields, "files": files}));
    }
    for (id, from, to) in &c.moved {
        out.push(json!({"type": "change", "change": "moved", "record": id, "from": [from.0, from.1], "to": [to.0, to.1]}));
    }
    out
}

/// What the summary of `build` and `diff` says about the changes (`null`s when there was no
/// earlier build to compare with).
pub fn change_summary(c: Option<&Changes>) -> Value {
    json!({
        "changed": c.map(|c| !c.is_empty()),
        "inputs_changed": c.map(|c| c.inputs_changed),
        "pdf_changed": c.map(|c| c.pdf_changed),
        "binders": c.map(|c| c.binders.iter().collect::<Vec<_>>()),
    })
}

/// The closing summary of a command.
pub fn summary(command: &str, ok: bool, errors: usize, warnings: usize, more: Value) -> Value {
    let mut v = json!({
        "type": "summary",
        "command": command,
        "ok": ok,
        "errors": errors,
        "warnings": warnings,
    });
    if let (Some(map), Value::Object(extra)) = (v.as_object_mut(), more) {
        map.extend(extra);
    }
    v
}
