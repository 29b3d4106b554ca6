//! `gradscope inspect init | gradients | ssm`: a lab's numbers as plain JSON (each dump is its
//! lab's, reached through `labs::Dump`).

use std::process::ExitCode;

use super::args::Inspect;
use super::input::{bad_input, failed, load_spec, write_or_print};
use crate::backend;
use crate::labs::{Dump, DumpError};

pub(super) fn inspect(what: Inspect) -> ExitCode {
    let (dump, spec, out) = match what {
        Inspect::Init { spec, out } => (Dump::Init, spec, out),
        Inspect::Gradients { spec, out } => (Dump::Gradients, spec, out),
        Inspect::Ssm { spec, len, out } => (Dump::Ssm { len }, spec, out),
    };
    let spec = match load_spec(spec.as_deref().or(dump.default_preset())) {
        Ok(spec) => spec,
        Err(e) => return bad_input(&e),
    };
    let backend = backend::cpu();
    match pollster::block_on(dump.of(&spec, &backend.device)) {
        Ok(json) => write_or_print(&json.to_string(), out.as_deref()),
        Err(DumpError::Input(e)) => bad_input(&e),
        Err(DumpError::Failed(e)) => failed(&e),
    }
}
