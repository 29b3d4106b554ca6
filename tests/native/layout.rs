//! Rules of the source tree that the compiler does not check.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Cargo.toml builds no unit-test harness for the library or the binaries (`test = false`), so a
/// `#[test]` under src/ would compile away and never run: tests belong in tests/.
#[test]
fn no_test_hides_under_src() {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 20, "src/ holds the crate's sources");
    let hidden: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("#[test]") || l.starts_with("#[cfg(test)]")
            })
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(hidden.is_empty(), "tests under src/ never run; move them to tests/: {hidden:?}");
}
