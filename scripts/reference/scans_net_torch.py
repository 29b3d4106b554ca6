"""The scans lab's four sequence models in float64 PyTorch, written from the papers' code and
sharing nothing with gradscope's Rust: the fixture `tests/native/scans_reference.rs` checks
gradscope's networks against, output and every parameter's gradient.

The models (each `layers` x (h + mixer(LayerNorm(h))), a final LayerNorm, a linear readout):
* "s4d": s4d.py's block (state-spaces/s4, models/s4/s4d.py at e757cef5): the S4D kernel
  K = 2 Re(einsum(C (exp(dtA) - 1) / A, exp(dtA * arange(L)))) (ZOH; bilinear as the S4 repo's
  SSMKernelDiag: dA = (1 + dtA/2) / (1 - dtA/2), C * dt / (1 - dtA/2), K by log(dA)), the
  convolution by rfft/irfft at n = 2L, + u D, GELU, a 1x1 convolution to 2H and a GLU.
* "s4d_no_gate": the same without the GLU, a 1x1 convolution H -> H (no branch gates another:
  the Mamba paper's "no gate" row read strictly).
* "mamba": mamba_simple.py's slow path (state-spaces/mamba, mamba_ssm/modules/mamba_simple.py
  at e9594ce1): in_proj to (x, z), a causal depthwise Conv1d (d_conv 4, padding 3, the first L
  outputs), SiLU, x_proj to (dt, B, C), dt = dt_proj.weight @ dt, A = -exp(A_log), then
  selective_scan_ref (the one in scans_torch.py, mamba's) with D, z (y * SiLU(z)),
  delta_bias = dt_proj.bias and delta_softplus, and out_proj.
* "gated_s4d": the same block with the selective scan replaced by an S4D layer over the d_inner
  channels (its own D included), the Mamba paper's "S4 in a gated block".
The loss is the lab's: the mean cross-entropy over the last `answer_len` positions.

`--init DUMP --fixture OUT`: DUMP is `gradscope inspect init SPEC` of a scans spec (every
model's weights by name and a batch). Before anything else the weights are checked against the
inits of those sources (A_log = log(1..N), D = 1, softplus(dt bias) in [dt_min, dt_max], each
uniform draw inside PyTorch's default bound, out_proj's divided by sqrt(n_layer), embeddings
N(0, 0.02^2), LayerNorms 1 and 0, S4D-Lin/Inv/Real's A, log dt's range); a failure writes
nothing. Then each model runs the batch in float64 and OUT gets, per model, the loss, the
accuracy, the logits [n][len][vocab] and every parameter's gradient under gradscope's name and
layout (a linear weight [d_in, d_out], the transpose of nn.Linear's).

scripts/make-fixtures.sh regenerates the fixture; torch lives in ~/.cache/gradscope/bench-venv.
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scans_torch import selective_scan_ref  # noqa: E402  (mamba's reference scan)

D_CONV = 4
EMBED_STD = 0.02  # mamba_ssm's initializer_range


def s4d_kernel(log_A_real, A_imag, C, log_dt, L, discretization):
    """[H, L] from s4d.py's S4DKernel.forward (ZOH) or SSMKernelDiag's bilinear step."""
    dt = torch.exp(log_dt)  # (H)
    A = -torch.exp(log_A_real) + 1j * A_imag  # (H N/2)
    dtA = A * dt.unsqueeze(-1)
    if discretization == "zoh":
        K = dtA.unsqueeze(-1) * torch.arange(L, device=A.device)  # (H N/2 L)
        C = C * (torch.exp(dtA) - 1.0) / A
        return 2 * torch.einsum("hn, hnl -> hl", C, torch.exp(K)).real
    if discretization == "bilinear":
        dA = (1.0 + dtA / 2) / (1.0 - dtA / 2)
        C = C * (1.0 - dtA / 2).reciprocal() * dt.unsqueeze(-1)
        K = torch.log(dA).unsqueeze(-1) * torch.arange(L, device=A.device)
        return 2 * torch.einsum("hn, hnl -> hl", C, torch.exp(K)).real
    raise ValueError(f"unknown discretization {discretization!r}")


class S4DLayer(torch.nn.Module):
    """s4d.py's S4D without its activation and output map: y = K * u + D u, u (B, H, L)."""

    def __init__(self, H, N, discretization):
        super().__init__()
        z = lambda *s: torch.nn.Parameter(torch.zeros(*s))
        self.log_A_real, self.A_imag = z(H, N // 2), z(H, N // 2)
        self.C_re, self.C_im = z(H, N // 2), z(H, N // 2)
        self.log_dt, self.D = z(H), z(H)
        self.discretization = discretization

    def forward(self, u):
        L = u.size(-1)
        C = torch.complex(self.C_re, self.C_im)
        k = s4d_kernel(self.log_A_real, self.A_imag, C, self.log_dt, L, self.discretization)
        k_f = torch.fft.rfft(k, n=2 * L)
        u_f = torch.fft.rfft(u, n=2 * L)
        y = torch.fft.irfft(u_f * k_f, n=2 * L)[..., :L]
        return y + u * self.D.unsqueeze(-1)


class S4DBlock(torch.nn.Module):
    """s4d.py's S4D module: S4D, GELU, Conv1d(H, 2H, 1), GLU over channels. x (B, L, H)."""

    def __init__(self, H, N, discretization):
        super().__init__()
        self.s4d = S4DLayer(H, N, discretization)
        self.output_linear = torch.nn.Conv1d(H, 2 * H, kernel_size=1)

    def forward(self, x):
        y = F.gelu(self.s4d(x.transpose(1, 2)))  # (B, H, L)
        y = F.glu(self.output_linear(y), dim=-2)
        return y.transpose(1, 2)


class S4DNoGateBlock(torch.nn.Module):
    """s4d.py's S4D module without its GLU: S4D, GELU, Conv1d(H, H, 1). x (B, L, H)."""

    def __init__(self, H, N, discretization):
        super().__init__()
        self.s4d = S4DLayer(H, N, discretization)
        self.output_linear = torch.nn.Conv1d(H, H, kernel_size=1)

    def forward(self, x):
        return self.output_linear(F.gelu(self.s4d(x.transpose(1, 2)))).transpose(1, 2)


class MambaBlock(torch.nn.Module):
    """mamba_simple.py's Mamba (slow path); `lti` replaces the selective scan by S4D."""

    def __init__(self, d_model, d_state, expand, dt_rank, lti=None, scan=selective_scan_ref):
        super().__init__()
        d_inner = expand * d_model
        self.scan = scan  # selective_scan_ref here; the trainer passes a faster one (same numbers)
        self.d_inner, self.d_state, self.dt_rank = d_inner, d_state, dt_rank
        self.in_proj = torch.nn.Linear(d_model, 2 * d_inner, bias=False)
        self.conv1d = torch.nn.Conv1d(d_inner, d_inner, kernel_size=D_CONV, groups=d_inner,
                                      padding=D_CONV - 1, bias=True)
        self.lti = None
        if lti is None:
            self.x_proj = torch.nn.Linear(d_inner, dt_rank + 2 * d_state, bias=False)
            self.dt_proj = torch.nn.Linear(dt_rank, d_inner, bias=True)
            self.A_log = torch.nn.Parameter(torch.zeros(d_inner, d_state))
            self.D = torch.nn.Parameter(torch.ones(d_inner))
        else:
            self.lti = S4DLayer(d_inner, d_state, lti)
        self.out_proj = torch.nn.Linear(d_inner, d_model, bias=False)

    def forward(self, hidden_states):
        batch, seqlen, _ = hidden_states.shape
        xz = self.in_proj(hidden_states).transpose(1, 2)  # (B, 2 d_inner, L)
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :seqlen])
        if self.lti is not None:
            y = self.lti(x) * F.silu(z)
        else:
            x_dbl = self.x_proj(x.transpose(1, 2).reshape(batch * seqlen, self.d_inner))
            dt, B, C = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
            dt = (self.dt_proj.weight @ dt.t()).reshape(self.d_inner, batch, seqlen).transpose(0, 1)
            B = B.reshape(batch, seqlen, self.d_state).transpose(1, 2)  # (B, N, L)
            C = C.reshape(batch, seqlen, self.d_state).transpose(1, 2)
            A = -torch.exp(self.A_log)
            y = self.scan(x, dt, A, B, C, self.D, delta_bias=self.dt_proj.bias,
                          delta_softplus=True)
            y = y * F.silu(z)
        return self.out_proj(y.transpose(1, 2))


class Net(torch.nn.Module):
    def __init__(self, vocab, mixer, layers, d_model, d_state, expand, discretization,
                 scan=selective_scan_ref):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, d_model)
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(d_model) for _ in range(layers))
        dt_rank = math.ceil(d_model / 16)
        make = {
            "s4d": lambda: S4DBlock(d_model, d_state, discretization),
            "s4d_no_gate": lambda: S4DNoGateBlock(d_model, d_state, discretization),
            "gated_s4d": lambda: MambaBlock(d_model, d_state, expand, dt_rank, lti=discretization),
            "mamba": lambda: MambaBlock(d_model, d_state, expand, dt_rank, scan=scan),
        }[mixer]
        self.mixers = torch.nn.ModuleList(make() for _ in range(layers))
        self.norm_f = torch.nn.LayerNorm(d_model)
        self.lm_head = torch.nn.Linear(d_model, vocab, bias=True)

    def forward(self, tokens):
        h = self.embedding(tokens)
        for norm, mixer in zip(self.norms, self.mixers):
            h = h + mixer(norm(h))
        return self.lm_head(self.norm_f(h))


def gradscope_names(net, mixer):
    """gradscope's parameter name -> (our parameter, gradscope's value as a function of ours)."""
    T = lambda p: p.t()  # a linear weight: gradscope keeps [d_in, d_out]
    same = lambda p: p
    out = {"embed": (net.embedding.weight, same)}

    def s4d(prefix, layer):
        out[f"{prefix}.log_a_re"] = (layer.log_A_real, same)
        out[f"{prefix}.a_im"] = (layer.A_imag, same)
        out[f"{prefix}.c_re"] = (layer.C_re, same)
        out[f"{prefix}.c_im"] = (layer.C_im, same)
        out[f"{prefix}.log_dt"] = (layer.log_dt, same)
        out[f"{prefix}.d"] = (layer.D, same)

    for i, (norm, m) in enumerate(zip(net.norms, net.mixers)):
        p = f"layers.{i}"
        out[f"{p}.norm.gamma"] = (norm.weight, same)
        out[f"{p}.norm.beta"] = (norm.bias, same)
        if mixer in ("s4d", "s4d_no_gate"):
            s4d(f"{p}.mixer.s4d", m.s4d)
            # A kernel-size-1 Conv1d's weight (2H or H, H, 1) is a linear map.
            out[f"{p}.mixer.out.weight"] = (m.output_linear.weight, lambda w: w[:, :, 0].t())
            out[f"{p}.mixer.out.bias"] = (m.output_linear.bias, same)
            continue
        out[f"{p}.mixer.in_proj.weight"] = (m.in_proj.weight, T)
        out[f"{p}.mixer.conv_weight"] = (m.conv1d.weight, same)
        out[f"{p}.mixer.conv_bias"] = (m.conv1d.bias, same)
        if m.lti is not None:
            s4d(f"{p}.mixer.mixer", m.lti)
        else:
            out[f"{p}.mixer.mixer.x_proj.weight"] = (m.x_proj.weight, T)
            out[f"{p}.mixer.mixer.dt_proj.weight"] = (m.dt_proj.weight, T)
            out[f"{p}.mixer.mixer.dt_proj.bias"] = (m.dt_proj.bias, same)
            out[f"{p}.mixer.mixer.a_log"] = (m.A_log, same)
            out[f"{p}.mixer.mixer.d"] = (m.D, same)
        out[f"{p}.mixer.out_proj.weight"] = (m.out_proj.weight, T)
    out["norm_f.gamma"] = (net.norm_f.weight, same)
    out["norm_f.beta"] = (net.norm_f.bias, same)
    out["head.weight"] = (net.lm_head.weight, T)
    out["head.bias"] = (net.lm_head.bias, same)
    return out


def load(net, mixer, params):
    """Copies gradscope's weights in (each name and shape must match ours exactly)."""
    ours = gradscope_names(net, mixer)
    theirs = {p["name"]: p for p in params}
    if set(ours) != set(theirs):
        raise SystemExit(f"parameter names differ: only gradscope {sorted(set(theirs) - set(ours))}, "
                         f"only here {sorted(set(ours) - set(theirs))}")
    with torch.no_grad():
        for name, (param, view) in ours.items():
            value = torch.tensor(theirs[name]["values"], dtype=torch.float64)
            target = view(param)
            if list(target.shape) != theirs[name]["shape"]:
                raise SystemExit(f"{name}: shape {theirs[name]['shape']} here {list(target.shape)}")
            target.copy_(value.reshape(target.shape))
    return ours


class InitCheck:
    """Collects init violations; every check names the parameter and the source's rule."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        if not ok:
            self.failures.append(what)


def check_init(net, mixer, m, n_layer, check):
    f32 = 1e-6  # the dump is float32: bounds hold to its rounding
    bound = lambda fan_in: 1 / math.sqrt(fan_in)

    def uniform(name, w, b):
        top = w.abs().max().item()
        check(top <= b * (1 + f32), f"{name}: |w| max {top:.6g} > bound {b:.6g}")
        check(top >= 0.5 * b, f"{name}: |w| max {top:.6g} far below its bound {b:.6g}")

    std = net.embedding.weight.std().item()
    check(abs(std / EMBED_STD - 1) < 0.3, f"embed: std {std:.4g}, want {EMBED_STD}")
    for norm in list(net.norms) + [net.norm_f]:
        check(bool((norm.weight == 1).all() and (norm.bias == 0).all()), "LayerNorm: not 1 and 0")
    uniform("head.weight", net.lm_head.weight, bound(m["d_model"]))
    for i, block in enumerate(net.mixers):
        p = f"layers.{i}"
        if mixer in ("s4d", "s4d_no_gate"):
            check_s4d(p, block.s4d, m, check)
            uniform(f"{p}.out.weight", block.output_linear.weight, bound(m["d_model"]))
            continue
        e, N = block.d_inner, block.d_state
        uniform(f"{p}.in_proj", block.in_proj.weight, bound(m["d_model"]))
        uniform(f"{p}.conv1d.weight", block.conv1d.weight, bound(D_CONV))
        uniform(f"{p}.conv1d.bias", block.conv1d.bias, bound(D_CONV))
        uniform(f"{p}.out_proj", block.out_proj.weight, bound(e) / math.sqrt(n_layer))
        if block.lti is not None:
            check_s4d(p, block.lti, m, check)
            continue
        uniform(f"{p}.x_proj", block.x_proj.weight, bound(e))
        uniform(f"{p}.dt_proj.weight", block.dt_proj.weight, block.dt_rank ** -0.5)
        want = torch.log(torch.arange(1, N + 1, dtype=torch.float64)).expand(e, N)
        check(torch.allclose(block.A_log, want, atol=1e-6), f"{p}.A_log: not log(1..N)")
        check(bool((block.D == 1).all()), f"{p}.D: not 1")
        dt = F.softplus(block.dt_proj.bias)
        lo, hi = max(m["dt_min"], 1e-4), m["dt_max"]
        check(bool(((dt >= lo * (1 - 1e-5)) & (dt <= hi * (1 + 1e-5))).all()),
              f"{p}.dt_proj.bias: softplus outside [{lo}, {hi}]")


def check_s4d(p, s4d, m, check):
    H, half = s4d.A_imag.shape
    n = torch.arange(half, dtype=torch.float64)
    N = 2 * half
    re, im = {
        "lin": (torch.full((half,), -0.5, dtype=torch.float64), math.pi * n),
        "inv": (torch.full((half,), -0.5, dtype=torch.float64), N / math.pi * (N / (2 * n + 1) - 1)),
        "real": (-(n + 1), torch.zeros(half, dtype=torch.float64)),
    }[m["s4d_init"]]
    check(torch.allclose(-torch.exp(s4d.log_A_real), re.expand(H, half), rtol=1e-6),
          f"{p}: Re A is not S4D-{m['s4d_init']}'s")
    check(torch.allclose(s4d.A_imag, im.expand(H, half), rtol=1e-6, atol=1e-5),
          f"{p}: Im A is not S4D-{m['s4d_init']}'s")
    lo, hi = math.log(m["dt_min"]), math.log(m["dt_max"])
    check(bool(((s4d.log_dt >= lo - 1e-5) & (s4d.log_dt <= hi + 1e-5)).all()),
          f"{p}: log dt outside [log dt_min, log dt_max]")


def round_floats(v):
    if isinstance(v, float):
        return float(f"{v:.10g}")
    if isinstance(v, list):
        return [round_floats(x) for x in v]
    if isinstance(v, dict):
        return {k: round_floats(x) for k, x in v.items()}
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", required=True, help="`gradscope inspect init` of a scans spec")
    ap.add_argument("--fixture", required=True, help="write the fixture here")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    with open(args.init) as f:
        dump = json.load(f)
    spec = dump["spec"]["scans"]
    batch = dump["batch"]
    tokens = torch.tensor(batch["tokens"], dtype=torch.long)  # (n, len)
    answers = torch.tensor(batch["answers"], dtype=torch.long)  # (n, k)
    k = batch["answer_len"]
    vocab = len(next(p for p in dump["models"][0]["params"] if p["name"] == "head.bias")["values"])
    check = InitCheck()
    out = []
    for model in dump["models"]:
        name, mixer = model["name"], model["mixer"]
        m = spec["models"][name]
        net = Net(vocab, mixer, m["layers"], m["d_model"], m["d_state"], m["expand"],
                  m["discretization"])
        names = load(net, mixer, model["params"])
        check_init(net, mixer, m, m["layers"], lambda ok, what: check(ok, f"{name}: {what}"))
        logits = net(tokens)  # (n, len, vocab)
        answer_logits = logits[:, -k:, :].reshape(-1, vocab)
        loss = F.cross_entropy(answer_logits, answers.reshape(-1))
        accuracy = (answer_logits.argmax(-1) == answers.reshape(-1)).double().mean()
        loss.backward()
        grads = []
        for pname, (param, view) in names.items():
            g = view(param.grad)
            grads.append({"name": pname, "shape": list(g.shape), "values": g.reshape(-1).tolist()})
        out.append({"name": name, "loss": loss.item(), "accuracy": accuracy.item(),
                    "logits": logits.tolist(), "grads": grads})
        print(f"{name} ({mixer}): loss {loss.item():.6f}, accuracy {accuracy.item():.3f}, "
              f"{sum(p.numel() for p in net.parameters())} parameters")
    if check.failures:
        print("the dump's init does not follow the sources:\n  " + "\n  ".join(check.failures))
        sys.exit(1)
    with open(args.fixture, "w") as f:
        # The outputs to 10 significant digits (float64's last digits would only grow the file);
        # the dump as read, so the test can compare gradscope's init with it exactly.
        json.dump({"init": dump, "models": round_floats(out)}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
