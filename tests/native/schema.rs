//! The form's schema (`spec::schema`, each lab's `schema.rs`) against what it describes: the
//! page's committed copy is the one the code writes; every numeric field's range is the one
//! `validate()` enforces (each end accepted, just past it refused by name); every choice
//! parses; every condition and default points at a real field.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use serde_json::{Value, json};

use gradscope::labs::{ExperimentSpec, presets, schema};
use gradscope::spec::schema::{Field, Kind, LabSchema, lookup};

#[test]
fn the_page_has_the_schema_the_code_writes() {
    let path = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), schema::PAGE_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema::page_module(),
        "{} is stale: a lab's fields changed in Rust. Regenerate it with \
         `cargo run --release -- schema --out {}` and commit it",
        schema::PAGE_FILE,
        schema::PAGE_FILE
    );
}

/// Every preset of the lab and its default spec, as `{"<lab>": …}` JSON: the specs a field is
/// tried on (the first where it applies: a transformer field needs a transformer preset).
fn base_specs(lab: &LabSchema) -> Vec<Value> {
    let mut specs: Vec<Value> = presets::all()
        .into_iter()
        .map(|p| serde_json::to_value(&p.spec).unwrap())
        .filter(|v| v.get(&lab.id).is_some())
        .collect();
    specs.push(json!({ &lab.id: {} }));
    specs
        .into_iter()
        .map(|v| serde_json::to_value(ExperimentSpec::from_value(v).unwrap()).unwrap())
        .collect()
}

/// `spec` with the value at `path` replaced (the path exists).
fn with(spec: &Value, path: &str, value: Value) -> Value {
    let mut out = spec.clone();
    let pointer = format!("/{}", path.replace('.', "/"));
    *out.pointer_mut(&pointer).unwrap_or_else(|| panic!("{path} is not in the spec")) = value;
    out
}

/// Fields whose end of range is valid only with another field moved too: (field, its end,
/// the other field and the value it needs). Each says why in a comment.
fn companions(path: &str, value: &Value) -> Vec<(String, Value)> {
    let models = path.split('.').nth(2).unwrap_or_default();
    let end = value.as_f64().unwrap_or_default();
    let one = |other: String, v: Value| vec![(other, v)];
    match path.rsplit('.').next().unwrap() {
        // A copying sequence holds the data tokens and their answer slots: L ≥ 2 × tokens.
        "len" if end < 8.0 => one("scans.task.data_tokens".into(), json!(1)),
        "data_tokens" if end > 8.0 => one("scans.task.len".into(), json!(4096)),
        // Δ's init range: its upper end is at least its lower end.
        "dt_max" if end < 1e-3 => one(format!("scans.models.{models}.dt_min"), json!(1e-5)),
        "dt_min" if end > 0.1 => one(format!("scans.models.{models}.dt_max"), json!(10.0)),
        // A rank-r map needs r ≤ min(input, output dim).
        "rank" if end > 8.0 => vec![
            ("gradient_flow.task.input_dim".into(), json!(1024)),
            ("gradient_flow.task.output_dim".into(), json!(1024)),
        ],
        _ => vec![],
    }
}

/// Fields whose every value in range is valid only for some values of the others, so an end of
/// the range can be refused by another rule (named by its reason, never by the range).
fn coupled(path: &str) -> Option<&'static str> {
    match path {
        // 1e-9 of p² pairs is no training pair; 1 − 1e-9 leaves no test pair.
        "grokking.task.train_frac" => Some("leaves"),
        // S4D's state is N/2 complex-conjugate pairs: an odd N is Mamba's only.
        p if p.starts_with("scans.models.") && p.ends_with(".d_state") => Some("even"),
        _ => None,
    }
}

/// The values just inside and just past each end of a numeric field's range: (value, whether
/// `validate()` must accept it).
fn probes(kind: &Kind) -> Vec<(Value, bool)> {
    match kind {
        Kind::Int { min, max } => {
            let mut out = vec![(json!(min), true), (json!(*min as i64 - 1), false)];
            if let Some(max) = max {
                out.extend([(json!(max), true), (json!(max + 1), false)]);
            }
            out
        }
        Kind::Float { range } => {
            let nudge = |x: f64| (x.abs() * 1e-6).max(1e-9);
            let (lo, hi) = (range.min, range.max);
            let (lo_in, lo_out) =
                if range.min_open { (lo + nudge(lo), lo) } else { (lo, lo - nudge(lo)) };
            let (hi_in, hi_out) =
                if range.max_open { (hi - nudge(hi), hi) } else { (hi, hi + nudge(hi)) };
            vec![
                (json!(lo_in), true),
                (json!(lo_out), false),
                (json!(hi_in), true),
                (json!(hi_out), false),
            ]
        }
        _ => vec![],
    }
}

/// Every field of every lab, on the first base spec where it applies, with each template field
/// of an `each` group tried once per model of that spec.
fn fields_on_specs() -> Vec<(Field, Value)> {
    let mut out = Vec::new();
    for lab in schema::all() {
        let bases = base_specs(&lab);
        let mut seen = BTreeSet::new();
        for group in &lab.groups {
            for template in &group.fields {
                let found = bases.iter().find_map(|base| {
                    let names: Vec<String> = match &group.each {
                        Some(each) => lookup(base, each)
                            .and_then(Value::as_object)
                            .map(|m| m.keys().cloned().collect())
                            .unwrap_or_default(),
                        None => vec![String::new()],
                    };
                    let mine: Vec<(Field, Value)> = names
                        .iter()
                        .map(|name| template.named(name))
                        .filter(|f| {
                            lookup(base, &f.path).is_some()
                                && f.when.as_ref().is_none_or(|w| w.holds(base))
                        })
                        .map(|f| (f, base.clone()))
                        .collect();
                    (!mine.is_empty()).then_some(mine)
                });
                let found = found.unwrap_or_else(|| {
                    panic!("{}: no preset nor the default spec has it where it applies (its path or condition is wrong)", template.path)
                });
                seen.insert(template.path.clone());
                out.extend(found);
            }
        }
        assert!(!seen.is_empty(), "{} has no fields", lab.id);
    }
    out
}

#[test]
fn every_numeric_range_is_the_one_validate_enforces() {
    let mut checked = 0;
    for (field, base) in fields_on_specs() {
        for (value, inside) in probes(&field.kind) {
            let mut spec = with(&base, &field.path, value.clone());
            if inside {
                for (other, v) in companions(&field.path, &value) {
                    spec = with(&spec, &other, v);
                }
            }
            let refused = ExperimentSpec::from_value(spec).err();
            if inside && let (Some(reason), Some(e)) = (coupled(&field.path), &refused) {
                assert!(e.message.contains(reason), "{} = {value}: {e}", field.path);
                continue;
            }
            let refused = refused.map(|e| e.field);
            if inside {
                assert!(
                    refused.as_deref() != Some(field.path.as_str()),
                    "{} = {value} is inside the schema's range {:?} but validate() refuses it",
                    field.path,
                    field.allowed
                );
            } else {
                assert_eq!(
                    refused.as_deref(),
                    Some(field.path.as_str()),
                    "{} = {value} is past the schema's range {:?}: validate() must refuse it, naming the field",
                    field.path,
                    field.allowed
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} range ends checked");
}

#[test]
fn every_choice_parses_and_every_field_has_its_default() {
    for (field, base) in fields_on_specs() {
        let values: Vec<Value> = match &field.kind {
            Kind::Enum { choices } => choices.iter().map(|c| json!(c.value)).collect(),
            Kind::Variant { choices } => choices
                .iter()
                .map(|c| if c.object { json!({ &c.value: {} }) } else { json!(c.value) })
                .collect(),
            _ => vec![],
        };
        for value in values {
            // A choice may be refused in this combination (transformer blocks on a vector task),
            // but never as a value the parser does not know.
            if let Err(e) = ExperimentSpec::from_value(with(&base, &field.path, value.clone())) {
                assert!(
                    !e.message.contains("unknown variant") && !e.message.contains("expected"),
                    "{} = {value}: {e}",
                    field.path
                );
            }
        }
    }
}

#[test]
fn every_field_has_the_default_a_spec_without_it_gets() {
    for lab in schema::all() {
        let defaults =
            serde_json::to_value(ExperimentSpec::from_value(json!({ &lab.id: {} })).unwrap())
                .unwrap();
        let first_model = lookup(&defaults, &format!("{}.models", lab.id))
            .and_then(Value::as_object)
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_default();
        for field in lab.groups.iter().flat_map(|g| &g.fields) {
            let path = field.path.replace("{name}", &first_model);
            assert_eq!(
                field.default.as_ref(),
                lookup(&defaults, &path),
                "{}: the schema's default",
                field.path
            );
            // A field shown for the default spec must have a value there (a path with a typo
            // has none); a transformer's or an embedding's fields apply to other presets.
            if field.when.as_ref().is_none_or(|w| w.named(&first_model).holds(&defaults)) {
                assert!(
                    field.default.is_some(),
                    "{}: shown for the default spec, but not in it",
                    field.path
                );
            }
        }
    }
}

#[test]
fn conditions_follow_the_spec() {
    let lab = schema::all().into_iter().find(|l| l.id == "grokking").unwrap();
    let field =
        |path: &str| lab.fields_for(&json!({})).into_iter().find(|f| f.path == path).unwrap();
    let transformer =
        serde_json::to_value(presets::find("nanda-1l-transformer").unwrap().spec).unwrap();
    let mlp = serde_json::to_value(ExperimentSpec::from_value(json!({ "grokking": {} })).unwrap())
        .unwrap();
    let heads = field("grokking.model.transformer.heads").when.unwrap();
    assert!(heads.holds(&transformer) && !heads.holds(&mlp));
    let momentum = field("grokking.optimizer.momentum").when.unwrap();
    assert!(!momentum.holds(&mlp));
    assert!(momentum.holds(&with(&mlp, "grokking.optimizer.kind", json!("sgd"))));
    let class_mean = field("grokking.loss.class_mean").when.unwrap();
    assert!(!class_mean.holds(&mlp), "the default loss is MSE");
    assert!(class_mean.holds(&with(&mlp, "grokking.loss.kind", json!("stablemax"))));
    // An `each` group: one field set per model, its conditions on that model.
    let scans = schema::all().into_iter().find(|l| l.id == "scans").unwrap();
    let spec =
        serde_json::to_value(ExperimentSpec::from_value(json!({ "scans": {} })).unwrap()).unwrap();
    let scan_fields: Vec<Field> =
        scans.fields_for(&spec).into_iter().filter(|f| f.path.ends_with(".scan")).collect();
    assert_eq!(
        scan_fields.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["scans.models.mamba.scan", "scans.models.s4d.scan"]
    );
    assert_eq!(
        scan_fields.iter().map(|f| f.when.as_ref().unwrap().holds(&spec)).collect::<Vec<_>>(),
        [true, false]
    );
    // `one_of`: the gated block's expansion shows for the two gated mixers only.
    let expand = |mixer: &str| {
        let spec = with(&spec, "scans.models.s4d.mixer", json!(mixer));
        let field =
            scans.fields_for(&spec).into_iter().find(|f| f.path == "scans.models.s4d.expand");
        field.unwrap().when.unwrap().holds(&spec)
    };
    assert_eq!(
        ["s4d", "s4d_no_gate", "gated_s4d", "mamba"].map(expand),
        [false, false, true, true]
    );
}
