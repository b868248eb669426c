#!/usr/bin/env python3
"""Export a PyTorch fixture for the IFR block on a size where the Swift side picks Winograd.

Writes `Tests/IFRHeadTests/Fixtures/pytorch-13x13/`:

  N = 2 RoIs, C = 32 channels, inner width 40, H x W = 13 x 13, GroupNorm 4 groups,
  eps 1e-5, float64, seed 13, weight-normalised conv1/conv2 (g perturbed away from ||v||),
  perturbed GroupNorm affine parameters (weight 1 + 0.2 N(0,1), bias 0.2 N(0,1)).

Why this size: 13 is odd, so 13 x 13 is not a multiple of the 2 x 2 output tile of
Winograd F(2x2, 3x3) and the ragged last tile row and column are exercised; both
convolutions have min(in, out) = 32 >= 32 channels and H, W >= 4, so the Swift side's
`.automatic` convolution algorithm resolves to Winograd for conv1 (32 -> 40) and
conv2 (40 -> 32). The seed11 fixture (12 channels, 5 x 7) goes through im2col instead.

The block is the same as in `Tools/export_ifr_fixtures.py`, with R = H + X and
g(R) = GN2(conv2(ReLU(GN1(conv1(R))))):
  ifr_code: F = GN3(ReLU(g(R) + R))
  xshort:   F = g(R) + X
  eq5:      F = g(R) + R
convolutions are 3x3 cross-correlations, zero padding 1, no bias.

Files:
  block.safetensors               float64 state_dict (conv1.weight_g, conv1.weight_v,
                                  conv2.weight_g, conv2.weight_v, gn{1,2,3}.weight/bias),
                                  `__metadata__` groups, gn_eps, form
  x.npy, h_test.npy               [2, 32, 13, 13] float64, both N(0,1)
  f_{ifr_code,xshort,eq5}_h_test.npy   F(h_test; X), float64
  f_ifr_code_h_test_float32.npy   F(h_test; X) with the model and inputs cast to float32
                                  and evaluated by PyTorch in float32 (reference only)
  meta.json                       seed, shape, inner, groups, eps, versions, and
                                  float32_vs_float64_relative_error = ||F32 - F64|| / ||F64||
                                  for ifr_code

After writing, the script re-loads the files, recomputes F from them, and checks ifr_code
against an independent NumPy implementation (explicit loop over the 3 x 3 taps).

Usage (from the package root):
  pip install torch safetensors numpy
  python3 Tools/export_winograd_fixture.py [--out DIR]
"""

import argparse
import copy
import json
import pathlib

import numpy as np
import torch
from safetensors.numpy import load_file
from safetensors import safe_open
from safetensors.torch import save_file

from ifr_block import FORMS, IFRBlock, perturbed_block, state_dict_with_classic_names

SEED = 13
N, C, INNER, HEIGHT, WIDTH = 2, 32, 40, 13, 13
GROUPS, GN_EPS = 4, 1e-5


def make_block():
    """PyTorch's default init, then g and the GroupNorm affine maps perturbed."""
    return perturbed_block(C, INNER, GROUPS, GN_EPS, gamma_noise=0.2)


def save_npy(directory, name, tensor, dtype="<f8"):
    np.save(directory / name, np.ascontiguousarray(tensor.detach().numpy(), dtype=dtype))


def relative(a, b):
    """||a - b|| / ||b|| in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --- independent NumPy reference (no torch) -------------------------------------------

def np_weight(g, v):
    return g * v / np.sqrt((v.reshape(v.shape[0], -1) ** 2).sum(axis=1)).reshape(-1, 1, 1, 1)


def np_conv3x3(x, w):
    """3x3 cross-correlation, zero padding 1, no bias: explicit sum over the 9 taps."""
    n, _, height, width = x.shape
    padded = np.zeros((n, x.shape[1], height + 2, width + 2))
    padded[:, :, 1:-1, 1:-1] = x
    out = np.zeros((n, w.shape[0], height, width))
    for dy in range(3):
        for dx in range(3):
            window = padded[:, :, dy:dy + height, dx:dx + width]
            out += np.einsum("oi,nihw->nohw", w[:, :, dy, dx], window)
    return out


def np_group_norm(x, weight, bias, groups, eps):
    n, c, height, width = x.shape
    grouped = x.reshape(n, groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mean) ** 2).mean(axis=2, keepdims=True)  # biased, as GroupNorm
    normed = ((grouped - mean) / np.sqrt(var + eps)).reshape(n, c, height, width)
    return normed * weight.reshape(1, -1, 1, 1) + bias.reshape(1, -1, 1, 1)


def np_ifr_code(params, h, x, groups, eps):
    w1 = np_weight(params["conv1.weight_g"], params["conv1.weight_v"])
    w2 = np_weight(params["conv2.weight_g"], params["conv2.weight_v"])
    r = h + x
    t = np_group_norm(np_conv3x3(r, w1), params["gn1.weight"], params["gn1.bias"], groups, eps)
    t = np_group_norm(np_conv3x3(np.maximum(t, 0), w2),
                      params["gn2.weight"], params["gn2.bias"], groups, eps)
    return np_group_norm(np.maximum(t + r, 0), params["gn3.weight"], params["gn3.bias"],
                         groups, eps)


# --- self-check -----------------------------------------------------------------------

def verify(directory):
    shape = (N, C, HEIGHT, WIDTH)
    params = load_file(str(directory / "block.safetensors"))
    with safe_open(str(directory / "block.safetensors"), framework="np") as handle:
        metadata = handle.metadata()
    assert metadata == {"groups": str(GROUPS), "gn_eps": str(GN_EPS), "form": "ifr_code"}
    expected_shapes = {
        "conv1.weight_g": (INNER, 1, 1, 1), "conv1.weight_v": (INNER, C, 3, 3),
        "conv2.weight_g": (C, 1, 1, 1), "conv2.weight_v": (C, INNER, 3, 3),
        "gn1.weight": (INNER,), "gn1.bias": (INNER,),
        "gn2.weight": (C,), "gn2.bias": (C,), "gn3.weight": (C,), "gn3.bias": (C,),
    }
    for name, tensor in params.items():
        assert tensor.shape == expected_shapes[name] and tensor.dtype == np.float64, name
    assert set(params) == set(expected_shapes)

    x = np.load(directory / "x.npy")
    h_test = np.load(directory / "h_test.npy")
    saved = {form: np.load(directory / f"f_{form}_h_test.npy") for form in FORMS}
    f32 = np.load(directory / "f_ifr_code_h_test_float32.npy")
    for array in (x, h_test, *saved.values()):
        assert array.shape == shape and array.dtype == np.dtype("<f8")
    assert f32.shape == shape and f32.dtype == np.dtype("<f4")
    print("shapes/dtypes ok:", shape, "float64 (float32 reference: float32)")

    # Recompute F from the loaded files through a fresh block.
    block = IFRBlock(C, INNER, GROUPS, GN_EPS, "ifr_code").double()
    with torch.no_grad():
        for k in ("conv1", "conv2"):
            conv = getattr(block, k).parametrizations.weight
            conv.original0.copy_(torch.from_numpy(params[f"{k}.weight_g"]))
            conv.original1.copy_(torch.from_numpy(params[f"{k}.weight_v"]))
        for k in ("gn1", "gn2", "gn3"):
            getattr(block, k).weight.copy_(torch.from_numpy(params[f"{k}.weight"]))
            getattr(block, k).bias.copy_(torch.from_numpy(params[f"{k}.bias"]))
    xt, ht = torch.from_numpy(x), torch.from_numpy(h_test)
    for form in FORMS:
        block.form = form
        with torch.no_grad():
            again = block(ht, xt).numpy()
        diff = float(np.max(np.abs(again - saved[form]) / (np.abs(saved[form]) + 1e-300)))
        print(f"reload {form}: max elementwise rel diff {diff:.3e}, "
              f"norm rel diff {relative(again, saved[form]):.3e}")
        assert relative(again, saved[form]) < 1e-13

    reference = np_ifr_code(params, h_test, x, GROUPS, GN_EPS)
    independent = relative(reference, saved["ifr_code"])
    print(f"numpy 9-tap ifr_code vs torch: norm rel diff {independent:.3e}, "
          f"max abs diff {np.max(np.abs(reference - saved['ifr_code'])):.3e}")
    assert independent < 1e-12
    print(f"float32 vs float64 (ifr_code): {relative(f32, saved['ifr_code']):.3e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--out", type=pathlib.Path,
        default=root / "Tests/IFRHeadTests/Fixtures/pytorch-13x13")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)

    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    block = make_block()
    x = torch.randn(N, C, HEIGHT, WIDTH)
    h_test = torch.randn(N, C, HEIGHT, WIDTH)

    save_file(
        state_dict_with_classic_names(block), str(args.out / "block.safetensors"),
        metadata={"groups": str(GROUPS), "gn_eps": str(GN_EPS), "form": "ifr_code"})
    save_npy(args.out, "x.npy", x)
    save_npy(args.out, "h_test.npy", h_test)

    outputs = {}
    for form in FORMS:
        block.form = form
        with torch.no_grad():
            outputs[form] = block(h_test, x)
        save_npy(args.out, f"f_{form}_h_test.npy", outputs[form])

    # The same map entirely in float32: parameters and inputs cast from the float64 values.
    block32 = copy.deepcopy(block).float()
    block32.form = "ifr_code"
    with torch.no_grad():
        f32 = block32(h_test.float(), x.float())
    assert f32.dtype == torch.float32
    save_npy(args.out, "f_ifr_code_h_test_float32.npy", f32, dtype="<f4")
    f32_error = relative(f32.double().numpy(), outputs["ifr_code"].numpy())

    meta = {
        "seed": SEED, "shape": [N, C, HEIGHT, WIDTH], "inner": INNER,
        "groups": GROUPS, "eps": GN_EPS,
        "torch": torch.__version__, "numpy": np.__version__,
        "float32_vs_float64_relative_error": f32_error,
    }
    with open(args.out / "meta.json", "w") as handle:
        json.dump(meta, handle, indent=1, allow_nan=False)
        handle.write("\n")
    print("wrote", args.out)
    verify(args.out)


if __name__ == "__main__":
    main()
