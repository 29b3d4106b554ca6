//! The form's schema: every field of a lab's spec that the page's form shows, with its kind,
//! allowed range, choices, default, help text and the condition under which it applies.
//!
//! One source of truth for the form. Each lab writes its fields next to its spec
//! (`labs/<lab>/schema.rs`), using the same range constants as its `validate()`; `gradscope
//! schema` writes them all to `www/form-schema.js`, which the page imports, so it draws its
//! forms before the wasm has loaded and a range changed in Rust changes the page. A native test
//! fails when the committed file is stale, and another sets every field to each end of its
//! range and just past it, to hold the schema and `validate()` to the same numbers.
//!
//! Paths are the spec's dotted JSON paths under the lab's key (`grokking.task.p`), as the URL
//! hash spells them. A group may repeat once per entry of a map of models (`each`); `{name}`
//! in its legend, paths and conditions stands for the entry's key.

use serde::Serialize;
use serde_json::Value;

/// One lab's form: its field groups, in order, and its presets.
#[derive(Clone, Debug, Serialize)]
pub struct LabSchema {
    /// The lab's key: the spec's top-level key and the URL hash's first word.
    pub id: String,
    pub groups: Vec<Group>,
}

/// A fieldset of the form.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub legend: String,
    /// The path of a map (`scans.models`): the group is repeated for each of its keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    pub fields: Vec<Field>,
}

/// One input of the form.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub path: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: Kind,
    /// What the field does and where it comes from (the input's tooltip).
    pub help: String,
    /// The allowed values in words (`(0, 1000]`, `1–4096`), from the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// The field is shown only when this holds of the spec.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    /// The value a spec that leaves the field out gets (the lab's `Default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// A field's input kind and what it accepts.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// A whole number in `min..=max` (no `max`: bounded by another field, or not at all).
    Int {
        min: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// A finite number in the range.
    Float {
        #[serde(flatten)]
        range: FloatRange,
    },
    /// A checkbox.
    Bool,
    /// One of the serde names in `choices`.
    Enum { choices: Vec<Choice> },
    /// An externally tagged enum with data: a choice that is `object` is written as
    /// `{"<value>": {}}` (the spec's defaults fill it in), the others as the bare string.
    Variant { choices: Vec<Choice> },
    /// A control of the lab's own page module (`www/labs/<lab>/`), by name.
    Custom { control: String },
}

/// One option of an enum or variant field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// The spec's (serde) name.
    pub value: String,
    pub label: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub object: bool,
}

impl Choice {
    pub fn new(value: &str, label: &str) -> Self {
        Self { value: value.into(), label: label.into(), object: false }
    }

    /// A variant with data, written `{"<value>": {}}`.
    pub fn object(value: &str, label: &str) -> Self {
        Self { object: true, ..Self::new(value, label) }
    }
}

/// An interval of finite numbers; an open end excludes its bound.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FloatRange {
    pub min: f64,
    pub max: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub min_open: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub max_open: bool,
}

impl FloatRange {
    /// `[min, max]`.
    pub const fn closed(min: f64, max: f64) -> Self {
        Self { min, max, min_open: false, max_open: false }
    }

    /// `(min, max]`.
    pub const fn open_closed(min: f64, max: f64) -> Self {
        Self { min, max, min_open: true, max_open: false }
    }

    /// `[min, max)`.
    pub const fn closed_open(min: f64, max: f64) -> Self {
        Self { min, max, min_open: false, max_open: true }
    }

    /// `(min, max)`.
    pub const fn open(min: f64, max: f64) -> Self {
        Self { min, max, min_open: true, max_open: true }
    }

    pub fn contains(&self, x: f64) -> bool {
        super::finite_in(x, self.min, self.max, self.min_open, self.max_open)
    }

    /// `(0, 1000]`: the interval as validation messages and tooltips write it.
    pub fn text(&self) -> String {
        format!(
            "{}{}, {}{}",
            if self.min_open { '(' } else { '[' },
            number_text(self.min),
            number_text(self.max),
            if self.max_open { ')' } else { ']' }
        )
    }
}

/// `1e-30`, `0.5`, `1000`, `1000000`: short, and what a user can type back.
pub fn number_text(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 { format!("{x:e}") } else { format!("{x}") }
}

/// A condition on the spec: the path exists (`present`), or its value equals / differs from a
/// given one, or is one of several.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct When {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
}

impl When {
    /// The path exists in the spec (`grokking.model.transformer`: the model is a transformer).
    pub fn present(path: &str) -> Self {
        Self { path: path.into(), equals: None, not_equals: None, one_of: None }
    }

    pub fn equals(path: &str, value: impl Into<Value>) -> Self {
        Self { equals: Some(value.into()), ..Self::present(path) }
    }

    pub fn not_equals(path: &str, value: impl Into<Value>) -> Self {
        Self { not_equals: Some(value.into()), ..Self::present(path) }
    }

    pub fn one_of(path: &str, values: &[&str]) -> Self {
        let values = values.iter().map(|v| Value::from(*v)).collect();
        Self { one_of: Some(values), ..Self::present(path) }
    }

    /// Whether the condition holds of `spec` (the whole `{"<lab>": …}` JSON). The page's
    /// `www/form.js` reads the same four cases.
    pub fn holds(&self, spec: &Value) -> bool {
        let v = lookup(spec, &self.path);
        match (&self.equals, &self.not_equals, &self.one_of) {
            (Some(e), _, _) => v == Some(e),
            (None, Some(n), _) => v != Some(n),
            (None, None, Some(any)) => v.is_some_and(|v| any.contains(v)),
            (None, None, None) => v.is_some(),
        }
    }

    /// The condition for the model named `name` of an `each` group.
    pub fn named(&self, name: &str) -> Self {
        Self { path: self.path.replace("{name}", name), ..self.clone() }
    }
}

/// The value at a dotted path.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

impl Field {
    fn new(path: &str, label: &str, kind: Kind) -> Self {
        let allowed = match &kind {
            Kind::Int { min, max: Some(max) } => Some(format!("{min}–{max}")),
            Kind::Int { min, max: None } if *min > 0 => Some(format!("at least {min}")),
            Kind::Float { range } => Some(range.text()),
            _ => None,
        };
        Self {
            path: path.into(),
            label: label.into(),
            kind,
            help: String::new(),
            allowed,
            when: None,
            default: None,
        }
    }

    /// A whole number in `min..=max`.
    pub fn int(path: &str, label: &str, min: u64, max: u64) -> Self {
        Self::new(path, label, Kind::Int { min, max: Some(max) })
    }

    /// A whole number of at least `min`, its upper bound set by another field or by none.
    pub fn int_from(path: &str, label: &str, min: u64) -> Self {
        Self::new(path, label, Kind::Int { min, max: None })
    }

    pub fn float(path: &str, label: &str, range: FloatRange) -> Self {
        Self::new(path, label, Kind::Float { range })
    }

    pub fn bool(path: &str, label: &str) -> Self {
        Self::new(path, label, Kind::Bool)
    }

    /// One of `choices`: (serde name, label).
    pub fn choice(path: &str, label: &str, choices: &[(&str, &str)]) -> Self {
        let choices = choices.iter().map(|(v, l)| Choice::new(v, l)).collect();
        Self::new(path, label, Kind::Enum { choices })
    }

    pub fn variant(path: &str, label: &str, choices: Vec<Choice>) -> Self {
        Self::new(path, label, Kind::Variant { choices })
    }

    pub fn custom(path: &str, label: &str, control: &str) -> Self {
        Self::new(path, label, Kind::Custom { control: control.into() })
    }

    pub fn help(mut self, text: &str) -> Self {
        self.help = text.into();
        self
    }

    pub fn when(mut self, when: When) -> Self {
        self.when = Some(when);
        self
    }

    /// The field for the model named `name` of an `each` group.
    pub fn named(&self, name: &str) -> Self {
        Self {
            path: self.path.replace("{name}", name),
            when: self.when.as_ref().map(|w| w.named(name)),
            ..self.clone()
        }
    }
}

impl Group {
    pub fn new(legend: &str, fields: Vec<Field>) -> Self {
        Self { legend: legend.into(), each: None, fields }
    }

    /// A group repeated for each key of the map at `each`.
    pub fn each(legend: &str, each: &str, fields: Vec<Field>) -> Self {
        Self { each: Some(each.into()), ..Self::new(legend, fields) }
    }
}

impl LabSchema {
    /// The schema with each field's default read from `defaults`, the lab's default spec as
    /// `{"<lab>": …}` (an `each` group's from the first entry of its map).
    pub fn new(id: &str, groups: Vec<Group>, defaults: &Value) -> Self {
        let mut groups = groups;
        for g in &mut groups {
            let first = g.each.as_deref().and_then(|each| {
                lookup(defaults, each).and_then(Value::as_object).and_then(|m| m.keys().next())
            });
            for f in &mut g.fields {
                let path = match first {
                    Some(name) => f.path.replace("{name}", name),
                    None => f.path.clone(),
                };
                f.default = lookup(defaults, &path).cloned();
            }
        }
        Self { id: id.into(), groups }
    }

    /// Every field as it applies to `spec`: an `each` group's fields once per key of its map
    /// (as the page lays them out).
    pub fn fields_for(&self, spec: &Value) -> Vec<Field> {
        let mut out = Vec::new();
        for g in &self.groups {
            match &g.each {
                None => out.extend(g.fields.iter().cloned()),
                Some(each) => {
                    let names: Vec<String> = lookup(spec, each)
                        .and_then(Value::as_object)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default();
                    for name in names {
                        out.extend(g.fields.iter().map(|f| f.named(&name)));
                    }
                }
            }
        }
        out
    }
}
