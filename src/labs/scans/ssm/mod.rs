//! State-space models for the scans lab (`docs/science.md` §2).
//!
//! | module | what |
//! |---|---|
//! | [`scan`] | linear recurrences h_t = a_t h_{t−1} + b_t: sequential (reference), parallel (log depth), chunked; the selective scan |
//! | [`s4d`] | S4D: inits, ZOH/bilinear, the Vandermonde kernel, convolution (direct and FFT) and recurrence |
//! | [`mamba`] | the Mamba block, and the same gated block around an LTI S4D |
//! | [`net`] | the sequence model the memory tasks train: embedding, residual mixer layers, head |
//! | [`fused_scan`] | the selective scan as one kernel with a hand-written backward: the Flex CPU kernel, and the routing |
//! | [`fused_scan_cube`] | the same kernel in CubeCL, for wgpu and WebGPU (where `cfg(gpu)`: build.rs) |
//! | [`linear`] | a dense layer with host-drawn weights |
//!
//! Every fast path sits beside its reference, and `tests/native/ssm.rs` compares them (values and
//! gradients) and both against float64 loops written in the test.

pub mod fused_scan;
#[cfg(gpu)]
pub mod fused_scan_cube;
pub mod linear;
pub mod mamba;
pub mod net;
pub mod s4d;
pub mod scan;
