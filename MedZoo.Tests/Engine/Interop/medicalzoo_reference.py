#!/usr/bin/python3
"""PyTorch side of the interop tests: MedicalZoo's networks (benchmarks/reference_models.py) under Debian's torch.

  forward MODEL IN CLASSES STATE.pt INPUT.pt OUTPUT.pt
      builds the reference network, load_state_dict(torch.load(STATE.pt), strict=True), eval mode,
      runs it on torch.load(INPUT.pt)["input"] and saves {"output": logits} to OUTPUT.pt.
  checkpoint MODEL IN CLASSES SEED EPOCH CKPT.pth INPUT.pt OUTPUT.pt
      builds the reference network with random weights, random batch-norm statistics and PReLU
      slopes, takes one Adam step (so the optimizer has state), writes MedicalZoo's save_checkpoint
      dict {model_state_dict, optimizer_state_dict, epoch} to CKPT.pth, and saves the eval-mode
      output on INPUT.pt's input to OUTPUT.pt.
"""
import os
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import reference_models  # noqa: E402


def evaluate(model, input_path, output_path):
    model.eval()
    with torch.no_grad():
        out = model(torch.load(input_path)["input"])
    torch.save({"output": out.contiguous()}, output_path)


def main(argv):
    torch.set_num_threads(2)
    command, name, cin, classes = argv[1], argv[2], int(argv[3]), int(argv[4])
    model = reference_models.build(name, cin, classes)
    if command == "forward":
        state, input_path, output_path = argv[5:8]
        model.load_state_dict(torch.load(state), strict=True)
        evaluate(model, input_path, output_path)
    elif command == "checkpoint":
        seed, epoch, ckpt, input_path, output_path = int(argv[5]), int(argv[6]), argv[7], argv[8], argv[9]
        torch.manual_seed(seed)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(5)
                with torch.no_grad():
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.PReLU):
                with torch.no_grad():
                    m.weight.uniform_(0.05, 0.4)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        model.eval()  # one step that changes the weights but not the statistics just drawn
        loss = model(torch.rand(1, cin, 16, 16, 16) if name == "VNET2" else torch.rand(1, cin, 32, 32, 32)).square().mean()
        loss.backward()
        optimizer.step()
        torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "epoch": epoch}, ckpt)
        evaluate(model, input_path, output_path)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
