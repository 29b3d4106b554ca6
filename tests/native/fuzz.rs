//! Fuzzing the parsers that user input reaches: a spec as JSON (a CLI file, an imported file,
//! a widget's `spec` attribute, the worker protocol), a URL hash (every link), and a metrics
//! file (the CLI's `--out`, the page's export). Generated inputs, random and mutated from real
//! ones, must never panic, and every refusal must name what is wrong: a spec field, or a
//! metrics file's line and field.
//!
//! `FUZZ_CASES` sets the cases per property (default 2500: 5 properties, 12 500 cases in CI;
//! `FUZZ_CASES=100000 cargo test --release --test fuzz` for a longer run).

use gradscope::labs::read_metrics_file;
use gradscope::labs::{ExperimentSpec, presets};
use gradscope::spec::url_hash;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2500);
    // No persistence files in the clone; failures print their minimal input instead.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Every preset's spec as JSON: real shapes to mutate.
fn preset_values() -> Vec<Value> {
    presets::all().iter().map(|p| serde_json::to_value(&p.spec).unwrap()).collect()
}

/// Every key that occurs in a preset, so generated objects hit real fields often.
fn known_keys() -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        if let Value::Object(map) = v {
            for (k, child) in map {
                out.push(k.clone());
                walk(child, out);
            }
        }
    }
    let mut keys = Vec::new();
    for v in preset_values() {
        walk(&v, &mut keys);
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The leaves and objects of a JSON tree, as paths of keys / indices.
fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                prefix.push(k.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(i.to_string());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn replace_at(root: &mut Value, path: &[String], new: Value) {
    let mut node = root;
    for part in path {
        node = match node {
            Value::Object(map) => map.get_mut(part).unwrap(),
            Value::Array(items) => &mut items[part.parse::<usize>().unwrap()],
            _ => unreachable!("paths only descend into containers"),
        };
    }
    *node = new;
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => select(known_keys()), 1 => "[a-z_]{1,12}", 1 => Just("__proto__".to_string())]
}

/// JSON a hostile or careless author could write: wrong types, huge and tiny numbers, markup
/// in strings, deep nesting.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..2000).prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop_oneof![Just(1e300), Just(-0.0), Just(5e-324), Just(0.5), Just(1e-3)]
            .prop_map(Value::from),
        "[ -~]{0,16}".prop_map(Value::from),
        Just(Value::from("<img src=x onerror=alert(1)>")),
        select(known_keys()).prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A spec input: a preset with one node replaced, or arbitrary JSON under a lab key or not.
fn spec_value() -> impl Strategy<Value = Value> {
    let presets = preset_values();
    let mutated =
        (select(presets), any::<Index>(), json_value()).prop_map(|(mut spec, at, new)| {
            let mut all = Vec::new();
            paths(&spec, &mut Vec::new(), &mut all);
            let path = at.get(&all).clone();
            replace_at(&mut spec, &path, new);
            spec
        });
    let labbed = (select(vec!["grokking", "scans", "gradient_flow", "mystery"]), json_value())
        .prop_map(|(lab, v)| serde_json::json!({ lab: v }));
    prop_oneof![4 => mutated, 2 => labbed, 1 => json_value()]
}

/// A refusal names what is wrong: a field path from a lab's key (`grokking.task.p`,
/// `scans.models.mamba.d_state`), a key as the input spells it (a mistyped URL-hash key), or —
/// only where the fault is not one field's — one of the labels in `whole` (`(spec)`: not one
/// lab's spec at all; `(url hash)`: a malformed hash). A label such as "(json)" where a field
/// was at fault does not pass.
fn assert_names_a_field(e: &gradscope::spec::SpecError, input: &str, whole: &[&str]) {
    assert!(
        !e.message.trim().is_empty(),
        "refusal says nothing: field {} (input {input})",
        e.field
    );
    if e.field.starts_with('(') {
        assert!(whole.contains(&e.field.as_str()), "refusal names no field: {e} (input {input})");
        return;
    }
    let lab = e.field.split(['.', '[']).next().unwrap_or_default();
    let typed_key = input.split('&').any(|pair| pair.split('=').next() == Some(e.field.as_str()));
    assert!(
        typed_key || gradscope::labs::LABS.iter().any(|(key, _)| *key == lab),
        "refusal's field is neither a lab's field nor a key of the input: {e} (input {input})"
    );
}

/// Whether `value` is shaped as one lab's spec (`{"<lab>": {…}}`): then a refusal is about one
/// of its fields, never about the spec as a whole.
fn one_labs_spec(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.len() == 1
            && o.iter().all(|(k, v)| {
                v.is_object() && gradscope::labs::LABS.iter().any(|(key, _)| key == k)
            })
    })
}

proptest! {
    #![proptest_config(config())]

    /// A spec as JSON text: parsed, validated, refused by field, never a panic. A spec that
    /// passes round-trips exactly through its URL hash.
    #[test]
    fn spec_json_never_panics_and_refusals_name_a_field(value in spec_value()) {
        let text = value.to_string();
        match ExperimentSpec::from_json(&text) {
            Ok(spec) => {
                let back = ExperimentSpec::from_hash(&url_hash::encode(&spec)).expect("a valid spec's hash decodes");
                prop_assert_eq!(back, spec);
            }
            Err(e) => {
                let whole: &[&str] = if one_labs_spec(&value) { &[] } else { &["(spec)"] };
                assert_names_a_field(&e, &text, whole)
            }
        }
    }

    /// Any seed, including those past 2⁵³ that JavaScript would round, survives JSON and the hash.
    #[test]
    fn every_seed_round_trips(seed in any::<u64>(), which in any::<Index>()) {
        let all = presets::all();
        let mut value = serde_json::to_value(&which.get(&all).spec).unwrap();
        let lab = value.as_object().unwrap().keys().next().unwrap().clone();
        value[&lab]["seed"] = if seed < (1 << 53) { Value::from(seed) } else { Value::from(seed.to_string()) };
        let spec = ExperimentSpec::from_json(&value.to_string()).unwrap();
        prop_assert_eq!(spec.seed(), seed);
        prop_assert_eq!(ExperimentSpec::from_json(&spec.to_json()).unwrap().seed(), seed);
        prop_assert_eq!(ExperimentSpec::from_hash(&url_hash::encode(&spec)).unwrap().seed(), seed);
    }

    /// A URL hash: real links with characters deleted, inserted or repeated, and random text.
    #[test]
    fn url_hash_never_panics_and_refusals_name_a_field(hash in url_hash_input()) {
        match ExperimentSpec::from_hash(&hash) {
            Ok(spec) => prop_assert!(spec.validate().is_ok()),
            Err(e) => assert_names_a_field(&e, &hash, &["(url hash)", "(spec)"]),
        }
    }

    /// A metrics file: real records with lines mutated, dropped or replaced by other JSON.
    #[test]
    fn metrics_file_never_panics_and_refusals_name_line_and_field(text in metrics_input()) {
        let lines = text.lines().count();
        match read_metrics_file(&text) {
            Ok(file) => prop_assert!(!file.records.is_empty()),
            Err(e) => {
                prop_assert!(e.line <= lines.max(1), "line {} of {}: {}", e.line, lines, e);
                prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{}", e);
            }
        }
    }

    /// A metrics file the page or the CLI wrote reads back record for record.
    #[test]
    fn written_metrics_read_back(steps in prop::collection::btree_set(0u64..100_000, 1..20), loss in 0.0f64..10.0) {
        let spec = presets::all()[0].spec.clone();
        let mut text = gradscope::train::metrics::file_header(&spec);
        for &s in &steps {
            text.push('\n');
            text.push_str(&serde_json::json!({"step": s, "wall_ms": 1.5, "train_loss": loss, "train_acc": 0.5,
                "test_loss": loss * 2.0, "test_acc": 0.25}).to_string());
        }
        let file = read_metrics_file(&text).unwrap();
        prop_assert_eq!(file.lab.as_deref(), Some("grokking"));
        prop_assert_eq!(file.records.iter().map(|r| r.step).collect::<Vec<_>>(), steps.into_iter().collect::<Vec<_>>());
    }
}

fn url_hash_input() -> impl Strategy<Value = String> {
    let hashes: Vec<String> = presets::all().iter().map(|p| url_hash::encode(&p.spec)).collect();
    let edit = prop_oneof![
        (any::<Index>(), 0usize..12).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), "[a-z_.=&%#+0-9e-]{1,8}").prop_map(|(at, s)| Edit::Insert(at, s)),
        any::<Index>().prop_map(Edit::RepeatPair),
    ];
    let mutated = (select(hashes), prop::collection::vec(edit, 1..5)).prop_map(|(mut h, edits)| {
        for e in edits {
            e.apply(&mut h);
        }
        h
    });
    prop_oneof![
        4 => mutated,
        2 => "[a-z_.=&%+0-9-]{0,120}",
        1 => (1usize..40).prop_map(|n| format!("{}=1", vec!["a"; n].join("."))),
        1 => any::<String>(),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, String),
    RepeatPair(Index),
}

impl Edit {
    fn apply(self, h: &mut String) {
        let at = |i: Index, h: &str| {
            let mut pos = if h.is_empty() { 0 } else { i.index(h.len() + 1) };
            while !h.is_char_boundary(pos) {
                pos -= 1;
            }
            pos
        };
        match self {
            Edit::Delete(i, n) => {
                let start = at(i, h);
                let mut end = (start + n).min(h.len());
                while !h.is_char_boundary(end) {
                    end -= 1;
                }
                h.replace_range(start..end, "");
            }
            Edit::Insert(i, s) => {
                let pos = at(i, h);
                h.insert_str(pos, &s);
            }
            Edit::RepeatPair(i) => {
                let pairs: Vec<&str> = h.split('&').collect();
                if !pairs.is_empty() {
                    let pair = pairs[i.index(pairs.len())].to_string();
                    h.push('&');
                    h.push_str(&pair);
                }
            }
        }
    }
}

fn metrics_input() -> impl Strategy<Value = String> {
    let spec = presets::all()[0].spec.clone();
    let header = gradscope::train::metrics::file_header(&spec);
    let grok = r#"{"step":10,"wall_ms":3.5,"train_loss":0.5,"train_acc":0.9,"test_loss":1.5,"test_acc":0.2,"weight_norm":3.0}"#;
    let series =
        r#"{"step":10,"wall_ms":3.5,"series":{"pre.test_loss":0.5,"post.test_loss":null}}"#;
    let flow_header =
        r#"{"format":"gradscope-metrics","version":2,"lab":"gradient_flow","spec":{}}"#;
    let line = prop_oneof![
        4 => select(vec![header.clone(), grok.to_string(), series.to_string(), flow_header.to_string(), String::new()]),
        2 => json_value().prop_map(|v| v.to_string()),
        1 => (select(vec![grok.to_string(), series.to_string(), header]), any::<Index>()).prop_map(|(l, i)| {
            let cut = i.index(l.len() + 1);
            l[..cut].to_string()
        }),
        1 => "[ -~]{0,40}",
    ];
    prop::collection::vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

/// Deep nesting must be refused, not overflow the stack.
#[test]
fn deep_nesting_is_refused() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = ExperimentSpec::from_json(&deep_json).unwrap_err();
    assert!(!e.field.is_empty());
    let deep_spec =
        format!(r#"{{"grokking":{}1{}}}"#, r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    assert!(ExperimentSpec::from_json(&deep_spec).is_err());
    let deep_hash = format!("{}=1", vec!["grokking"; 1_000].join("."));
    let e = ExperimentSpec::from_hash(&deep_hash).unwrap_err();
    assert!(e.message.contains("parts"), "{e}");
    let e = read_metrics_file(&deep_json).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (1, "(json)"));
    let long = "a=1&".repeat(40_000);
    assert!(ExperimentSpec::from_hash(&long).unwrap_err().message.contains("bytes"));
}

proptest! {
    #![proptest_config(config())]

    /// Any text: a parse error with a column inside the text (or just past it), never a panic;
    /// what parses evaluates to a label in 0..p or an error, never a panic.
    #[test]
    fn expressions_never_panic(text in expr_input()) {
        match gradscope::labs::grokking::expr::Expr::parse(&text) {
            // Inside the text or just past it; a text over the byte limit is refused at the
            // limit's column (it may hold fewer characters than that).
            Err(e) if text.len() > gradscope::labs::grokking::expr::MAX_EXPR_LEN => {
                prop_assert_eq!(e.column, gradscope::labs::grokking::expr::MAX_EXPR_LEN + 1, "{}", e)
            }
            Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e}"),
            Ok(expr) => {
                for (a, b) in [(0, 0), (3, 5), (12, 0), (12, 12)] {
                    if let Ok(Some(y)) = expr.label(a, b, 13) {
                        prop_assert!(y < 13);
                    }
                }
            }
        }
    }
}

/// Random mixes of the language's pieces (most parse), and random characters.
fn expr_input() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "a",
        "b",
        "p",
        "0",
        "1",
        "7",
        "99999999999",
        "+",
        "-",
        "*",
        "/",
        "^",
        "mod",
        "%",
        "(",
        ")",
        " if ",
        " else ",
        "<",
        "<=",
        "==",
        "!=",
        ">",
        " ",
        "**",
        "×",
        "÷",
    ]);
    prop_oneof![prop::collection::vec(piece, 0..40).prop_map(|v| v.concat()), ".{0,40}",]
}
