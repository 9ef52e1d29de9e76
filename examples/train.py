#!/usr/bin/python3
"""Train a small Fashion-MNIST model with PyTorch and export it for nnfpga.

This is the script to adapt for a model of your own: change the network in MODELS,
keep the export at the end. It writes, into --out (default: the current folder):

  NAME.onnx            the model, exported with torch.onnx.export (opset 13, batch 1)
  NAME.meta.json       float test accuracy, parameter count, torch version, training time
  calib256.npy         256 training images for nnfpga's int8 calibration, float32 [256,1,28,28]
  inputs200.npy        the first 200 test images, float32 [200,1,28,28], and their
  labels200.npy        labels, int64 [200]
  NAME.logits200.npy   PyTorch's float logits for those 200 images, float32 [200,10]

Then, for instance:

  npx nnfpga info NAME.onnx
  npx nnfpga quantize NAME.onnx --calib calib256.npy -o NAME.nnq.json
  npx nnfpga eval NAME.nnq.json --inputs inputs200.npy --labels labels200.npy --sim

Needs Debian's python3-torch and python3-numpy (apt-get install python3-torch) and the
IDX files of dataset-fashion-mnist under /usr/share/datasets/fashion-mnist (--data-dir).
Pixels are scaled to [0, 1] (pixel / 255), as `nnfpga eval --dataset fashion-mnist` reads
them. nnfpga runs a chain of the operators in README.md's "Supported operators" table;
anything else is refused by `nnfpga info` with one line naming the node.
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    """An IDX file (u32 big-endian magic 0x0000080R, R dims, then u8 data), gzip or not."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if magic >> 8 != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes (magic {magic:#010x})")
    rank = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_split(data_dir, split):
    """Images float32 [N,1,28,28] in [0, 1] and labels int64 [N] of 'train' or 't10k'."""
    images = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    # pixel / 255 in double precision, rounded to float32: the values nnfpga eval reads
    x = (images.astype(np.float64) / 255.0).astype(np.float32)[:, None, :, :]
    return x, labels.astype(np.int64)


class CnnA(nn.Module):
    """Conv 1->8 3x3, ReLU, MaxPool 2, Conv 8->16 3x3, ReLU, MaxPool 2, Flatten, Gemm 784->10."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 7 * 7, 10),
        )

    def forward(self, x):
        return self.net(x)


class Mlp(nn.Module):
    """Flatten, Gemm 784->128, ReLU, Gemm 128->64, ReLU, Gemm 64->10."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.net(x)


MODELS = {"cnn_a": CnnA, "mlp": Mlp}


def accuracy(model, x, y, batch=1000):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[i : i + batch]))
            right += int((logits.argmax(1).numpy() == y[i : i + batch]).sum())
    return right / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), default="cnn_a")
    p.add_argument("--name", help="output name (default: the model's)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-limit", type=int, help="train on the first N training images only (a quick try)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--out", default=".", help="output folder")
    args = p.parse_args()
    name = args.name or args.model

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = load_split(args.data_dir, "train")
    x_test, y_test = load_split(args.data_dir, "t10k")
    if args.train_limit:
        x_train, y_train = x_train[: args.train_limit], y_train[: args.train_limit]

    model = MODELS[args.model]()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x_train))
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(torch.from_numpy(x_train[idx])), torch.from_numpy(y_train[idx]))
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, test accuracy {accuracy(model, x_test, y_test):.4f}")
    seconds = time.time() - t0

    model.eval()
    os.makedirs(args.out, exist_ok=True)
    out = lambda f: os.path.join(args.out, f)  # noqa: E731
    # nnfpga runs one sample at a time: export with a batch of 1 (a dynamic batch
    # dimension is accepted too, and taken as 1). Opset 13, as the examples.
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 28, 28),
        out(f"{name}.onnx"),
        opset_version=13,
        input_names=["input"],
        output_names=["logits"],
    )
    # Calibration: a random sample of training images, the kind of data the model sees.
    calib = x_train[rng.choice(len(x_train), size=256, replace=False)]
    np.save(out("calib256.npy"), calib.astype(np.float32))
    np.save(out("inputs200.npy"), x_test[:200].astype(np.float32))
    np.save(out("labels200.npy"), y_test[:200].astype(np.int64))
    with torch.no_grad():
        np.save(out(f"{name}.logits200.npy"), model(torch.from_numpy(x_test[:200])).numpy().astype(np.float32))
    meta = {
        "name": name,
        "float_test_accuracy": accuracy(model, x_test, y_test),
        "params": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "train_seconds": round(seconds, 1),
    }
    with open(out(f"{name}.meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps(meta))
    print(f"wrote {name}.onnx, {name}.meta.json, calib256.npy, inputs200.npy, labels200.npy, {name}.logits200.npy in {args.out}")


if __name__ == "__main__":
    main()
