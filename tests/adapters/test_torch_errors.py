"""cyclr.adapters.torch: bad arguments raise ValueError/TypeError naming the argument
and the value, before the optimizer is touched; where torch raises, so do we."""

import copy

import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct


def _sgd(groups=1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(2))]}
                            for _ in range(groups)], lr=0.1, momentum=0.9)


def _adagrad():  # neither momentum nor betas
    return torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(2))], lr=0.1)


def _groups(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


CYCLIC = dict(base_lr=0.001, max_lr=0.01)
CYCLIC_ERRORS = [
    (dict(base_lr=[0.001, 0.002, 0.003]), ValueError, r"base_lr.*param_groups.*3 values"),
    (dict(max_lr=[0.01]), ValueError, r"max_lr.*param_groups \(2\).*1 values"),
    (dict(base_lr=0.02), ValueError, r"max_lr must be >= base_lr.*base_lr=0.02"),
    (dict(base_lr=-0.1), ValueError, r"base_lr must be >= 0, got -0.1"),
    (dict(max_lr=float("nan")), ValueError, r"max_lr must be finite, got nan"),
    (dict(base_lr="0.1"), TypeError, r"base_lr must be a real number, got '0.1'"),
    (dict(step_size_up=0), ValueError, r"step_size_up must be > 0, got 0"),
    (dict(step_size_up=-3.5), ValueError, r"step_size_up must be > 0, got -3.5"),
    (dict(step_size_down=0), ValueError, r"step_size_down must be > 0, got 0"),
    (dict(mode="cosine"), ValueError, r"mode must be one of .*got 'cosine'"),
    (dict(mode="exp_range", gamma=1.5), ValueError, r"gamma must be in \(0, 1\], got 1.5"),
    (dict(gamma=0.0), ValueError, r"gamma must be in \(0, 1\], got 0.0"),
    (dict(scale_fn=3), TypeError, r"scale_fn must be callable, got 3"),
    (dict(scale_fn=abs, scale_mode="epochs"), ValueError, r"scale_mode must be one of .*'epochs'"),
    (dict(shape="sine"), ValueError, r"shape must be one of .*got 'sine'"),
    (dict(base_momentum=0.95), ValueError, r"max_momentum must be >= base_momentum"),
    (dict(max_momentum=[0.9, 0.9, 0.9]), ValueError, r"max_momentum.*param_groups"),
    (dict(base_momentum=-0.5), ValueError, r"base_momentum must be >= 0, got -0.5"),
    (dict(last_epoch=-2), ValueError, r"last_epoch must be an integer >= -1, got -2"),
    (dict(last_epoch=3.0), TypeError, r"last_epoch must be an integer >= -1, got 3.0"),
    (dict(tensor_lr="yes"), TypeError, r"tensor_lr must be a bool, got 'yes'"),
]


@pytest.mark.parametrize("change, error, message", CYCLIC_ERRORS)
def test_cyclic_lr_rejects(change, error, message):
    opt = _sgd(groups=2)
    before = copy.deepcopy(_groups(opt))
    with pytest.raises(error, match=message):
        ct.CyclicLR(opt, **{**CYCLIC, **change})
    assert _groups(opt) == before  # nothing half-applied


ONE_CYCLE = dict(max_lr=0.01, total_steps=100)
ONE_CYCLE_ERRORS = [
    (dict(total_steps=None), ValueError, r"either total_steps OR \(epochs AND steps_per_epoch\)"),
    (dict(total_steps=None, epochs=3), ValueError, r"steps_per_epoch=None"),
    (dict(total_steps=0), ValueError, r"total_steps must be a positive integer, got 0"),
    (dict(total_steps=10.0), ValueError, r"total_steps must be a positive integer, got 10.0"),
    (dict(total_steps=None, epochs=0, steps_per_epoch=5), ValueError,
     r"epochs must be a positive integer, got 0"),
    (dict(total_steps=None, epochs=2, steps_per_epoch=-1), ValueError,
     r"steps_per_epoch must be a positive integer, got -1"),
    (dict(total_steps=1), ValueError, r"total_steps must be an integer >= 2, got 1"),
    (dict(pct_start=1.5), ValueError, r"pct_start must be in \(0, 1\), got 1.5"),
    (dict(pct_start=0.005), ValueError, r"pct_start=0.005 with total_steps=100"),
    (dict(pct_start=0.6, three_phase=True), ValueError, r"three_phase needs pct_start < 0.5"),
    (dict(anneal_strategy="cubic"), ValueError, r"anneal_strategy must be one of .*'cubic'"),
    (dict(div_factor=0.0), ValueError, r"div_factor must be > 0, got 0.0"),
    (dict(final_div_factor=-1.0), ValueError, r"final_div_factor must be > 0, got -1.0"),
    (dict(three_phase="no"), TypeError, r"three_phase must be a bool, got 'no'"),
    (dict(max_lr=[0.1]), ValueError, r"max_lr.*param_groups"),
    (dict(max_lr=-1.0), ValueError, r"max_lr must be >= 0, got -1.0"),
    (dict(base_momentum=0.99), ValueError, r"max_momentum must be >= base_momentum"),
]


@pytest.mark.parametrize("change, error, message", ONE_CYCLE_ERRORS)
def test_one_cycle_lr_rejects(change, error, message):
    opt = _sgd(groups=2)
    before = copy.deepcopy(_groups(opt))
    with pytest.raises(error, match=message):
        ct.OneCycleLR(opt, **{**ONE_CYCLE, **change})
    assert _groups(opt) == before


S = cyclr.triangular(0.001, 0.01, 5)
SCHEDULE_ERRORS = [
    (lambda o: ct.ScheduleLR(o, 0.01), TypeError,
     r"schedule_or_list must be a cyclr schedule, got 0.01"),
    (lambda o: ct.ScheduleLR(o, [S, "x"]), TypeError,
     r"schedule_or_list\[1\] must be a cyclr schedule"),
    (lambda o: ct.ScheduleLR(o, [S]), ValueError, r"schedule_or_list.*param_groups \(2\)"),
    (lambda o: ct.ScheduleLR(o, S, momentum=[S.momentum_schedule(0.8, 0.9), 0.9]), TypeError,
     r"momentum\[1\] must be a cyclr schedule, got 0.9"),
    (lambda o: ct.ScheduleLR(o, S, momentum=0.9), TypeError, r"momentum must be a cyclr schedule"),
    (lambda o: ct.ScheduleLR(o, S, last_epoch=-5), ValueError, r"last_epoch.*-5"),
    (lambda o: ct.ScheduleLR(o, S, tensor_lr=1), TypeError, r"tensor_lr must be a bool, got 1"),
]


@pytest.mark.parametrize("make, error, message", SCHEDULE_ERRORS)
def test_schedule_lr_rejects(make, error, message):
    opt = _sgd(groups=2)
    before = copy.deepcopy(_groups(opt))
    with pytest.raises(error, match=message):
        make(opt)
    assert _groups(opt) == before


# Where torch raises, ours raises the same exception type (its message names more).
SAME_AS_TORCH = [
    ("CyclicLR", lambda: (object(),), dict(base_lr=0.001, max_lr=0.01), TypeError),
    ("CyclicLR", lambda: (_sgd(2),), dict(base_lr=[0.001] * 3, max_lr=0.01), ValueError),
    ("CyclicLR", lambda: (_sgd(),), dict(base_lr=0.001, max_lr=0.01, mode="x"), ValueError),
    ("CyclicLR", lambda: (_adagrad(),), dict(base_lr=0.001, max_lr=0.01), ValueError),
    ("OneCycleLR", lambda: (_adagrad(),), dict(max_lr=0.01, total_steps=10), ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01), ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01, total_steps=-4), ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01, total_steps=9.0), ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01, epochs=0, steps_per_epoch=3),
     ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01, total_steps=10, pct_start=1.2),
     ValueError),
    ("OneCycleLR", lambda: (_sgd(),), dict(max_lr=0.01, total_steps=10,
                                           anneal_strategy="cubic"), ValueError),
]


@pytest.mark.parametrize("name, args, kwargs, error", SAME_AS_TORCH)
def test_raises_where_torch_raises(name, args, kwargs, error):
    with pytest.raises(error):
        getattr(torch.optim.lr_scheduler, name)(*args(), **kwargs)
    with pytest.raises(error):
        getattr(ct, name)(*args(), **kwargs)


def test_optimizer_without_momentum_is_named():
    with pytest.raises(ValueError, match=r"support momentum or beta1.*Adagrad has neither"):
        ct.CyclicLR(_adagrad(), 0.001, 0.01)
    with pytest.raises(ValueError, match=r"Adagrad has neither"):
        ct.ScheduleLR(_adagrad(), S, momentum=S.momentum_schedule(0.8, 0.9))
    # Without momentum cycling, any optimizer will do.
    ct.CyclicLR(_adagrad(), 0.001, 0.01, cycle_momentum=False)


def test_optimizer_argument_is_named():
    with pytest.raises(TypeError, match=r"optimizer must be a torch.optim.Optimizer, got list"):
        ct.ScheduleLR([torch.zeros(1)], S)


def test_param_group_added_later_is_an_error_at_step():
    opt = _sgd()
    sched = ct.ScheduleLR(opt, S)
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
    opt.step()
    with pytest.raises(ValueError, match="2 param groups, but this scheduler was built for 1"):
        sched.step()


def test_bad_epoch_argument_is_named():
    opt = _sgd()
    sched = ct.ScheduleLR(opt, S)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        with pytest.raises(ValueError, match=r"epoch must be an integer >= 0, got -1"):
            sched.step(-1)
