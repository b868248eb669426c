"""Export a small Mask R-CNN mask head and its loss gradients from PyTorch (float64).

Writes Tests/IFRHeadTests/Fixtures/pytorch-mask-head/: the head's parameters under the
names the Swift MaskHead uses (`refine.0.conv1.weight_g`, ..., `deconv.weight`,
`deconv.bias`, `predictor.weight`, `predictor.bias`), the RoI features, targets and classes,
and what PyTorch's autograd computes: the logits, the loss, and the gradient of the loss with
respect to every parameter and to the features.

The head: two independent IFR blocks (ifr_code form, H0 = 0, H_{i+1} = F_i(H_i; X)), then
ConvTranspose2d(C, C, 2, stride 2) + ReLU, then Conv2d(C, classes, 1), and the mean
binary cross-entropy with logits on each RoI's class channel (as mmdetection's
FCNMaskHead.loss with class-specific masks). Run: python3 Tools/export_mask_head_fixture.py
"""

import json
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from ifr_block import perturbed_block, state_dict_with_classic_names

N, C, CLASSES, SIZE, GROUPS, EPS, BLOCKS, SEED = 2, 8, 3, 5, 4, 1e-5, 2, 23
OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/IFRHeadTests/Fixtures/pytorch-mask-head"


def main():
    torch.manual_seed(SEED)
    blocks = [perturbed_block(C, C, GROUPS, EPS, gamma_noise=0.3) for _ in range(BLOCKS)]
    deconv = nn.ConvTranspose2d(C, C, 2, stride=2).double()
    predictor = nn.Conv2d(C, CLASSES, 1).double()
    x = torch.randn(N, C, SIZE, SIZE, dtype=torch.float64, requires_grad=True)
    targets = (torch.rand(N, 2 * SIZE, 2 * SIZE, dtype=torch.float64) < 0.4).double()
    classes = torch.tensor([2, 0])

    h = torch.zeros_like(x)
    for block in blocks:
        h = block(h, x)
    logits = predictor(torch.relu(deconv(h)))
    selected = logits[torch.arange(N), classes]
    loss = nn.functional.binary_cross_entropy_with_logits(selected, targets)
    loss.backward()

    params, grads = {}, {}
    for i, block in enumerate(blocks):
        for name, tensor in state_dict_with_classic_names(block).items():
            params[f"refine.{i}.{name}"] = tensor
        renames = {
            "parametrizations.weight.original0": "weight_g",
            "parametrizations.weight.original1": "weight_v",
        }
        for name, p in block.named_parameters():
            for old, new in renames.items():
                name = name.replace(old, new)
            grads[f"refine.{i}.{name}"] = p.grad.detach().clone().contiguous()
    for prefix, layer in (("deconv", deconv), ("predictor", predictor)):
        for name, p in layer.named_parameters():
            params[f"{prefix}.{name}"] = p.detach().clone().contiguous()
            grads[f"{prefix}.{name}"] = p.grad.detach().clone().contiguous()
    assert set(params) == set(grads)

    OUT.mkdir(parents=True, exist_ok=True)
    save_file(params, str(OUT / "head.safetensors"))
    save_file(grads, str(OUT / "gradients.safetensors"))
    np.save(OUT / "x.npy", x.detach().numpy())
    np.save(OUT / "targets.npy", targets.numpy())
    np.save(OUT / "logits.npy", logits.detach().numpy())
    np.save(OUT / "dx.npy", x.grad.numpy())
    meta = {
        "N": N, "C": C, "classes": CLASSES, "size": SIZE, "groups": GROUPS, "blocks": BLOCKS,
        "seed": SEED, "classIndices": classes.tolist(), "loss": loss.item(),
        "torch": torch.__version__,
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {OUT}: loss {loss.item():.17g}")


if __name__ == "__main__":
    main()
