#!/usr/bin/env bash
# The default preset's matrix products alone, per instruction set (tools/gemm-isa): native gemm
# (AVX2+FMA, or AVX-512 where the CPU has it) against the same gemm compiled to wasm and timed in
# headless Chromium: as shipped (simd128: 4 lanes, multiply then add), with relaxed-simd's fused
# multiply-add patched in, with smaller microkernels, and scalar. Prints GFLOP/s per shape and
# the native ÷ wasm ratio. About 2 minutes (five small wasm builds of gemm, cached after).
#   scripts/bench-gemm-isa.sh            ROUNDS / REPS: see tools/gemm-isa/run.mjs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$GRADSCOPE_ROOT/scripts/setup.sh" >/dev/null
TOOL="$GRADSCOPE_ROOT/tools/gemm-isa"
WORK="$GRADSCOPE_CACHE/gemm-isa"
mkdir -p "$WORK"
# Native, with gemm's AVX-512 kernels compiled in as gradscope's native build has them (used only
# where the CPU has AVX-512). The build also fetches the gemm-f32 that Cargo.lock pins, whose
# registry copy the variants below patch.
(cd "$TOOL" && cargo build -q --release --locked --features x86-v4 --target-dir "$WORK/target-native")
native_out=$("$WORK/target-native/release/gemm-isa")
GEMM_F32=$(cd "$TOOL" && cargo metadata --format-version 1 --locked 2>/dev/null |
  python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="gemm-f32").rsplit("/",1)[0])')

# variant NAME MR NR RELAXED: builds a copy of the tool whose gemm-f32 is patched (or not: MR=0)
# into wasm_of NAME. Called as a plain command, so a failed build stops the script (a stale .wasm
# from an earlier run must never be timed).
wasm_of() { echo "$WORK/$1/target/wasm32-unknown-unknown/release/gemm_isa.wasm"; }
variant() {
  local name=$1 mr=$2 nr=$3 relaxed=$4 dir="$WORK/$1"
  rm -rf "$dir/src" && mkdir -p "$dir"
  # -p keeps the sources' times, so a rerun recompiles only what changed.
  cp -rp "$TOOL/Cargo.toml" "$TOOL/Cargo.lock" "$TOOL/src" "$dir/"
  local features="+simd128"
  if [ "$mr" != 0 ]; then
    # The patched copy is made once per gemm-f32 and patch script (the stamp says which).
    local stamp="$GEMM_F32 $mr $nr $relaxed $(sha256sum < "$TOOL/patch_gemm.py")"
    if [ "$(cat "$dir/gemm-f32.stamp" 2>/dev/null)" != "$stamp" ]; then
      rm -rf "$dir/gemm-f32" && cp -r "$GEMM_F32" "$dir/gemm-f32" && chmod -R u+w "$dir/gemm-f32"
      python3 "$TOOL/patch_gemm.py" "$dir/gemm-f32" "$mr" "$nr" "$relaxed"
      echo "$stamp" > "$dir/gemm-f32.stamp"
    fi
    printf '\n[patch.crates-io]\ngemm-f32 = { path = "gemm-f32" }\n' >> "$dir/Cargo.toml"
  fi
  [ "$relaxed" = 1 ] && features="+simd128,+relaxed-simd"
  # No --cap-lints in RUSTFLAGS: cargo passes its own, and rustc 1.95 then fails cargo's probe of
  # the target ("output of --print=file-names missing").
  (cd "$dir" && RUSTFLAGS="-C target-feature=$features" cargo build -q --release --offline \
    --lib --target wasm32-unknown-unknown --target-dir "$dir/target")
}
variant shipped 0 0 0
variant relaxed 3 4 1
variant kernel-2x4 2 4 0
variant kernel-3x3 3 3 0
shipped=$(wasm_of shipped) relaxed=$(wasm_of relaxed) k2x4=$(wasm_of kernel-2x4) k3x3=$(wasm_of kernel-3x3)
# V8 compiles wasm in two tiers; --no-liftoff times the optimized tier only, as a long training
# run sees it (a benchmark this short would otherwise catch some products in the baseline tier).
wasm_out=$(cd "$TOOL" && JS_FLAGS=--no-liftoff node run.mjs "simd128, as shipped=$shipped" \
  "relaxed-simd FMA=$relaxed" "simd128, 2×4 kernel=$k2x4" "simd128, 3×3 kernel=$k3x3" "scalar=$shipped:scalar")
printf '%s\n%s\n' "$native_out" "$wasm_out" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
# The native rows name the shapes (tools/gemm-isa/src/lib.rs, in order); the wasm rows index them.
names = [r["shape"] for r in rows if isinstance(r["shape"], str)]
by, value = {}, {}
for r in rows:
    shape = r["shape"] if isinstance(r["shape"], str) else names[r["shape"]]
    by.setdefault(r["variant"], {})[shape] = r["gflops"]
    value.setdefault(r["variant"], {})[shape] = r["value"]
native = next(v for v in by if v.startswith("native"))
# Every variant must compute the same products (one output element, against native gemm).
for v in by:
    for n in names:
        a, b = value[v][n], value[native][n]
        if not abs(a - b) <= 1e-4 * (1 + abs(b)):
            sys.exit(f"{v} computes a different {n}: {a} against native {b}")
print("## gemm GFLOP/s on the default preset\x27s products (one thread; ratio: native ÷ variant, mean over shapes)\n")
print("| variant | " + " | ".join(names) + " | native ÷ variant |")
print("| --- | " + " | ".join("---" for _ in names) + " | --- |")
for v, g in by.items():
    ratio = sum(by[native][n] / g[n] for n in names) / len(names)
    print(f"| {v} | " + " | ".join(f"{g[n]:.1f}" for n in names) + f" | {ratio:.2f}× |")
'
