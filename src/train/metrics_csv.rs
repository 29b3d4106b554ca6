//! Metrics as CSV, for `pd.read_csv` and spreadsheets: one row per evaluation, one column per
//! metric, with the columns the page's "Metrics CSV" export writes (`www/exports.js`,
//! `metricsCsv`): a record's nested objects flattened to dotted names (`series.mamba.test_acc`),
//! `step` first and the rest by name (the page keeps the order in which they first appear), a
//! value that is missing or was not finite (NaN is written as `null` in JSON) left empty, and a
//! cell holding `,`, `"` or a line break quoted as RFC 4180 says (`"` doubled).

use serde::Serialize;
use serde_json::{Map, Value};

/// Records as CSV rows under a header that grows as new metrics appear.
#[derive(Debug, Default)]
pub struct CsvTable {
    columns: Vec<String>,
    rows: Vec<Map<String, Value>>,
}

impl CsvTable {
    /// Adds a record (any JSON object: a `MetricsRecord`). Returns whether it brought columns
    /// the header did not have: a file written row by row must then be written anew.
    pub fn push(&mut self, record: &impl Serialize) -> bool {
        let mut row = Map::new();
        flatten(&serde_json::to_value(record).expect("records serialize"), "", &mut row);
        let new: Vec<String> = row.keys().filter(|k| !self.columns.contains(k)).cloned().collect();
        self.rows.push(row);
        if new.is_empty() {
            return false;
        }
        self.columns.extend(new);
        // `step` first, then by name (a record's metrics, then `wall_ms`, sort apart for the
        // labs' names; a metric that appears later, such as the training loss after step 0,
        // takes its place by name too).
        self.columns.sort_by(|a, b| (a != "step", a).cmp(&(b != "step", b)));
        true
    }

    /// The header line, with its line break.
    pub fn header(&self) -> String {
        line(self.columns.iter().map(|c| cell(&Value::String(c.clone()))))
    }

    /// The last row pushed, with its line break (empty before the first).
    pub fn last_row(&self) -> String {
        self.rows.last().map(|r| self.row(r)).unwrap_or_default()
    }

    /// The whole table: the header, then every row.
    pub fn to_text(&self) -> String {
        std::iter::once(self.header()).chain(self.rows.iter().map(|r| self.row(r))).collect()
    }

    fn row(&self, row: &Map<String, Value>) -> String {
        line(self.columns.iter().map(|c| row.get(c).map(cell).unwrap_or_default()))
    }
}

fn line(cells: impl Iterator<Item = String>) -> String {
    cells.collect::<Vec<_>>().join(",") + "\n"
}

/// `{"step": 1, "series": {"pre.loss": 2}}` → `step`, `series.pre.loss`. Arrays stay whole (a
/// cell of JSON text) and an empty object gives no column, as in the page's export.
fn flatten(value: &Value, prefix: &str, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(v, &key, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// One cell: numbers as JSON writes them, strings as they are, other JSON as its text;
/// `null` empty; quoted when it holds a separator, a quote or a line break.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
