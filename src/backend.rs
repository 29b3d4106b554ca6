//! The one module that names concrete burn devices.
//!
//! - `cpu`: burn's Flex backend (pure Rust; native and wasm).
//! - `wgpu`: burn-wgpu natively (Vulkan/Metal/DX12; Mesa lavapipe on a GPU-less machine), and
//!   the browser's WebGPU on wasm, initialised asynchronously as burn requires there.
//!
//! Every device handed out is an autodiff device.

use std::fmt;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::experiments::DeviceLimits;

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

/// The Flex CPU backend (always available).
pub fn cpu() -> Backend {
    Backend {
        kind: BackendKind::Cpu,
        device: Device::flex().autodiff(),
        label: if cfg!(target_arch = "wasm32") { "CPU (wasm)".into() } else { "CPU (Flex)".into() },
        limits: DeviceLimits::CPU,
    }
}

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

fn wgpu_backend(device: Device, setup: &burn::tensor::wgpu::WgpuSetup, prefix: &str) -> Backend {
    let info = setup.adapter.get_info();
    let limits = setup.device.limits();
    let max = (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size);
    let float64 = device.supports_dtype(burn::tensor::DType::F64);
    Backend {
        kind: BackendKind::Wgpu,
        device: device.autodiff(),
        label: describe_adapter(prefix, &info),
        limits: DeviceLimits { max_buffer_bytes: max, float64 },
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
        Ok(wgpu_backend(device, &setup, &api))
    })
    .clone()
}

/// The backend `kind` natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn native(kind: BackendKind) -> Result<Backend, BackendError> {
    match kind {
        BackendKind::Cpu => Ok(cpu()),
        BackendKind::Wgpu => wgpu_native(),
    }
}

/// The browser's WebGPU, initialised asynchronously (burn panics on first use otherwise). The
/// runtime can be initialised once per worker; later calls return the same device, or the same
/// error.
#[cfg(target_arch = "wasm32")]
pub async fn webgpu() -> Result<Backend, BackendError> {
    use burn::tensor::wgpu::WgpuBackend;
    use std::cell::RefCell;
    thread_local! {
        static INIT: RefCell<Option<Result<Backend, BackendError>>> = const { RefCell::new(None) };
    }
    if let Some(done) = INIT.with(|c| c.borrow().clone()) {
        return done;
    }
    let result = Device::wgpu_options()
        .graphics_api(WgpuBackend::WebGpu)
        .init_with_setup_async()
        .await
        .map(|(device, setup)| wgpu_backend(device, &setup, "WebGPU"))
        .map_err(|e| BackendError(format!("WebGPU is not available: {e}")));
    INIT.with(|c| *c.borrow_mut() = Some(result.clone()));
    result
}
