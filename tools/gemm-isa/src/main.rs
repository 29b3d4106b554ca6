//! Native timing of the products in `lib.rs`: one JSON line per shape, best of five runs.
use std::time::Instant;

fn main() {
    let isa = if cfg!(feature = "x86-v4") && std::arch::is_x86_feature_detected!("avx512f") {
        "avx512"
    } else if std::arch::is_x86_feature_detected!("fma") {
        "avx2+fma"
    } else {
        "scalar"
    };
    for (i, shape) in gemm_isa::SHAPES.iter().enumerate() {
        let value = gemm_isa::run(i, 3); // warm-up: packing buffers, caches
        let reps = 20;
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(gemm_isa::run(i, reps));
                t.elapsed().as_secs_f64() / reps as f64
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{{\"variant\":\"native {isa}\",\"shape\":\"{}\",\"value\":{value},\"ms\":{:.4},\"gflops\":{:.2}}}",
            shape.0,
            best * 1e3,
            gemm_isa::flops(i) / best / 1e9
        );
    }
}
