"""PyTorch's side of benchmarks/GradientCheck: float32 gradients of the reference network against
float64, worst relative error per parameter. Its figure is the yardstick for MedZoo's: float32
rounding through a deep network, not a wrong kernel.

Usage: /usr/bin/python3 benchmarks/pytorch_gradient_check.py MODEL SIZE BATCH   (e.g. UNET3D 64 1)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_models as rm  # noqa: E402


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("UNET3D", "VNET"):
        sys.exit("usage: pytorch_gradient_check.py UNET3D|VNET SIZE BATCH")
    name, size, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(1)
    model = (rm.RefUNet3D(2, 4) if name == "UNET3D" else rm.RefVNet(2, 4)).eval()
    g = torch.Generator().manual_seed(7)
    x = torch.randn(batch, 2, size, size, size, generator=g)
    y = torch.randint(0, 4, (batch, size, size, size), generator=g)

    def loss_of(m, inp):
        out = m(inp)
        out = out[0] if isinstance(out, tuple) else out
        return torch.nn.functional.cross_entropy(out, y)

    loss_of(model, x).backward()
    grads32 = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    model.double()
    loss_of(model, x.double()).backward()
    errors = sorted(
        ((grads32[n].double() - p.grad).abs().max().item() / max(p.grad.abs().max().item(), 1e-12), n)
        for n, p in model.named_parameters())
    worst, where = errors[-1]
    print(f"PyTorch {torch.__version__}; {name} {size}^3 batch {batch}: worst relative gradient error {worst:.2E} ({where})")


if __name__ == "__main__":
    main()
