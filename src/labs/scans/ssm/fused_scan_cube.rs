//! The selective scan as one CubeCL kernel (wgpu natively, WebGPU in the browser): the GPU
//! twin of the Flex CPU kernel in [`super::fused_scan`], with the same hand-written backward.
//!
//! Why: composed from burn ops, the parallel scan is ~c·log₂L dispatches and materializes the
//! states `[b, l, d, N]` once per level; on a software adapter (SwiftShader, lavapipe) and on
//! small models every dispatch costs more than its arithmetic. Here one thread owns one
//! (batch, channel) row and walks it in time with its N states in registers: one dispatch for
//! the forward pass, one (plus the reductions of dB, dC, dA over channels) for the backward.
//! A row's steps are dependent, so this is sequential in L per thread and parallel over b·d
//! threads — the layout of mamba's own CUDA kernel before its chunking.
//!
//! The backward kernel recomputes the states into a scratch region (mamba's kernel recomputes
//! them too) and writes per-channel partials of dB, dC, dA that burn ops then sum. All its
//! outputs share one buffer: 6 inputs + 1 output + cubecl's info buffer stay within WebGPU's 8
//! guaranteed storage buffers per shader stage. `tests/native/ssm.rs` (native, lavapipe) and
//! `tests/web.rs` (WebGPU in Chromium) check values and every gradient against the composed
//! sequential scan.

use super::fused_scan::Sections;
use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Shape, Slice, TensorMetadata};
use burn_cubecl::cubecl::{self, prelude::*};
use burn_cubecl::{
    CubeBackend, kernel::into_contiguous, ops::numeric::empty_device_dtype, tensor::CubeTensor,
};

/// Threads per cube: one per (batch, channel) row.
const ROWS_PER_CUBE: u32 = 64;

/// Forward: `y[bi, t, di] = Σ_k C[bi, t, k] · h_k` with
/// `h_k ← exp(Δ[bi, t, di] · A[di, k]) · h_k + Δ · B[bi, t, k] · u[bi, t, di]`.
#[cube(launch)]
fn selective_scan_forward_kernel<F: Float>(
    u: &Tensor<F>,     // [b, l, d]
    delta: &Tensor<F>, // [b, l, d]
    a: &Tensor<F>,     // [d, N]
    b: &Tensor<F>,     // [b, l, N]
    c: &Tensor<F>,     // [b, l, N]
    y: &mut Tensor<F>, // [b, l, d]
    #[comptime] n_state: usize,
    #[define(F)] _dtype: ElemType,
) {
    let len = u.shape(1);
    let d = u.shape(2);
    let row = ABSOLUTE_POS;
    if row >= u.shape(0) * d {
        terminate!();
    }
    let bi = row / d;
    let di = row % d;
    let mut h = Array::<F>::new(n_state);
    #[unroll]
    for k in 0..n_state {
        h[k] = F::new(0.0_f32);
    }
    for t in 0..len {
        let i = (bi * len + t) * d + di;
        let dt = delta[i];
        let ut = u[i];
        let r = (bi * len + t) * n_state;
        let mut acc = F::new(0.0_f32);
        #[unroll]
        for k in 0..n_state {
            let hk = (dt * a[di * n_state + k]).exp() * h[k] + dt * b[r + k] * ut;
            h[k] = hk;
            acc += hk * c[r + k];
        }
        y[i] = acc;
    }
}

/// Backward of one row, into `out` (sections as in [`Sections`]): du, dΔ `[b, l, d]`; per
/// channel dB, dC `[b, d, l, N]` and dA `[b, d, N]`; the recomputed states `[b, d, l, N]`.
#[cube(launch)]
fn selective_scan_backward_kernel<F: Float>(
    u: &Tensor<F>,
    delta: &Tensor<F>,
    a: &Tensor<F>,
    b: &Tensor<F>,
    c: &Tensor<F>,
    grad: &Tensor<F>, // [b, l, d]
    out: &mut Tensor<F>,
    #[comptime] n_state: usize,
    #[define(F)] _dtype: ElemType,
) {
    let len = u.shape(1);
    let d = u.shape(2);
    let rows = u.shape(0) * d;
    let row = ABSOLUTE_POS;
    if row >= rows {
        terminate!();
    }
    let bi = row / d;
    let di = row % d;
    // Section offsets (see `Sections::new`).
    let lnd = rows * len; // b·l·d
    let per_row = len * n_state;
    let du_at = 0;
    let dd_at = lnd;
    let db_at = 2 * lnd + row * per_row;
    let dc_at = 2 * lnd + rows * per_row + row * per_row;
    let da_at = 2 * lnd + 2 * rows * per_row + row * n_state;
    let hs_at = 2 * lnd + 2 * rows * per_row + rows * n_state + row * per_row;

    // Forward again: h_t for every t, into this row's scratch.
    let mut h = Array::<F>::new(n_state);
    let mut dh = Array::<F>::new(n_state);
    let mut da = Array::<F>::new(n_state);
    #[unroll]
    for k in 0..n_state {
        h[k] = F::new(0.0_f32);
        dh[k] = F::new(0.0_f32);
        da[k] = F::new(0.0_f32);
    }
    for t in 0..len {
        let i = (bi * len + t) * d + di;
        let dt = delta[i];
        let ut = u[i];
        let r = (bi * len + t) * n_state;
        #[unroll]
        for k in 0..n_state {
            let hk = (dt * a[di * n_state + k]).exp() * h[k] + dt * b[r + k] * ut;
            h[k] = hk;
            out[hs_at + t * n_state + k] = hk;
        }
    }
    // Backward in time: dh_t = C_t g_t + Ā_{t+1} dh_{t+1}.
    for step in 0..len {
        let t = len - 1 - step;
        let i = (bi * len + t) * d + di;
        let dt = delta[i];
        let ut = u[i];
        let gy = grad[i];
        let r = (bi * len + t) * n_state;
        let mut du_t = F::new(0.0_f32);
        let mut dd_t = F::new(0.0_f32);
        #[unroll]
        for k in 0..n_state {
            let ak = a[di * n_state + k];
            let hk = out[hs_at + t * n_state + k];
            let mut prev = F::new(0.0_f32);
            if t > 0 {
                prev = out[hs_at + (t - 1) * n_state + k];
            }
            out[dc_at + t * n_state + k] = gy * hk;
            let dhk = dh[k] + gy * c[r + k];
            let decay = (dt * ak).exp();
            // h_t = exp(Δ a) h_{t−1} + Δ b u
            let d_decay = dhk * prev;
            dd_t += d_decay * decay * ak + dhk * b[r + k] * ut;
            da[k] += d_decay * decay * dt;
            out[db_at + t * n_state + k] = dhk * dt * ut;
            du_t += dhk * dt * b[r + k];
            dh[k] = dhk * decay;
        }
        out[du_at + i] = du_t;
        out[dd_at + i] = dd_t;
    }
    #[unroll]
    for k in 0..n_state {
        out[da_at + k] = da[k];
    }
}

fn section(flat: CubeTensor, start: usize, len: usize, shape: Vec<usize>) -> CubeTensor {
    let s = Slice { start: start as isize, end: Some((start + len) as isize), step: 1 };
    let part = CubeBackend::float_slice(flat, &[s]);
    CubeBackend::float_reshape(into_contiguous(part), Shape::from(shape))
}

fn dims3(t: &CubeTensor) -> [usize; 3] {
    t.shape().dims::<3>()
}

fn launch_geometry(rows: usize) -> (CubeCount, CubeDim) {
    let cubes = rows.div_ceil(ROWS_PER_CUBE as usize) as u32;
    (CubeCount::Static(cubes, 1, 1), CubeDim::new_1d(ROWS_PER_CUBE))
}

/// `selective_scan_forward` on a cubecl device (see the module doc).
pub fn forward(
    u: CubeTensor,
    delta: CubeTensor,
    a: CubeTensor,
    b: CubeTensor,
    c: CubeTensor,
) -> CubeTensor {
    let [u, delta, a, b, c] = [u, delta, a, b, c].map(into_contiguous);
    let [bs, _l, d] = dims3(&u);
    let n = a.shape().dims::<2>()[1];
    let dtype = u.dtype;
    let y = empty_device_dtype(u.client.clone(), u.device.clone(), u.shape(), dtype);
    let (count, dim) = launch_geometry(bs * d);
    selective_scan_forward_kernel::launch(
        &u.client.clone(),
        count,
        dim,
        u.into_tensor_arg(),
        delta.into_tensor_arg(),
        a.into_tensor_arg(),
        b.into_tensor_arg(),
        c.into_tensor_arg(),
        y.clone().into_tensor_arg(),
        n,
        dtype_to_storage_type(dtype),
    );
    y
}

/// `selective_scan_backward` on a cubecl device: (du, dΔ, dA, dB, dC).
pub fn backward(
    u: CubeTensor,
    delta: CubeTensor,
    a: CubeTensor,
    b: CubeTensor,
    c: CubeTensor,
    grad: CubeTensor,
) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
    let [u, delta, a, b, c, grad] = [u, delta, a, b, c, grad].map(into_contiguous);
    let [bs, l, d] = dims3(&u);
    let n = a.shape().dims::<2>()[1];
    let s = Sections { bs, l, d, n };
    let dtype = u.dtype;
    let out =
        empty_device_dtype(u.client.clone(), u.device.clone(), Shape::from(vec![s.total()]), dtype);
    let (count, dim) = launch_geometry(bs * d);
    selective_scan_backward_kernel::launch(
        &u.client.clone(),
        count,
        dim,
        u.into_tensor_arg(),
        delta.into_tensor_arg(),
        a.into_tensor_arg(),
        b.into_tensor_arg(),
        c.into_tensor_arg(),
        grad.into_tensor_arg(),
        out.clone().into_tensor_arg(),
        n,
        dtype_to_storage_type(dtype),
    );
    let (lnd, states) = (s.lnd(), s.states());
    let du = section(out.clone(), 0, lnd, vec![bs, l, d]);
    let dd = section(out.clone(), lnd, lnd, vec![bs, l, d]);
    // Partials summed over channels (dB, dC) and over batches (dA).
    let db = section(out.clone(), 2 * lnd, states, vec![bs, d, l, n]); // [b, d, l, N]
    let db =
        CubeBackend::float_reshape(CubeBackend::float_sum_dim(db, 1), Shape::from(vec![bs, l, n]));
    let dc = section(out.clone(), 2 * lnd + states, states, vec![bs, d, l, n]); // [b, d, l, N]
    let dc =
        CubeBackend::float_reshape(CubeBackend::float_sum_dim(dc, 1), Shape::from(vec![bs, l, n]));
    let da = section(out, 2 * lnd + 2 * states, bs * d * n, vec![bs, d, n]); // [b, d, N]
    let da = CubeBackend::float_reshape(CubeBackend::float_sum_dim(da, 0), Shape::from(vec![d, n]));
    (du, dd, da, db, dc)
}
