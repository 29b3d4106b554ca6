//! The selective scan as one kernel per backend, with a hand-written backward: h_t =
//! exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t u_t, y_t = C_t · h_t, sequential in time. This file holds the
//! op's trait, its routing (Flex, cubecl, autodiff) and the Flex CPU kernel; the GPU kernel is
//! in [`super::fused_scan_cube`].
//!
//! Why: composed from burn ops, every scan materializes the states `[b, l, d, N]` (and the
//! parallel scan one such tensor per level), so a Mamba step is a stream of whole-tensor passes
//! through memory — 680 ms for the scans lab's default model on 2 cores, where the arithmetic is
//! ~10⁷ flops. Here the states of one (batch, channel) row live in a buffer of `l × N` floats
//! (the backward pass recomputes them, as mamba's CUDA kernel does) and no `[b, l, d, N]` tensor
//! exists. Rows are independent, so batches run in parallel natively (rayon) and in order on wasm.
//!
//! On the CPU a sequential loop in time is the fastest scan there is: the parallel scan's point
//! is fewer dependent GPU dispatches, which a CPU does not pay for (see `gradscope bench scans`).
//! On a GPU the same loop runs one thread per (batch, channel) row: one dispatch where the
//! composed parallel scan takes hundreds. [`selective_scan_fused`] returns `None` on a device
//! without a kernel (the caller composes the scan). `tests/native/ssm.rs` checks values and every
//! gradient of both kernels against the composed sequential scan and the float64
//! `selective_scan_ref`.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Device, Tensor, TensorData};
#[cfg(gpu)]
use burn_cubecl::{CubeBackend, tensor::CubeTensor};

/// The fused selective scan and its gradients: Flex (the CPU kernel below), cubecl (the GPU
/// kernel in [`super::fused_scan_cube`]; under kernel fusion, as an opaque op in the fused
/// stream), and autodiff over either. cubecl and fusion only where the GPU backend is compiled
/// in (`cfg(gpu)`, build.rs).
#[backend_extension(Flex, Cube: cfg(gpu), Fusion: cfg(gpu), Autodiff)]
pub trait SelectiveScanOps: Backend {
    /// `u`, `delta`: `[b, l, d]` (Δ after bias and softplus), `a`: `[d, n]`, `b`, `c`:
    /// `[b, l, n]` → `y`: `[b, l, d]` (no D skip).
    #[fusion(dtype = u, shape = u)]
    fn selective_scan_forward(
        u: FloatTensor<Self>,
        delta: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        c: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// Gradients w.r.t. (u, delta, a, b, c) given the output's gradient `grad` `[b, l, d]`.
    #[allow(clippy::type_complexity)]
    #[fusion(meta = |u, delta, a, b, c, _grad| (u.clone(), delta.clone(), a.clone(), b.clone(), c.clone()))]
    fn selective_scan_backward(
        u: FloatTensor<Self>,
        delta: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        c: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

impl SelectiveScanOps for Flex {
    fn selective_scan_forward(
        u: FlexTensor,
        delta: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        c: FlexTensor,
    ) -> FlexTensor {
        let x = Inputs::new(&u, &delta, &a, &b, &c);
        let mut y = vec![0.0f32; x.bs * x.l * x.d];
        for_each_batch(&mut y, x.l * x.d, |bi, y_b| x.forward_batch(bi, y_b));
        flex_f32(y, vec![x.bs, x.l, x.d])
    }

    fn selective_scan_backward(
        u: FlexTensor,
        delta: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        c: FlexTensor,
        grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor, FlexTensor, FlexTensor, FlexTensor) {
        let x = Inputs::new(&u, &delta, &a, &b, &c);
        let g = f32_values(&grad);
        let (bs, l, d, n) = (x.bs, x.l, x.d, x.n);
        // Per batch: du, ddelta [l, d]; dB, dC [l, n]; dA [d, n] (summed over batches after).
        let per = l * d * 2 + l * n * 2 + d * n;
        let mut out = vec![0.0f32; bs * per];
        for_each_batch(&mut out, per, |bi, o| {
            x.backward_batch(bi, &g[bi * l * d..(bi + 1) * l * d], o)
        });
        let (mut du, mut dd, mut db, mut dc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut da = vec![0.0f32; d * n];
        for o in out.chunks(per) {
            let (du_b, rest) = o.split_at(l * d);
            let (dd_b, rest) = rest.split_at(l * d);
            let (db_b, rest) = rest.split_at(l * n);
            let (dc_b, da_b) = rest.split_at(l * n);
            du.extend_from_slice(du_b);
            dd.extend_from_slice(dd_b);
            db.extend_from_slice(db_b);
            dc.extend_from_slice(dc_b);
            // Summed in batch order: results do not depend on the thread count.
            for (acc, v) in da.iter_mut().zip(da_b) {
                *acc += v;
            }
        }
        (
            flex_f32(du, vec![bs, l, d]),
            flex_f32(dd, vec![bs, l, d]),
            flex_f32(da, vec![d, n]),
            flex_f32(db, vec![bs, l, n]),
            flex_f32(dc, vec![bs, l, n]),
        )
    }
}

#[cfg(gpu)]
impl SelectiveScanOps for CubeBackend {
    fn selective_scan_forward(
        u: CubeTensor,
        delta: CubeTensor,
        a: CubeTensor,
        b: CubeTensor,
        c: CubeTensor,
    ) -> CubeTensor {
        super::fused_scan_cube::forward(u, delta, a, b, c)
    }

    fn selective_scan_backward(
        u: CubeTensor,
        delta: CubeTensor,
        a: CubeTensor,
        b: CubeTensor,
        c: CubeTensor,
        grad: CubeTensor,
    ) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
        super::fused_scan_cube::backward(u, delta, a, b, c, grad)
    }
}

impl<B: Backend + SelectiveScanOps, C: CheckpointStrategy> SelectiveScanOps for Autodiff<B, C> {
    fn selective_scan_forward(
        u: FloatTensor<Self>,
        delta: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        c: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ScanBackward;

        impl<B: Backend + SelectiveScanOps> Backward<B, 5> for ScanBackward {
            // The inputs: the backward recomputes the states rather than keeping [b, l, d, N].
            type State = [FloatTensor<B>; 5];

            fn backward(
                self,
                ops: Ops<Self::State, 5>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let grad = grads.consume::<B>(&ops.node);
                let [u, delta, a, b, c] = ops.state;
                let (gu, gd, ga, gb, gc) = B::selective_scan_backward(u, delta, a, b, c, grad);
                for (node, g) in ops.parents.into_iter().zip([gu, gd, ga, gb, gc]) {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        match ScanBackward
            .prepare::<C>([u.node(), delta.node(), a.node(), b.node(), c.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let inputs = [u, delta, a, b, c].map(|t| t.primitive().clone());
                let [u, delta, a, b, c] = inputs.clone();
                let out = B::selective_scan_forward(u, delta, a, b, c);
                prep.finish(inputs, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::selective_scan_forward(
                u.into_primitive(),
                delta.into_primitive(),
                a.into_primitive(),
                b.into_primitive(),
                c.into_primitive(),
            )),
        }
    }

    fn selective_scan_backward(
        _u: FloatTensor<Self>,
        _delta: FloatTensor<Self>,
        _a: FloatTensor<Self>,
        _b: FloatTensor<Self>,
        _c: FloatTensor<Self>,
        _grad: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        unreachable!("second-order gradients of the fused scan are not used")
    }
}

/// Whether `device` runs a fused kernel: burn's Flex CPU backend or a cubecl device (wgpu,
/// WebGPU), with or without autodiff.
pub fn has_fused_kernel(device: &Device) -> bool {
    match device.clone().inner().as_dispatch() {
        burn::backend::DispatchDevice::Flex(_) => true,
        #[cfg(gpu)]
        burn::backend::DispatchDevice::Cube(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The fused selective scan (see the module doc); `None` where the device has no kernel (the
/// caller composes the scan instead). `u`, `delta`: `[b, l, d]` (Δ after bias and softplus),
/// `a`: `[d, n]`, `b`, `c`: `[b, l, n]` → `[b, l, d]`.
pub fn selective_scan_fused(
    u: Tensor<3>,
    delta: Tensor<3>,
    a: Tensor<2>,
    b: Tensor<3>,
    c: Tensor<3>,
) -> Option<Tensor<3>> {
    if !has_fused_kernel(&u.device()) {
        return None;
    }
    Some(Tensor::from_dispatch(<Dispatch as SelectiveScanOps>::selective_scan_forward(
        u.into_dispatch(),
        delta.into_dispatch(),
        a.into_dispatch(),
        b.into_dispatch(),
        c.into_dispatch(),
    )))
}

// ---- the Flex CPU kernel -------------------------------------------------------------------

/// An f32 tensor's values, row-major (copied only if strided). The scans lab trains in f32.
fn f32_values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    assert_eq!(t.dtype(), DType::F32, "the fused selective scan runs in f32");
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

fn flex_f32(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// Runs `f(batch, chunk)` over `data` in chunks of `per`, in parallel natively.
fn for_each_batch(data: &mut [f32], per: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(per).enumerate().for_each(|(i, c)| f(i, c));
    }
    #[cfg(target_arch = "wasm32")]
    data.chunks_mut(per).enumerate().for_each(|(i, c)| f(i, c));
}

struct Inputs<'a> {
    u: std::borrow::Cow<'a, [f32]>,
    delta: std::borrow::Cow<'a, [f32]>,
    a: std::borrow::Cow<'a, [f32]>,
    b: std::borrow::Cow<'a, [f32]>,
    c: std::borrow::Cow<'a, [f32]>,
    bs: usize,
    l: usize,
    d: usize,
    n: usize,
}

impl<'a> Inputs<'a> {
    fn new(
        u: &'a FlexTensor,
        delta: &'a FlexTensor,
        a: &'a FlexTensor,
        b: &'a FlexTensor,
        c: &'a FlexTensor,
    ) -> Self {
        let (us, as_) = (u.shape(), a.shape());
        let (bs, l, d, n) = (us[0], us[1], us[2], as_[1]);
        assert_eq!(as_[0], d, "A must be [d, n]");
        Inputs {
            u: f32_values(u),
            delta: f32_values(delta),
            a: f32_values(a),
            b: f32_values(b),
            c: f32_values(c),
            bs,
            l,
            d,
            n,
        }
    }

    /// y of batch `bi`, `[l, d]`.
    fn forward_batch(&self, bi: usize, y: &mut [f32]) {
        let (l, d, n) = (self.l, self.d, self.n);
        let mut h = vec![0.0f32; n];
        for di in 0..d {
            h.fill(0.0);
            let a = &self.a[di * n..(di + 1) * n];
            for t in 0..l {
                let i = (bi * l + t) * d + di;
                let (dt, u) = (self.delta[i], self.u[i]);
                let row = (bi * l + t) * n;
                let (b, c) = (&self.b[row..row + n], &self.c[row..row + n]);
                let mut acc = 0.0;
                for k in 0..n {
                    h[k] = (dt * a[k]).exp() * h[k] + dt * b[k] * u;
                    acc += h[k] * c[k];
                }
                y[t * d + di] = acc;
            }
        }
    }

    /// Gradients of batch `bi` given `g` (`[l, d]`), into `o` = du `[l, d]`, dΔ `[l, d]`,
    /// dB `[l, n]`, dC `[l, n]`, dA `[d, n]`.
    fn backward_batch(&self, bi: usize, g: &[f32], o: &mut [f32]) {
        let (l, d, n) = (self.l, self.d, self.n);
        let (du, rest) = o.split_at_mut(l * d);
        let (dd, rest) = rest.split_at_mut(l * d);
        let (db, rest) = rest.split_at_mut(l * n);
        let (dc, da) = rest.split_at_mut(l * n);
        let mut hs = vec![0.0f32; l * n]; // the states of one channel, recomputed
        let mut dh = vec![0.0f32; n];
        for di in 0..d {
            let a = &self.a[di * n..(di + 1) * n];
            let at = |t: usize| (bi * l + t) * d + di;
            let row = |t: usize| (bi * l + t) * n;
            // Forward again: h_t for every t.
            for t in 0..l {
                let (dt, u) = (self.delta[at(t)], self.u[at(t)]);
                let b = &self.b[row(t)..row(t) + n];
                for k in 0..n {
                    let prev = if t == 0 { 0.0 } else { hs[(t - 1) * n + k] };
                    hs[t * n + k] = (dt * a[k]).exp() * prev + dt * b[k] * u;
                }
            }
            // Backward in time: dh_t = C_t g_t + Ā_{t+1} dh_{t+1}.
            dh.fill(0.0);
            for t in (0..l).rev() {
                let (dt, u, gy) = (self.delta[at(t)], self.u[at(t)], g[t * d + di]);
                let (b, c) = (&self.b[row(t)..row(t) + n], &self.c[row(t)..row(t) + n]);
                let (mut du_t, mut dd_t) = (0.0f32, 0.0f32);
                for k in 0..n {
                    let h = hs[t * n + k];
                    let prev = if t == 0 { 0.0 } else { hs[(t - 1) * n + k] };
                    dc[t * n + k] += gy * h;
                    let dhk = dh[k] + gy * c[k];
                    let decay = (dt * a[k]).exp();
                    // h_t = exp(Δ a) h_{t−1} + Δ b u
                    let d_decay = dhk * prev;
                    dd_t += d_decay * decay * a[k] + dhk * b[k] * u;
                    da[di * n + k] += d_decay * decay * dt;
                    db[t * n + k] += dhk * dt * u;
                    du_t += dhk * dt * b[k];
                    dh[k] = dhk * decay;
                }
                du[t * d + di] = du_t;
                dd[t * d + di] = dd_t;
            }
        }
    }
}

/// The backward output buffer's sections, in order: du, dΔ `[b, l, d]`; dB, dC partials
/// `[b, d, l, N]`; dA partials `[b, d, N]`; the states `[b, d, l, N]` (scratch).
pub(super) struct Sections {
    pub bs: usize,
    pub l: usize,
    pub d: usize,
    pub n: usize,
}

impl Sections {
    pub fn lnd(&self) -> usize {
        self.bs * self.l * self.d
    }
    pub fn states(&self) -> usize {
        self.bs * self.d * self.l * self.n
    }
    pub fn total(&self) -> usize {
        2 * self.lnd() + 3 * self.states() + self.bs * self.d * self.n
    }
}

/// Bytes of the backward kernel's output buffer (f32) for `[bs, l, d]` inputs with `n` states:
/// the largest buffer the fused scan allocates, for the callers' fit checks.
pub fn backward_buffer_bytes(bs: usize, l: usize, d: usize, n: usize) -> u64 {
    4 * Sections { bs, l, d, n }.total() as u64
}
