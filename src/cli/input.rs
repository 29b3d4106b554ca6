//! What every command reads and writes the same way: a spec given as a preset, a file or a
//! link; an output file or stdout; the exit code of bad input.

use std::process::ExitCode;

use crate::labs::{ExperimentSpec, presets};
use crate::spec::SpecError;

/// Resolves a preset name, a spec file path, or a link / URL hash (`None`: the default preset).
pub(super) fn load_spec(arg: Option<&str>) -> Result<ExperimentSpec, SpecError> {
    let Some(arg) = arg else { return Ok(presets::default_preset().spec) };
    if let Some(preset) = presets::find(arg) {
        return Ok(preset.spec);
    }
    if let Some((_, hash)) = arg.split_once('#') {
        return ExperimentSpec::from_hash(&strip_view_options(hash));
    }
    match std::fs::read_to_string(arg) {
        Ok(text) => ExperimentSpec::from_json(&text),
        Err(e) => {
            let names: Vec<_> = presets::all().iter().map(|p| p.name).collect();
            Err(SpecError::new(
                "(spec)",
                format!(
                    "`{arg}` is neither a preset ({}) nor a readable spec file ({e})",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Drops a link's view options (`controls=…`, `views=…`, `autoplay=…`, `…_hide=true`: what the
/// page shows, www/links.js), keeping the spec pairs; no spec field is named like them.
fn strip_view_options(hash: &str) -> String {
    hash.split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            !(matches!(key, "controls" | "views" | "autoplay") || key.ends_with("_hide"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `spec` with `--steps`, if given.
pub(super) fn with_steps(
    spec: ExperimentSpec,
    steps: Option<u64>,
) -> Result<ExperimentSpec, SpecError> {
    match steps {
        Some(steps) => spec.with_steps(steps),
        None => Ok(spec),
    }
}

/// Says what is wrong with the input; exit code 2.
pub(super) fn bad_input(e: &impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// Says what failed; exit code 1.
pub(super) fn failed(e: &impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(1)
}

/// Writes `text` to `out`, or prints it.
pub(super) fn write_or_print(text: &str, out: Option<&str>) -> ExitCode {
    match out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return bad_input(&format!("cannot write {path}: {e}"));
            }
        }
        None => println!("{text}"),
    }
    ExitCode::SUCCESS
}

/// Token ids separated by spaces or commas.
pub(super) fn parse_tokens(text: &str) -> Result<Vec<u32>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<u32>().map_err(|_| format!("`{t}` is not a token id (0, 1, 2, …)")))
        .collect()
}

/// Waits `ms` milliseconds (the benchmarks' pause while a GPU's counters settle).
pub(super) fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}
