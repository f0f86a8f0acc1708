"""cyclr.adapters.torch against torch's own CyclicLR and OneCycleLR, on random
configurations: same constructor call, same values (CyclicLR within torch's own rounding
of the cycle position; OneCycleLR exactly)."""

import math
import pathlib
import sys
import warnings

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cyclr.adapters import torch as ct

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _torch_helpers as helpers  # noqa: E402  (lives beside this file)

CYCLIC_STEPS = 400

lrs = st.floats(1e-6, 1.0)
momenta = st.floats(0.5, 0.99)
step_sizes = st.one_of(st.integers(1, 60), st.floats(0.5, 60.0).map(lambda x: round(x, 2)))


def _per_group(draw, groups, elements, as_list):
    if as_list:
        return draw(st.lists(elements, min_size=groups, max_size=groups))
    return draw(elements)


def _ordered(draw, groups, elements, as_list):
    """(low, high) arguments, each a value or a per-group list, with low <= high."""
    pairs = [sorted(draw(st.tuples(elements, elements))) for _ in range(groups)]
    if not as_list:
        return pairs[0][0], pairs[0][1]
    return [p[0] for p in pairs], [p[1] for p in pairs]


@st.composite
def cyclic_configs(draw):
    groups = draw(st.integers(1, 3))
    as_list = groups > 1 and draw(st.booleans())
    base_lr, max_lr = _ordered(draw, groups, lrs, as_list)
    kwargs = {"base_lr": base_lr, "max_lr": max_lr, "step_size_up": draw(step_sizes),
              "step_size_down": draw(st.none() | step_sizes),
              "mode": draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
              "gamma": draw(st.floats(0.98, 1.0)),
              "cycle_momentum": draw(st.booleans())}
    fn = draw(st.sampled_from([None, "halve", "third", "damped"]))
    if fn is not None:
        kwargs["scale_fn"] = fn
        kwargs["scale_mode"] = "iterations" if fn == "damped" else "cycle"
    if kwargs["cycle_momentum"]:
        kwargs["base_momentum"], kwargs["max_momentum"] = _ordered(
            draw, groups, momenta, groups > 1 and draw(st.booleans()))
    return {"optimizer": draw(st.sampled_from(["sgd", "adam"])), "groups": groups,
            "scheduler": "CyclicLR", "kwargs": kwargs}


@st.composite
def one_cycle_configs(draw):
    groups = draw(st.integers(1, 3))
    as_list = groups > 1 and draw(st.booleans())
    three_phase = draw(st.booleans())
    # Degenerate runs included (a phase with no step, phases that overlap): cyclr
    # equals torch wherever torch computes its values.
    pct_start = draw(st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0.0, 1.0))
    kwargs = {"max_lr": _per_group(draw, groups, lrs, as_list),
              "pct_start": pct_start,
              "anneal_strategy": draw(st.sampled_from(["cos", "linear"])),
              "div_factor": draw(st.floats(1.0, 1e3)),
              "final_div_factor": draw(st.floats(1.0, 1e5)),
              "three_phase": three_phase,
              "cycle_momentum": draw(st.booleans())}
    total = draw(st.integers(1, 12) | st.integers(1, 500))
    if draw(st.booleans()):
        kwargs["total_steps"] = total
    else:
        kwargs["epochs"] = draw(st.integers(1, 10))
        kwargs["steps_per_epoch"] = max(1, total // kwargs["epochs"])
        total = kwargs["epochs"] * kwargs["steps_per_epoch"]
    # Where the warm-up ends at step 0, torch divides by zero (see test_torch_errors).
    assume(float(pct_start * total) != 1.0)
    if kwargs["cycle_momentum"]:
        kwargs["base_momentum"], kwargs["max_momentum"] = _ordered(
            draw, groups, momenta, groups > 1 and draw(st.booleans()))
    return {"optimizer": draw(st.sampled_from(["sgd", "adam"])), "groups": groups,
            "scheduler": "OneCycleLR", "kwargs": kwargs, "total": total}


def _pair(config):
    """torch's scheduler and cyclr's, built by the same call on equal optimizers."""
    with warnings.catch_warnings():
        # A degenerate 1cycle warns (tested in test_torch_one_cycle_tiny.py).
        warnings.filterwarnings("ignore", "OneCycleLR: pct_start", UserWarning)
        _, ours_opt, ours = helpers.build(config)
    _, opt = helpers.make_optimizer(config["optimizer"], config["groups"])
    kwargs = dict(config["kwargs"])
    if "scale_fn" in kwargs:
        kwargs["scale_fn"] = helpers.SCALE_FNS[kwargs["scale_fn"]]
    cls = getattr(torch.optim.lr_scheduler, config["scheduler"])
    theirs = cls(opt, **kwargs)
    ours_opt.step()  # both schedulers then step without torch's call-order warning
    opt.step()
    return (opt, theirs), (ours_opt, ours)


def _arg(kwargs, name, k, default):
    value = kwargs.get(name, default)
    return value[k] if isinstance(value, list) else value


@settings(max_examples=60, deadline=None)
@given(cyclic_configs())
def test_cyclic_lr_matches_torch(config):
    (opt, theirs), (ours_opt, ours) = _pair(config)
    kwargs = config["kwargs"]
    for i in range(CYCLIC_STEPS):
        want, got = helpers.hyper(opt), helpers.hyper(ours_opt)
        for k, ((lr_t, m_t), (lr_o, m_o)) in enumerate(zip(want, got)):
            low, high = _arg(kwargs, "base_lr", k, None), _arg(kwargs, "max_lr", k, None)
            tol = 1e-15 + helpers.torch_slack(kwargs, low, high, i)
            assert math.isclose(lr_o, lr_t, rel_tol=1e-12, abs_tol=tol), (i, k, lr_o, lr_t)
            if kwargs["cycle_momentum"]:
                low = _arg(kwargs, "base_momentum", k, 0.8)
                high = _arg(kwargs, "max_momentum", k, 0.9)
                tol = 1e-15 + helpers.torch_slack(kwargs, low, high, i)
                assert math.isclose(m_o, m_t, rel_tol=1e-12, abs_tol=tol), (i, k, m_o, m_t)
            else:
                assert m_o == m_t
        assert ours.last_epoch == theirs.last_epoch == i
        theirs.step()
        ours.step()


@settings(max_examples=60, deadline=None)
@given(one_cycle_configs())
def test_one_cycle_lr_equals_torch_exactly(config):
    (opt, theirs), (ours_opt, ours) = _pair(config)
    for i in range(config["total"]):
        if i:
            # Steps 1 .. total - 1 only: at step total_steps torch extrapolates its last
            # phase (or, with an empty last phase, divides by zero); cyclr holds.
            theirs.step()
            ours.step()
        assert helpers.hyper(ours_opt) == helpers.hyper(opt), i
        assert ours.get_last_lr() == theirs.get_last_lr(), i


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_lr_resumed_with_last_epoch_matches_torch(mode):
    config = {"optimizer": "sgd", "groups": 2, "scheduler": "CyclicLR",
              "kwargs": {"base_lr": 0.001, "max_lr": [0.01, 0.02], "step_size_up": 9,
                         "mode": mode, "gamma": 0.995, "last_epoch": 40}}
    _, ours_opt, ours = helpers.build(config)
    _, opt = helpers.make_optimizer("sgd", 2)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]  # torch needs it to resume
    theirs = torch.optim.lr_scheduler.CyclicLR(opt, **config["kwargs"])
    assert ours.last_epoch == theirs.last_epoch == 41
    assert ours.get_last_lr() == [s(41) for s in ours.schedules]
    # torch's first value here is computed before it stores base_lr (it uses the
    # group's initial_lr instead), so compare from its next step on.
    for _ in range(100):
        opt.step()
        ours_opt.step()
        theirs.step()
        ours.step()
        for (lr_t, m_t), (lr_o, m_o) in zip(helpers.hyper(opt), helpers.hyper(ours_opt)):
            assert math.isclose(lr_o, lr_t, rel_tol=1e-12, abs_tol=1e-15)
            assert math.isclose(m_o, m_t, rel_tol=1e-12, abs_tol=1e-15)


def test_one_cycle_lr_writes_torchs_group_keys():
    kwargs = {"max_lr": [0.01, 0.04], "total_steps": 50, "div_factor": 8.0,
              "final_div_factor": 3.0, "base_momentum": 0.8, "max_momentum": 0.9}
    _, opt = helpers.make_optimizer("sgd", 2)
    torch.optim.lr_scheduler.OneCycleLR(opt, **kwargs)
    _, ours_opt = helpers.make_optimizer("sgd", 2)
    ct.OneCycleLR(ours_opt, **kwargs)
    keys = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")
    for theirs, ours in zip(opt.param_groups, ours_opt.param_groups):
        assert {k: ours[k] for k in keys} == {k: theirs[k] for k in keys}


def test_cyclic_lr_writes_torchs_group_keys():
    _, opt = helpers.make_optimizer("adam", 1)
    torch.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, base_momentum=0.7)
    _, ours_opt = helpers.make_optimizer("adam", 1)
    ct.CyclicLR(ours_opt, 0.001, 0.01, base_momentum=0.7)
    keys = ("initial_lr", "max_momentum", "base_momentum", "lr", "betas")
    assert ({k: ours_opt.param_groups[0][k] for k in keys}
            == {k: opt.param_groups[0][k] for k in keys})


def test_inside_sequential_lr_behaves_like_torchs_cyclic_lr():
    def run(cls):
        _, opt = helpers.make_optimizer("sgd", 1)
        warmup = torch.optim.lr_scheduler.LinearLR(opt, 0.1, 1.0, total_iters=4)
        cyclic = cls(opt, 0.01, 0.1, step_size_up=3, mode="triangular2")
        sequence = torch.optim.lr_scheduler.SequentialLR(opt, [warmup, cyclic], milestones=[5])
        seen = []
        for _ in range(25):
            seen += helpers.hyper(opt)
            opt.step()
            sequence.step()
        return seen

    theirs, ours = run(torch.optim.lr_scheduler.CyclicLR), run(ct.CyclicLR)
    for (lr_t, m_t), (lr_o, m_o) in zip(theirs, ours):
        assert math.isclose(lr_o, lr_t, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(m_o, m_t, rel_tol=1e-12, abs_tol=1e-15)
