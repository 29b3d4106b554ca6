//! Linear recurrences `h_t = a_t ⊙ h_{t−1} + b_t` and the selective scan built on them.
//!
//! Three ways to compute the same states, all from composed burn ops, so autodiff gives every
//! gradient (u, Δ, A, B, C, D) without a hand-written backward:
//!
//! | function | dependent steps | work | why it exists |
//! |---|---|---|---|
//! | [`linear_scan_sequential`] | L | L | the reference: one step at a time, as `selective_scan_ref` |
//! | [`linear_scan_parallel`] | 2·⌈log₂L⌉ | ~2L | log-depth odd–even (Blelloch-style) scan |
//! | [`linear_scan_chunked`] | c + 2·⌈log₂(L/c)⌉ | ~2L | sequential inside chunks of c, parallel across chunk carries (Mamba-2 style) |
//! | [`super::fused_scan`] | L (one kernel) | L | the CPU's best: no states stored, backward recomputes them |
//!
//! The parallel scan uses the associative operator (a₁, b₁) ⊕ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂)
//! (`docs/science.md` §2): it combines neighbouring pairs, solves the half-length problem
//! recursively (the up-sweep) and fills the even positions from the odd ones (the down-sweep),
//! so each level is a handful of whole-tensor ops — ~15 GPU dispatches — and there are
//! 2·log₂L levels, against ~4 dispatches per time step for the sequential loop. The backward
//! pass autodiff derives from it is the same shape reversed. Any length works: the sequence is
//! padded to a power of two with a = 1, b = 0, which leaves the earlier states unchanged. An
//! initial state h₀ is folded into the first element (b₀ ← a₀h₀ + b₀).
//!
//! Layout: time is dimension 1, `[batch, len, d, n]`, so one time step is a contiguous slab.
//! [`selective_scan`] takes mamba's layout (`u, delta: [b, d, l]`, `B, C: [b, n, l]`) so its
//! arguments compare one-to-one with `mamba_ssm.ops.selective_scan_interface.selective_scan_ref`.

use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};

/// How a scan is computed. All three give the same numbers (up to float rounding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanMethod {
    /// One time step after another ([`linear_scan_sequential`]).
    Sequential,
    /// Log-depth associative scan ([`linear_scan_parallel`]).
    Parallel,
    /// Sequential in chunks, parallel across chunk carries ([`linear_scan_chunked`]).
    Chunked,
    /// One kernel, sequential in time, that never stores the states ([`super::fused_scan`]:
    /// Flex on the CPU, CubeCL on wgpu and WebGPU); on other devices, the parallel scan.
    Fused,
}

impl ScanMethod {
    pub const ALL: [ScanMethod; 4] =
        [ScanMethod::Sequential, ScanMethod::Parallel, ScanMethod::Chunked, ScanMethod::Fused];

    pub fn name(self) -> &'static str {
        match self {
            ScanMethod::Sequential => "sequential",
            ScanMethod::Parallel => "parallel",
            ScanMethod::Chunked => "chunked",
            ScanMethod::Fused => "fused",
        }
    }
}

/// The states of `h_t = a_t ⊙ h_{t−1} + b_t` by `method`. See [`linear_scan_sequential`].
pub fn linear_scan(
    method: ScanMethod,
    a: Tensor<4>,
    b: Tensor<4>,
    h0: Option<Tensor<3>>,
) -> Tensor<4> {
    match method {
        ScanMethod::Sequential => linear_scan_sequential(a, b, h0),
        // A linear scan of given (a, b) has no fused kernel: the states are its output.
        ScanMethod::Parallel | ScanMethod::Fused => linear_scan_parallel(a, b, h0),
        ScanMethod::Chunked => {
            let len = a.dims()[1];
            linear_scan_chunked(a, b, h0, default_chunk(len))
        }
    }
}

/// The chunk length [`ScanMethod::Chunked`] uses: ≈√L (a power of two), which balances the
/// c sequential steps inside a chunk against the L/c chunk carries.
pub fn default_chunk(len: usize) -> usize {
    let mut chunk = 1;
    while chunk * chunk < len {
        chunk *= 2;
    }
    chunk
}

/// The reference: `h_t = a_t ⊙ h_{t−1} + b_t` one step at a time, `h_{−1} = h0` (zero if none).
/// `a`, `b`: `[batch, len, d, n]`; `h0`: `[batch, d, n]`. Returns every `h_t`, `[batch, len, d, n]`.
pub fn linear_scan_sequential(a: Tensor<4>, b: Tensor<4>, h0: Option<Tensor<3>>) -> Tensor<4> {
    let [batch, len, d, n] = a.dims();
    let device = a.device();
    let mut h = h0.unwrap_or_else(|| Tensor::zeros([batch, d, n], &device)); // [batch, d, n]
    let mut states = Vec::with_capacity(len);
    for t in 0..len {
        let a_t = a.clone().narrow(1, t, 1).reshape([batch, d, n]);
        let b_t = b.clone().narrow(1, t, 1).reshape([batch, d, n]);
        h = a_t * h + b_t;
        states.push(h.clone().unsqueeze_dim::<4>(1)); // [batch, 1, d, n]
    }
    Tensor::cat(states, 1)
}

/// The same states as [`linear_scan_sequential`] in 2·⌈log₂L⌉ dependent levels (see the module
/// doc for the algorithm).
pub fn linear_scan_parallel(a: Tensor<4>, b: Tensor<4>, h0: Option<Tensor<3>>) -> Tensor<4> {
    let [batch, len, d, n] = a.dims();
    let b = fold_initial_state(&a, b, h0);
    let padded = len.next_power_of_two();
    let (a, b) = if padded == len {
        (a, b)
    } else {
        let device = a.device();
        let pad = padded - len;
        (
            Tensor::cat(vec![a, Tensor::ones([batch, pad, d, n], &device)], 1),
            Tensor::cat(vec![b, Tensor::zeros([batch, pad, d, n], &device)], 1),
        )
    };
    scan_power_of_two(a, b).narrow(1, 0, len)
}

/// b₀ ← a₀ ⊙ h₀ + b₀: a scan from h₀ equals a scan from zero with this first element.
fn fold_initial_state(a: &Tensor<4>, b: Tensor<4>, h0: Option<Tensor<3>>) -> Tensor<4> {
    let Some(h0) = h0 else { return b };
    let len = b.dims()[1];
    let first = a.clone().narrow(1, 0, 1) * h0.unsqueeze_dim::<4>(1) + b.clone().narrow(1, 0, 1);
    if len == 1 { first } else { Tensor::cat(vec![first, b.narrow(1, 1, len - 1)], 1) }
}

/// The odd–even recursion on a power-of-two length, zero initial state.
fn scan_power_of_two(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    let [batch, len, d, n] = a.dims();
    if len == 1 {
        return b;
    }
    let half = len / 2;
    // [batch, len, d, n] -> [batch, half, 2, d·n]: position 2i is "even", 2i+1 "odd".
    let pairs = |x: Tensor<4>| {
        let x = x.reshape([batch, half, 2, d * n]);
        let even = x.clone().narrow(2, 0, 1).reshape([batch, half, d, n]);
        let odd = x.narrow(2, 1, 1).reshape([batch, half, d, n]);
        (even, odd)
    };
    let (a_even, a_odd) = pairs(a);
    let (b_even, b_odd) = pairs(b);
    // Up-sweep: each odd position absorbs its even neighbour, (a_e, b_e) ⊕ (a_o, b_o).
    let h_odd = scan_power_of_two(a_odd.clone() * a_even.clone(), a_odd * b_even.clone() + b_odd);
    // Down-sweep: h_{2i} = a_{2i} h_{2i−1} + b_{2i}, with h_{−1} = 0.
    let previous = if half == 1 {
        Tensor::zeros([batch, 1, d, n], &h_odd.device())
    } else {
        Tensor::cat(
            vec![
                Tensor::zeros([batch, 1, d, n], &h_odd.device()),
                h_odd.clone().narrow(1, 0, half - 1),
            ],
            1,
        )
    };
    let h_even = a_even * previous + b_even;
    // Interleave back: [batch, half, 2, d·n] -> [batch, len, d, n].
    Tensor::cat(
        vec![h_even.reshape([batch, half, 1, d * n]), h_odd.reshape([batch, half, 1, d * n])],
        2,
    )
    .reshape([batch, len, d, n])
}

/// The same states as [`linear_scan_sequential`]: a sequential scan of `chunk` steps runs in
/// every chunk at once (from a zero state), then the chunk carries (each chunk's end state and
/// the product of its a's) are combined by [`linear_scan_parallel`], and each chunk adds its
/// incoming carry times the running product of its a's.
pub fn linear_scan_chunked(
    a: Tensor<4>,
    b: Tensor<4>,
    h0: Option<Tensor<3>>,
    chunk: usize,
) -> Tensor<4> {
    let [batch, len, d, n] = a.dims();
    let chunk = chunk.clamp(1, len.max(1));
    let chunks = len.div_ceil(chunk);
    let padded = chunks * chunk;
    let device = a.device();
    let (a, b) = if padded == len {
        (a, b)
    } else {
        let pad = padded - len;
        (
            Tensor::cat(vec![a, Tensor::ones([batch, pad, d, n], &device)], 1),
            Tensor::cat(vec![b, Tensor::zeros([batch, pad, d, n], &device)], 1),
        )
    };
    let dn = d * n;
    // [batch, padded, d, n] -> [batch, chunks, chunk, d·n]
    let a = a.reshape([batch, chunks, chunk, dn]);
    let b = b.reshape([batch, chunks, chunk, dn]);
    // Inside every chunk at once: local states from zero, and running products of a.
    let mut local = Vec::with_capacity(chunk);
    let mut products = Vec::with_capacity(chunk);
    let mut h: Option<Tensor<3>> = None; // [batch, chunks, d·n]
    let mut p: Option<Tensor<3>> = None;
    for j in 0..chunk {
        let a_j = a.clone().narrow(2, j, 1).reshape([batch, chunks, dn]);
        let b_j = b.clone().narrow(2, j, 1).reshape([batch, chunks, dn]);
        let h_j = match h {
            Some(h) => a_j.clone() * h + b_j,
            None => b_j,
        };
        let p_j = match p {
            Some(p) => a_j * p,
            None => a_j,
        };
        local.push(h_j.clone().unsqueeze_dim::<4>(2));
        products.push(p_j.clone().unsqueeze_dim::<4>(2));
        h = Some(h_j);
        p = Some(p_j);
    }
    let local = Tensor::cat(local, 2); // [batch, chunks, chunk, d·n]
    let products = Tensor::cat(products, 2); // [batch, chunks, chunk, d·n]
    // Across chunks: carry_k = P_k ⊙ carry_{k−1} + S_k, from h0.
    let ends = |x: &Tensor<4>| x.clone().narrow(2, chunk - 1, 1).reshape([batch, chunks, 1, dn]);
    let h0 = h0.map(|h| h.reshape([batch, 1, dn]));
    let carries = linear_scan_parallel(ends(&products), ends(&local), h0.clone()); // [batch, chunks, 1, d·n]
    // The state entering chunk k is carry_{k−1} (h0, or zero, for the first chunk).
    let first =
        h0.unwrap_or_else(|| Tensor::zeros([batch, 1, dn], &device)).reshape([batch, 1, 1, dn]);
    let incoming = if chunks == 1 {
        first
    } else {
        Tensor::cat(vec![first, carries.narrow(1, 0, chunks - 1)], 1)
    }; // [batch, chunks, 1, d·n]
    let states = local + products * incoming; // [batch, chunks, chunk, d·n]
    states.reshape([batch, padded, d, n]).narrow(1, 0, len)
}

/// The arguments of mamba's `selective_scan_ref` (without the z gate), in its layout.
#[derive(Clone, Debug)]
pub struct SelectiveScanInputs {
    /// Input, `[b, d, l]`.
    pub u: Tensor<3>,
    /// Step sizes before bias and softplus, `[b, d, l]`.
    pub delta: Tensor<3>,
    /// Continuous-time diagonal A (negative for a stable scan), `[d, n]`.
    pub a: Tensor<2>,
    /// Input-dependent B, `[b, n, l]`.
    pub b: Tensor<3>,
    /// Input-dependent C, `[b, n, l]`.
    pub c: Tensor<3>,
    /// Skip connection, `[d]`.
    pub d: Tensor<1>,
    /// Added to `delta` before the softplus, `[d]`.
    pub delta_bias: Option<Tensor<1>>,
    /// Apply softplus to `delta + delta_bias` (Mamba does).
    pub delta_softplus: bool,
}

/// The selective scan of mamba's `selective_scan_ref`:
/// Δ = softplus(delta + delta_bias); h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t u_t;
/// y_t = C_t · h_t + D u_t. Returns `y`, `[b, d, l]`.
pub fn selective_scan(inputs: SelectiveScanInputs, method: ScanMethod) -> Tensor<3> {
    let u = inputs.u.clone();
    let [batch, d, len] = u.dims();
    let y = selective_scan_output(
        inputs.u.swap_dims(1, 2),
        inputs.delta.swap_dims(1, 2),
        inputs.a,
        inputs.b.swap_dims(1, 2),
        inputs.c.swap_dims(1, 2),
        inputs.delta_bias,
        inputs.delta_softplus,
        method,
    );
    let skip = inputs.d.reshape([1, d, 1]).expand([batch, d, len]);
    y.swap_dims(1, 2) + u * skip
}

/// Δ = softplus(delta + bias) (each step optional), `[b, l, d]`.
fn discretization_step(delta: Tensor<3>, bias: Option<Tensor<1>>, softplus_on: bool) -> Tensor<3> {
    let d = delta.dims()[2];
    let mut delta = delta;
    if let Some(bias) = bias {
        delta = delta + bias.reshape([1, 1, d]);
    }
    if softplus_on { softplus(delta, 1.0) } else { delta }
}

/// Whether [`selective_scan_output`] runs the fused kernel for `method` on `device`: only
/// [`ScanMethod::Fused`], and only where the device has the kernel (every other method is
/// composed, so the tests that compare methods compare different code).
pub fn uses_fused_kernel(method: ScanMethod, device: &Device) -> bool {
    method == ScanMethod::Fused && super::fused_scan::has_fused_kernel(device)
}

/// [`selective_scan_states`]' `y` alone: by the fused kernel where [`uses_fused_kernel`] (no
/// states are stored), else composed.
#[allow(clippy::too_many_arguments)]
pub fn selective_scan_output(
    u: Tensor<3>,
    delta: Tensor<3>,
    a: Tensor<2>,
    b: Tensor<3>,
    c: Tensor<3>,
    delta_bias: Option<Tensor<1>>,
    delta_softplus: bool,
    method: ScanMethod,
) -> Tensor<3> {
    if uses_fused_kernel(method, &u.device()) {
        let delta = discretization_step(delta, delta_bias, delta_softplus);
        if let Some(y) = super::fused_scan::selective_scan_fused(
            u.clone(),
            delta.clone(),
            a.clone(),
            b.clone(),
            c.clone(),
        ) {
            return y;
        }
        return selective_scan_states(u, delta, a, b, c, None, false, ScanMethod::Parallel).0;
    }
    selective_scan_states(u, delta, a, b, c, delta_bias, delta_softplus, method).0
}

/// The selective scan in time-major layout, without the D skip: `u, delta: [b, l, d]`,
/// `a: [d, n]`, `b, c: [b, l, n]`. Returns `(y [b, l, d], h [b, l, d, n])` — the states are
/// the lab's "state heatmap" view.
#[allow(clippy::too_many_arguments)]
pub fn selective_scan_states(
    u: Tensor<3>,
    delta: Tensor<3>,
    a: Tensor<2>,
    b: Tensor<3>,
    c: Tensor<3>,
    delta_bias: Option<Tensor<1>>,
    delta_softplus: bool,
    method: ScanMethod,
) -> (Tensor<3>, Tensor<4>) {
    let [batch, len, d] = u.dims();
    let n = a.dims()[1];
    let delta = discretization_step(delta, delta_bias, delta_softplus);
    let delta4 = delta.reshape([batch, len, d, 1]);
    // Ā_t = exp(Δ_t A); B̄_t u_t = Δ_t B_t u_t (Mamba's simplified B discretization).
    let a_bar = (delta4.clone() * a.reshape([1, 1, d, n])).exp(); // [b, l, d, n]
    let bu = delta4 * u.reshape([batch, len, d, 1]) * b.reshape([batch, len, 1, n]); // [b, l, d, n]
    let h = linear_scan(method, a_bar, bu, None); // [b, l, d, n]
    let y = (h.clone() * c.reshape([batch, len, 1, n])).sum_dim(3).reshape([batch, len, d]);
    (y, h)
}
