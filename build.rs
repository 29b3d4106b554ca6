//! Sets `cfg(gpu)` where the wgpu backend is compiled in: natively always, and in the browser
//! worker built with the `webgpu` feature (the CPU-only worker leaves it out; see Cargo.toml).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(gpu)");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|a| a == "wasm32");
    if !wasm || std::env::var_os("CARGO_FEATURE_WEBGPU").is_some() {
        println!("cargo::rustc-cfg=gpu");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
