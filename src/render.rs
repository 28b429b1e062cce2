//! Rendering: minijinja templates (`templates/*.typ`, embedded; a dossier may override any of
//! them with a file of the same name in its own `templates/` folder) filled with a [`Plan`]
//! into Typst sources.
//!
//! Every value printed with `{{ … }}` in a `.typ` template is escaped for Typst markup by the
//! auto-escape formatter: a backslash goes before every ASCII punctuation character and a
//! line break becomes a forced break, so no text from the YAML can become Typst markup or code.
//! Values that must go into code use the `str` filter (a string literal) or `typst` (any
//! value as a Typst literal); `label` makes a checked `<label>`.

use std::path::Path;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State};

use crate::diag::{Diagnostic, Place, Pos};
use crate::load::TEMPLATES_DIR;
use crate::plan::Plan;

/// The templates compiled into the binary: name and text.
pub const TEMPLATES: [(&str, &str); 5] = [
    ("dossier.typ", include_str!("../templates/dossier.typ")),
    ("master.typ", include_str!("../templates/master.typ")),
    ("binder.typ", include_str!("../templates/binder.typ")),
    ("parts.typ", include_str!("../templates/parts.typ")),
    ("lib.typ", include_str!("../templates/lib.typ")),
];

/// The Typst files of one document.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The template the main file was rendered from (`dossier.typ`, `master.typ`,
    /// `binder.typ`).
    pub template: &'static str,
    /// The main file (`/main.typ`).
    pub main: String,
    /// Other files by Typst path (`/lib.typ`).
    pub files: Vec<(String, String)>,
}

/// Escapes text for Typst markup.
pub fn escape_markup(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\r' => {}
            '\n' => out.push_str("\\\n"),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// A Typst string literal.
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn typst_literal(v: &Value, out: &mut String) -> Result<(), Error> {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("none"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => out.push_str(&v.to_string()),
        ValueKind::String => out.push_str(&string_literal(v.as_str().unwrap_or_default())),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('(');
            for item in v.try_iter()? {
                typst_literal(&item, out)?;
                out.push_str(", ");
            }
            out.push(')');
        }
        ValueKind::Map => {
            out.push('(');
            let mut empty = true;
            for key in v.try_iter()? {
                let name = key.as_str().unwrap_or_default();
                if !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    || name.is_empty()
                {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("key {name:?} cannot be a Typst identifier"),
                    ));
                }
                out.push_str(name);
                out.push_str(": ");
                typst_literal(&v.get_item(&key)?, out)?;
                out.push_str(", ");
                empty = false;
            }
            if empty {
                out.push(':');
            }
            out.push(')');
        }
        _ => out.push_str(&string_literal(&v.to_string())),
    }
    Ok(())
}

fn environment(root: Option<&Path>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".typ") {
            AutoEscape::Custom("typst".into())
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        let typst = matches!(state.auto_escape(), AutoEscape::Custom(n) if n == "typst");
        if typst && !value.is_safe() && !value.is_none() {
            let mut s = String::new();
            if let Some(text) = value.as_str() {
                escape_markup(text, &mut s);
            } else {
                escape_markup(&value.to_string(), &mut s);
            }
            out.write_str(&s).map_err(Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("str", |_: &State, v: Value| -> Value {
        Value::from_safe_string(string_literal(&v.to_string()))
    });
    env.add_filter("typst", |v: Value| -> Result<Value, Error> {
        let mut out = String::new();
        typst_literal(&v, &mut out)?;
        Ok(Value::from_safe_string(out))
    });
    env.add_filter("label", |v: Value| -> Result<Value, Error> {
        let s = v.to_string();
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("{s:?} is not a label"),
            ));
        }
        Ok(Value::from_safe_string(format!("<{s}>")))
    });
    let overrides = root.map(|r| r.join(TEMPLATES_DIR));
    env.set_loader(move |name| {
        if let Some(dir) = &overrides {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("{}: {e}", path.display()),
                    )
                });
            }
        }
        Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string()))
    });
    env
}

/// Renders the Typst sources of a plan: the dossier (`dossier.typ`), or a unit's binder
/// (`binder.typ`) when the plan is a binder's. `root` is the dossier folder (for template
/// overrides).
pub fn render(plan: &Plan, root: Option<&Path>) -> Result<Rendered, Diagnostic> {
    let env = environment(root);
    let ctx = Value::from(minijinja::value::Serde(plan));
    let render_one = |name: &str| -> Result<String, Diagnostic> {
        let t = env
            .get_template(name)
            .map_err(|e| template_error(name, root, &e))?;
        t.render(&ctx).map_err(|e| template_error(name, root, &e))
    };
    let main = plan.target.template();
    Ok(Rendered {
        template: main,
        main: render_one(main)?,
        files: vec![("/lib.typ".into(), render_one("lib.typ")?)],
    })
}

/// What [`export_templates`] did.
#[derive(Debug, Default)]
pub struct Exported {
    /// Templates written, as paths relative to the dossier (`templates/dossier.typ`).
    pub written: Vec<String>,
    /// Templates the dossier already had: its own, left as they are.
    pub kept: Vec<String>,
}

/// Writes the built-in templates into the dossier's `templates/` folder, for a county office
/// to customise (as `mdbook init --theme` does). A template already there is the office's own
/// and is never overwritten. Unchanged, the written templates give the same PDF as the
/// built-in ones.
pub fn export_templates(root: &Path) -> anyhow::Result<Exported> {
    use anyhow::Context;
    use std::io::Write;
    if !root.join(crate::load::CONFIG_FILE).is_file() {
        anyhow::bail!(
            "{} 不是资料目录：里面没有 {}",
            root.display(),
            crate::load::CONFIG_FILE
        );
    }
    let dir = root.join(TEMPLATES_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
    let mut out = Exported::default();
    for (name, text) in TEMPLATES {
        let rel = format!("{TEMPLATES_DIR}/{name}");
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                out.kept.push(rel);
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("无法写入 {}", path.display())),
        };
        if let Err(e) = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
        {
            // A half-written template would break the next build: remove it.
            let _ = std::fs::remove_file(&path);
            return Err(e).with_context(|| format!("无法写入 {}", path.display()));
        }
        out.written.push(rel);
    }
    Ok(out)
}

/// Whether the dossier at `root` has a template of its own that differs from the built-in one
/// (then what the document draws is only known from its layout). Templates exported and left
/// as they are do not count.
pub fn own_templates(root: &Path) -> bool {
    TEMPLATES.iter().any(|(name, builtin)| {
        template_text(name, Some(root)).is_some_and(|(text, own)| own && text != *builtin)
    })
}

/// The text of template `name`: the dossier's own `templates/NAME` when it has one (then
/// `true`), else the built-in one.
fn template_text(name: &str, root: Option<&Path>) -> Option<(String, bool)> {
    if let Some(text) = root
        .map(|r| r.join(TEMPLATES_DIR).join(name))
        .filter(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        return Some((text, true));
    }
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| (t.to_string(), false))
}

/// The template file as a diagnostic names it: the dossier's own, or the built-in one.
fn template_file(name: &str, overridden: bool) -> String {
    if overridden {
        format!("templates/{name}")
    } else {
        format!("(内置模板) templates/{name}")
    }
}

/// Where a Typst error in generated source lies in the template it came from, and whether
/// that template is the dossier's own. Lines of a template without placeholders come out of
/// rendering unchanged, so the generated line is looked up in the template; when it is not
/// found (a line with placeholders), the place is the template file without a line.
pub fn template_place(name: &str, root: Option<&Path>, generated_line: &str) -> (Place, bool) {
    let Some((text, overridden)) = template_text(name, root) else {
        return (Place::file(template_file(name, false)), false);
    };
    let wanted = generated_line.trim();
    let line = (!wanted.is_empty())
        .then(|| text.lines().position(|l| l.trim() == wanted))
        .flatten();
    let file = template_file(name, overridden);
    let place = match line {
        Some(i) => {
            let l = text.lines().nth(i).unwrap_or("");
            let col = l.chars().take_while(|c| c.is_whitespace()).count() + 1;
            Place::at(file, Pos::new(i + 1, col, wanted.chars().count()))
        }
        None => Place::file(file),
    };
    (place, overridden)
}

/// The hint of an error in a template: the dossier's own template is the user's to fix; an
/// error in a built-in one is the program's.
pub fn template_hint(overridden: bool) -> &'static str {
    if overridden {
        "这是资料目录 templates/ 里自定义的模板；请修正它，或删去它改用内置模板。"
    } else {
        "内置模板出错是程序的问题，请把这条信息报告给维护者。"
    }
}

fn template_error(name: &str, root: Option<&Path>, e: &Error) -> Diagnostic {
    // The error may be inside an imported template (parts.typ).
    let name = e.name().unwrap_or(name);
    let overridden = root.is_some_and(|r| r.join(TEMPLATES_DIR).join(name).is_file());
    let file = template_file(name, overridden);
    let place = match e.line() {
        Some(line) => Place::at(file, Pos::new(line, 1, 0)),
        None => Place::file(file),
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!("：{s}"));
        source = s.source();
    }
    Diagnostic::error(format!("模板 {name} 出错：{detail}"))
        .code("template-error")
        .at(place)
        .hint(template_hint(overridden))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_escape_covers_every_special_character() {
        let mut out = String::new();
        escape_markup(
            "# [x] *y* _z_ `c` $m$ @r <l> // /* \\ \"q\" 'q'\n= h\n- l\n+ e 1. ~",
            &mut out,
        );
        // No unescaped special character remains.
        let mut chars = out.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
                continue;
            }
            assert!(!c.is_ascii_punctuation(), "unescaped {c:?} in {out:?}");
        }
        assert!(out.contains("\\\n\\= h"));
    }

    #[test]
    fn typst_literals() {
        let v = Value::from(minijinja::value::Serde(
            serde_json::json!({"a": ["x\"y", 1, null, true], "b": {}}),
        ));
        let mut out = String::new();
        typst_literal(&v, &mut out).unwrap();
        assert_eq!(out, "(a: (\"x\\\"y\", 1, none, true, ), b: (:), )");
        assert_eq!(string_literal("a\\b\n"), "\"a\\\\b\\n\"");
    }
}
