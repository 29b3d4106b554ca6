//! The native tests, one module per file, linked into one test binary: each integration-test
//! file used to be its own binary, and linking fifteen copies of burn cost ~4 minutes of CPU per
//! clean build on 2 cores; one binary also runs the slow tests of every module side by side.
//! Two tests keep binaries of their own: `tests/gpu_dispatches.rs` (its counter must be switched
//! on before the process creates a GPU device) and `tests/web.rs` (the browser's, wasm32 only).
#![cfg(not(target_arch = "wasm32"))]

// The grokking transformer's checks, which tests/web.rs runs in the browser too.
#[path = "../shared/transformer_checks.rs"]
mod transformer_checks;

mod analysis;
mod checkpoint;
mod data;
mod fuzz;
mod gradient_flow;
mod layout;
mod losses;
mod models;
mod scans_lab;
mod scans_reference;
mod schema;
mod spec;
mod ssm;
mod sweep;
mod team;
mod training;
mod transformer_reference;
