//! The URL-hash form of a spec: `#grokking.task.p=97&grokking.optimizer.lr=0.01&…`.
//!
//! Nested JSON objects flatten to dotted keys, so links stay readable and hand-editable (the
//! TF Playground convention). Decoding rebuilds the JSON object (numbers and booleans parsed,
//! everything else a string) and goes through the same serde + validation gate as JSON files.

use serde_json::{Map, Value};

use super::{RunSpec, SpecError};

/// Encodes a spec as a URL hash body (no leading `#`).
pub fn encode(spec: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(spec).expect("a spec always serializes");
    let mut pairs = Vec::new();
    flatten("", &value, &mut pairs);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, val) in &pairs {
        out.append_pair(key, val);
    }
    out.finish()
}

/// Longest hash accepted. The longest real spec (a scans run with four models) is ~2 KiB.
pub const MAX_HASH_BYTES: usize = 64 * 1024;
/// Deepest field path accepted (the deepest real one, `grokking.model.mlp.input.embedding.dim`,
/// has 6 parts). A hostile `a.a.a.…=1` would otherwise build a JSON tree deep enough to
/// overflow the stack when it is deserialized or dropped.
pub const MAX_KEY_DEPTH: usize = 12;

/// Decodes a URL hash (with or without the leading `#`) into a validated spec.
pub fn decode<S: RunSpec>(hash: &str) -> Result<S, SpecError> {
    let body = hash.strip_prefix('#').unwrap_or(hash);
    if body.trim().is_empty() {
        return Err(SpecError::new("(url hash)", "is empty; expected key=value pairs"));
    }
    if body.len() > MAX_HASH_BYTES {
        return Err(SpecError::new(
            "(url hash)",
            format!("is {} bytes long; at most {MAX_HASH_BYTES} are accepted", body.len()),
        ));
    }
    let mut root = Map::new();
    for part in body.split('&').filter(|s| !s.is_empty()) {
        if !part.contains('=') {
            return Err(SpecError::new("(url hash)", format!("`{part}` is not a key=value pair")));
        }
        let (key, raw) = form_urlencoded::parse(part.as_bytes())
            .next()
            .expect("a non-empty part yields one pair");
        insert(&mut root, &key, parse_leaf(&raw))?;
    }
    S::from_value(Value::Object(root))
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn parse_leaf(raw: &str) -> Value {
    match raw {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    if let Ok(u) = raw.parse::<u64>() {
        return Value::from(u);
    }
    if let Ok(i) = raw.parse::<i64>() {
        return Value::from(i);
    }
    // Only text that looks like a decimal number becomes one: "inf" and "NaN" stay strings,
    // so the field reports "expected f64" instead of silently becoming infinite.
    let numeric = raw.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
    if numeric {
        if let Some(n) = raw.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(raw.to_string())
}

fn insert(root: &mut Map<String, Value>, key: &str, leaf: Value) -> Result<(), SpecError> {
    let parts: Vec<&str> = key.split('.').collect();
    // Field names and model names are `[a-z0-9_-]` (model names: scans::valid_variant_name);
    // anything else, a blank key from a stray `+` included, cannot name a field.
    let part_ok = |p: &&str| {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !parts.iter().all(part_ok) {
        let shown: String = key.chars().take(60).collect();
        return Err(SpecError::new(
            "(url hash)",
            format!("`{shown}` is not a field path (dotted names of a–z, 0–9, _ and -)"),
        ));
    }
    if parts.len() > MAX_KEY_DEPTH {
        let shown: String = key.chars().take(60).collect();
        return Err(SpecError::new(
            "(url hash)",
            format!(
                "`{shown}…` has {} parts; no field is deeper than {MAX_KEY_DEPTH}",
                parts.len()
            ),
        ));
    }
    let mut node = root;
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            if node.insert(part.to_string(), leaf).is_some() {
                return Err(SpecError::new(key, "is given more than once in the URL hash"));
            }
            return Ok(());
        }
        let child = node.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        node = match child {
            Value::Object(map) => map,
            _ => {
                let path = parts[..=i].join(".");
                return Err(SpecError::new(
                    path,
                    "has both a value and sub-fields in the URL hash",
                ));
            }
        };
    }
    unreachable!("the loop returns at the last part")
}
