//! Datasets, generated from a spec and a seed on the host, then moved to a device.
//!
//! Generation is plain Rust (no tensors) so it is identical on every backend and testable
//! without one.

pub mod expr;
pub mod memory;
pub mod modular;
pub mod regression;
pub mod rng;
