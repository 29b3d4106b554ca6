//! A sweep file turned into its points: the base spec, the axes, their cartesian product, each
//! point's spec and the hash that names it.
//!
//! ```json
//! {
//!   "base": "power-division",
//!   "axes": {
//!     "grokking.task.train_fraction": {"linspace": [0.3, 0.6, 4]},
//!     "grokking.optimizer.weight_decay": {"logspace": [-2, 0, 3]},
//!     "grokking.seed": {"seeds": 3}
//!   }
//! }
//! ```
//!
//! `base` is a preset name, a playground link or its hash (`"#grokking.task.p=97&…"`), or a
//! spec object (`{"grokking": {…}}`). Axis paths are the URL hash's dotted paths (the lab's key
//! may be left out). The last axis varies fastest, so a point's index is its place in that
//! order; but a point is *recognized* by [`Point::hash`], the hash of its full spec, so editing
//! the axes of a half-run sweep reruns only the points whose spec changed.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::labs::{ExperimentSpec, presets};
use crate::spec::SpecError;

/// Most points one sweep may have: a typo such as `{"seeds": 1000000}` is refused rather than
/// queued for a year.
pub const MAX_POINTS: usize = 100_000;
/// Most values one axis may have.
pub const MAX_AXIS_VALUES: usize = 10_000;

/// A parsed sweep file.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepPlan {
    /// The spec every point starts from.
    pub base: ExperimentSpec,
    /// The axes in file order: full dotted paths (lab key included) and their values.
    pub axes: Vec<Axis>,
}

/// One axis: a spec field and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Full dotted path, e.g. `grokking.task.train_fraction`.
    pub path: String,
    pub values: Vec<Value>,
}

/// One point of the sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Place in the cartesian product (last axis fastest).
    pub index: usize,
    /// `(path, value)` per axis, in axis order.
    pub values: Vec<(String, Value)>,
    /// The point's validated spec.
    pub spec: ExperimentSpec,
    /// [`spec_hash`] of `spec`.
    pub hash: String,
}

/// The hash that recognizes a point: the first 16 hex digits of SHA-256 over the spec's compact
/// JSON (serde writes fields in declaration order, so the text is canonical). Two points with
/// the same spec are the same run.
pub fn spec_hash(spec: &ExperimentSpec) -> String {
    let digest = Sha256::digest(spec.to_json().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The JSON form of a sweep file, before the base is resolved and the axes expanded.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    base: Value,
    #[serde(default)]
    axes: OrderedAxes,
}

/// The `axes` object with its keys in file order (serde_json's own map sorts them).
#[derive(Default)]
struct OrderedAxes(Vec<(String, AxisValues)>);

impl<'de> Deserialize<'de> for OrderedAxes {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedAxes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of field path → values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedAxes, A::Error> {
                let mut axes = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, AxisValues>()? {
                    axes.push((k, v));
                }
                Ok(OrderedAxes(axes))
            }
        }
        d.deserialize_map(V)
    }
}

/// How an axis gives its values.
#[derive(Deserialize)]
#[serde(untagged)]
enum AxisValues {
    /// Explicit values: `[0.1, 0.3, 0.5]`, `["add", "div"]`.
    List(Vec<Value>),
    Generated(Generator),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Generator {
    /// `[start, stop, n]`: n evenly spaced values, both ends included (numpy's `linspace`).
    Linspace(f64, f64, usize),
    /// `[start, stop, n]`: 10^x for n evenly spaced x, both ends included (numpy's `logspace`).
    Logspace(f64, f64, usize),
    /// `[start, stop, step]`: integers start, start+step, … below stop (Python's `range`).
    Range(i64, i64, i64),
    /// `n`: the seeds 0, 1, …, n−1.
    Seeds(u64),
}

impl Generator {
    fn values(&self) -> Result<Vec<Value>, String> {
        let spaced =
            |a: f64, b: f64, n: usize, f: &dyn Fn(f64) -> f64| -> Result<Vec<Value>, String> {
                if !(a.is_finite() && b.is_finite()) {
                    return Err("bounds must be finite numbers".into());
                }
                if n == 0 || n > MAX_AXIS_VALUES {
                    return Err(format!("n must be in 1..={MAX_AXIS_VALUES}, got {n}"));
                }
                (0..n)
                    .map(|i| {
                        let t = if n == 1 { a } else { a + (b - a) * i as f64 / (n - 1) as f64 };
                        let x = f(t);
                        // 0.30000000000000004 → 0.3: values read as typed in tables and links.
                        let x = format!("{x:.12e}").parse::<f64>().unwrap_or(x);
                        serde_json::Number::from_f64(x)
                            .map(Value::Number)
                            .ok_or_else(|| format!("gives {x}, which is not a finite number"))
                    })
                    .collect()
            };
        match *self {
            Generator::Linspace(a, b, n) => spaced(a, b, n, &|t| t),
            Generator::Logspace(a, b, n) => spaced(a, b, n, &|t| 10f64.powf(t)),
            Generator::Range(start, stop, step) => {
                if step == 0 {
                    return Err("step must not be 0".into());
                }
                let count = if (step > 0 && stop > start) || (step < 0 && stop < start) {
                    ((stop as i128 - start as i128).abs() + step.unsigned_abs() as i128 - 1)
                        / step.unsigned_abs() as i128
                } else {
                    0
                };
                if count == 0 || count > MAX_AXIS_VALUES as i128 {
                    return Err(format!("gives {count} values; 1..={MAX_AXIS_VALUES} are allowed"));
                }
                Ok((0..count as i64).map(|i| Value::from(start + i * step)).collect())
            }
            Generator::Seeds(n) => {
                if n == 0 || n > MAX_AXIS_VALUES as u64 {
                    return Err(format!("n must be in 1..={MAX_AXIS_VALUES}, got {n}"));
                }
                Ok((0..n).map(Value::from).collect())
            }
        }
    }
}

impl SweepPlan {
    /// Parses and checks a sweep file: the base resolves, every axis names a field of the base
    /// spec, and every point is a valid spec (the error names the point and the field).
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: SweepFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let err = SpecError::from_serde(e);
            SpecError::new(format!("(sweep) {}", err.field), err.message)
        })?;
        de.end().map_err(|e| SpecError::new("(sweep)", e.to_string()))?;
        let base = resolve_base(&file.base)?;
        let base_json = spec_value(&base);
        let lab = base.lab();
        let mut axes: Vec<Axis> = Vec::new();
        for (given, values) in file.axes.0 {
            let path = if given.split('.').next() == Some(lab) {
                given.clone()
            } else {
                format!("{lab}.{given}")
            };
            let field = format!("(sweep) axes.{given}");
            if axes.iter().any(|a| a.path == path) {
                return Err(SpecError::new(field, "is given twice"));
            }
            if lookup(&base_json, &path).is_none() {
                return Err(SpecError::new(
                    field,
                    format!("names no field of the base spec ({})", suggest(&base_json, &path)),
                ));
            }
            let values = match values {
                AxisValues::List(v) if v.is_empty() => {
                    return Err(SpecError::new(field, "has no values"));
                }
                AxisValues::List(v) if v.len() > MAX_AXIS_VALUES => {
                    return Err(SpecError::new(
                        field,
                        format!("has {} values; at most {MAX_AXIS_VALUES}", v.len()),
                    ));
                }
                AxisValues::List(v) => v,
                AxisValues::Generated(g) => g.values().map_err(|m| SpecError::new(field, m))?,
            };
            axes.push(Axis { path, values });
        }
        let plan = SweepPlan { base, axes };
        let count = plan.len_checked()?;
        // Every point is built once here, so a bad value is refused before anything runs.
        for index in 0..count {
            plan.point(index)?;
        }
        Ok(plan)
    }

    /// Number of points (the product of the axis lengths; 1 with no axes).
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len_checked(&self) -> Result<usize, SpecError> {
        let mut n: usize = 1;
        for a in &self.axes {
            n = n.checked_mul(a.values.len()).filter(|&n| n <= MAX_POINTS).ok_or_else(|| {
                SpecError::new("(sweep) axes", format!("give more than {MAX_POINTS} points"))
            })?;
        }
        Ok(n)
    }

    /// The point at `index` (last axis fastest), its spec validated.
    pub fn point(&self, index: usize) -> Result<Point, SpecError> {
        let mut rest = index;
        let mut values = vec![(String::new(), Value::Null); self.axes.len()];
        for (i, axis) in self.axes.iter().enumerate().rev() {
            let n = axis.values.len();
            values[i] = (axis.path.clone(), axis.values[rest % n].clone());
            rest /= n;
        }
        let mut json = spec_value(&self.base);
        for (path, value) in &values {
            let slot = lookup_mut(&mut json, path).expect("axes were checked against the base");
            *slot = conform(slot, value.clone());
        }
        let spec = ExperimentSpec::from_value(json).map_err(|e| {
            let at: Vec<String> = values.iter().map(|(p, v)| format!("{p}={v}")).collect();
            SpecError::new(e.field, format!("{} (at point {index}: {})", e.message, at.join(", ")))
        })?;
        let hash = spec_hash(&spec);
        Ok(Point { index, values, spec, hash })
    }

    /// All points, in index order.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        (0..self.len()).map(|i| self.point(i).expect("every point was validated when parsed"))
    }
}

/// The indices of shard `shard` of `shards`: every `shards`-th point from `shard`, so that
/// each slice gets a share of every axis (points late in the product are often the slow ones).
pub fn shard_indices(len: usize, shard: usize, shards: usize) -> impl Iterator<Item = usize> {
    (shard..len).step_by(shards.max(1))
}

/// Parses `--shard i/N` (0 ≤ i < N).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not i/N (e.g. 0/4)"))?;
    let i: usize = i.trim().parse().map_err(|_| format!("`{i}` in `{text}` is not a number"))?;
    let n: usize = n.trim().parse().map_err(|_| format!("`{n}` in `{text}` is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 ≤ i < N"));
    }
    Ok((i, n))
}

fn resolve_base(base: &Value) -> Result<ExperimentSpec, SpecError> {
    match base {
        Value::String(s) => {
            if let Some(p) = presets::find(s) {
                return Ok(p.spec);
            }
            if let Some((_, hash)) = s.split_once('#') {
                return ExperimentSpec::from_hash(hash);
            }
            let names: Vec<_> = presets::all().iter().map(|p| p.name).collect();
            Err(SpecError::new(
                "(sweep) base",
                format!(
                    "`{s}` is neither a preset ({}) nor a link; give a spec object instead",
                    names.join(", ")
                ),
            ))
        }
        Value::Object(_) => ExperimentSpec::from_value(base.clone())
            .map_err(|e| SpecError::new(format!("(sweep) base.{}", e.field), e.message)),
        _ => Err(SpecError::new("(sweep) base", "must be a preset name, a link, or a spec object")),
    }
}

fn spec_value(spec: &ExperimentSpec) -> Value {
    serde_json::to_value(spec).expect("a spec always serializes")
}

fn lookup<'a>(json: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(json, |node, part| node.as_object()?.get(part))
}

fn lookup_mut<'a>(json: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(json, |node, part| node.as_object_mut()?.get_mut(part))
}

/// An axis value shaped like the field it replaces: `linspace` gives 64.0 for an integer
/// field, which serde would refuse; a whole number becomes an integer there. Seeds are written
/// as strings above 2^53 (`spec::seed`); integers go in as numbers either way.
fn conform(old: &Value, new: Value) -> Value {
    let integer_field = old.is_u64() || old.is_i64() || (old.is_string() && new.is_number());
    match new.as_f64() {
        Some(x) if integer_field && !new.is_u64() && !new.is_i64() && x.fract() == 0.0 => {
            if x >= 0.0 && x < u64::MAX as f64 {
                Value::from(x as u64)
            } else if x.abs() < i64::MAX as f64 {
                Value::from(x as i64)
            } else {
                new
            }
        }
        _ => new,
    }
}

/// "did you mean …": the deepest existing prefix of `path` and the fields under it.
fn suggest(json: &Value, path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    let mut node = json;
    let mut found = Vec::new();
    for part in &parts {
        match node.as_object().and_then(|o| o.get(*part)) {
            Some(child) => {
                found.push(*part);
                node = child;
            }
            None => break,
        }
    }
    let prefix = found.join(".");
    match node.as_object() {
        Some(obj) => {
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            let at = if prefix.is_empty() { "the top level" } else { prefix.as_str() };
            format!("fields under {at}: {}", keys.join(", "))
        }
        None => format!("`{prefix}` is a value, not an object"),
    }
}

impl Point {
    /// The point's values as a JSON object `{path: value}` (for result lines).
    pub fn values_json(&self) -> Map<String, Value> {
        self.values.iter().cloned().collect()
    }
}
