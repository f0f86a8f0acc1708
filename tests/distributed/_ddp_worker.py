"""One rank of a 2-process PyTorch DDP job on the gloo backend (launched by
test_distributed.py with ``torchrun --standalone --nproc-per-node 2``).

Usage: torchrun ... _ddp_worker.py OUT_DIR [--checkpoint-at K --die-at D] [--resume CKPT]

A small classifier trains on scikit-learn's digits for 50 steps, each rank on its half
of every batch. The first layer's parameters are driven by SGD with
``cyclr.adapters.torch.CyclicLR`` (triangular2, one LR range per param group, cycled
momentum), the second layer's by Adam with ``OneCycleLR`` (cycled ``betas[0]``).

Every rank records, before each update, each group's LR and momentum (or beta1), and at
the end its parameters, to ``OUT_DIR/rank{r}.json``. With ``--checkpoint-at K`` rank 0
saves model, optimizers and schedulers after K updates; with ``--die-at D`` every rank
kills itself with SIGKILL after D updates, as a crashed job would end. ``--resume CKPT``
loads such a checkpoint (``torch.load(weights_only=True)``) and continues to step 50.
"""

import argparse
import json
import os
import signal
from pathlib import Path

import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from torch.nn.parallel import DistributedDataParallel

from cyclr.adapters.torch import CyclicLR, OneCycleLR

STEPS, BATCH = 50, 64
CYCLIC = dict(base_lr=[0.01, 0.005], max_lr=[0.2, 0.1], step_size_up=4, mode="triangular2",
              base_momentum=0.8, max_momentum=0.9)
ONE_CYCLE = dict(max_lr=0.01, total_steps=STEPS, base_momentum=0.85, max_momentum=0.95)


def build():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, 10))
    first, second = model[0], model[2]
    sgd = torch.optim.SGD([{"params": [first.weight]}, {"params": [first.bias]}], lr=0.1,
                          momentum=0.9)
    adam = torch.optim.Adam(second.parameters(), lr=0.01)
    return model, sgd, adam, CyclicLR(sgd, **CYCLIC), OneCycleLR(adam, **ONE_CYCLE)


def hyper(sgd, adam):
    return {"sgd_lr": [g["lr"] for g in sgd.param_groups],
            "sgd_momentum": [g["momentum"] for g in sgd.param_groups],
            "adam_lr": [g["lr"] for g in adam.param_groups],
            "adam_beta1": [g["betas"][0] for g in adam.param_groups]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--checkpoint-at", type=int)
    parser.add_argument("--die-at", type=int)
    parser.add_argument("--resume")
    args = parser.parse_args()

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    model, sgd, adam, cyclic, one_cycle = build()
    start = 0
    if args.resume:
        state = torch.load(args.resume, weights_only=True)
        model.load_state_dict(state["model"])
        sgd.load_state_dict(state["sgd"])
        adam.load_state_dict(state["adam"])
        cyclic.load_state_dict(state["cyclic"])
        one_cycle.load_state_dict(state["one_cycle"])
        start = state["step"]
    ddp = DistributedDataParallel(model)

    x_all, y_all = load_digits(return_X_y=True)
    x_all = torch.tensor(x_all / 16.0, dtype=torch.float32)
    y_all = torch.tensor(y_all)
    records = {}
    for step in range(start, STEPS):
        if args.checkpoint_at == step and rank == 0:
            torch.save({"model": model.state_dict(), "sgd": sgd.state_dict(),
                        "adam": adam.state_dict(), "cyclic": cyclic.state_dict(),
                        "one_cycle": one_cycle.state_dict(), "step": step},
                       Path(args.out) / "checkpoint.pt")
        if args.checkpoint_at == step:
            dist.barrier()
        if args.die_at == step:
            os.kill(os.getpid(), signal.SIGKILL)
        records[step] = hyper(sgd, adam)
        rows = (torch.arange(step * BATCH, (step + 1) * BATCH) % len(x_all))[rank::world]
        loss = torch.nn.functional.cross_entropy(ddp(x_all[rows]), y_all[rows])
        sgd.zero_grad()
        adam.zero_grad()
        loss.backward()
        sgd.step()
        adam.step()
        cyclic.step()
        one_cycle.step()
        records[step]["loss"] = loss.item()

    result = {"records": records, "last_epoch": [cyclic.last_epoch, one_cycle.last_epoch],
              "params": [p.detach().tolist() for p in model.parameters()]}
    (Path(args.out) / f"rank{rank}.json").write_text(json.dumps(result))
    # Both ranks leave their last collective before either tears gloo down: a rank that
    # destroys the group while its peer is still in one can abort ("terminate called
    # without an active exception"), seen about once in ten runs on 2 cores.
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
