#!/usr/bin/python3
"""The U-Net training step of flowmatch's nn.UNet, written in plain PyTorch (CPU).

The peer of `go test -run X -bench UNetStep/mnist14 ./nn` (BenchmarkUNetStep): the same network,
loss and optimiser, so that the two can be timed alternately on one machine and their ratio quoted.

Workload
  data       random images of MNIST14's shape, x_t ~ N(0, 1)^(1x14x14) and a target u ~ N(0, 1)
             of the same shape, t ~ U[0, 1], labels y ~ U{0,...,10} as one-hot rows of width 11
             (ten digits, the null label last); one fixed batch (the step's cost does not depend
             on the values).
  model      flowmatch's nn.UNet with C = 1, H = W = 14, Ch = 32, Groups = 8, Emb = 64, Ctx = 11
             (212,993 parameters in both):
               e  = SiLU(Linear(SiLU(Linear(sin-cos(1000 t)))) + Linear(onehot(y)))
               h0 = Conv3x3(x)                           1 -> 32, 14x14
               h1 = Res(h0, e)                           32 -> 32
               h2 = Res(Res(AvgPool2(h1), e), e)         32 -> 64 -> 64, 7x7
               h3 = Res(cat(Upsample2(h2), h1), e)       96 -> 32, 14x14
               v  = Conv3x3(SiLU(GroupNorm(h3)))         32 -> 1
             Res(x, e) = Conv2(SiLU(GN2(Conv1(SiLU(GN1(x))) + Linear(e) per channel))) + Skip(x),
             Skip a 1x1 convolution when the channel counts differ; GroupNorm eps 1e-5;
             sin-cos the embedding (sin(t w_k), cos(t w_k)), w_k = 10000^(-k/32), k < 32.
  loss       mean over all values of (v_theta(t, x_t, y) - u)^2.
  optimiser  Adam, learning rate 1e-3.
  precision  float64; 1 thread (set before torch is imported).
  timing     2 untimed steps, then --steps timed steps; CPU time (time.process_time) and wall time.

Output: one line, `train_unet_cpu_ms_per_step=... wall_ms_per_step=... batch=... side=... torch=...`.

Run (Debian 12, python3-torch; point torch at OpenBLAS as for torch_fm.py):
    env LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/peers/torch_unet.py
"""
import argparse
import os

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"

import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def sinemb(t, dim, maxp=10000.0):
    h = dim // 2
    w = maxp ** (-torch.arange(h, dtype=torch.float64) / h)
    a = t[:, None] * w[None]
    return torch.cat([a.sin(), a.cos()], 1)


class Res(nn.Module):
    def __init__(self, cin, cout, e, g):
        super().__init__()
        self.n1, self.c1, self.emb = nn.GroupNorm(g, cin), nn.Conv2d(cin, cout, 3, padding=1), nn.Linear(e, cout)
        self.n2, self.c2 = nn.GroupNorm(g, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, e):
        h = self.c1(F.silu(self.n1(x))) + self.emb(e)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class UNet(nn.Module):
    def __init__(self, c=1, ch=32, g=8, e=64, ctx=11):
        super().__init__()
        self.e = e
        self.t0, self.t1, self.ctx = nn.Linear(e, e), nn.Linear(e, e), nn.Linear(ctx, e)
        self.inp = nn.Conv2d(c, ch, 3, padding=1)
        self.down = Res(ch, ch, e, g)
        self.mid0, self.mid1 = Res(ch, 2 * ch, e, g), Res(2 * ch, 2 * ch, e, g)
        self.up = Res(3 * ch, ch, e, g)
        self.nout, self.out = nn.GroupNorm(g, ch), nn.Conv2d(ch, c, 3, padding=1)

    def forward(self, t, x, c):
        e = F.silu(self.t1(F.silu(self.t0(sinemb(1000 * t, self.e)))) + self.ctx(c))
        h1 = self.down(self.inp(x), e)
        h2 = self.mid1(self.mid0(F.avg_pool2d(h1, 2), e), e)
        h3 = self.up(torch.cat([F.interpolate(h2, scale_factor=2, mode="nearest"), h1], 1), e)
        return self.out(F.silu(self.nout(h3)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--side", type=int, default=14, help="image side (14 for mnist14, 28 for mnist)")
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(a.seed)
    m = UNet()
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    n, s = a.batch, a.side
    x, u, t = torch.randn(n, 1, s, s), torch.randn(n, 1, s, s), torch.rand(n)
    c = F.one_hot(torch.randint(0, 11, (n,)), 11).double()

    def step():
        opt.zero_grad()
        loss = ((m(t, x, c) - u) ** 2).mean()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(a.steps):
        step()
    cpu, wall = (time.process_time() - c0) / a.steps, (time.perf_counter() - w0) / a.steps
    print(f"train_unet_cpu_ms_per_step={cpu * 1e3:.0f} wall_ms_per_step={wall * 1e3:.0f} batch={n} side={s} "
          f"params={sum(p.numel() for p in m.parameters())} torch={torch.__version__}")


if __name__ == "__main__":
    main()
