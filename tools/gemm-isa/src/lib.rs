//! The three matrix products of one block of gradscope's fused one-hot layer
//! (`src/labs/grokking/models/pair_layer.rs`) on the default preset (`doshi-quick-grok`: 512-row blocks,
//! width 500, p = 97 outputs), called exactly as the layer calls gemm: single-threaded, with the
//! same strides. A training step runs each about nine times (4,704 rows); in the browser they are
//! about 85% of a step (Chromium's profiler, docs/performance.md).
//!
//! Natively `main.rs` times them; on wasm the exports below are timed by `run.mjs`.

use std::cell::RefCell;

/// `(name, m, n, k, lhs transposed, rhs transposed)`: `dst[m, n] = lhs[m, k] · rhs[k, n]`.
pub const SHAPES: [(&str, usize, usize, usize, bool, bool); 3] = [
    ("forward h·W [512,500]·[500,97]", 512, 97, 500, false, false),
    ("backward hᵀ·G [500,512]·[512,97]", 500, 97, 512, true, false),
    ("backward G·Wᵀ [512,97]·[97,500]", 512, 500, 97, false, true),
];

/// Floating-point operations of one product of shape `i`.
pub fn flops(i: usize) -> f64 {
    let (_, m, n, k, _, _) = SHAPES[i];
    2.0 * (m * n * k) as f64
}

thread_local! {
    static BUFFERS: RefCell<Vec<(Vec<f32>, Vec<f32>, Vec<f32>)>> = RefCell::new(
        SHAPES.iter().map(|&(_, m, n, k, _, _)| {
            // Deterministic values in [-1, 1): a product of them stays far from subnormals.
            let fill = |len: usize, seed: u32| -> Vec<f32> {
                let mut x = seed;
                (0..len).map(|_| { x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223); (x >> 8) as f32 / (1u32 << 23) as f32 - 1.0 }).collect()
            };
            (fill(m * k, 1), fill(k * n, 2), vec![0.0; m * n])
        }).collect());
}

/// Runs product `i` `reps` times; returns one output element so the work cannot be dropped.
pub fn run(i: usize, reps: usize) -> f32 {
    let (_, m, n, k, lhs_t, rhs_t) = SHAPES[i];
    BUFFERS.with_borrow_mut(|buffers| {
        let (lhs, rhs, dst) = &mut buffers[i];
        // (row stride, column stride) of a row-major [rows, cols] matrix, or of its transpose.
        let strides = |t: bool, rows: usize, cols: usize| {
            if t { (1, rows as isize) } else { (cols as isize, 1) }
        };
        let (lhs_rs, lhs_cs) = strides(lhs_t, m, k);
        let (rhs_rs, rhs_cs) = strides(rhs_t, k, n);
        for _ in 0..reps {
            // SAFETY: the buffers have exactly the sizes these shapes and strides address.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    dst.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    lhs.as_ptr(),
                    lhs_cs,
                    lhs_rs,
                    rhs.as_ptr(),
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
        dst[m * n / 2]
    })
}

/// wasm: chooses gemm's simd128 kernels (`true`, as gradscope's `backend::cpu()` does) or its
/// scalar ones. gemm fixes its choice at the first product, so call this first in a fresh instance.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn init(simd128: u32) {
    gemm::set_wasm_simd128(simd128 != 0);
}

/// wasm: [`run`].
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn run_shape(i: u32, reps: u32) -> f32 {
    run(i as usize, reps as usize)
}

/// wasm: [`flops`].
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn shape_flops(i: u32) -> f64 {
    flops(i as usize)
}
