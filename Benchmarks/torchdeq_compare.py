#!/usr/bin/env python3
"""Wall time of torchdeq's Broyden solver (in-process) against `deq solve` (whole process).

Optional: nothing in `swift test` needs this script, torch or torchdeq.

For each precision (double, float) the script builds one IFR block (form ifr_code:
R = H + X, F = GN3(ReLU(GN2(conv2(ReLU(GN1(conv1(R))))) + R)), 3x3 convolutions with zero
padding 1, no bias, weight norm on both; GroupNorm 4 groups, eps 1e-5, affine) and one
injection X of [batch, channels, size, size], and solves H* = F(H*; X) from H0 = 0 with
15 Broyden iterations on both sides, the tolerance so small that every iteration runs:

  torchdeq  `torchdeq.solver.broyden.broyden_solver` called in this process (warm, after one
            warm-up call); only the solve is timed, with the weight-norm weights cached.
  deq       `deq solve --weights block.safetensors --input x.npy ...` timed as a user would
            see it: the whole process (start, loading both files, the solve, writing JSON),
            after one warm-up run.

It times the two sides in turn (one torchdeq solve, then one deq process, --repeats times)
and prints the median and minimum for each side, the median time of one F evaluation in
torch, the ratio deq / torchdeq of the medians, and the median of the per-repeat ratios. Before timing it
checks that both sides compute the same F: F(H; X) at a random H from torch against
`deq apply` on the same files (relative error, aborting above 1e-10 in double, 1e-4 in float),
and after timing it prints each RoI's final residual from both solvers.

Usage (from the package root):
  pip install torch torchdeq safetensors numpy
  swift build -c release --product deq
  python3 Benchmarks/torchdeq_compare.py [--repeats 5] [--precisions double,float] [--json out.json]

The problem is drawn in float64 (torch.manual_seed(--seed), PyTorch's default init, then
GroupNorm gamma = 1 + 0.1 N(0,1), beta = 0.1 N(0,1), X ~ N(0,1)) and rounded to float32
for the float run, so both precisions solve the same problem up to rounding.
"""

import argparse
import copy
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version

import numpy as np
import torch
from safetensors.torch import save_file
from torch.nn.utils import parametrize
from torchdeq.solver.broyden import broyden_solver

# The block's PyTorch definition is shared with the fixture exporters in Tools/.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "Tools"))
from ifr_block import IFRBlock, state_dict_with_classic_names  # noqa: E402

GROUPS, GN_EPS = 4, 1e-5
TOLERANCE = {"double": 1e-10, "float": 1e-4}
DTYPES = {"double": torch.float64, "float": torch.float32}


def make_problem(args, dtype):
    """Block and X drawn in float64 from --seed, then cast to dtype."""
    torch.manual_seed(args.seed)
    block = IFRBlock(args.channels, args.inner, GROUPS, GN_EPS, "ifr_code").double()
    with torch.no_grad():
        for gn in (block.gn1, block.gn2, block.gn3):
            gn.weight.copy_(1 + 0.1 * torch.randn_like(gn.weight))
            gn.bias.copy_(0.1 * torch.randn_like(gn.bias))
    x = torch.randn(args.batch, args.channels, args.size, args.size, dtype=torch.float64)
    h_test = 0.5 * torch.randn(args.batch, args.channels, args.size, args.size,
                               dtype=torch.float64)
    block = block.to(dtype).eval()
    return block, x.to(dtype), h_test.to(dtype)


def save_npy(path, tensor):
    array = tensor.detach().numpy()
    np.save(path, np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")))


def run_deq(command):
    """Runs a deq command; returns its wall time. Exit 1 (not converged) is expected."""
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"error: {' '.join(map(str, command))}\nexited {result.returncode}\n"
                 f"{result.stdout}{result.stderr}")
    return elapsed


def summary(times):
    return {"median": statistics.median(times), "min": min(times), "runs": times}


def check_parity(args, precision, block, x, h_test, workdir, common):
    """F(H; X) from torch against `deq apply` on the same files."""
    with torch.no_grad():
        f_torch = block(h_test, x).double().numpy()
    save_npy(workdir / "h.npy", h_test)
    f_path = workdir / "f.npy"
    apply_s = run_deq(
        [args.deq, "apply", *common, "--state", workdir / "h.npy", "--output", f_path])
    f_deq = np.load(f_path).astype(np.float64)
    if f_deq.shape != f_torch.shape:
        sys.exit(f"error: deq apply gave shape {f_deq.shape}, torch {f_torch.shape}")
    error = float(np.linalg.norm(f_deq - f_torch) / np.linalg.norm(f_torch))
    print(f"[{precision}] F parity: ||F_deq - F_torch|| / ||F_torch|| = {error:.3e} "
          f"(limit {TOLERANCE[precision]:.0e}); deq apply took {apply_s:.3f} s (one run)",
          flush=True)
    if block.conv1.parametrizations.weight.original1.dtype != torch.float64:
        # Both sides against the same rounded parameters and inputs evaluated in float64.
        with torch.no_grad():
            reference = copy.deepcopy(block).double()
            f_reference = reference(h_test.double(), x.double()).numpy()
        norm = np.linalg.norm(f_reference)
        print(f"[{precision}]   against float64 on the same rounded data: torch "
              f"{np.linalg.norm(f_torch - f_reference) / norm:.3e}, deq "
              f"{np.linalg.norm(f_deq - f_reference) / norm:.3e}", flush=True)
    if not np.isfinite(error) or error > TOLERANCE[precision]:
        sys.exit(f"error: deq and torch disagree on F in {precision} ({error:.3e} > "
                 f"{TOLERANCE[precision]:.0e}): the two sides would not solve the same problem")
    return error


def deq_command(args, precision, workdir, common):
    output = workdir / f"solve-{precision}.json"
    return output, [args.deq, "solve", *common,
                    "--max-iterations", str(args.iterations), "--memory", str(args.memory),
                    "--tolerance", "1e-300", "--quiet", "--format", "json", "--output", output]


def time_both(args, block, x, h_test, output, command):
    """torchdeq's Broyden in-process and `deq solve` as a whole process, in turn.

    How torchdeq's Broyden (torchdeq 0.1.0) works on this input: it flattens z0 to (B, D)
    (B = batch RoIs, D = C*H*W) and keeps the inverse-Jacobian factors as dense tensors
    Us (B, D, L) and VTs (B, L, D) with L = LBFGS_thres, which defaults to max_iter: the
    history is max_iter-sized (15 pairs here, allocated up front, never wrapped in 15
    iterations). F is evaluated once per iteration on the whole batch tensor (one call, all
    RoIs), and the quasi-Newton updates are batched einsums ('bd,bd->b' etc.), i.e. each RoI
    has its own rank-one updates, so with ls=False the B solves are independent but run in
    lockstep; only the stopping test is coupled (max residual over the batch < tol).
    With tol = 0 and stop_mode 'abs' every one of the max_iter iterations runs (its
    no-progress exit only applies after 30 steps): 1 + max_iter F evaluations, like
    `deq solve` (mapEvaluations = 16 for 15 iterations). It returns the lowest-residual
    iterate; its trace holds the residual at each step (k = 0 is a 1e8 placeholder).

    The two sides are timed in turn, one torchdeq solve then one `deq solve` per repeat, so
    that a slow spell of a shared machine hits both; each pair gives a ratio, and the median
    of those ratios is reported beside the ratio of the medians.
    """
    torch.set_num_threads(args.threads)

    def f(h):
        return block(h, x)

    z0 = torch.zeros_like(x)
    # The weight-norm weights g v / ||v|| are computed once per context, not per F call.
    with torch.no_grad(), parametrize.cached():
        f_times = []
        for _ in range(3):
            f(h_test)
        for _ in range(20):
            start = time.perf_counter()
            f(h_test)
            f_times.append(time.perf_counter() - start)
        f0_residual = (f(z0) - z0).flatten(1).norm(dim=1)

        def solve():
            return broyden_solver(f, z0, max_iter=args.iterations, tol=0.0,
                                  stop_mode="abs", ls=False)

        solve()  # warm-up
        run_deq(command)  # warm-up
        torch_times, deq_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            _, _, info = solve()
            torch_times.append(time.perf_counter() - start)
            deq_times.append(run_deq(command))
    abs_trace = info["abs_trace"]
    assert abs_trace.shape[1] == args.iterations + 1, abs_trace.shape
    torch_result = {
        "solve_s": summary(torch_times),
        "f_ms": 1e3 * statistics.median(f_times),
        "initial_residual": f0_residual.tolist(),
        "final_residual": abs_trace[:, -1].tolist(),
        "lowest_residual": info["abs_lowest"].tolist(),
    }
    with open(output) as handle:
        report = json.load(handle)
    problems = report.get("problems")
    if not isinstance(problems, list) or not problems or "trace" not in problems[0]:
        sys.exit(f"error: unexpected JSON from deq solve; top-level keys: {sorted(report)}")
    deq_result = {
        "solve_s": summary(deq_times),
        "command": " ".join(map(str, command)),
        "iterations": [p.get("iterations") for p in problems],
        "map_evaluations": [p.get("mapEvaluations") for p in problems],
        "initial_residual": [p["trace"][0]["absoluteResidual"] for p in problems],
        "final_residual": [p["trace"][-1]["absoluteResidual"] for p in problems],
        "lowest_residual": [min(t["absoluteResidual"] for t in p["trace"]) for p in problems],
    }
    paired = statistics.median(d / t for d, t in zip(deq_times, torch_times))
    return torch_result, deq_result, paired


def busy_cpus(seconds=1.0):
    """CPUs kept busy by other processes over the next `seconds` (from /proc/stat; the load
    average lags by minutes after a build). None where /proc/stat is missing."""
    def sample():
        with open("/proc/stat") as handle:
            fields = [float(v) for v in handle.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / (total1 - total0))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deq", type=pathlib.Path, default=root / ".build/release/deq")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--inner", type=int, default=None,
                        help="inner width of the block (default: --channels, as deq's)")
    parser.add_argument("--size", type=int, default=14)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--memory", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precisions", default="double,float")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=pathlib.Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=pathlib.Path, default=None,
                        help="also write the figures to this JSON file")
    args = parser.parse_args()
    args.inner = args.inner or args.channels
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    for precision in precisions:
        if precision not in DTYPES:
            parser.error(f"unknown precision {precision!r} (double, float)")
    if not args.deq.is_file():
        sys.exit(f"error: no deq binary at {args.deq}: run `swift build -c release --product deq`"
                 " in the package root, or pass --deq")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    temporary = None
    if args.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="torchdeq-compare-")
        args.workdir = pathlib.Path(temporary.name)
    args.workdir.mkdir(parents=True, exist_ok=True)

    environment = {
        "torch": torch.__version__, "torchdeq": version("torchdeq"), "numpy": np.__version__,
        "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "torch_mkldnn": torch.backends.mkldnn.is_available(),
        "cpu": cpu_model(), "cpus": os.cpu_count(), "threads": args.threads,
        "python": platform.python_version(), "busy_cpus_before": busy_cpus(),
    }
    problem = {"batch": args.batch, "channels": args.channels, "inner": args.inner,
               "size": args.size, "iterations": args.iterations, "memory": args.memory,
               "seed": args.seed, "repeats": args.repeats, "deq": str(args.deq)}
    print("problem:", problem, flush=True)
    busy = environment["busy_cpus_before"]
    if busy is not None and busy > 0.2:
        print(f"warning: other processes kept {busy:.2f} of {os.cpu_count()} CPUs busy just "
              "before the run: they compete for the cores and the timings will be noisy",
              flush=True)

    results = {}
    for precision in precisions:
        dtype = DTYPES[precision]
        block, x, h_test = make_problem(args, dtype)
        workdir = args.workdir / precision
        workdir.mkdir(parents=True, exist_ok=True)
        save_file(state_dict_with_classic_names(block), str(workdir / "block.safetensors"),
                  metadata={"groups": str(GROUPS), "gn_eps": str(GN_EPS), "form": "ifr_code"})
        save_npy(workdir / "x.npy", x)
        common = ["--weights", workdir / "block.safetensors", "--input", workdir / "x.npy",
                  "--precision", precision, "--threads", str(args.threads)]

        parity = check_parity(args, precision, block, x, h_test, workdir, common)
        output, command = deq_command(args, precision, workdir, common)
        torch_result, deq_result, paired = time_both(args, block, x, h_test, output, command)
        ratio = deq_result["solve_s"]["median"] / torch_result["solve_s"]["median"]
        results[precision] = {"f_parity_relative_error": parity, "torchdeq": torch_result,
                              "deq": deq_result, "ratio_deq_over_torchdeq": ratio,
                              "median_paired_ratio": paired}

        print(f"[{precision}] residual ||F(H)-H|| per RoI (initial -> after "
              f"{args.iterations} iterations; lowest)")
        for roi in range(args.batch):
            print(f"  RoI {roi}: torchdeq {torch_result['initial_residual'][roi]:.3e} -> "
                  f"{torch_result['final_residual'][roi]:.3e} "
                  f"({torch_result['lowest_residual'][roi]:.3e}); "
                  f"deq {deq_result['initial_residual'][roi]:.3e} -> "
                  f"{deq_result['final_residual'][roi]:.3e} "
                  f"({deq_result['lowest_residual'][roi]:.3e})")
        print(f"  deq map evaluations per RoI: {deq_result['map_evaluations']}", flush=True)

    print()
    print(f"torch {environment['torch']} ({environment['torch_blas']}, oneDNN "
          f"{'on' if environment['torch_mkldnn'] else 'off'}), torchdeq "
          f"{environment['torchdeq']}, numpy {environment['numpy']}; CPU {environment['cpu']} "
          f"({environment['cpus']} logical); {args.threads} threads each side "
          f"(torch.get_num_threads() = {torch.get_num_threads()}); busy CPUs before "
          f"{'n/a' if busy is None else format(busy, '.2f')}")
    print(f"{args.batch} RoIs x {args.channels} x {args.size} x {args.size}, inner "
          f"{args.inner}, Broyden {args.iterations} iterations (memory {args.memory}), "
          f"median (min) of {args.repeats}, the sides timed in turn; torchdeq in-process, deq "
          "whole process; paired: the median of the per-repeat ratios")
    header = (f"{'precision':<10}{'torchdeq s':>18}{'torch F ms':>12}"
              f"{'deq s':>18}{'deq/torchdeq':>14}{'paired':>9}")
    print(header)
    print("-" * len(header))
    for precision, r in results.items():
        t, d = r["torchdeq"]["solve_s"], r["deq"]["solve_s"]
        t_text = f"{t['median']:.3f} ({t['min']:.3f})"
        d_text = f"{d['median']:.3f} ({d['min']:.3f})"
        print(f"{precision:<10}{t_text:>18}{r['torchdeq']['f_ms']:>12.1f}{d_text:>18}"
              f"{r['ratio_deq_over_torchdeq']:>14.2f}{r['median_paired_ratio']:>9.2f}")

    if args.json is not None:
        with open(args.json, "w") as handle:
            json.dump({"environment": environment, "problem": problem, "results": results},
                      handle, indent=1)
            handle.write("\n")
        print("wrote", args.json)
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
