//! GPU dispatches per training step, counted from cubecl's kernel-launch log, on native wgpu
//! (Mesa lavapipe on a machine without a GPU; `scripts/setup.sh` installs it). Its own test
//! binary: the counter must be switched on before the process creates its first GPU device.
#![cfg(not(target_arch = "wasm32"))]

use burn::tensor::Tensor;
use gradscope::backend;
use gradscope::spec::{ExperimentSpec, GrokkingModel, GrokkingSpec};
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
        pollster::block_on(dispatches_per_step(
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
}
