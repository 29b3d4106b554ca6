"""Selective-scan (Mamba) and S4D references in plain PyTorch, written from the papers' code and
sharing nothing with gradscope's Rust: checks a `gradscope inspect ssm` dump, and times the
PyTorch CPU scans a user would otherwise run.

* `check DUMP.json [--rtol 6e-4 --atol 2e-3 --s4d-tol 1e-4]` recomputes, in float64:
  - "scan": mamba's `selective_scan_ref` (state-spaces/mamba, mamba_ssm/ops/selective_scan_interface.py
    at e9594ce1) with real A and the "variable B/C" layout [b, n, l], no z gate:
    delta = softplus(delta + delta_bias) (softplus only when delta_softplus),
    deltaA = exp(einsum('bdl,dn->bdln', delta, A)), deltaB_u = einsum('bdl,bnl,bdl->bdln', delta, B, u),
    x_i = deltaA_i * x_{i-1} + deltaB_u_i, y_i = einsum('bdn,bn->bd', x_i, C_i), out = y + u * D.
    Each of out_sequential / out_parallel / out_chunked / out_fused passes when |a - b| <= atol + rtol |b|
    everywhere (torch.allclose's rule, b the reference).
  - "s4d": the S4D kernel of Gu et al. 2022 (state-spaces/s4, models/s4/s4d.py at e757cef5) per
    channel h with N/2 conjugate pairs: A = A_re + i A_im, C = C_re + i C_im, B = 1, dt = exp(log_dt);
    ZOH dA = exp(dt A), dB = (exp(dt A) - 1) / A; bilinear dA = (1 + dt A/2) / (1 - dt A/2),
    dB = dt / (1 - dt A/2); K_l = 2 Re(sum_n C_n dB_n dA_n^l) (Vandermonde, complex128);
    y_t = sum_{s<=t} K_{t-s} u_s + D u_t. kernel, out_conv and out_recurrence pass when
    ||a - b|| / ||b|| <= --s4d-tol.
  Prints a table; exit code 0 when everything passes, 1 otherwise. The dump (plain nested lists):
    {"spec": {...},
     "scan": {"u": [b][d][l], "delta": [b][d][l], "A": [d][n], "B": [b][n][l], "C": [b][n][l],
              "D": [d], "delta_bias": [d], "delta_softplus": bool,
              "out_sequential": [b][d][l], "out_parallel": [b][d][l], "out_chunked": [b][d][l],
              "out_fused": [b][d][l]},
     "s4d": {"discretization": "zoh"|"bilinear", "init": "lin"|"inv"|"real",
             "A_re": [h][n2], "A_im": [h][n2], "C_re": [h][n2], "C_im": [h][n2], "log_dt": [h],
             "D": [h], "u": [h][l], "kernel": [h][l], "out_conv": [h][l], "out_recurrence": [h][l]}}
  A section missing from the dump is skipped; an output missing from a present section fails.

* `bench [--batch 1 --dim 64 --state 16 --lengths ... --repeats 3 --threads N --cap-seconds 20]`
  times forward + backward (loss = out.sum(), gradients to u, delta, A, B, C, D) in float32 on the
  CPU of four implementations of the same scan, after checking in float64 that every pair agrees
  (outputs and all six gradients, L up to 64):
  - "torch_sequential": `selective_scan_ref`'s loop as published. Its backward is O(L^2): each
    `deltaA[:, :, i]` (and `deltaB_u[:, :, i]`, `C[:, :, i]`) slice's backward materialises a zero
    gradient of the whole source tensor ([b, d, L, n]) to scatter one step into. Kept as is, since
    it is the code a user would copy.
  - "torch_sequential_unbind": the same recurrence with the per-step slices taken by one
    `torch.unbind(..., dim=2)` per tensor, whose backward stacks the L step gradients once, so the
    backward is O(L). The fair sequential loop: it separates the loop's cost from the slices'.
  - "torch_pscan": alxndrTL/mamba.py's Blelloch `pscan` (ported below).
  - "torch_sequential_fn": the loop again, inside one autograd Function whose backward is written
    out (`SequentialScanFn`): time-major [l, b, d, n] tensors made once and updated in place, so
    each step is one contiguous fused multiply-add. The fastest of the four on a CPU at the
    widths the scans lab trains (selective_copying_torch.py uses it).
  One JSON line per (impl, L), then a summary table. An implementation whose one call exceeds
  --cap-seconds skips that length and all longer ones (the check comes after the call, so that one
  call may run past the cap). On a busy machine, --threads 1 avoids OpenMP threads fighting for cores.

torch lives in ~/.cache/gradscope/bench-venv (see scripts/bench-reference.sh).
"""
import argparse
import itertools
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def selective_scan_ref(u, delta, A, B, C, D, delta_bias=None, delta_softplus=False):
    """mamba's selective_scan_ref, real A, B/C [b, n, l], no z, no dtype casts."""
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    x = A.new_zeros((u.shape[0], A.shape[0], A.shape[1]))
    deltaA = torch.exp(torch.einsum('bdl,dn->bdln', delta, A))
    deltaB_u = torch.einsum('bdl,bnl,bdl->bdln', delta, B, u)
    ys = []
    for i in range(u.shape[2]):
        x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
        ys.append(torch.einsum('bdn,bn->bd', x, C[:, :, i]))
    return torch.stack(ys, dim=2) + u * D[:, None]


def selective_scan_unbind(u, delta, A, B, C, D, delta_bias=None, delta_softplus=False):
    """selective_scan_ref with each per-step slice taken by one unbind (backward O(L), not O(L^2))."""
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    x = A.new_zeros((u.shape[0], A.shape[0], A.shape[1]))
    deltaA = torch.exp(torch.einsum('bdl,dn->bdln', delta, A))
    deltaB_u = torch.einsum('bdl,bnl,bdl->bdln', delta, B, u)
    ys = []
    for deltaA_i, deltaB_u_i, C_i in zip(deltaA.unbind(2), deltaB_u.unbind(2), C.unbind(2)):
        x = deltaA_i * x + deltaB_u_i
        ys.append(torch.einsum('bdn,bn->bd', x, C_i))
    return torch.stack(ys, dim=2) + u * D[:, None]


# ---- alxndrTL/mamba.py mambapy/pscan.py at 2cc168c78b2494557f45072c4b8daa9d6f5608c7 (2024-12-04),
# ported verbatim but for layout (comments trimmed). Blelloch scan H[t] = A[t] H[t-1] + X[t] on
# [B, L, D, N]; the backward is the same scan run in reverse over the shifted A.
def npo2(len):
    return 2 ** math.ceil(math.log2(len))


def pad_npo2(X):  # (B, L, D, N) -> (B, npo2(L), D, N)
    return F.pad(X, (0, 0, 0, 0, 0, npo2(X.size(1)) - X.size(1)), "constant", 0)


class PScan(torch.autograd.Function):
    @staticmethod
    def pscan(A, X):  # A, X: (B, D, L, N), L a power of two; X becomes H in place
        B, D, L, _ = A.size()
        num_steps = int(math.log2(L))
        Aa, Xa = A, X  # up sweep (last 2 steps unfolded)
        for _ in range(num_steps - 2):
            T = Xa.size(2)
            Aa, Xa = Aa.view(B, D, T // 2, 2, -1), Xa.view(B, D, T // 2, 2, -1)
            Xa[:, :, :, 1].add_(Aa[:, :, :, 1].mul(Xa[:, :, :, 0]))
            Aa[:, :, :, 1].mul_(Aa[:, :, :, 0])
            Aa, Xa = Aa[:, :, :, 1], Xa[:, :, :, 1]
        if Xa.size(2) == 4:  # 4, 2 or 1 nodes left
            Xa[:, :, 1].add_(Aa[:, :, 1].mul(Xa[:, :, 0]))
            Aa[:, :, 1].mul_(Aa[:, :, 0])
            Xa[:, :, 3].add_(Aa[:, :, 3].mul(Xa[:, :, 2] + Aa[:, :, 2].mul(Xa[:, :, 1])))
        elif Xa.size(2) == 2:
            Xa[:, :, 1].add_(Aa[:, :, 1].mul(Xa[:, :, 0]))
            return
        else:
            return
        Aa = A[:, :, 2**(num_steps-2)-1:L:2**(num_steps-2)]  # down sweep (first 2 steps unfolded)
        Xa = X[:, :, 2**(num_steps-2)-1:L:2**(num_steps-2)]
        Xa[:, :, 2].add_(Aa[:, :, 2].mul(Xa[:, :, 1]))
        Aa[:, :, 2].mul_(Aa[:, :, 1])
        for k in range(num_steps - 3, -1, -1):
            Aa, Xa = A[:, :, 2**k-1:L:2**k], X[:, :, 2**k-1:L:2**k]
            T = Xa.size(2)
            Aa, Xa = Aa.view(B, D, T // 2, 2, -1), Xa.view(B, D, T // 2, 2, -1)
            Xa[:, :, 1:, 0].add_(Aa[:, :, 1:, 0].mul(Xa[:, :, :-1, 1]))
            Aa[:, :, 1:, 0].mul_(Aa[:, :, :-1, 1])

    @staticmethod
    def pscan_rev(A, X):  # the same scan, right to left (flip, pscan, flip)
        B, D, L, _ = A.size()
        num_steps = int(math.log2(L))
        Aa, Xa = A, X
        for _ in range(num_steps - 2):
            T = Xa.size(2)
            Aa, Xa = Aa.view(B, D, T // 2, 2, -1), Xa.view(B, D, T // 2, 2, -1)
            Xa[:, :, :, 0].add_(Aa[:, :, :, 0].mul(Xa[:, :, :, 1]))
            Aa[:, :, :, 0].mul_(Aa[:, :, :, 1])
            Aa, Xa = Aa[:, :, :, 0], Xa[:, :, :, 0]
        if Xa.size(2) == 4:
            Xa[:, :, 2].add_(Aa[:, :, 2].mul(Xa[:, :, 3]))
            Aa[:, :, 2].mul_(Aa[:, :, 3])
            Xa[:, :, 0].add_(Aa[:, :, 0].mul(Xa[:, :, 1].add(Aa[:, :, 1].mul(Xa[:, :, 2]))))
        elif Xa.size(2) == 2:
            Xa[:, :, 0].add_(Aa[:, :, 0].mul(Xa[:, :, 1]))
            return
        else:
            return
        Aa, Xa = A[:, :, 0:L:2**(num_steps-2)], X[:, :, 0:L:2**(num_steps-2)]
        Xa[:, :, 1].add_(Aa[:, :, 1].mul(Xa[:, :, 2]))
        Aa[:, :, 1].mul_(Aa[:, :, 2])
        for k in range(num_steps - 3, -1, -1):
            Aa, Xa = A[:, :, 0:L:2**k], X[:, :, 0:L:2**k]
            T = Xa.size(2)
            Aa, Xa = Aa.view(B, D, T // 2, 2, -1), Xa.view(B, D, T // 2, 2, -1)
            Xa[:, :, :-1, 1].add_(Aa[:, :, :-1, 1].mul(Xa[:, :, 1:, 0]))
            Aa[:, :, :-1, 1].mul_(Aa[:, :, 1:, 0])

    @staticmethod
    def forward(ctx, A_in, X_in):  # (B, L, D, N) each -> H (B, L, D, N)
        L = X_in.size(1)
        if L == npo2(L):  # clones because of the in-place ops
            A, X = A_in.clone(), X_in.clone()
        else:
            A, X = pad_npo2(A_in), pad_npo2(X_in)
        A, X = A.transpose(2, 1), X.transpose(2, 1)  # (B, D, npo2(L), N)
        PScan.pscan(A, X)
        ctx.save_for_backward(A_in, X)
        return X.transpose(2, 1)[:, :L]

    @staticmethod
    def backward(ctx, grad_output_in):
        A_in, X = ctx.saved_tensors
        L = grad_output_in.size(1)
        if L == npo2(L):
            grad_output = grad_output_in.clone()
        else:
            grad_output, A_in = pad_npo2(grad_output_in), pad_npo2(A_in)
        grad_output, A_in = grad_output.transpose(2, 1), A_in.transpose(2, 1)
        A = torch.nn.functional.pad(A_in[:, :, 1:], (0, 0, 0, 1))  # shift 1 to the left
        PScan.pscan_rev(A, grad_output)
        Q = torch.zeros_like(X)
        Q[:, :, 1:].add_(X[:, :, :-1] * grad_output[:, :, 1:])
        return Q.transpose(2, 1)[:, :L], grad_output.transpose(2, 1)[:, :L]


pscan = PScan.apply
# ---- end of the port


def selective_scan_pscan(u, delta, A, B, C, D, delta_bias=None, delta_softplus=False):
    """The same scan as selective_scan_ref, with mamba.py's selective_scan around pscan."""
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    deltaA = torch.exp(torch.einsum('bdl,dn->bldn', delta, A))  # (B, L, D, N)
    deltaB_u = torch.einsum('bdl,bnl,bdl->bldn', delta, B, u)
    hs = pscan(deltaA, deltaB_u)
    y = (hs @ C.permute(0, 2, 1).unsqueeze(-1)).squeeze(3)  # (B, L, D, N) @ (B, L, N, 1)
    return y.transpose(1, 2) + u * D[:, None]


class SequentialScanFn(torch.autograd.Function):
    """The selective scan's core, y = scan(u, delta, A, B, C) without D, with a backward derived
    by hand, so autograd never sees the [b, l, d, n] broadcasts (their backward is where the other
    three spend their time on a CPU).

    Forward: dA_t = exp(delta_t A), X_t = (delta_t u_t) B_t, h_t = dA_t h_{t-1} + X_t (a loop over
    t of one fused multiply-add on [b, d, n]), y_t = <h_t, C_t>.
    Backward, with G_t = dLoss/dX_t (the whole gradient reaching h_t):
    G_t = C_t gy_t + dA_{t+1} G_{t+1} (the same loop, reversed); then, each as one big op,
    dB_t = sum_d G_t (delta_t u_t), d(delta_t u_t) = sum_n G_t B_t, dC_t = sum_d gy_t h_t and,
    through dA_t = exp(delta_t A) with Z_t = G_t h_{t-1} dA_t: d delta_t += sum_n Z_t A,
    dA = sum_{b,t} Z_t delta_t."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C):  # u, delta [b, d, l]; A [d, n]; B, C [b, n, l]
        # Time leads ([l, b, ...]) so that each step of the loop is one contiguous block, and the
        # [l, b, d, n] tensors are made once and then updated in place (a fresh one costs more
        # than a pass over it).
        b, d, l = u.shape
        n = A.shape[1]
        deltat = delta.permute(2, 0, 1).contiguous()  # [l, b, d]
        w = (delta * u).permute(2, 0, 1).contiguous()  # [l, b, d]
        Bt, Ct = B.permute(2, 0, 1).contiguous(), C.permute(2, 0, 1).contiguous()  # [l, b, n]
        dA = (deltat[..., None] * A).exp_()  # [l, b, d, n]
        H = w[..., None] * Bt[:, :, None, :]  # X, made H in place: [l, b, d, n]
        for t in range(1, l):
            H[t].addcmul_(dA[t], H[t - 1])
        y = torch.bmm(H.view(l * b, d, n), Ct.view(l * b, n, 1))  # [l b, d, 1]
        ctx.save_for_backward(u, delta, A, deltat, w, Bt, Ct, dA, H)
        return y.view(l, b, d).permute(1, 2, 0)  # [b, d, l]

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, deltat, w, Bt, Ct, dA, H = ctx.saved_tensors
        b, d, l = u.shape
        n = A.shape[1]
        gyt = gy.permute(2, 0, 1).contiguous()  # [l, b, d]
        gC = torch.bmm(gyt.view(l * b, 1, d), H.view(l * b, d, n)).view(l, b, n)
        G = gyt[..., None] * Ct[:, :, None, :]  # [l, b, d, n]
        for t in range(l - 2, -1, -1):
            G[t].addcmul_(dA[t + 1], G[t + 1])
        gw = torch.bmm(G.view(l * b, d, n), Bt.view(l * b, n, 1)).view(l, b, d)
        gB = torch.bmm(w.view(l * b, 1, d), G.view(l * b, d, n)).view(l, b, n)
        Z = torch.empty_like(H)  # Z_t = G_t h_{t-1} dA_t, h_{-1} = 0
        Z[0].zero_()
        torch.mul(G[1:], H[:-1], out=Z[1:])
        Z.mul_(dA)
        gA = (Z * deltat[..., None]).sum((0, 1))  # [d, n]
        gdelta = Z.mul_(A).sum(-1) + gw * u.permute(2, 0, 1)  # [l, b, d]
        gu = gw * deltat
        return (gu.permute(1, 2, 0), gdelta.permute(1, 2, 0), gA, gB.permute(1, 2, 0), gC.permute(1, 2, 0))


def selective_scan_seq(u, delta, A, B, C, D, delta_bias=None, delta_softplus=False):
    """The same scan as selective_scan_ref, with SequentialScanFn's hand-written backward."""
    if delta_bias is not None:
        delta = delta + delta_bias[..., None]
    if delta_softplus:
        delta = F.softplus(delta)
    return SequentialScanFn.apply(u, delta, A, B, C) + u * D[:, None]


def s4d_kernel(s, L):
    """S4D's kernel [h, L] in complex128 (float64 result), ZOH or bilinear."""
    c = lambda re, im: torch.complex(torch.tensor(s[re], dtype=torch.float64),
                                     torch.tensor(s[im], dtype=torch.float64))
    A, C = c("A_re", "A_im"), c("C_re", "C_im")
    dt = torch.exp(torch.tensor(s["log_dt"], dtype=torch.float64))[:, None]
    dtA = A * dt
    if s["discretization"] == "zoh":
        dA, dB = torch.exp(dtA), (torch.exp(dtA) - 1) / A
    elif s["discretization"] == "bilinear":
        dA, dB = (1 + dtA / 2) / (1 - dtA / 2), dt / (1 - dtA / 2)
    else:
        raise ValueError(f"unknown discretization {s['discretization']!r}")
    V = dA[..., None] ** torch.arange(L, dtype=torch.float64)  # (H, N2, L)
    return 2 * torch.einsum('hn,hnl->hl', C * dB, V).real


def s4d_output(K, u, D):
    """y_t = sum_{s<=t} K_{t-s} u_s + D u_t, by direct (not FFT) convolution."""
    return np.stack([np.convolve(k, x)[:len(x)] for k, x in zip(K, u)]) + np.asarray(D)[:, None] * u


def check(args):
    dump = json.load(open(args.dump))
    T = lambda v: torch.tensor(v, dtype=torch.float64)
    rows, ok = [], True
    if "scan" in dump:
        s = dump["scan"]
        with torch.no_grad():
            ref = selective_scan_ref(T(s["u"]), T(s["delta"]), T(s["A"]), T(s["B"]), T(s["C"]), T(s["D"]),
                                     T(s["delta_bias"]), bool(s["delta_softplus"])).numpy()
        for key in ["out_sequential", "out_parallel", "out_chunked", "out_fused"]:
            if key not in s:
                rows.append(("scan", key, "-", "-", "FAIL (missing)")); ok = False; continue
            a = np.asarray(s[key], dtype=np.float64)
            err = np.abs(a - ref) if a.shape == ref.shape else None
            good = err is not None and bool(np.all(err <= args.atol + args.rtol * np.abs(ref)))
            ok &= good
            rows.append(("scan", key, f"{err.max():.3e}" if err is not None else f"shape {a.shape}",
                         f"{(err / np.maximum(np.abs(ref), 1e-300)).max():.3e}" if err is not None else "-",
                         "pass" if good else "FAIL"))
    if "s4d" in dump:
        s = dump["s4d"]
        u = np.asarray(s["u"], dtype=np.float64)
        K = s4d_kernel(s, u.shape[1]).numpy()
        y = s4d_output(K, u, s["D"])
        for key, ref in [("kernel", K), ("out_conv", y), ("out_recurrence", y)]:
            if key not in s:
                rows.append(("s4d", key, "-", "-", "FAIL (missing)")); ok = False; continue
            a = np.asarray(s[key], dtype=np.float64)
            if a.shape != ref.shape:
                rows.append(("s4d", key, f"shape {a.shape}", "-", "FAIL")); ok = False; continue
            rel = np.linalg.norm(a - ref) / max(np.linalg.norm(ref), 1e-300)
            good = bool(rel <= args.s4d_tol)
            ok &= good
            rows.append(("s4d", key, f"{np.abs(a - ref).max():.3e}", f"{rel:.3e} (norm)", "pass" if good else "FAIL"))
    if not rows:
        print("no \"scan\" or \"s4d\" section in the dump"); return 1
    print(f"{args.dump}: scan rtol {args.rtol} atol {args.atol}; s4d norm-wise tol {args.s4d_tol}"
          + (f"; s4d {dump['s4d']['discretization']}/{dump['s4d'].get('init')}" if "s4d" in dump else ""))
    print(f"{'section':8} {'output':16} {'max abs err':>12} {'max rel err':>18}  result")
    for r in rows:
        print(f"{r[0]:8} {r[1]:16} {r[2]:>12} {r[3]:>18}  {r[4]}")
    print("all pass" if ok else "FAILED")
    return 0 if ok else 1


def scan_inputs(b, d, n, L, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=g, dtype=dtype)
    A = -torch.exp(r(d, n) * 0.5)  # negative real, as Mamba's A = -exp(A_log)
    return dict(u=r(b, d, L), delta=r(b, d, L) * 0.5 - 1.0, A=A, B=r(b, n, L), C=r(b, n, L), D=r(d),
                delta_bias=r(d) * 0.1, delta_softplus=True)


IMPLS = {"torch_sequential": selective_scan_ref, "torch_sequential_unbind": selective_scan_unbind,
         "torch_pscan": selective_scan_pscan, "torch_sequential_fn": selective_scan_seq}
GRAD_ARGS = ["u", "delta", "A", "B", "C", "D"]


def fwd_bwd(fn, inp):
    leaves = {k: (v.detach().requires_grad_(True) if k in GRAD_ARGS else v) for k, v in inp.items()}
    out = fn(**leaves)
    out.sum().backward()
    return out.detach(), {k: leaves[k].grad for k in GRAD_ARGS}


def bench(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    for L in (1, 2, 5, 8, 37, 64):  # every pair of scans agrees, outputs and gradients, float64
        inp = scan_inputs(2, 3, 4, L, torch.float64, seed=L)
        res = {impl: fwd_bwd(fn, inp) for impl, fn in IMPLS.items()}
        for (i1, (o1, g1)), (i2, (o2, g2)) in itertools.combinations(res.items(), 2):
            worst = max([(o1 - o2).abs().max().item()]
                        + [(g1[k] - g2[k]).abs().max().item() for k in GRAD_ARGS])
            if worst > 1e-10:
                sys.exit(f"{i1} disagrees with {i2} at L={L}: max abs diff {worst:.3e}")
    print(f"# {' == '.join(IMPLS)} (float64, outputs and gradients, L up to 64); torch "
          f"{torch.__version__}, {threads} threads", file=sys.stderr)
    lengths = [int(x) for x in args.lengths.split(",")]
    results, capped = {}, set()
    for L in lengths:
        inp = scan_inputs(args.batch, args.dim, args.state, L, torch.float32, seed=0)
        for impl, fn in IMPLS.items():
            if impl in capped:
                results[(impl, L)] = None; continue
            times = []
            for _ in range(args.repeats + 1):  # the first call is a warm-up
                t0 = time.perf_counter(); fwd_bwd(fn, inp); times.append(time.perf_counter() - t0)
                if times[-1] > args.cap_seconds:
                    break
            if times[-1] > args.cap_seconds:
                capped.add(impl); results[(impl, L)] = None
                print(json.dumps({"impl": impl, "L": L, "skipped": f"one call took {times[-1]:.1f} s "
                                  f"> --cap-seconds {args.cap_seconds}", "threads": threads}), flush=True)
                continue
            ms = 1e3 * float(np.median(times[1:]))
            results[(impl, L)] = ms
            print(json.dumps({"impl": impl, "L": L, "ms_per_fwd_bwd": round(ms, 3), "threads": threads}), flush=True)
    print(f"\nforward+backward, float32 CPU, batch {args.batch} dim {args.dim} state {args.state}, "
          f"median of {args.repeats} after a warm-up, {threads} threads (ms)")
    print(f"{'L':>7} " + " ".join(f"{impl:>24}" for impl in IMPLS)
          + " " + " ".join(f"{impl.removeprefix('torch_') + '/pscan':>24}" for impl in IMPLS if impl != "torch_pscan"))
    fmt = lambda v: f"{v:.2f}" if v is not None else "skipped"
    ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
    for L in lengths:
        row = {impl: results[(impl, L)] for impl in IMPLS}
        print(f"{L:>7} " + " ".join(f"{fmt(v):>24}" for v in row.values()) + " "
              + " ".join(f"{ratio(v, row['torch_pscan']):>24}" for impl, v in row.items() if impl != "torch_pscan"))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="check a `gradscope inspect ssm` dump against the references")
    c.add_argument("dump")
    c.add_argument("--rtol", type=float, default=6e-4)
    c.add_argument("--atol", type=float, default=2e-3)
    c.add_argument("--s4d-tol", type=float, default=1e-4, help="norm-wise relative error bound for s4d")
    b = sub.add_parser("bench", help="time selective_scan_ref's loop, the same loop with unbind, "
                                     "mamba.py's pscan and the loop with a written-out backward "
                                     "(CPU, float32)")
    b.add_argument("--batch", type=int, default=1)
    b.add_argument("--dim", type=int, default=64)
    b.add_argument("--state", type=int, default=16)
    b.add_argument("--lengths", default="64,256,1024,4096,16384")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    b.add_argument("--cap-seconds", type=float, default=20.0)
    args = ap.parse_args()
    return check(args) if args.cmd == "check" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
