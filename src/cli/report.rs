//! `gradscope presets`, `spec`, `schema` and `report`: what there is to run, a spec in full, the
//! form's fields, and what a metrics file says.

use std::process::ExitCode;

use super::input::{bad_input, load_spec};
use crate::labs::{LabReport, presets, read_metrics_file, schema as lab_schema};

/// Lists the presets with their sources and what to expect.
pub(super) fn presets() -> ExitCode {
    for p in presets::all() {
        println!("{}\n  {}\n  source: {}\n  expect: {}\n", p.name, p.title, p.source, p.expect);
    }
    ExitCode::SUCCESS
}

/// Prints a preset's (or a spec file's, or a link's) full, validated spec as JSON.
pub(super) fn spec(spec: Option<&str>) -> ExitCode {
    match load_spec(spec) {
        Ok(spec) => {
            println!("{}", spec.to_json_pretty());
            ExitCode::SUCCESS
        }
        Err(e) => bad_input(&e),
    }
}

/// Prints every lab's form schema as JSON, or writes it to `out` (the page's ES module when
/// `out` ends in `.js`).
pub(super) fn schema(out: Option<&str>) -> ExitCode {
    let text = match out {
        Some(path) if path.ends_with(".js") => lab_schema::page_module(),
        _ => {
            format!("{}\n", serde_json::to_string_pretty(&lab_schema::file()).expect("serializes"))
        }
    };
    match out {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => bad_input(&format!("cannot write {path}: {e}")),
        },
    }
}

/// Reads a metrics file and prints its lab, size and the lab's report as JSON.
pub(super) fn report(file: &str) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return bad_input(&format!("cannot read {file}: {e}")),
    };
    let metrics = match read_metrics_file(&text) {
        Ok(m) => m,
        Err(e) => return bad_input(&format!("{file}: {e}")),
    };
    let report = LabReport::from_history(&metrics.records);
    let out = serde_json::json!({
        "lab": metrics.lab,
        "format_version": metrics.version,
        "records": metrics.records.len(),
        "last_step": metrics.records.last().map(|r| r.step),
        "spec": metrics.spec,
        "report": report,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("reports serialize"));
    ExitCode::SUCCESS
}
