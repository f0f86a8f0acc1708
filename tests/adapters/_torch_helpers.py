"""Shared by the torch adapter tests and by ``_torch_resume.py``, which they run in a
fresh process: both must build the very same optimizer and scheduler from a config, and
see the custom ``scale_fn`` functions under the same import path."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import torch

import cyclr
from cyclr.adapters import torch as ct


def halve(cycle):
    """A module-level scale_fn (per cycle): the triangular2 envelope, written by hand."""
    return 0.5 ** (cycle - 1)


def third(cycle):
    """Another module-level scale_fn: a different function, for mismatch checks."""
    return 1.0 / 3.0 ** (cycle - 1)


def damped(step):
    """A module-level scale_fn per iteration."""
    return 1.0 / (1.0 + step / 100.0)


SCALE_FNS = {"halve": halve, "third": third, "damped": damped}


def make_optimizer(kind: str, groups: int, *, seed: int = 0):
    """``groups`` param groups of one small parameter each, for "sgd" (momentum) or
    "adam" (betas)."""
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(3, generator=gen)) for _ in range(groups)]
    param_groups = [{"params": [p]} for p in params]
    if kind == "sgd":
        return params, torch.optim.SGD(param_groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return params, torch.optim.Adam(param_groups, lr=0.1)
    raise ValueError(f"unknown optimizer kind {kind!r}")


def build(config: dict):
    """``(params, optimizer, scheduler)`` from a JSON-safe config:
    ``{"optimizer": "sgd"|"adam", "groups": int, "scheduler": "CyclicLR"|"OneCycleLR"|
    "ScheduleLR", "kwargs": {...}}``; a ``scale_fn`` is named by a key of SCALE_FNS and
    ScheduleLR's schedules are given as ``to_dict()`` descriptions."""
    params, opt = make_optimizer(config["optimizer"], config["groups"])
    kwargs = dict(config["kwargs"])
    kind = config["scheduler"]
    if kind == "ScheduleLR":
        schedule = cyclr.from_dict(kwargs.pop("schedule"))
        momentum = kwargs.pop("momentum", None)
        if momentum is not None:
            momentum = cyclr.from_dict(momentum)
        return params, opt, ct.ScheduleLR(opt, schedule, momentum=momentum, **kwargs)
    if "scale_fn" in kwargs:
        kwargs["scale_fn"] = SCALE_FNS[kwargs["scale_fn"]]
    cls = {"CyclicLR": ct.CyclicLR, "OneCycleLR": ct.OneCycleLR}[kind]
    return params, opt, cls(opt, **kwargs)


def hyper(opt) -> list:
    """The (lr, momentum) of every param group as Python floats, momentum being SGD's
    ``momentum`` or Adam's ``betas[0]``."""
    out = []
    for group in opt.param_groups:
        momentum = group["betas"][0] if "betas" in group else group.get("momentum")
        out.append([float(group["lr"]), None if momentum is None else float(momentum)])
    return out


def train(params, opt, sched, steps: int) -> list:
    """``steps`` real updates on a fixed quadratic loss; the hyper-parameters each
    update used."""
    seen = []
    for _ in range(steps):
        seen.append(hyper(opt))
        loss = sum(((p - 1.0) ** 2).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return seen


class Power:
    """A callable-object scale_fn whose state is in its ``__dict__``, as torch saves it:
    ``rate ** (x - 1)``."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate ** (x - 1)

    def __repr__(self):
        return f"Power({self.rate!r})"


EPS = 2.0**-52


def torch_slack(kwargs: dict, low: float, high: float, i: int) -> float:
    """How far torch's CyclicLR may be off at step ``i``: it computes the cycle position
    as ``1 + i/L - floor(1 + i/L)``, which carries an absolute error of about
    eps * (1 + i/L); the window divides it by the up (or down) fraction of the cycle and
    the amplitude multiplies it."""
    up = float(kwargs.get("step_size_up", 2000))
    down = float(kwargs.get("step_size_down") or up)
    ratio = up / (up + down)
    position_error = 4 * EPS * (2 + i / (up + down)) / min(ratio, 1 - ratio)
    return (high - low) * position_error


def resume_in_new_process(jobs: list, tmp_path) -> list:
    """Run ``_torch_resume.py`` on ``jobs`` (checkpoints to load and steps to take) in a
    fresh interpreter, with warnings as errors; its JSON results."""
    jobs_file = tmp_path / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    script = pathlib.Path(__file__).with_name("_torch_resume.py")
    proc = subprocess.run([sys.executable, "-W", "error", str(script), str(jobs_file)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def sgd_losses(model, optimizer, lrs, batches) -> list:
    """Cross-entropy training by hand, one batch per LR, the LR set before each step:
    the losses a range test's runner should record for the same steps."""
    losses = []
    for lr, (xb, yb) in zip(lrs, batches):
        optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
