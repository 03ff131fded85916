"""The MLP of tests/bench/training.rs in PyTorch: same layers, batch and data size.

Prints the median seconds per epoch. Usage: python3 torch_mlp.py ROWS COLS EPOCHS
"""
import statistics
import sys
import time

import torch
from torch import nn

rows, cols, epochs = (int(a) for a in sys.argv[1:4])
torch.manual_seed(1)
x = torch.rand(rows, cols)
y = ((x.sum(dim=1) * 7).long()) % 3
net = nn.Sequential(
    nn.Linear(cols, 32), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(32, 16), nn.ReLU(), nn.Dropout(0.2),
    nn.Linear(16, 3),
)
opt = torch.optim.Adam(net.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
times = []
for _ in range(epochs):
    t0 = time.perf_counter()
    net.train()
    perm = torch.randperm(rows)
    for start in range(0, rows, 32):
        idx = perm[start:start + 32]
        xb, yb = x[idx], y[idx]
        logits = net(xb)
        loss = loss_fn(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    times.append(time.perf_counter() - t0)
print(statistics.median(times))
