"""Rewrites gemm-f32's wasm simd128 microkernels in a copy of the crate, for one benchmark variant.

    python3 patch_gemm.py GEMM_F32_DIR MR NR RELAXED

MR×NR: the largest microkernel, in 4-lane packs × columns (gemm ships 3×4: 12 accumulators,
which with the operands fill all 16 of x86-64's vector registers that V8 can use). RELAXED=1 turns
the multiply-then-add into relaxed-simd's `f32x4_relaxed_madd` (one FMA on CPUs that have it).
"""
import sys

path, mr, nr, relaxed = sys.argv[1] + '/src/microkernel.rs', int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1'
src = open(path).read()
start = src.index('pub mod simd128 {')
end = src.index('pub const H_M', start)
body = src[start:end]
if relaxed:
    old = 'add(c, mul(a, b))'
    assert body.count(old) == 1, 'gemm-f32 changed: no single simd128 mul_add to patch'
    body = body.replace(old, 'transmute(f32x4_relaxed_madd(transmute(a), transmute(b), transmute(c)))')
k0 = body.index('microkernel!(["simd128"]')
k1 = body.index('}', body.index('microkernel_fn_array!')) + 1
kernels = ''.join(f'microkernel!(["simd128"], 2, x{a}x{b}, {a}, {b});\n        '
                  for a in range(1, mr + 1) for b in range(1, nr + 1))
table = 'microkernel_fn_array! {\n' + ''.join(
    '            [' + ''.join(f'x{a}x{b}, ' for b in range(1, nr + 1)) + '],\n' for a in range(1, mr + 1)) + '        }'
body = body[:k0] + kernels + table + body[k1:]
open(path, 'w').write(src[:start] + body + src[end:])
