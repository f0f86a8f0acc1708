"""cyclr.adapters.torch.OneCycleLR on tiny and degenerate runs, against live torch: it
accepts exactly what torch computes (finite, non-negative LRs on steps 0 .. T - 1), with
torch's LRs and momenta bit for bit, warns once when a phase gets no step, and raises
ValueError exactly where torch raises."""

import math
import pathlib
import sys
import warnings

import pytest
import torch

from cyclr.adapters import torch as ct

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _torch_helpers as helpers  # noqa: E402  (lives beside this file)

FIXED = (0.0, 1e-9, 0.05, 0.25, 0.3, 0.45, 0.5, 0.55, 0.7, 0.9, 0.99, 1.0)


def pct_grid(total):
    """Fixed fractions, every k / total, and the floats either side of 1 / total (where
    the warm-up's end crosses step 0)."""
    edge = 1.0 / total
    near = (math.nextafter(edge, 0.0), edge, math.nextafter(edge, 2.0))
    return sorted({*FIXED, *(k / total for k in range(total + 1)), *near})


def torch_run(kind, total, **kwargs):
    """torch's (lr, momentum) per group at steps 0 .. total - 1 and its phase ends, or
    the exception it raised."""
    params, opt = helpers.make_optimizer(kind, 2)
    try:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=total, **kwargs)
        seen = [helpers.hyper(opt)]
        for _ in range(total - 1):
            opt.step()
            sched.step()
            seen.append(helpers.hyper(opt))
    except (ZeroDivisionError, ValueError) as exc:  # 0/0 at step 0, or pct_start > 1
        return exc, None
    return seen, [phase["end_step"] for phase in sched._schedule_phases]


def phases_used(ends, total):
    """The phases torch's selection (first phase whose end is >= the step, else the
    last) visits on steps 0 .. total - 1."""
    used = set()
    for x in range(total):
        used.add(next((k for k, end in enumerate(ends) if x <= end), len(ends) - 1))
    return used


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_tiny_runs_equal_torch_or_fail_where_torch_fails(three_phase, anneal, kind):
    counts = {"equal": 0, "warned": 0, "refused": 0}
    for total in range(1, 13):
        for pct in pct_grid(total):
            kwargs = {"max_lr": [0.1, 0.3], "pct_start": pct, "anneal_strategy": anneal,
                      "three_phase": three_phase}
            seen, ends = torch_run(kind, total, **kwargs)
            _, opt = helpers.make_optimizer(kind, 2)
            before = helpers.hyper(opt)
            if ends is None:  # torch raised: refused, naming both arguments
                with pytest.raises(ValueError, match=rf"pct_start={pct!r}.*"
                                                     rf"total_steps={total}\b"):
                    ct.OneCycleLR(opt, total_steps=total, **kwargs)
                assert helpers.hyper(opt) == before
                counts["refused"] += 1
                continue
            assert all(math.isfinite(v) and v >= 0 for step in seen for g in step for v in g)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ours = ct.OneCycleLR(opt, total_steps=total, **kwargs)
                got = [helpers.hyper(opt)]
                for _ in range(total - 1):
                    opt.step()
                    ours.step()
                    got.append(helpers.hyper(opt))
            assert got == seen, (total, pct)
            # One warning for the two groups, exactly when a phase gets no step.
            degenerate = phases_used(ends, total) != set(range(len(ends)))
            assert [str(w.message)[:22] for w in caught] == (
                ["OneCycleLR: pct_start="] if degenerate else []), (total, pct)
            counts["warned" if degenerate else "equal"] += 1
    # The grid reaches all three outcomes.
    assert min(counts.values()) > 10, counts


@pytest.mark.parametrize("kwargs", [
    {"total_steps": 3},                                    # the issue's own example
    {"total_steps": 1},
    {"total_steps": 2},
    {"total_steps": 100, "pct_start": 0.005},              # pct_start * total_steps < 1
    {"total_steps": 10, "pct_start": 0.0},
    {"total_steps": 10, "pct_start": 1.0},
    {"total_steps": 100, "pct_start": 0.6, "three_phase": True},
    {"total_steps": 100, "pct_start": 0.5, "three_phase": True},
    {"epochs": 1, "steps_per_epoch": 2},                   # fast_dev_run-like
])
def test_tiny_runs_named_in_the_issue(kwargs):
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    params_t, opt_t = helpers.make_optimizer("sgd", 1)
    theirs = torch.optim.lr_scheduler.OneCycleLR(opt_t, 0.1, **kwargs)
    params, opt = helpers.make_optimizer("sgd", 1)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "OneCycleLR: pct_start", UserWarning)
        ours = ct.OneCycleLR(opt, 0.1, **kwargs)
    steps = total - 1
    assert helpers.train(params, opt, ours, steps) == helpers.train(params_t, opt_t, theirs,
                                                                    steps)
    assert helpers.hyper(opt) == helpers.hyper(opt_t)


def test_warning_names_the_empty_phase_and_points_at_the_caller():
    _, opt = helpers.make_optimizer("sgd", 3)
    with pytest.warns(UserWarning, match=r"OneCycleLR: pct_start=0.3 with total_steps=3 "
                                         r"gives the warm-up phase no step") as record:
        ct.OneCycleLR(opt, [0.1, 0.2, 0.3], total_steps=3)
    assert len(record) == 1 and record[0].filename == __file__
    _, opt = helpers.make_optimizer("sgd", 1)
    with pytest.warns(UserWarning, match=r"the final annealing phase no step") as record:
        ct.OneCycleLR(opt, 0.1, total_steps=100, pct_start=0.6, three_phase=True)
    assert len(record) == 1
