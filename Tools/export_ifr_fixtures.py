#!/usr/bin/env python3
"""Export the package's own PyTorch fixtures for the IFR block and the Broyden solver.

Writes `Tests/IFRHeadTests/Fixtures/pytorch-seed11/` (read by
`Tests/IFRHeadTests/PyTorchFixtureTests.swift` through `Bundle.module`), so that a clone
without `../shared/reference` still checks the block and the Broyden solver against
PyTorch and torchdeq, on a problem of its own:

  N = 3 RoIs, C = 12 channels, inner width 16, H x W = 5 x 7, GroupNorm 4 groups, eps 1e-5,
  float64, seed 11, weight-normalised conv1/conv2 (g perturbed away from ||v||), perturbed
  GroupNorm affine parameters.

The block is the released IFR block, with R = H + X and
g(R) = GN2(conv2(ReLU(GN1(conv1(R))))):
  ifr_code: F = GN3(ReLU(g(R) + R))
  xshort:   F = g(R) + X
  eq5:      F = g(R) + R      (no fixed point for a generic X: only F is exported)
convolutions are 3x3 cross-correlations, zero padding 1, no bias.

The Broyden traces come from torchdeq's own `torchdeq.solver.broyden.broyden_solver`
(torchdeq 0.1.0, imported, not reimplemented): one solve per RoI (batch of one), H0 = 0,
15 steps, no line search, tol = 0 so that all 15 steps run. k = 0 is the residual at H0
(torchdeq's trace starts with a 1e8 placeholder there); k = 1 ... 15 are torchdeq's
`abs_trace` / `rel_trace`, cross-checked against the residuals recomputed from the map
evaluations the solver made.

Usage (from the package root):
  pip install torch torchdeq safetensors numpy
  python3 Tools/export_ifr_fixtures.py [--out DIR]

Versions used for the committed files: see `meta` in `reference.json`.
"""

import argparse
import json
import pathlib

import numpy as np
import safetensors
import torch
import torchdeq
from importlib.metadata import version
from safetensors.torch import save_file
from torchdeq.solver.broyden import broyden_solver

from ifr_block import FORMS, perturbed_block, state_dict_with_classic_names

SEED = 11
N, C, INNER, HEIGHT, WIDTH = 3, 12, 16, 5, 7
GROUPS, GN_EPS = 4, 1e-5
SOLVED_FORMS = ("ifr_code", "xshort")
BROYDEN_STEPS = 15
PLAIN_STEPS = 3000


def make_block():
    """PyTorch's default init, then g and the GroupNorm affine maps perturbed."""
    return perturbed_block(C, INNER, GROUPS, GN_EPS, gamma_noise=0.25)


def save_npy(directory, name, tensor):
    np.save(directory / name, np.ascontiguousarray(tensor.detach().numpy(), dtype="<f8"))


def residuals(f_of_h, h):
    absolute = (f_of_h - h).norm().item()
    return absolute, absolute / (f_of_h.norm().item() + 1e-9)


def broyden_trace(block, x_roi):
    """torchdeq's Broyden from H0 = 0 on one RoI (batch of one)."""
    evaluations = []

    def func(h):
        with torch.no_grad():
            f = block(h, x_roi)
        evaluations.append((h.detach().clone(), f.detach().clone()))
        return f

    h0 = torch.zeros_like(x_roi)
    with torch.no_grad():
        _, _, info = broyden_solver(
            func, h0, max_iter=BROYDEN_STEPS, tol=0.0, stop_mode="abs", ls=False)
    abs_trace = info["abs_trace"][0].tolist()
    rel_trace = info["rel_trace"][0].tolist()
    assert len(abs_trace) == BROYDEN_STEPS + 1 and len(evaluations) == BROYDEN_STEPS + 1
    recomputed = [residuals(f, h) for h, f in evaluations]
    abs_trace[0], rel_trace[0] = recomputed[0]  # torchdeq stores a 1e8 placeholder at k = 0
    for k in range(1, BROYDEN_STEPS + 1):
        assert abs(abs_trace[k] - recomputed[k][0]) <= 1e-13 * recomputed[k][0], k
        assert abs(rel_trace[k] - recomputed[k][1]) <= 1e-13 * recomputed[k][1], k
    assert all(np.isfinite(abs_trace)) and all(np.isfinite(rel_trace))
    return abs_trace, rel_trace


def spectral_radius(block, h_roi, x_roi):
    """Exact spectral radius of dF/dH for one RoI: dense autograd Jacobian, NumPy eigvals."""
    shape = h_roi.shape
    jacobian = torch.autograd.functional.jacobian(
        lambda h: block(h.view(shape), x_roi).reshape(-1), h_roi.reshape(-1).clone())
    return float(np.max(np.abs(np.linalg.eigvals(jacobian.numpy()))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--out", type=pathlib.Path,
        default=root / "Tests/IFRHeadTests/Fixtures/pytorch-seed11")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    block = make_block()
    x = torch.randn(N, C, HEIGHT, WIDTH)
    h_test = 0.5 * torch.randn(N, C, HEIGHT, WIDTH)

    save_file(
        state_dict_with_classic_names(block), str(args.out / "block.safetensors"),
        metadata={"groups": str(GROUPS), "gn_eps": str(GN_EPS), "form": "ifr_code"})
    save_npy(args.out, "x.npy", x)
    save_npy(args.out, "h_test.npy", h_test)

    forms = {}
    for form in FORMS:
        block.form = form
        with torch.no_grad():
            save_npy(args.out, f"f_{form}_h_test.npy", block(h_test, x))
            save_npy(args.out, f"f_{form}_zeros.npy", block(torch.zeros_like(x), x))
        if form not in SOLVED_FORMS:
            continue
        abs_traces, rel_traces, h_star_norms, h_star_residuals = [], [], [], []
        spectral = {}
        for roi in range(N):
            x_roi = x[roi:roi + 1]
            abs_trace, rel_trace = broyden_trace(block, x_roi)
            abs_traces.append(abs_trace)
            rel_traces.append(rel_trace)
            # The equilibrium by plain steps from H = 0 (the tests redo these steps).
            h = torch.zeros_like(x_roi)
            with torch.no_grad():
                for _ in range(PLAIN_STEPS):
                    h = block(h, x_roi)
                residual = (block(h, x_roi) - h).norm().item()
            assert residual < 1e-12, (form, roi, residual)
            h_star_norms.append(h.norm().item())
            h_star_residuals.append(residual)
            spectral[f"roi{roi}"] = {
                "h0": spectral_radius(block, torch.zeros_like(x_roi), x_roi),
                "hstar": spectral_radius(block, h, x_roi),
            }
        forms[form] = {
            "broyden15": {"abs_trace": abs_traces, "rel_trace": rel_traces},
            "spectral": spectral,
            "h_star": {
                "plain_steps": PLAIN_STEPS,
                "norm": h_star_norms,
                "abs_residual": h_star_residuals,
            },
        }

    meta = {
        "N": N, "C": C, "inner": INNER, "H": HEIGHT, "W": WIDTH,
        "groups": GROUPS, "gn_eps": GN_EPS, "seed": SEED, "dtype": "float64",
        "weight_norm": "conv1, conv2 (dim 0); g scaled by U(0.6, 1.4) after default init",
        "affine": "gn weight 1 + 0.25 N(0,1), bias 0.2 N(0,1)",
        "x": "N(0,1)", "h_test": "0.5 N(0,1)",
        "broyden": "torchdeq.solver.broyden.broyden_solver, per RoI, H0 = 0, max_iter 15, "
                   "tol 0, ls False; k = 0 is the residual at H0",
        "spectral": "max |eigvals| of the dense autograd Jacobian dF/dH per RoI",
        "versions": {
            "torch": torch.__version__,
            "torchdeq": version("torchdeq"),
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
        },
    }
    with open(args.out / "reference.json", "w") as handle:
        json.dump({"meta": meta, "forms": forms}, handle, indent=1, allow_nan=False)
        handle.write("\n")
    for form, entry in forms.items():
        print(form, {roi: {k: round(v, 4) for k, v in s.items()}
                     for roi, s in entry["spectral"].items()})
        print("  final abs residuals", [round(t[-1], 6) for t in entry["broyden15"]["abs_trace"]])
    print("wrote", args.out)


if __name__ == "__main__":
    main()
