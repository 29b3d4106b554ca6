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

// ---------------------------------------------------------------------------------------------
// The import rules of the house (docs/architecture.md): the core knows no lab, no lab knows
// another, the labs know no front end, and only the registry (`src/labs/*.rs`) names them all.
// "Imports" are module paths in code (`use crate::labs::scans::…`, `crate::labs::grokking::X`,
// `super::super::…`, grouped `use crate::labs::{…}`); comments and strings do not count.

/// The labs, by folder.
const LABS: [&str; 3] = ["grokking", "scans", "gradient_flow"];

/// Where a module lives in the house.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// `backend`, `rng`, `spec`, `train`, `nn`: knows no lab.
    Core,
    /// `labs/<lab>/…`.
    Lab(String),
    /// `labs` and its files that are not a lab: names every lab.
    Registry,
    /// `cli`, `web`, `sweep`, the crate root and the binaries: reach the labs through the
    /// registry.
    Face,
}

fn part_of(module: &[String]) -> Part {
    match module.first().map(String::as_str) {
        Some("backend" | "rng" | "spec" | "train" | "nn") => Part::Core,
        Some("labs") => match module.get(1) {
            Some(lab) if LABS.contains(&lab.as_str()) => Part::Lab(lab.clone()),
            _ => Part::Registry,
        },
        _ => Part::Face,
    }
}

/// The module path of a source file: `src/labs/scans/ssm/mod.rs` → `labs::scans::ssm`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> =
        rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    if parts.first().map(String::as_str) == Some("bin") {
        parts.clear(); // a binary is its own crate root, a front end
    }
    parts
}

/// The source with comments, string and char literals blanked (lines kept).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(rest.len(), |e| e + 4);
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(b"r#\"") || rest.starts_with(b"r\"") {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = text[i + body..].find(&close).map_or(rest.len(), |e| body + e + close.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == b'\'' && rest.len() > 2 && (rest[2] == b'\'' || rest[1] == b'\\') {
            // a char literal ('a', '\n', '\''), not a lifetime
            let end = rest[2..].iter().position(|&c| c == b'\'').map_or(1, |e| e + 3);
            blank(&rest[..end], &mut out);
            i += end;
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every absolute module path the code names, with its line: `crate::a::b`, `super::x`
/// resolved against `module`, and each item of a `{…}` group.
fn paths_named(code: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_path = (i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == ':'))
            && ["crate::", "super::", "gradscope::"]
                .iter()
                .any(|p| chars[i..].iter().take(p.len()).copied().eq(p.chars()));
        if !starts_path {
            i += 1;
            continue;
        }
        let line = chars[..i].iter().filter(|&&c| c == '\n').count() + 1;
        let (end, tails) = read_path(&chars, i);
        for tail in tails {
            let mut segments = tail.into_iter();
            let first = segments.next().unwrap_or_default();
            let mut abs: Vec<String> = match first.as_str() {
                "crate" | "gradscope" => Vec::new(),
                _ => {
                    // `super` of module a::b (file `a/b.rs` or `a/b/mod.rs`) is `a`.
                    let mut m = module.to_vec();
                    m.pop();
                    m
                }
            };
            for s in segments {
                if s == "super" {
                    abs.pop();
                } else {
                    abs.push(s);
                }
            }
            found.push((line, abs));
        }
        i = end;
    }
    found
}

/// Reads the path starting at `i` (`a::b::{c, d::e}`): where it ends, and each full path.
fn read_path(chars: &[char], mut i: usize) -> (usize, Vec<Vec<String>>) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut prefix = Vec::new();
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '{' {
            let mut out = Vec::new();
            i += 1;
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    return (i + 1, out);
                }
                let (end, tails) = read_path(chars, i);
                for t in tails {
                    out.push(prefix.iter().cloned().chain(t).collect());
                }
                // skip `as name` and anything up to the next item
                let mut j = end;
                while j < chars.len() && chars[j] != ',' && chars[j] != '}' {
                    j += 1;
                }
                i = j;
            }
        }
        let start = i;
        while i < chars.len() && ident(chars[i]) {
            i += 1;
        }
        if start == i {
            return (i, vec![prefix]);
        }
        prefix.push(chars[start..i].iter().collect());
        if chars[i..].starts_with(&[':', ':']) {
            i += 2;
        } else {
            return (i, vec![prefix]);
        }
    }
}

/// What a module in `from` may not name in `to`, as a sentence; `None` when allowed.
fn broken_rule(from: &Part, to: &Part) -> Option<&'static str> {
    match (from, to) {
        (Part::Core, Part::Lab(_) | Part::Registry) => Some("the core imports no lab"),
        (Part::Core, Part::Face) => Some("the core imports no front end"),
        (Part::Lab(a), Part::Lab(b)) if a != b => Some("no lab imports another lab"),
        (Part::Lab(_), Part::Registry) => Some("a lab does not import the registry"),
        (Part::Lab(_) | Part::Registry, Part::Face) => {
            Some("no lab imports the CLI, the web layer or the sweeps")
        }
        (Part::Face, Part::Lab(_)) => {
            Some("the front ends reach a lab only through the registry (`labs::…`)")
        }
        _ => None,
    }
}

/// The import rule violations in `src`, one line each: file, line, path, rule.
fn import_violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(src, file);
        let from = part_of(&module);
        let rel = file.strip_prefix(src).unwrap().display().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        for (line, path) in paths_named(&code_only(&text), &module) {
            if let Some(rule) = broken_rule(&from, &part_of(&path)) {
                violations.push(format!("src/{rel}:{line}: `{}`: {rule}", path.join("::")));
            }
        }
    }
    violations
}

#[test]
fn imports_follow_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let violations = import_violations(&src);
    assert!(violations.is_empty(), "import rules broken:\n{}", violations.join("\n"));
}

/// The rule checker itself, on planted sources: it sees what it must, and not comments or
/// strings.
#[test]
fn import_rules_catch_planted_imports() {
    let dir = std::env::temp_dir().join(format!("gradscope-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("train/session.rs", "use crate::labs::LabExperiment;\n// crate::labs::scans\n");
    write("labs/scans/spec.rs", "use crate::labs::{grokking::GrokkingSpec, ExperimentSpec};\n");
    write("labs/scans/ssm/net.rs", "use super::super::super::gradient_flow::deep_stack;\n");
    write(
        "labs/grokking/expr.rs",
        "const S: &str = \"crate::labs::scans\";\nuse super::spec::X;\n",
    );
    write("labs/gradient_flow/probe.rs", "fn f() { crate::cli::main(); }\n");
    write("labs/mod.rs", "pub use scans::ScansSpec;\nuse crate::labs::grokking::X;\n");
    write("cli/run.rs", "use crate::labs::scans::race;\nuse crate::labs::ExperimentSpec;\n");
    let violations = import_violations(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let at = |file: &str| violations.iter().filter(|v| v.starts_with(file)).count();
    assert_eq!(at("src/train/session.rs"), 1, "{violations:#?}");
    assert_eq!(at("src/labs/scans/spec.rs"), 2, "{violations:#?}");
    assert_eq!(at("src/labs/scans/ssm/net.rs"), 1, "{violations:#?}");
    assert_eq!(at("src/labs/grokking/expr.rs"), 0, "{violations:#?}");
    assert_eq!(at("src/labs/gradient_flow/probe.rs"), 1, "{violations:#?}");
    assert_eq!(at("src/labs/mod.rs"), 0, "{violations:#?}");
    assert_eq!(at("src/cli/run.rs"), 1, "{violations:#?}");
    assert_eq!(violations.len(), 6, "{violations:#?}");
}

// ---------------------------------------------------------------------------------------------
// The same rules for the page (www/): the shell (every module outside www/labs/) reaches the labs
// only through www/labs/index.js; a lab's modules (www/labs/<lab>/) import no other lab, not
// the lab list and not the shell's widget (gradscope.js), which imports them.

/// Every `import … from '…'` / `import '…'` / `import('…')` of a module, as a path relative to
/// `www/` (`labs/scans/index.js`), with its line.
fn js_imports(www: &Path, file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = file.parent().unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        if l.starts_with("//") || l.starts_with('*') {
            continue;
        }
        let Some(at) = l.find("from '").map(|p| p + 6).or_else(|| {
            l.find("import '").map(|p| p + 8).or_else(|| l.find("import('").map(|p| p + 8))
        }) else {
            continue;
        };
        let Some(end) = l[at..].find('\'') else { continue };
        let spec = &l[at..at + end];
        if !spec.starts_with('.') {
            continue;
        }
        // Resolve `./x.js` and `../../x.js` against the importing file, without touching the
        // file system (the target may be generated).
        let mut parts: Vec<String> = dir
            .strip_prefix(www)
            .map(|d| d.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        for seg in spec.split('/') {
            match seg {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s.to_string()),
            }
        }
        out.push((i + 1, parts.join("/")));
    }
    out
}

/// Which lab a `www/`-relative path belongs to (`labs/scans/…` → scans), if any.
fn js_lab(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("labs/")?;
    let (lab, _) = rest.split_once('/')?;
    Some(lab)
}

fn js_violations(www: &Path) -> Vec<String> {
    let mut files = Vec::new();
    js_files(www, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(www).unwrap().to_string_lossy().replace('\\', "/");
        let from = js_lab(&rel);
        for (line, to) in js_imports(www, file) {
            let rule = match (from, js_lab(&to)) {
                (None, Some(_)) if rel != "labs/index.js" => {
                    Some("the shell reaches a lab only through labs/index.js")
                }
                (Some(a), Some(b)) if a != b => Some("no lab imports another lab"),
                (Some(_), None) if to == "labs/index.js" || to == "gradscope.js" => {
                    Some("a lab imports neither the lab list nor the widget that mounts it")
                }
                _ => None,
            };
            if let Some(rule) = rule {
                violations.push(format!("www/{rel}:{line}: `{to}`: {rule}"));
            }
        }
    }
    violations
}

fn js_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            js_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "js") {
            out.push(path);
        }
    }
}

#[test]
fn page_imports_follow_the_layers() {
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("www");
    let violations = js_violations(&www);
    assert!(violations.is_empty(), "page import rules broken:\n{}", violations.join("\n"));
    // Every lab folder is in the list, and the list is the shell's only way in.
    let list = std::fs::read_to_string(www.join("labs/index.js")).unwrap();
    for entry in std::fs::read_dir(www.join("labs")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let lab = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(list.contains(&format!("./{lab}/index.js")), "labs/index.js lacks {lab}");
        }
    }
}

#[test]
fn page_import_rules_catch_planted_imports() {
    let dir = std::env::temp_dir().join(format!("gradscope-www-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "gradscope.js",
        "import { LABS } from './labs/index.js';\nimport x from './labs/scans/index.js';\n// import y from './labs/grokking/index.js';\n",
    );
    write(
        "labs/index.js",
        "import a from './scans/index.js';\nimport b from './grokking/index.js';\n",
    );
    write(
        "labs/scans/index.js",
        "import { el } from '../../dom.js';\nimport f from '../grokking/fields.js';\n",
    );
    write(
        "labs/grokking/index.js",
        "import { FIELDS } from './fields.js';\nimport { start } from '../../gradscope.js';\n",
    );
    let violations = js_violations(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let at = |file: &str| violations.iter().filter(|v| v.starts_with(file)).count();
    assert_eq!(at("www/gradscope.js"), 1, "{violations:#?}");
    assert_eq!(at("www/labs/index.js"), 0, "{violations:#?}");
    assert_eq!(at("www/labs/scans/index.js"), 1, "{violations:#?}");
    assert_eq!(at("www/labs/grokking/index.js"), 1, "{violations:#?}");
}
