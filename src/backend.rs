//! The one module that names concrete burn devices.
//!
//! - `cpu`: burn's Flex backend (pure Rust; native and wasm).
//! - `wgpu`: burn-wgpu natively (Vulkan/Metal/DX12; Mesa lavapipe on a GPU-less machine), and
//!   the browser's WebGPU on wasm, initialised asynchronously as burn requires there. Compiled
//!   where `cfg(gpu)` holds (build.rs): natively, and in the browser worker built with the
//!   `webgpu` feature; the CPU-only worker has the CPU backend alone.
//!
//! Every device handed out is an autodiff device.

use std::fmt;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

/// Which compute backend runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// burn's Flex CPU backend.
    Cpu,
    /// burn-wgpu: native wgpu, or WebGPU in a browser.
    Wgpu,
}

impl BackendKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cpu" | "flex" => Some(BackendKind::Cpu),
            "wgpu" | "webgpu" | "gpu" => Some(BackendKind::Wgpu),
            _ => None,
        }
    }
}

/// An initialised backend: the device, a human label, and its limits.
#[derive(Clone, Debug)]
pub struct Backend {
    pub kind: BackendKind,
    pub device: Device,
    /// e.g. "CPU (Flex)", "WebGPU — SwiftShader Device (Subzero)", "wgpu Vulkan — llvmpipe".
    pub label: String,
    pub limits: DeviceLimits,
}

/// Why a backend could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendError(pub String);

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

/// The Flex CPU backend (always available). Natively, with `GRADSCOPE_FLUSH_SUBNORMALS=1`, also
/// turns on flush-to-zero for the calling thread and burn's worker threads (see
/// [`flush_subnormals`]); by default subnormals are kept, as in wasm and PyTorch.
pub fn cpu() -> Backend {
    #[cfg(not(target_arch = "wasm32"))]
    flush_subnormals();
    // gemm (behind Flex's matmuls and the fused first layer) picks its wasm SIMD microkernels
    // only when told to: wasm has no run-time feature detection, and gemm's default is the
    // scalar kernels unless a crate enables its `wasm-simd128-enable` feature. This build is
    // compiled with simd128 (.cargo/config.toml), so every instruction it could pick exists.
    #[cfg(target_arch = "wasm32")]
    gemm::set_wasm_simd128(cfg!(target_feature = "simd128"));
    Backend {
        kind: BackendKind::Cpu,
        device: Device::flex().autodiff(),
        label: if cfg!(target_arch = "wasm32") { "CPU (wasm)".into() } else { "CPU (Flex)".into() },
        limits: DeviceLimits { flushes_subnormals: flush_requested(), ..DeviceLimits::CPU },
    }
}

/// `GRADSCOPE_FLUSH_SUBNORMALS=1` is set (natively; wasm's floats are always IEEE, subnormals
/// included).
fn flush_requested() -> bool {
    cfg!(not(target_arch = "wasm32"))
        && std::env::var_os("GRADSCOPE_FLUSH_SUBNORMALS").is_some_and(|v| v == "1")
}

/// Whether `device` flushes subnormal float32 results to zero: squares 1e-20 there (1e-40 is
/// subnormal) and reads the result back. GPUs may (WGSL leaves it to the implementation:
/// SwiftShader flushes), and where they do, Adam with a tiny ε misbehaves
/// ([`crate::train::optim::subnormal_warning`]). A failed readback counts as no.
pub async fn probe_flushes_subnormals(device: &Device) -> bool {
    let x = burn::tensor::Tensor::<1>::from_floats([1e-20f32], device);
    match (x.clone() * x).into_data_async().await {
        Ok(data) => data.try_to_vec::<f32>().is_ok_and(|v| v.first() == Some(&0.0)),
        Err(_) => false,
    }
}

/// With `GRADSCOPE_FLUSH_SUBNORMALS=1`, treats subnormal f32s (|x| < 1.2e-38) as zero on the
/// CPU, on the calling thread and on every thread of rayon's global pool (Flex's matmuls).
/// Off by default.
///
/// Why it exists: once a run has memorized, softmax probabilities of wrong classes underflow
/// (e^-90 ≈ 1e-39) and the gradients and Adam moments fill with subnormals. CPUs that take a
/// microcode assist on them slow down: the PAIR preset once fell from 105 to 17 steps/s after
/// memorizing (an earlier build machine; this AMD EPYC host shows no slowdown,
/// docs/performance.md).
///
/// Why it is off: it changes what Adam does with a tiny ε. A gradient of 1e-20 squares to a
/// subnormal; flushed, v̂ = 0 and the step is lr · m̂/ε = lr · 1e5 with the StableMax preset's
/// ε = 1e-25 instead of ≈ lr. Its runs blew up at ~63k epochs that way (test
/// `adam_steps_by_the_learning_rate_when_the_squared_gradient_is_subnormal`). Kept, native runs
/// do the browser's arithmetic (wasm has no flush-to-zero) and PyTorch's.
///
/// The pool's start handler can only be installed before the pool's first use; if something
/// else built it first, only the calling thread is changed.
#[cfg(not(target_arch = "wasm32"))]
pub fn flush_subnormals() {
    if !flush_requested() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    fn this_thread() {
        const FLUSH_TO_ZERO: u32 = 1 << 15;
        const DENORMALS_ARE_ZERO: u32 = 1 << 6;
        let mut csr: u32 = 0;
        // SAFETY: reads, then sets two mode bits of, this thread's MXCSR register; the asm only
        // touches `csr`, which outlives it.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= FLUSH_TO_ZERO | DENORMALS_ARE_ZERO;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    fn this_thread() {}

    static POOL: std::sync::Once = std::sync::Once::new();
    POOL.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new().start_handler(|_| this_thread()).build_global();
    });
    this_thread();
}

#[cfg(gpu)]
/// "prefix — adapter (driver)", or just the prefix where the adapter does not say what it is
/// (browsers hide it from wgpu: the worker then asks `GPUAdapter.info` itself).
fn describe_adapter(prefix: &str, info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> String {
    let mut name = info.name.trim().to_string();
    if name.is_empty() && (info.vendor != 0 || info.device != 0) {
        name = format!("vendor {:#x} device {:#x}", info.vendor, info.device);
    }
    if !info.driver.is_empty() && !name.contains(&info.driver) {
        name = format!("{name} ({})", info.driver).trim().to_string();
    }
    if name.is_empty() { prefix.to_string() } else { format!("{prefix} — {name}") }
}

#[cfg(gpu)]
fn wgpu_backend(device: Device, setup: &burn::tensor::wgpu::WgpuSetup, prefix: &str) -> Backend {
    let info = setup.adapter.get_info();
    let limits = setup.device.limits();
    let max = (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size);
    let float64 = device.supports_dtype(burn::tensor::DType::F64);
    Backend {
        kind: BackendKind::Wgpu,
        device: device.autodiff(),
        label: describe_adapter(prefix, &info),
        limits: DeviceLimits {
            max_buffer_bytes: max,
            float64,
            max_total_bytes: DeviceLimits::GPU_TOTAL_BYTES,
            // Probed once the device is up (`wgpu_native`, `webgpu`).
            flushes_subnormals: false,
        },
    }
}

/// Native wgpu (blocking). The runtime can be initialised once per process; later calls return
/// the same device.
#[cfg(not(target_arch = "wasm32"))]
pub fn wgpu_native() -> Result<Backend, BackendError> {
    use std::sync::OnceLock;
    static INIT: OnceLock<Result<Backend, BackendError>> = OnceLock::new();
    INIT.get_or_init(|| {
        let (device, setup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(|e| BackendError(format!("no usable wgpu adapter: {e}")))?;
        let api = format!("wgpu {:?}", setup.backend);
        let mut backend = wgpu_backend(device, &setup, &api);
        backend.limits.flushes_subnormals =
            pollster::block_on(probe_flushes_subnormals(&backend.device));
        Ok(backend)
    })
    .clone()
}

/// Counts the GPU kernel launches (dispatches) of the cubecl runtime behind burn-wgpu and the
/// browser's WebGPU.
///
/// burn has no dispatch counter. cubecl's profiling logger at its `minimal` level names every
/// kernel it launches, without timing it and without synchronizing. This sets that level, routes
/// it to the `log` crate, and installs a logger that counts its "Executing …" records.
///
/// Call it before the first GPU device is created: cubecl reads its configuration once per
/// process (per worker in a browser). Returns false, and counts nothing, when that is too late,
/// another logger is installed, or this build has no GPU backend.
pub fn count_gpu_dispatches() -> bool {
    #[cfg(not(gpu))]
    return false;
    #[cfg(gpu)]
    count_cubecl_dispatches()
}

#[cfg(gpu)]
fn count_cubecl_dispatches() -> bool {
    use cubecl_runtime::config::{CubeClRuntimeConfig, RuntimeConfig};
    let config: CubeClRuntimeConfig = serde_json::from_value(serde_json::json!({
        "profiling": { "logger": { "level": "minimal", "log": "info" } }
    }))
    .expect("a valid cubecl configuration");
    if !CubeClRuntimeConfig::try_set(config) || log::set_logger(&DISPATCH_COUNTER).is_err() {
        return false;
    }
    log::set_max_level(log::LevelFilter::Info);
    dispatch_counter::ON.store(true, std::sync::atomic::Ordering::Relaxed);
    true
}

/// GPU kernel launches logged so far; `None` unless [`count_gpu_dispatches`] is on. cubecl logs
/// from its own task, so a launch is counted a little after it is submitted (see
/// `train::bench::dispatches_per_step`, which waits for the count to settle).
pub fn gpu_dispatches() -> Option<u64> {
    use std::sync::atomic::Ordering::Relaxed;
    dispatch_counter::ON.load(Relaxed).then(|| dispatch_counter::COUNT.load(Relaxed))
}

#[cfg(gpu)]
static DISPATCH_COUNTER: dispatch_counter::Counter = dispatch_counter::Counter;

#[cfg_attr(not(gpu), allow(dead_code))]
mod dispatch_counter {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    pub static ON: AtomicBool = AtomicBool::new(false);
    pub static COUNT: AtomicU64 = AtomicU64::new(0);

    /// cubecl's profiling target (cubecl-runtime `config::logger`).
    const TARGET: &str = "cubecl::profiling";

    pub struct Counter;

    impl log::Log for Counter {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.target() == TARGET
        }

        fn log(&self, record: &log::Record) {
            // cubecl-runtime `logging/server.rs`: one "Executing {kernel}" per launch.
            if record.target() == TARGET && record.args().to_string().starts_with("Executing ") {
                COUNT.fetch_add(1, Ordering::Relaxed);
            }
        }

        fn flush(&self) {}
    }
}

/// The backend `kind` natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn native(kind: BackendKind) -> Result<Backend, BackendError> {
    match kind {
        BackendKind::Cpu => Ok(cpu()),
        BackendKind::Wgpu => wgpu_native(),
    }
}

/// The browser's WebGPU in a worker built without it: an error that says so.
#[cfg(all(target_arch = "wasm32", not(gpu)))]
pub async fn webgpu() -> Result<Backend, BackendError> {
    Err(BackendError("this worker was built without WebGPU (the CPU-only build)".into()))
}

/// The browser's WebGPU, initialised asynchronously (burn panics on first use otherwise). The
/// runtime can be initialised once per worker; later calls return the same device, or the same
/// error.
#[cfg(all(target_arch = "wasm32", gpu))]
pub async fn webgpu() -> Result<Backend, BackendError> {
    use burn::tensor::wgpu::WgpuBackend;
    use std::cell::RefCell;
    thread_local! {
        static INIT: RefCell<Option<Result<Backend, BackendError>>> = const { RefCell::new(None) };
    }
    if let Some(done) = INIT.with(|c| c.borrow().clone()) {
        return done;
    }
    let result = match Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_with_setup_async()
        .await
    {
        Ok((device, setup)) => {
            let mut backend = wgpu_backend(device, &setup, "WebGPU");
            backend.limits.flushes_subnormals = probe_flushes_subnormals(&backend.device).await;
            Ok(backend)
        }
        Err(e) => Err(BackendError(format!("WebGPU is not available: {e}"))),
    };
    INIT.with(|c| *c.borrow_mut() = Some(result.clone()));
    result
}

/// What a device can hold and compute, used to refuse runs before allocating anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// Largest single buffer, in bytes (WebGPU: `maxStorageBufferBindingSize`).
    pub max_buffer_bytes: u64,
    /// Float64 tensors are supported (the CPU backend; not WebGPU).
    pub float64: bool,
    /// What a run may hold in all, in bytes: an estimate's bound, since neither WebGPU nor
    /// wgpu reports a device's memory (see [`DeviceLimits::GPU_TOTAL_BYTES`]).
    pub max_total_bytes: u64,
    /// The device flushes subnormal float32 results (|x| < 1.2e-38) to zero: WGSL allows a GPU
    /// to (SwiftShader does), a native CPU does with `GRADSCOPE_FLUSH_SUBNORMALS=1`, wasm never
    /// does. Adam with a tiny ε then takes huge steps ([`crate::train::optim::subnormal_warning`]).
    pub flushes_subnormals: bool,
}

impl DeviceLimits {
    /// A CPU backend: bounded by memory, not by a buffer limit. 4 GiB per tensor keeps a run
    /// from swapping a laptop to death.
    pub const CPU: DeviceLimits = DeviceLimits {
        max_buffer_bytes: 4 << 30,
        float64: true,
        max_total_bytes: 8 << 30,
        flushes_subnormals: false,
    };
    /// A GPU run's bound: 4 GiB, about what a browser tab's GPU process holds before Chromium
    /// loses the device, and what most laptop GPUs have.
    pub const GPU_TOTAL_BYTES: u64 = 4 << 30;
}
