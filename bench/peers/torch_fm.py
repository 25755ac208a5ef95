#!/usr/bin/python3
"""The flow-matching workload of `flowmatch bench`, written in plain PyTorch (CPU).

This is the peer that flowmatch's speed is compared with (scripts/bench-vs-torch,
docs/PERFORMANCE.md). It defines the workload; `flowmatch bench` runs the same one.

Workload
  data x1    8gaussians, the toy set of FFJORD (Grathwohl et al. 2018, arXiv:1810.01367):
               k ~ U{0,...,7}, c_k = 4 (cos(pi k/4), sin(pi k/4)), e ~ N(0, I_2),
               x1 = (c_k + 0.5 e) / sqrt(2)
             drawn once into a pool of 2^17 points (numpy, seed --seed); batches are drawn
             from the pool with replacement. --data moons instead draws the two moons of
             scikit-learn's make_moons with noise 0.05, scaled by 2 and centred:
               h ~ U{0,1}, a ~ U[0, pi], p = (cos a, sin a) if h = 0 else (1 - cos a, 1/2 - sin a),
               x1 = 2 (p + 0.05 e) - (1, 1/4)
             (flowmatch's "moons-peer" data set).
  noise x0   N(0, I_2).
  path       conditional optimal transport (Lipman et al. 2022, arXiv:2210.02747, eqs. 20-23):
               x_t = (1 - (1 - s) t) x0 + t x1,   u_t = x1 - (1 - s) x0,   s = sigma_min = 1e-4
             with t ~ U[0, 1].
  loss       CFM loss (eq. 9 with eq. 23): mean over the batch of sum_d (v_theta(t, x_t) - u_t)_d^2.
  model      v_theta: MLP on (x, t) in R^3, 3 -> 256 -> 256 -> 256 -> 2, SiLU between layers
             (--act tanh for tanh),
             torch.nn.Linear's default initialisation, biases everywhere.
  optimiser  Adam, learning rate 1e-3, betas (0.9, 0.999), eps 1e-8.
  precision  float64 (--dtype float32 exists for curiosity; flowmatch is float64 only).
  threads    1 (--threads): OMP/OpenBLAS/MKL variables are set before torch is imported.
  sampling   x(0) ~ N(0, I); dx/dt = v_theta(t, x) from t = 0 to 1 with --ode-steps fixed
             steps of --solver (euler, midpoint or rk4), under torch.no_grad().
  log-lik    exact: integrate (x, a) backwards from t = 1 to t = 0 with
               dx/dt = v_theta(t, x),  da/dt = -div v_theta(t, x),  a(1) = 0,
             div = dv_1/dx_1 + dv_2/dx_2 from two input-gradient passes (parameters frozen);
               log p_1(x1) = log N(x(0); 0, I) - a(0)
             (instantaneous change of variables, Chen et al. 2018, arXiv:1806.07366, Thm. 1).

Conditional MNIST case (--what train-cond), the training step of `flowmatch demo -data mnist14`
  data x1    random images of MNIST14's shape, x1 in [-1, 1]^196 (uniform; no dataset is downloaded:
             the step's cost does not depend on the pixel values), in a pool of 2^14 images, each
             with a label y ~ U{0,...,9}; batches drawn with replacement.
  dropout    classifier-free guidance's label dropout (Ho & Salimans 2022, arXiv:2207.12598):
             each label is replaced by the null label 10 with probability --cond-drop (0.1).
  context    the one-hot row of the label, width 11 (ten classes and the null label last).
             flowmatch's conditional velocity MLP reads (x, t, onehot(y)) in its first layer,
             so the label's embedding table is the 11 columns of the first weight matrix that
             the one-hot row selects: the same function as an nn.Embedding(11, 512) added to the
             first layer's pre-activation, and the layout timed here.
  path       CondOT with sigma_min = 0 (--sigma-min-cond): x_t = (1 - t) x0 + t x1, u_t = x1 - x0.
  model      (x, t, onehot(y)) in R^(196+1+11) -> 512 -> 512 -> 512 -> 196, SiLU, biases
             (--cond-hidden for the width).
  training   batch 128 (--batch, when given, overrides it), Adam 1e-3, float64, --threads 1;
             20 untimed steps, then as many as fit in --min-time seconds.
  output     train_cond_steps_per_s=... batch=128 steps=... elapsed_s=... loss=... dim=196 ctx=11 ...

Output: one metric a line, first token key=value, then context tokens, e.g.
  train_steps_per_s=228.0 batch=256 steps=460 elapsed_s=2.017 loss=5.81 dtype=float64 threads=1 ...
  train_cond_steps_per_s=35.2 batch=128 steps=71 elapsed_s=2.017 loss=0.66 dim=196 ctx=11 ...
  sample_points_per_s=1880.3 points=10000 ode_steps=100 solver=euler ...
  loglik_points_per_s=542.4 points=1000 ode_steps=100 solver=euler mean_loglik=-3.1 ...
Lines starting with '#' are comments.
"""
import argparse
import math
import os
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--what", default="train,sample,loglik",
                   help="comma list of train, sample, loglik, train-cond (conditional MNIST14, not in the default)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch and its BLAS")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--batch", type=int, default=None,
                   help="training batch size (default 256; 128 for train-cond)")
    p.add_argument("--data", default="8gaussians", choices=["8gaussians", "moons"])
    p.add_argument("--act", default="silu", choices=["silu", "tanh"])
    p.add_argument("--hidden", type=int, default=256, help="width of the three hidden layers")
    p.add_argument("--sigma-min", type=float, default=1e-4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--warmup-steps", type=int, default=20, help="untimed training steps first")
    p.add_argument("--min-time", type=float, default=2.0, help="seconds of timed training")
    p.add_argument("--sample-points", type=int, default=10000)
    p.add_argument("--loglik-points", type=int, default=1000)
    p.add_argument("--ode-steps", type=int, default=100)
    p.add_argument("--solver", default="euler", choices=["euler", "midpoint", "rk4"],
                   help="fixed-step solver for sampling")
    p.add_argument("--cond-hidden", type=int, default=512, help="train-cond: width of the three hidden layers")
    p.add_argument("--cond-drop", type=float, default=0.1, help="train-cond: label dropout probability")
    p.add_argument("--sigma-min-cond", type=float, default=0.0, help="train-cond: sigma_min of CondOT")
    p.add_argument("--loglik-solver", default="euler", choices=["euler", "midpoint", "rk4"])
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:])
# The BLAS reads these when it is loaded, so they must be set before `import torch`.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(ARGS.threads)
torch.manual_seed(ARGS.seed)
DTYPE = torch.float64 if ARGS.dtype == "float64" else torch.float32


def loaded_blas():
    """Which BLAS this process mapped: Debian's torch uses whatever libblas.so.3 resolves to."""
    names = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path and ".so" in path:
                names.add(path)
    if any("openblas" in n for n in names):
        return "openblas"
    return "reference" if names else "unknown"


def eight_gaussians(n, rng):
    """n points of FFJORD's 8gaussians (see the module docstring)."""
    k = rng.integers(0, 8, size=n)
    centres = 4.0 * np.column_stack([np.cos(np.pi * k / 4), np.sin(np.pi * k / 4)])
    return (centres + 0.5 * rng.standard_normal((n, 2))) / math.sqrt(2.0)


def moons(n, rng):
    """n points of the scaled two moons (see the module docstring)."""
    inner = rng.integers(0, 2, size=n)[:, None] == 1
    a = rng.uniform(0.0, math.pi, size=n)
    outer_pts = np.column_stack([np.cos(a), np.sin(a)])
    inner_pts = np.column_stack([1.0 - np.cos(a), 0.5 - np.sin(a)])
    p = np.where(inner, inner_pts, outer_pts)
    return 2.0 * (p + 0.05 * rng.standard_normal((n, 2))) - np.array([1.0, 0.25])


DATA = {"8gaussians": eight_gaussians, "moons": moons}


def mlp(hidden, act):
    """v_theta: R^3 -> R^2, input (x_1, x_2, t)."""
    layers, width = [], 3
    for _ in range(3):
        layers += [torch.nn.Linear(width, hidden), torch.nn.SiLU() if act == "silu" else torch.nn.Tanh()]
        width = hidden
    layers.append(torch.nn.Linear(width, 2))
    return torch.nn.Sequential(*layers).to(DTYPE)


def field(net, t, x):
    """v_theta(t, x) for a scalar t and a batch x of shape [n, 2]."""
    tt = torch.full((x.shape[0], 1), float(t), dtype=DTYPE)
    return net(torch.cat([x, tt], dim=1))


def step(f, t, y, h, solver):
    """One fixed step of size h (negative to go backwards) of dy/dt = f(t, y)."""
    if solver == "euler":
        return y + h * f(t, y)
    if solver == "midpoint":
        return y + h * f(t + h / 2, y + (h / 2) * f(t, y))
    k1 = f(t, y)
    k2 = f(t + h / 2, y + (h / 2) * k1)
    k3 = f(t + h / 2, y + (h / 2) * k2)
    k4 = f(t + h, y + h * k3)
    return y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)


class Workload:
    def __init__(self, args):
        self.args = args
        draw = DATA[args.data]
        self.pool = torch.from_numpy(draw(1 << 17, np.random.default_rng(args.seed))).to(DTYPE)
        self.held_out = torch.from_numpy(
            draw(max(args.loglik_points, 16), np.random.default_rng(args.seed + 1))).to(DTYPE)
        self.net = mlp(args.hidden, args.act)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)

    def train_step(self, batch):
        s = self.args.sigma_min
        x1 = self.pool[torch.randint(0, self.pool.shape[0], (batch,))]
        x0 = torch.randn(batch, 2, dtype=DTYPE)
        t = torch.rand(batch, 1, dtype=DTYPE)
        xt = (1 - (1 - s) * t) * x0 + t * x1
        ut = x1 - (1 - s) * x0
        v = self.net(torch.cat([xt, t], dim=1))
        loss = (v - ut).pow(2).sum(dim=1).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss)

    @torch.no_grad()
    def sample(self, n, steps, solver):
        x = torch.randn(n, 2, dtype=DTYPE)
        h = 1.0 / steps
        for i in range(steps):
            x = step(lambda t, y: field(self.net, t, y), i * h, x, h, solver)
        return x

    def log_likelihood(self, x1, steps, solver):
        for p in self.net.parameters():
            p.requires_grad_(False)

        def augmented(t, y):
            with torch.enable_grad():
                x = y[:, :2].detach().requires_grad_(True)
                v = field(self.net, t, x)
                d1 = torch.autograd.grad(v[:, 0].sum(), x, retain_graph=True)[0][:, 0]
                d2 = torch.autograd.grad(v[:, 1].sum(), x)[0][:, 1]
            return torch.cat([v.detach(), -(d1 + d2).detach()[:, None]], dim=1)

        y = torch.cat([x1, torch.zeros(x1.shape[0], 1, dtype=DTYPE)], dim=1)
        h = -1.0 / steps
        for i in range(steps):
            y = step(augmented, 1.0 + i * h, y, h, solver)
        for p in self.net.parameters():
            p.requires_grad_(True)
        x0, a0 = y[:, :2], y[:, 2]
        return -0.5 * x0.pow(2).sum(dim=1) - math.log(2 * math.pi) - a0


MNIST14_DIM, CLASSES = 196, 10  # 14x14 pixels; the null label is CLASSES, so the context is 11 wide


class CondWorkload:
    """The conditional MNIST14 training step (see "Conditional MNIST case" in the docstring)."""

    def __init__(self, args):
        self.args = args
        g = torch.Generator().manual_seed(args.seed)
        self.pool = (2 * torch.rand(1 << 14, MNIST14_DIM, generator=g, dtype=DTYPE) - 1)
        self.labels = torch.randint(0, CLASSES, (1 << 14,), generator=g)
        h, layers, width = args.cond_hidden, [], MNIST14_DIM + 1 + (CLASSES + 1)  # (x, t, onehot)
        for _ in range(3):
            layers += [torch.nn.Linear(width, h), torch.nn.SiLU()]
            width = h
        layers.append(torch.nn.Linear(width, MNIST14_DIM))
        self.net = torch.nn.Sequential(*layers).to(DTYPE)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)

    def train_step(self, batch):
        s = self.args.sigma_min_cond
        idx = torch.randint(0, self.pool.shape[0], (batch,))
        x1, y = self.pool[idx], self.labels[idx]
        y = torch.where(torch.rand(batch) < self.args.cond_drop, torch.full_like(y, CLASSES), y)
        c = torch.nn.functional.one_hot(y, CLASSES + 1).to(DTYPE)
        x0 = torch.randn(batch, MNIST14_DIM, dtype=DTYPE)
        t = torch.rand(batch, 1, dtype=DTYPE)
        xt = (1 - (1 - s) * t) * x0 + t * x1
        ut = x1 - (1 - s) * x0
        v = self.net(torch.cat([xt, t, c], dim=1))
        loss = (v - ut).pow(2).sum(dim=1).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss)


def main():
    a = ARGS
    context = (f"dtype={a.dtype} threads={a.threads} blas={loaded_blas()} torch={torch.__version__} "
               f"data={a.data} act={a.act} impl=torch")
    print(f"# {' '.join(sys.argv[1:])} | torch threads {torch.get_num_threads()} | "
          f"loadavg {open('/proc/loadavg').read().split()[0]}", flush=True)
    what = [w.strip() for w in a.what.split(",") if w.strip()]
    unknown = set(what) - {"train", "sample", "loglik", "train-cond"}
    if unknown:
        sys.exit(f"torch_fm.py: --what: unknown {sorted(unknown)}; use train, sample, loglik, train-cond")
    if "train-cond" in what:
        batch = a.batch or 128
        cw = CondWorkload(a)
        for _ in range(a.warmup_steps):
            cw.train_step(batch)
        n, loss, start = 0, float("nan"), time.perf_counter()
        while time.perf_counter() - start < a.min_time:
            loss = cw.train_step(batch)
            n += 1
        el = time.perf_counter() - start
        print(f"train_cond_steps_per_s={n / el:.2f} batch={batch} steps={n} elapsed_s={el:.3f} loss={loss:.4f} "
              f"dim={MNIST14_DIM} ctx={CLASSES + 1} hidden={a.cond_hidden} cond_drop={a.cond_drop} "
              f"dtype={a.dtype} threads={a.threads} blas={loaded_blas()} torch={torch.__version__} "
              f"data=mnist14-shape act=silu impl=torch", flush=True)
        what.remove("train-cond")
        if not what:
            return
    a.batch = a.batch or 256
    w = Workload(a)
    for _ in range(a.warmup_steps):  # also moves the model away from its initialisation
        w.train_step(a.batch)
    if "train" in what:
        n, loss, start = 0, float("nan"), time.perf_counter()
        while time.perf_counter() - start < a.min_time:
            loss = w.train_step(a.batch)
            n += 1
        el = time.perf_counter() - start
        print(f"train_steps_per_s={n / el:.2f} batch={a.batch} steps={n} elapsed_s={el:.3f} "
              f"loss={loss:.4f} {context}", flush=True)
    if "sample" in what:
        w.sample(100, 2, a.solver)  # warm-up
        start = time.perf_counter()
        w.sample(a.sample_points, a.ode_steps, a.solver)
        el = time.perf_counter() - start
        print(f"sample_points_per_s={a.sample_points / el:.1f} points={a.sample_points} "
              f"ode_steps={a.ode_steps} solver={a.solver} elapsed_s={el:.3f} {context}", flush=True)
    if "loglik" in what:
        w.log_likelihood(w.held_out[:16], 2, a.loglik_solver)  # warm-up
        x1 = w.held_out[:a.loglik_points]
        start = time.perf_counter()
        lp = w.log_likelihood(x1, a.ode_steps, a.loglik_solver)
        el = time.perf_counter() - start
        print(f"loglik_points_per_s={a.loglik_points / el:.1f} points={a.loglik_points} "
              f"ode_steps={a.ode_steps} solver={a.loglik_solver} elapsed_s={el:.3f} "
              f"mean_loglik={float(lp.mean()):.4f} {context}", flush=True)


if __name__ == "__main__":
    main()
