//! Which files of a dossier folder are the user's and which are scratch: editors' temporary
//! and backup files, hidden files, the operating system's own files. Loading, the search for
//! unreferenced evidence and `watch` all skip the same ones, decided here once.

/// Whether a file name (the last component of a path) is an editor's temporary or backup file,
/// a hidden file, or a file the operating system leaves in folders: never evidence, never an
/// item file, never a reason to rebuild.
pub fn is_scratch_file(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('~')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
        || name.eq_ignore_ascii_case("Thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_files_are_recognised_and_ordinary_ones_are_not() {
        for name in [
            ".05.yaml.swp",
            "~$统计表.xlsx",
            "05.yaml~",
            "#05.yaml#",
            "4913",
            ".DS_Store",
            "Thumbs.db",
            "desktop.ini",
            ".dossier-abc.tmp",
        ] {
            assert!(is_scratch_file(name), "{name}");
        }
        for name in ["05.yaml", "05.YAML", "方案.pdf", "a~b.pdf", "备份.bak"] {
            assert!(!is_scratch_file(name), "{name}");
        }
    }
}
