#!/usr/bin/python3
"""Matrix-product throughput of torch on the CPU: C = A B, in GFLOP/s.

A product of an m x k and a k x n matrix counts 2 m k n floating-point operations. For each
shape the script times batches of torch.mm(A, B, out=C) (no allocation inside the timed loop),
repeats that --samples times and prints the median, one line per shape and dtype:

  gemm_gflops=48.4 dtype=float64 m=256 k=256 n=256 threads=1 blas=openblas samples=5 min=47.9 max=49.0

--sizes is a comma list of N (an N x N x N product) or MxKxN. flowmatch's counterpart is
`go test -run '^$' -bench 'BenchmarkMatMul' ./autograd/internal/kernels`.
"""
import argparse
import os
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dtype", default="float64", help="float64, float32 or both")
    p.add_argument("--sizes", default="256,1024", help="comma list of N or MxKxN")
    p.add_argument("--samples", type=int, default=5, help="timed samples per shape; the median is printed")
    p.add_argument("--min-time", type=float, default=0.4, help="seconds per timed sample")
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:])
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402

torch.set_num_threads(ARGS.threads)


def loaded_blas():
    names = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in path and ".so" in path:
                names.add(path)
    if any("openblas" in n for n in names):
        return "openblas"
    return "reference" if names else "unknown"


def shape(spec):
    parts = [int(v) for v in spec.lower().split("x")]
    if len(parts) == 1:
        return parts * 3
    if len(parts) == 3:
        return parts
    sys.exit(f"torch_gemm.py: --sizes: {spec!r} is neither N nor MxKxN")


def gflops(m, k, n, dtype):
    a = torch.randn(m, k, dtype=dtype)
    b = torch.randn(k, n, dtype=dtype)
    c = torch.empty(m, n, dtype=dtype)
    torch.mm(a, b, out=c)  # warm-up
    reps, start = 1, time.perf_counter()
    torch.mm(a, b, out=c)
    one = max(time.perf_counter() - start, 1e-7)
    reps = max(1, int(ARGS.min_time / one))
    rates = []
    for _ in range(ARGS.samples):
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        rates.append(2.0 * m * k * n * reps / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates), min(rates), max(rates)


def main():
    dtypes = {"float64": [torch.float64], "float32": [torch.float32],
              "both": [torch.float64, torch.float32]}.get(ARGS.dtype)
    if dtypes is None:
        sys.exit(f"torch_gemm.py: --dtype {ARGS.dtype!r}: use float64, float32 or both")
    blas = loaded_blas()
    for spec in ARGS.sizes.split(","):
        m, k, n = shape(spec.strip())
        for dt in dtypes:
            med, lo, hi = gflops(m, k, n, dt)
            name = str(dt).replace("torch.", "")
            print(f"gemm_gflops={med:.1f} dtype={name} m={m} k={k} n={n} threads={ARGS.threads} "
                  f"blas={blas} samples={ARGS.samples} min={lo:.1f} max={hi:.1f}", flush=True)


if __name__ == "__main__":
    main()
