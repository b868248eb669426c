"""Checks, in PyTorch, the conventions TransposedConv2D and PointwiseConv2D implement.

Not needed by the Swift tests (which compare the layers with loops written from the formulas
below); this script confirms those formulas and the initialisation against PyTorch itself:

  ConvTranspose2d(in, out, 2, stride=2):  y[n, o, 2i+a, 2j+b] = b[o] + sum_c w[c, o, a, b] x[n, c, i, j]
  Conv2d(in, out, 1):                     y[n, o, i, j]       = b[o] + sum_c w[o, c] x[n, c, i, j]
  kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / fan_out), with
  fan_out = weight.size(0) * k * k, i.e. in*4 for the transposed weight [in, out, 2, 2] and
  out for the 1x1 weight [out, in, 1, 1] (mmdetection FCNMaskHead.init_weights).

Usage: python3 Tools/check_mask_layers.py   (prints OK or raises AssertionError)
"""

import math

import torch
from torch import nn

torch.manual_seed(0)
n, cin, cout, h, w = 2, 3, 5, 4, 3
x = torch.randn(n, cin, h, w, dtype=torch.float64)

up = nn.ConvTranspose2d(cin, cout, 2, stride=2).double()
nn.init.normal_(up.bias)
y = up(x)
weight, bias = up.weight.detach(), up.bias.detach()
assert weight.shape == (cin, cout, 2, 2)
expected = torch.empty(n, cout, 2 * h, 2 * w, dtype=torch.float64)
for a in range(2):
    for b in range(2):
        expected[:, :, a::2, b::2] = (
            torch.einsum("co,ncij->noij", weight[:, :, a, b], x) + bias[None, :, None, None])
assert torch.allclose(y, expected, rtol=1e-13, atol=1e-13), "ConvTranspose2d formula"

logits = nn.Conv2d(cin, cout, 1).double()
expected = torch.einsum("oc,ncij->noij", logits.weight[:, :, 0, 0], x) + logits.bias[None, :, None, None]
assert torch.allclose(logits(x), expected, rtol=1e-13, atol=1e-13), "Conv2d 1x1 formula"

# fan_out as PyTorch computes it, and the sample std of a large initialised weight.
for weight, fan_out in [
    (torch.empty(32, 128, 2, 2, dtype=torch.float64), 32 * 4),  # ConvTranspose2d(32, 128, 2)
    (torch.empty(32, 256, 1, 1, dtype=torch.float64), 32),  # Conv2d(256, 32, 1)
]:
    assert nn.init._calculate_fan_in_and_fan_out(weight)[1] == fan_out
    nn.init.kaiming_normal_(weight, mode="fan_out", nonlinearity="relu")
    std = math.sqrt(2 / fan_out)
    assert abs(weight.std().item() / std - 1) < 5 / math.sqrt(2 * weight.numel()), "init std"

print("OK")
