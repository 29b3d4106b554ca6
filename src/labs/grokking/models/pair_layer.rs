//! The one-hot MLP's first layer, its activation and the next layer's weights as one op:
//! `act(W_a[a] + W_b[b]) · W`, with a hand-written backward.
//!
//! Why: composed from burn ops, the first hidden layer `h = act(W_a[a] + W_b[b])` is a
//! `[batch, width]` buffer (`[4704, 500]`, 9.4 MB, on the default preset), and so is its
//! gradient `G·Wᵀ`. The two gathers, the add, the activation and its backward, and the two
//! scatter-adds each stream a whole buffer through memory into a freshly allocated one. On
//! burn's CPU backend that took about half of a training step. Fused, the work goes in blocks of
//! [`CHUNK_ROWS`] rows whose hidden activations stay in cache. The backward pass recomputes
//! them from the two small tables instead of storing them. No `[batch, width]` buffer exists.
//!
//! How: a burn backend extension ([`PairLayerOps`]) with
//! - a default body composed of burn ops, which is what the wgpu/WebGPU backend runs (natively,
//!   burn's kernel fusion merges its elementwise parts);
//! - a Flex CPU kernel ([`flex_forward`], [`flex_backward`]) on the `gemm` crate, which
//!   burn's Flex backend itself uses for matmuls (f32; other dtypes take the composed body);
//! - an `Autodiff` implementation that registers the backward step.
//!
//! Blocks are processed in parallel natively and in order on wasm. Their partial weight gradients
//! are summed in block order, so CPU results do not depend on the thread count.
//!
//! `tests/native/models.rs` checks values, every gradient and the pruned forward against the dense
//! one-hot reference (`Mlp::forward_one_hot`, plain burn ops), and `tests/web.rs` the WebGPU
//! path against the CPU kernel.

use std::mem::MaybeUninit;

#[cfg(gpu)]
use burn::backend::Cube;
use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, DType, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{IndexingUpdateOp, Int, Tensor, TensorData};

use crate::labs::grokking::spec::Activation;

/// Activations the fused op implements; an MLP with another takes the composed path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairActivation {
    /// x² (Doshi et al., Gromov).
    Square,
    /// max(x, 0) (Prieto et al.).
    Relu,
}

impl PairActivation {
    /// The fused form of a spec activation, if there is one.
    pub fn of(activation: Activation) -> Option<Self> {
        match activation {
            Activation::Quadratic => Some(PairActivation::Square),
            Activation::Relu => Some(PairActivation::Relu),
            Activation::Gelu => None,
        }
    }
}

/// `act(W_a[a] + W_b[b]) · W` and its gradients, per backend.
#[backend_extension(Flex, Cube: cfg(gpu), Autodiff)]
pub trait PairLayerOps: Backend {
    /// `w_a`: `[p_a, width]`, `w_b`: `[p_b, width]`, `w`: `[width, n]`, `a`, `b`: `[batch]`
    /// → `[batch, n]`.
    fn pair_layer_forward(
        w_a: FloatTensor<Self>,
        w_b: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: IntTensor<Self>,
        b: IntTensor<Self>,
        activation: PairActivation,
    ) -> FloatTensor<Self> {
        composed_forward::<Self>(w_a, w_b, w, a, b, activation)
    }

    /// The gradients of [`PairLayerOps::pair_layer_forward`] w.r.t. `w_a`, `w_b` and `w`,
    /// given the output's gradient `grad` (`[batch, n]`).
    fn pair_layer_backward(
        w_a: FloatTensor<Self>,
        w_b: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: IntTensor<Self>,
        b: IntTensor<Self>,
        grad: FloatTensor<Self>,
        activation: PairActivation,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composed_backward::<Self>(w_a, w_b, w, a, b, grad, activation)
    }
}

/// [`PairLayerOps::pair_layer_forward`] from burn's ops.
fn composed_forward<B: Backend>(
    w_a: FloatTensor<B>,
    w_b: FloatTensor<B>,
    w: FloatTensor<B>,
    a: IntTensor<B>,
    b: IntTensor<B>,
    activation: PairActivation,
) -> FloatTensor<B> {
    let pre = B::float_add(B::float_select(w_a, 0, a), B::float_select(w_b, 0, b));
    B::float_matmul(activate::<B>(pre, activation), w) // [batch, width]·[width, n]
}

/// [`PairLayerOps::pair_layer_backward`] from burn's ops.
fn composed_backward<B: Backend>(
    w_a: FloatTensor<B>,
    w_b: FloatTensor<B>,
    w: FloatTensor<B>,
    a: IntTensor<B>,
    b: IntTensor<B>,
    grad: FloatTensor<B>,
    activation: PairActivation,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let (shape_a, shape_b) = (w_a.shape(), w_b.shape());
    let (device, dtype) = (w_a.device(), w_a.dtype());
    let pre = B::float_add(B::float_select(w_a, 0, a.clone()), B::float_select(w_b, 0, b.clone())); // [batch, width]
    let h = activate::<B>(pre.clone(), activation);
    let grad_w = B::float_matmul(B::float_transpose(h), grad.clone()); // [width, n]
    let grad_h = B::float_matmul(grad, B::float_transpose(w)); // [batch, width]
    let grad_pre = match activation {
        PairActivation::Square => B::float_mul(B::float_mul_scalar(pre, 2.0f32.into()), grad_h),
        PairActivation::Relu => B::relu_backward(B::relu(pre), grad_h),
    };
    let zeros_a = B::float_zeros(shape_a, &device, dtype.into());
    let zeros_b = B::float_zeros(shape_b, &device, dtype.into());
    let add = IndexingUpdateOp::Add;
    let grad_a = B::float_select_assign(zeros_a, 0, a, grad_pre.clone(), add);
    let grad_b = B::float_select_assign(zeros_b, 0, b, grad_pre, add);
    (grad_a, grad_b, grad_w)
}

fn activate<B: Backend>(x: FloatTensor<B>, activation: PairActivation) -> FloatTensor<B> {
    match activation {
        PairActivation::Square => B::float_mul(x.clone(), x),
        PairActivation::Relu => B::relu(x),
    }
}

/// wgpu/WebGPU: the composed default.
#[cfg(gpu)]
impl PairLayerOps for Cube {}

impl PairLayerOps for Flex {
    fn pair_layer_forward(
        w_a: FlexTensor,
        w_b: FlexTensor,
        w: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        activation: PairActivation,
    ) -> FlexTensor {
        if ![&w_a, &w_b, &w].iter().all(|t| t.dtype() == DType::F32) {
            return composed_forward::<Self>(w_a, w_b, w, a, b, activation);
        }
        flex_forward(&w_a, &w_b, &w, &a, &b, activation)
    }

    fn pair_layer_backward(
        w_a: FlexTensor,
        w_b: FlexTensor,
        w: FlexTensor,
        a: FlexTensor,
        b: FlexTensor,
        grad: FlexTensor,
        activation: PairActivation,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        if ![&w_a, &w_b, &w, &grad].iter().all(|t| t.dtype() == DType::F32) {
            return composed_backward::<Self>(w_a, w_b, w, a, b, grad, activation);
        }
        flex_backward(&w_a, &w_b, &w, &a, &b, &grad, activation)
    }
}

impl<B: Backend + PairLayerOps, C: CheckpointStrategy> PairLayerOps for Autodiff<B, C> {
    fn pair_layer_forward(
        w_a: FloatTensor<Self>,
        w_b: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: IntTensor<Self>,
        b: IntTensor<Self>,
        activation: PairActivation,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct PairLayerBackward;

        impl<B: Backend + PairLayerOps> Backward<B, 3> for PairLayerBackward {
            // The op's inputs: enough to recompute the hidden activations in the backward
            // pass instead of keeping a [batch, width] buffer alive between the passes.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                IntTensor<B>,
                IntTensor<B>,
                PairActivation,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_a, node_b, node_w] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (w_a, w_b, w, a, b, activation) = ops.state;
                let (grad_a, grad_b, grad_w) =
                    B::pair_layer_backward(w_a, w_b, w, a, b, grad, activation);
                for (node, g) in [(node_a, grad_a), (node_b, grad_b), (node_w, grad_w)] {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        match PairLayerBackward
            .prepare::<C>([w_a.node(), w_b.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (w_a, w_b) = (w_a.primitive().clone(), w_b.primitive().clone());
                let w = w.primitive().clone();
                let out = B::pair_layer_forward(
                    w_a.clone(),
                    w_b.clone(),
                    w.clone(),
                    a.clone(),
                    b.clone(),
                    activation,
                );
                prep.finish((w_a, w_b, w, a, b, activation), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::pair_layer_forward(
                w_a.into_primitive(),
                w_b.into_primitive(),
                w.into_primitive(),
                a,
                b,
                activation,
            )),
        }
    }
}

/// `act(w_a[a] + w_b[b]) · w` on any device, differentiable in the three weights:
/// `w_a` `[p_a, width]`, `w_b` `[p_b, width]`, `w` `[width, n]`, `a`, `b` `[batch]` →
/// `[batch, n]`.
pub fn pair_layer(
    w_a: Tensor<2>,
    w_b: Tensor<2>,
    w: Tensor<2>,
    a: Tensor<1, Int>,
    b: Tensor<1, Int>,
    activation: PairActivation,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as PairLayerOps>::pair_layer_forward(
        w_a.into_dispatch(),
        w_b.into_dispatch(),
        w.into_dispatch(),
        a.into_dispatch(),
        b.into_dispatch(),
        activation,
    ))
}

// ---- the Flex CPU kernel -------------------------------------------------------------------

/// Rows per block. A block's hidden activations and their gradient, 2 × 512 × width f32s, stay
/// in a core's L2 at the presets' widths (1 MB each at 500). A fixed size, not one per
/// thread, keeps the sums' order, and so the results, the same on every machine.
pub const CHUNK_ROWS: usize = 512;

/// An f32 tensor's values, row-major (copied only if strided).
fn f32_values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap().to_vec()),
    }
}

/// An index tensor as `usize`s, each checked against the table's `rows`.
fn indices(t: &FlexTensor, rows: usize) -> Vec<usize> {
    let t = t.to_contiguous();
    let values: Vec<usize> = match t.dtype() {
        DType::I64 => t.as_slice::<i64>().unwrap().iter().map(|&i| i as usize).collect(),
        DType::I32 => t.as_slice::<i32>().unwrap().iter().map(|&i| i as usize).collect(),
        DType::U32 => t.as_slice::<u32>().unwrap().iter().map(|&i| i as usize).collect(),
        other => panic!("pair layer indices must be integers, got {other:?}"),
    };
    assert!(values.iter().all(|&i| i < rows), "pair layer index out of range 0..{rows}");
    values
}

fn flex_f32(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
    // `TensorData::new` keeps the Vec's allocation (no copy, no zero fill).
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The op's inputs as row-major slices.
struct Inputs<'a> {
    /// `[rows_a, width]`, `[rows_b, width]`.
    table_a: &'a [f32],
    table_b: &'a [f32],
    /// `[width, n]`.
    w: &'a [f32],
    a: Vec<usize>,
    b: Vec<usize>,
    width: usize,
    n: usize,
}

impl Inputs<'_> {
    fn batch(&self) -> usize {
        self.a.len()
    }

    /// Block `k`'s rows.
    fn rows(&self, k: usize) -> std::ops::Range<usize> {
        k * CHUNK_ROWS..((k + 1) * CHUNK_ROWS).min(self.batch())
    }

    /// `act(table_a[a[i]] + table_b[b[i]])` for the block's rows i, `[rows, width]`.
    fn hidden<A: Act>(&self, rows: std::ops::Range<usize>) -> Vec<f32> {
        let w = self.width;
        let mut h = Vec::with_capacity(rows.len() * w);
        for i in rows {
            let (ra, rb) =
                (&self.table_a[self.a[i] * w..][..w], &self.table_b[self.b[i] * w..][..w]);
            h.extend(ra.iter().zip(rb).map(|(&x, &y)| A::apply(x + y)));
        }
        h
    }

    /// `grad[r] ← act'(table_a[a[i]] + table_b[b[i]]) ⊙ grad[r]` for the block's rows i: the
    /// chain rule through the activation, recomputing the pre-activation from the tables.
    fn through_activation<A: Act>(&self, rows: std::ops::Range<usize>, grad: &mut [f32]) {
        let w = self.width;
        for (i, g) in rows.zip(grad.chunks_exact_mut(w)) {
            let (ra, rb) =
                (&self.table_a[self.a[i] * w..][..w], &self.table_b[self.b[i] * w..][..w]);
            for ((g, &x), &y) in g.iter_mut().zip(ra).zip(rb) {
                *g *= A::slope(x + y);
            }
        }
    }
}

/// An activation, as a type so that each kernel loop is compiled for it.
trait Act {
    fn apply(x: f32) -> f32;
    /// d act / dx.
    fn slope(x: f32) -> f32;
}

struct Square;
impl Act for Square {
    #[inline(always)]
    fn apply(x: f32) -> f32 {
        x * x
    }
    #[inline(always)]
    fn slope(x: f32) -> f32 {
        2.0 * x
    }
}

struct Relu;
impl Act for Relu {
    #[inline(always)]
    fn apply(x: f32) -> f32 {
        x.max(0.0)
    }
    #[inline(always)]
    fn slope(x: f32) -> f32 {
        if x > 0.0 { 1.0 } else { 0.0 }
    }
}

/// Forward: per block, `h = act(pre)` then `out[rows] = h · w`.
pub fn flex_forward(
    w_a: &FlexTensor,
    w_b: &FlexTensor,
    w: &FlexTensor,
    a: &FlexTensor,
    b: &FlexTensor,
    activation: PairActivation,
) -> FlexTensor {
    let (table_a, table_b, weight) = (f32_values(w_a), f32_values(w_b), f32_values(w));
    let x = inputs(w_a, w_b, w, a, b, &table_a, &table_b, &weight);
    let (batch, n) = (x.batch(), x.n);
    let out = match activation {
        PairActivation::Square => forward_blocks::<Square>(&x),
        PairActivation::Relu => forward_blocks::<Relu>(&x),
    };
    flex_f32(out, [batch, n])
}

/// `[batch, n]`: per block, `h = act(pre)` (`[rows, width]`) then `out[rows] = h · w`.
fn forward_blocks<A: Act>(x: &Inputs) -> Vec<f32> {
    let (batch, n) = (x.batch(), x.n);
    let mut out: Vec<f32> = Vec::with_capacity(batch * n);
    if n > 0 {
        for_each_chunk(&mut out.spare_capacity_mut()[..batch * n], CHUNK_ROWS * n, |k, dst| {
            let rows = x.rows(k);
            let h = x.hidden::<A>(rows.clone());
            matmul_into(dst, rows.len(), n, x.width, Operand::plain(&h), Operand::plain(x.w));
        });
    }
    // SAFETY: the blocks cover `spare_capacity_mut()[..batch * n]`; `matmul_into` wrote each.
    unsafe { out.set_len(batch * n) };
    out
}

/// Backward, given `grad` = dL/dout `[batch, n]`. Per block:
/// `dW += hᵀ·G`, `dpre = act'(pre) ⊙ (G·Wᵀ)`, `dW_a[a[i]] += dpre[i]`, `dW_b[b[i]] += dpre[i]`.
pub fn flex_backward(
    w_a: &FlexTensor,
    w_b: &FlexTensor,
    w: &FlexTensor,
    a: &FlexTensor,
    b: &FlexTensor,
    grad: &FlexTensor,
    activation: PairActivation,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (table_a, table_b, weight) = (f32_values(w_a), f32_values(w_b), f32_values(w));
    let x = inputs(w_a, w_b, w, a, b, &table_a, &table_b, &weight);
    let g = f32_values(grad);
    let (width, n) = (x.width, x.n);
    assert_eq!(g.len(), x.batch() * n, "pair layer gradient has the wrong shape");
    let ([rows_a, _], [rows_b, _]) = (w_a.layout().shape().dims(), w_b.layout().shape().dims());

    let blocks: Vec<usize> = (0..x.batch().div_ceil(CHUNK_ROWS)).collect();
    let parts = match activation {
        PairActivation::Square => map_blocks(&blocks, |&k| backward_block::<Square>(&x, &g, k)),
        PairActivation::Relu => map_blocks(&blocks, |&k| backward_block::<Relu>(&x, &g, k)),
    };
    let sizes = [table_a.len(), table_b.len(), width * n];
    let [grad_a, grad_b, grad_w] = [0, 1, 2].map(|j| sum_in_order(&parts, j, sizes[j]));
    (
        flex_f32(grad_a, [rows_a, width]),
        flex_f32(grad_b, [rows_b, width]),
        flex_f32(grad_w, [width, n]),
    )
}

/// `dst += src`, element-wise.
fn add_row(dst: &mut [f32], src: &[f32]) {
    for (o, &v) in dst.iter_mut().zip(src) {
        *o += v;
    }
}

/// Block `k`'s partial gradients `[dW_a, dW_b, dW]` (`g` = dL/dout, `[batch, n]`).
fn backward_block<A: Act>(x: &Inputs, g: &[f32], k: usize) -> [Vec<f32>; 3] {
    let (width, n) = (x.width, x.n);
    let rows = x.rows(k);
    let m = rows.len();
    let g_rows = &g[rows.start * n..rows.end * n]; // [m, n]
    let h = x.hidden::<A>(rows.clone()); // [m, width]
    let grad_w = matmul_new(width, n, m, Operand::transposed(&h), Operand::plain(g_rows)); // hᵀ·G
    let mut grad_h = matmul_new(m, width, n, Operand::plain(g_rows), Operand::transposed(x.w)); // G·Wᵀ
    x.through_activation::<A>(rows.clone(), &mut grad_h); // [m, width]: dL/dpre
    let (mut grad_a, mut grad_b) = (vec![0.0f32; x.table_a.len()], vec![0.0f32; x.table_b.len()]);
    for (i, d) in rows.zip(grad_h.chunks_exact(width)) {
        add_row(&mut grad_a[x.a[i] * width..][..width], d);
        add_row(&mut grad_b[x.b[i] * width..][..width], d);
    }
    [grad_a, grad_b, grad_w]
}

/// Checks the shapes and builds [`Inputs`] over the given value slices.
#[allow(clippy::too_many_arguments)]
fn inputs<'a>(
    w_a: &FlexTensor,
    w_b: &FlexTensor,
    w: &FlexTensor,
    a: &FlexTensor,
    b: &FlexTensor,
    table_a: &'a [f32],
    table_b: &'a [f32],
    weight: &'a [f32],
) -> Inputs<'a> {
    let [rows_a, width] = w_a.layout().shape().dims::<2>();
    let [rows_b, width_b] = w_b.layout().shape().dims::<2>();
    let [width_w, n] = w.layout().shape().dims::<2>();
    assert!(width == width_b && width == width_w, "pair layer widths differ");
    let (a, b) = (indices(a, rows_a), indices(b, rows_b));
    assert_eq!(a.len(), b.len(), "pair layer index vectors differ in length");
    Inputs { table_a, table_b, w: weight, a, b, width, n }
}

/// Element-wise sum of every block's `j`-th part, in block order (parallel over elements).
fn sum_in_order(parts: &[[Vec<f32>; 3]], j: usize, len: usize) -> Vec<f32> {
    const ELEMENTS_PER_TASK: usize = 1 << 14;
    let mut out = vec![0.0f32; len];
    for_each_chunk(&mut out, ELEMENTS_PER_TASK, |k, dst| {
        for part in parts {
            add_row(dst, &part[j][k * ELEMENTS_PER_TASK..][..dst.len()]);
        }
    });
    out
}

/// A row-major matrix, read as itself or as its transpose.
#[derive(Clone, Copy)]
struct Operand<'a> {
    data: &'a [f32],
    transposed: bool,
}

impl<'a> Operand<'a> {
    fn plain(data: &'a [f32]) -> Self {
        Operand { data, transposed: false }
    }

    /// The transpose of the row-major matrix `data`.
    fn transposed(data: &'a [f32]) -> Self {
        Operand { data, transposed: true }
    }

    /// (row stride, column stride) of this operand read as `[rows, cols]`.
    fn strides(&self, rows: usize, cols: usize) -> (isize, isize) {
        assert_eq!(self.data.len(), rows * cols, "matmul operand has the wrong size");
        if self.transposed {
            // Element (i, j) is the stored [cols, rows] matrix's (j, i).
            (1, rows as isize)
        } else {
            (cols as isize, 1)
        }
    }
}

/// `lhs[m, k] · rhs[k, n]` into a new `[m, n]` buffer.
fn matmul_new(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) -> Vec<f32> {
    let mut out = Vec::with_capacity(m * n);
    matmul_into(&mut out.spare_capacity_mut()[..m * n], m, n, k, lhs, rhs);
    // SAFETY: `matmul_into` wrote all m·n elements.
    unsafe { out.set_len(m * n) };
    out
}

/// `dst[m, n] = lhs[m, k] · rhs[k, n]`, single-threaded (the blocks are the parallelism).
/// `dst` may be uninitialized: gemm writes every element without reading it.
fn matmul_into(
    dst: &mut [MaybeUninit<f32>],
    m: usize,
    n: usize,
    k: usize,
    lhs: Operand,
    rhs: Operand,
) {
    assert_eq!(dst.len(), m * n, "matmul output has the wrong size");
    let (lhs_rs, lhs_cs) = lhs.strides(m, k);
    let (rhs_rs, rhs_cs) = rhs.strides(k, n);
    // SAFETY: the asserts above bound every index gemm forms from these shapes and strides;
    // with `read_dst = false` gemm only writes the destination.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            lhs.data.as_ptr(),
            lhs_cs,
            lhs_rs,
            rhs.data.as_ptr(),
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Runs `f(k, chunk)` over `data`'s `chunk`-sized pieces: on rayon's pool natively, in order on
/// wasm (a browser worker has no thread pool).
fn for_each_chunk<T: Send>(data: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(chunk).enumerate().for_each(|(k, c)| f(k, c));
    }
    #[cfg(target_arch = "wasm32")]
    data.chunks_mut(chunk).enumerate().for_each(|(k, c)| f(k, c));
}

/// `items.iter().map(f)`, in parallel natively; results in `items`' order.
fn map_blocks<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).collect()
    }
    #[cfg(target_arch = "wasm32")]
    items.iter().map(f).collect()
}
