"""The IFR block in PyTorch, shared by the scripts that export fixtures and time torchdeq.

The block is the released IFR block, with R = H + X and
g(R) = GN2(conv2(ReLU(GN1(conv1(R))))):
  ifr_code: F = GN3(ReLU(g(R) + R))
  xshort:   F = g(R) + X
  eq5:      F = g(R) + R
convolutions are 3x3 cross-correlations, zero padding 1, no bias, weight-normalised
(g * v / ||v|| per output channel); GroupNorm with affine parameters.

`state_dict_with_classic_names` gives the state_dict under the names the Swift loader reads
(`convK.weight_g` / `convK.weight_v`, as `torch.nn.utils.weight_norm` named them; the
parametrizations API calls them `convK.parametrizations.weight.original0` / `original1`).
"""

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

FORMS = ("ifr_code", "xshort", "eq5")


class IFRBlock(nn.Module):
    """The IFR block (no biases on the convolutions, weight norm on both)."""

    def __init__(self, channels, inner, groups, eps, form):
        super().__init__()
        self.form = form
        self.conv1 = weight_norm(nn.Conv2d(channels, inner, 3, padding=1, bias=False), dim=0)
        self.conv2 = weight_norm(nn.Conv2d(inner, channels, 3, padding=1, bias=False), dim=0)
        self.gn1 = nn.GroupNorm(groups, inner, eps=eps)
        self.gn2 = nn.GroupNorm(groups, channels, eps=eps)
        self.gn3 = nn.GroupNorm(groups, channels, eps=eps)

    def g(self, r):
        return self.gn2(self.conv2(torch.relu(self.gn1(self.conv1(r)))))

    def forward(self, h, x):
        r = h + x
        if self.form == "ifr_code":
            return self.gn3(torch.relu(self.g(r) + r))
        if self.form == "xshort":
            return self.g(r) + x
        if self.form == "eq5":
            return self.g(r) + r
        raise ValueError(self.form)


def state_dict_with_classic_names(block):
    """The state_dict under the classic weight_norm names `convK.weight_g` / `weight_v`."""
    renames = {
        "parametrizations.weight.original0": "weight_g",
        "parametrizations.weight.original1": "weight_v",
    }
    out = {}
    for name, tensor in block.state_dict().items():
        for old, new in renames.items():
            name = name.replace(old, new)
        out[name] = tensor.detach().clone().contiguous()
    expected = {
        "conv1.weight_g", "conv1.weight_v", "conv2.weight_g", "conv2.weight_v",
        "gn1.weight", "gn1.bias", "gn2.weight", "gn2.bias", "gn3.weight", "gn3.bias",
    }
    assert set(out) == expected, sorted(out)
    # The parametrization is g * v / ||v|| per output channel (dim 0).
    for conv_name in ("conv1", "conv2"):
        g, v = out[f"{conv_name}.weight_g"], out[f"{conv_name}.weight_v"]
        w = g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        rtol = 1e-14 if w.dtype == torch.float64 else 1e-6
        assert torch.allclose(w, getattr(block, conv_name).weight, rtol=rtol, atol=0)
    return out


def perturbed_block(channels, inner, groups, eps, gamma_noise, beta_noise=0.2):
    """An ifr_code block in float64: PyTorch's default init, then each weight-norm magnitude g
    scaled by U(0.6, 1.4) and the GroupNorm affine maps perturbed
    (gamma = 1 + gamma_noise * N(0, 1), beta = beta_noise * N(0, 1)), drawn from torch's
    global generator in that order."""
    block = IFRBlock(channels, inner, groups, eps, "ifr_code").double()
    with torch.no_grad():
        for conv in (block.conv1, block.conv2):
            magnitude = conv.parametrizations.weight.original0  # g, [out, 1, 1, 1]
            magnitude.mul_(torch.empty_like(magnitude).uniform_(0.6, 1.4))
        for gn in (block.gn1, block.gn2, block.gn3):
            gn.weight.copy_(1 + gamma_noise * torch.randn_like(gn.weight))
            gn.bias.copy_(beta_noise * torch.randn_like(gn.bias))
    return block
