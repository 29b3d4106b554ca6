//! GPU dispatches per training step, counted from cubecl's kernel-launch log, on native wgpu
//! (Mesa lavapipe on a machine without a GPU; `scripts/setup.sh` installs it). Its own test
//! binary: the counter must be switched on before the process creates its first GPU device.
#![cfg(not(target_arch = "wasm32"))]

use burn::tensor::Tensor;
use gradscope::backend;
use gradscope::labs::grokking::{GrokkingModel, GrokkingSpec};
use gradscope::labs::{ExperimentSpec, LabExperiment};
use gradscope::train::bench::{dispatches_per_step, settled_count};

fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(50));
}

/// The launch count once cubecl's logging task has caught up (still for 50 ms).
fn settled() -> u64 {
    pollster::block_on(settled_count(backend::gpu_dispatches, async || pause())).unwrap()
}

#[test]
fn counts_each_kernel_launch_and_the_same_number_every_step() {
    assert!(backend::count_gpu_dispatches(), "the counter must install before any GPU device");
    let gpu = backend::wgpu_native().expect("a wgpu adapter (Mesa lavapipe without a GPU)");
    let cpu = backend::cpu();

    // One kernel, read back: exactly one launch counted.
    let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &gpu.device);
    let _ = x.clone().into_data();
    let before = settled();
    let y = (x * 2.0).into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(y, vec![2.0, 4.0, 6.0]);
    assert_eq!(settled() - before, 1, "one elementwise kernel");

    // CPU work launches nothing on the GPU.
    let before = settled();
    let _ = (Tensor::<1>::from_floats([1.0], &cpu.device) * 2.0).into_data();
    assert_eq!(settled(), before);

    // A training step (forward, backward, AdamW) launches several kernels, the same number
    // whether counted over 2 steps or 4.
    let mut s = GrokkingSpec::default();
    s.task.p = 7;
    let GrokkingModel::Mlp(m) = &mut s.model else { unreachable!() };
    m.width = 8;
    let spec = ExperimentSpec::Grokking(s);
    let per_step = |steps| {
        pollster::block_on(dispatches_per_step::<LabExperiment>(
            &spec,
            &gpu.device,
            gpu.limits,
            steps,
            backend::gpu_dispatches,
            async || pause(),
        ))
        .unwrap()
        .expect("counting is on")
    };
    let (two, four) = (per_step(2), per_step(4));
    eprintln!("{two} GPU dispatches per training step");
    assert!(two >= 5.0, "a training step launched {two} kernels");
    assert_eq!(two, four, "per-step launches differ between 2 and 4 steps");

    scans_dispatch_counts(&gpu.device);
}

/// The parallel scan is not the sequential one in disguise: its GPU dispatches per forward
/// pass grow like log L (a constant number per level, 2·log₂L levels), the sequential scan's
/// like L. Measured from 64 to 1024 steps (×16): the parallel scan must grow by less than
/// ×2.5 (log: 20/12 ≈ 1.7), the sequential one by more than ×10. In the same test as the
/// counter's own check, since the counter must be switched on before the first GPU device.
fn scans_dispatch_counts(device: &burn::tensor::Device) {
    use gradscope::labs::scans::ssm::scan::{ScanMethod, linear_scan};
    let dispatches = |method: ScanMethod, len: usize| {
        let run = || {
            let a = Tensor::<4>::full([1, len, 4, 2], 0.9, device);
            let b = Tensor::<4>::ones([1, len, 4, 2], device);
            let h = linear_scan(method, a, b, None);
            let _ = h.sum().into_data();
        };
        run(); // compile first
        let before = settled();
        run();
        (settled() - before) as f64
    };
    // (method, growth allowed from L = 64 to 1024): log L; √L chunks (×4) plus log-depth
    // carries; L (×16, asserted > ×10 the other way).
    for (method, max_growth) in [
        (ScanMethod::Parallel, 2.5),
        (ScanMethod::Chunked, 6.0),
        (ScanMethod::Sequential, f64::INFINITY),
    ] {
        let (short, long) = (dispatches(method, 64), dispatches(method, 1024));
        eprintln!("{method:?} scan: {short} dispatches at L = 64, {long} at L = 1024");
        assert!(long < max_growth * short, "{method:?} scan: {short} → {long} dispatches");
        if method == ScanMethod::Sequential {
            assert!(long > 10.0 * short, "sequential scan: {short} → {long} dispatches");
        }
    }
    fused_scan_dispatch_counts(device);
}

/// The fused selective scan runs as its own kernel on the GPU (not a composed fallback): a
/// forward + backward takes the same few dispatches at L = 64 and 1024 (the kernels, the
/// layout copies and the reductions of dB, dC, dA), where the composed parallel scan takes
/// hundreds.
fn fused_scan_dispatch_counts(device: &burn::tensor::Device) {
    use gradscope::labs::scans::ssm::scan::{ScanMethod, SelectiveScanInputs, selective_scan};
    let dispatches = |method: ScanMethod, len: usize| {
        let run = || {
            let (b, d, n) = (1, 8, 4);
            let leaf =
                |shape: [usize; 3], v: f32| Tensor::<3>::full(shape, v, device).require_grad();
            let (u, delta) = (leaf([b, d, len], 1.0), leaf([b, d, len], 0.1));
            let a = Tensor::<2>::full([d, n], -0.5, device).require_grad();
            let inputs = SelectiveScanInputs {
                u: u.clone(),
                delta,
                a,
                b: leaf([b, n, len], 0.5),
                c: leaf([b, n, len], 0.5),
                d: Tensor::<1>::ones([d], device),
                delta_bias: None,
                delta_softplus: false,
            };
            let grads = selective_scan(inputs, method).sum().backward();
            let _ = u.grad(&grads).unwrap().into_data();
        };
        run(); // compile first
        let before = settled();
        run();
        (settled() - before) as f64
    };
    let (short, long) = (dispatches(ScanMethod::Fused, 64), dispatches(ScanMethod::Fused, 1024));
    let composed = dispatches(ScanMethod::Parallel, 1024);
    eprintln!(
        "fused scan fwd+bwd: {short} dispatches at L = 64, {long} at L = 1024; composed parallel: {composed}"
    );
    assert_eq!(short, long, "the fused scan's dispatches do not depend on L");
    assert!(long * 4.0 < composed, "fused {long} vs composed {composed} dispatches");
}
