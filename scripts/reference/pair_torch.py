"""The PAIR explorable's tiny MLP (PAIR-code/ai-explorables server-side/grokking/
MLP_Modular_Addition.ipynb) re-written in PyTorch, float64, as an independent check of the
`pair-tiny-mlp` preset: pairs a <= b mod 67, 40% train (numpy permutation, seed 165), a tied
[67, 500] embedding that is also the unembedding, one shared 500 -> 24 ReLU layer, 24 -> 500
readout, Haiku init (VarianceScaling(2) embedding, TruncatedNormal(1/sqrt(fan_in)) layers),
-mean(one_hot * log_softmax) (cross-entropy / 67), AdamW lr 1e-3 wd 1 b (0.9, 0.98), full batch.

    python pair_torch.py [seed=165] [steps=50001] [decay the embedding: 1|0]

Prints accuracy and weight norm every 1000 steps. Here (seed 165): ||w|| 37.6 -> 49 at 1k,
test accuracy 0.06 at 20k, 0.59 at 37k, 0.95 at 39k (the notebook: 0.58 at 39k, 1.0 at 41.7k).
"""
import math
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
dtype = torch.float64
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 165
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50001
wd_embed = (sys.argv[3] if len(sys.argv) > 3 else "1") == "1"
p, E, H = 67, 500, 24
nums = range(p)
inputs = np.array([[a, b] for a in nums for b in nums if a <= b])
outputs = (inputs[:, 0] + inputs[:, 1]) % p
np.random.seed(seed)
idx = np.random.permutation(len(inputs))
k = int(0.4 * len(inputs))
tr, te = idx[:k], idx[k:]
g = torch.Generator().manual_seed(seed)
def tn(shape, std):
    x = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.trunc_normal_(x, 0, 1, -2, 2, generator=g)
    return (x * std).to(dtype)
embed = tn((p, E), math.sqrt(2 / p) / .87962566103423978).requires_grad_()
hid = tn((E, H), 1 / math.sqrt(E)).requires_grad_()
out = tn((H, E), 1 / math.sqrt(H)).requires_grad_()
params = [embed, hid, out]
print("init norm", math.sqrt(sum((q.detach()**2).sum().item() for q in params)))
groups = [{"params": [hid, out], "weight_decay": 1.0}, {"params": [embed], "weight_decay": 1.0 if wd_embed else 0.0}]
opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.98), eps=1e-8)
ia, ib = torch.tensor(inputs[:, 0]), torch.tensor(inputs[:, 1])
y = torch.tensor(outputs)
def fwd(sel):
    h = torch.relu(embed[ia[sel]] @ hid + embed[ib[sel]] @ hid)
    return (h @ out) @ embed.T
trs, tes = torch.tensor(tr), torch.tensor(te)
t0 = time.time()
for s in range(steps):
    logits = fwd(trs)
    loss = -(torch.nn.functional.one_hot(y[trs], p) * torch.log_softmax(logits, -1)).mean()
    if s % 1000 == 0:
        with torch.no_grad():
            tl = fwd(tes)
            tacc = (tl.argmax(-1) == y[tes]).double().mean().item()
            acc = (logits.argmax(-1) == y[trs]).double().mean().item()
            n = math.sqrt(sum((q**2).sum().item() for q in params))
        print(f"{s} loss {loss.item():.3e} train {acc:.4f} test {tacc:.4f} norm {n:.2f} t {time.time()-t0:.0f}s", flush=True)
    opt.zero_grad()
    loss.backward()
    opt.step()
