"""cyclr.adapters.torch: bad arguments raise ValueError/TypeError naming the argument
and the value, before the optimizer is touched; where torch raises, so do we."""


import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct


def _sgd(groups=1):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(2))]}
                            for _ in range(groups)], lr=0.1, momentum=0.9)


def _adagrad():  # neither momentum nor betas
    return torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(2))], lr=0.1)


def _frozen_value(value):
    if isinstance(value, torch.Tensor):  # the very tensor, and what it holds
        return ("tensor", id(value), value.dtype, value.tolist())
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_frozen_value(v) for v in value))
    return (type(value), value)


def _groups(opt):
    """Everything a scheduler could change in an optimizer: every group entry (tensors
    by identity and value), and whether its ``step`` was wrapped."""
    groups = [{k: [id(p) for p in v] if k == "params" else _frozen_value(v)
               for k, v in g.items()} for g in opt.param_groups]
    return groups, vars(opt).get("step")


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
    (dict(last_epoch=2**63 - 1), ValueError,
     r"last_epoch must be < 2\*\*63 - 1, got 9223372036854775807"),
    (dict(last_epoch=2**64), ValueError, r"last_epoch must be < 2\*\*63 - 1"),
    (dict(tensor_lr="yes"), TypeError, r"tensor_lr must be a bool, got 'yes'"),
]


@pytest.mark.parametrize("change, error, message", CYCLIC_ERRORS)
def test_cyclic_lr_rejects(change, error, message):
    opt = _sgd(groups=2)
    before = _groups(opt)
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
    (dict(pct_start=1.5), ValueError,
     r"pct_start must be in \[0, 1\], got pct_start=1.5 \(total_steps=100\)"),
    (dict(pct_start=-0.1), ValueError, r"pct_start must be in \[0, 1\], got pct_start=-0.1"),
    (dict(pct_start=float("nan")), ValueError, r"got pct_start=nan \(total_steps=100\)"),
    # 0.01 * 100 == 1.0: the warm-up ends at step 0, where torch divides by zero.
    (dict(pct_start=0.01), ValueError, r"pct_start=0.01 with total_steps=100 .*divides by zero"),
    (dict(pct_start=0.01, three_phase=True), ValueError, r"pct_start=0.01 with total_steps=100"),
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
    before = _groups(opt)
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
    before = _groups(opt)
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
        with pytest.raises(ValueError,
                           match=r"epoch must be an integer in \[0, 2\*\*63 - 1\], got -1"):
            sched.step(-1)
    assert sched.last_epoch == 0


# -- a constructor that raises leaves the optimizer exactly as it was ----------------


def _adam(groups=1, **kwargs):
    return torch.optim.Adam([{"params": [torch.nn.Parameter(torch.zeros(2))]}
                             for _ in range(groups)], lr=0.1, **kwargs)


def _sgd_with_tensor_lr():
    opt = _sgd(groups=2)
    opt.param_groups[1]["lr"] = torch.tensor(0.1, dtype=torch.float64)
    return opt


def _after_another_scheduler():
    # A scheduler already wrapped step and wrote initial_lr: both must stay as they are.
    opt = _sgd(groups=2)
    torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5)
    return opt


def _fails_from_cycle_3(cycle):
    return 1.0 if cycle < 3 else 2.0   # the core refuses factors outside [0, 1]


OPTIMIZERS = {"sgd": lambda: _sgd(groups=2), "adam": lambda: _adam(groups=2),
              "sgd-tensor-lr": _sgd_with_tensor_lr, "after-another": _after_another_scheduler}
FAILING_CONSTRUCTORS = {
    # the case: refused before tensor_lr turns lr into a tensor
    "last_epoch-overflow-tensor_lr": (lambda o: ct.CyclicLR(
        o, 0.001, 0.01, last_epoch=2**63 - 1, tensor_lr=True), ValueError, "last_epoch"),
    "last_epoch-overflow-one_cycle": (lambda o: ct.OneCycleLR(
        o, 0.01, total_steps=10, last_epoch=2**63 - 1), ValueError, "last_epoch"),
    "last_epoch-overflow-schedule": (lambda o: ct.ScheduleLR(
        o, S, last_epoch=2**63 - 1, tensor_lr=True), ValueError, "last_epoch"),
    "tensor_lr": (lambda o: ct.CyclicLR(o, 0.001, 0.01, tensor_lr=1), TypeError, "tensor_lr"),
    "momentum-order": (lambda o: ct.CyclicLR(o, 0.001, 0.01, base_momentum=0.95,
                                             tensor_lr=True), ValueError, "max_momentum"),
    "momentum-list": (lambda o: ct.OneCycleLR(o, 0.01, total_steps=10,
                                              max_momentum=[0.9] * 3), ValueError,
                      "max_momentum"),
    "lr-list": (lambda o: ct.CyclicLR(o, [0.001] * 3, 0.01), ValueError, "base_lr"),
    "pct_start": (lambda o: ct.OneCycleLR(o, 0.01, total_steps=10, pct_start=0.1,
                                          tensor_lr=True), ValueError, "pct_start"),
    "momentum-schedule": (lambda o: ct.ScheduleLR(o, S, momentum=[S, 0.9], tensor_lr=True),
                          TypeError, "momentum"),
    # Fails in the first step, after the groups were set up: all of it is undone.
    "scale_fn-raises-at-first-step": (lambda o: ct.CyclicLR(
        o, 0.001, 0.01, step_size_up=2, scale_fn=_fails_from_cycle_3, last_epoch=20,
        tensor_lr=True), ValueError, "scale_fn must return"),
    "scale_fn-raises-in-chain": (lambda o: ct.ScheduleLR(
        o, cyclr.chain((S, 5), cyclr.cyclic(0.001, 0.01, 2, scale_fn=_fails_from_cycle_3)),
        last_epoch=30, tensor_lr=True), ValueError, "scale_fn must return"),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", sorted(FAILING_CONSTRUCTORS))
def test_failing_constructor_leaves_the_optimizer_as_it_was(optimizer, case):
    make, error, message = FAILING_CONSTRUCTORS[case]
    opt = OPTIMIZERS[optimizer]()
    before = _groups(opt)
    with pytest.raises(error, match=message):
        make(opt)
    assert _groups(opt) == before
    # ...and the optimizer still works with a scheduler built right.
    sched = ct.CyclicLR(opt, 0.001, 0.01, step_size_up=2)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == sched.schedules[0](1)


def test_the_largest_last_epoch_runs_to_the_last_step_and_no_further():
    opt = _sgd()
    sched = ct.CyclicLR(opt, 0.001, 0.01, step_size_up=3, last_epoch=2**63 - 2)
    last = 2**63 - 1
    assert sched.last_epoch == last
    assert opt.param_groups[0]["lr"] == sched.schedules[0](last)
    hyper = dict(opt.param_groups[0])
    opt.step()
    with pytest.raises(ValueError, match=r"2\*\*63 - 1"):
        sched.step()
    # The failed step changed nothing: the scheduler is not left broken.
    assert sched.last_epoch == last and sched._step_count == 1
    assert opt.param_groups[0] == hyper
    assert sched.state_dict()["last_epoch"] == last
    with pytest.warns(UserWarning, match="epoch parameter"):
        with pytest.raises(ValueError, match=r"epoch must be an integer in \[0, 2\*\*63 - 1\]"):
            sched.step(2**63)
    assert sched.last_epoch == last


@pytest.mark.parametrize("last_epoch", [2**63 - 1, 2**63, -1, 3.0, True])
def test_load_refuses_a_last_epoch_the_next_step_would_overflow(last_epoch):
    opt = _sgd()
    sched = ct.CyclicLR(opt, 0.001, 0.01, step_size_up=3)
    state = sched.state_dict()
    lr = opt.param_groups[0]["lr"]
    for saved in (state, torch.optim.lr_scheduler.CyclicLR(
            _sgd(), 0.001, 0.01, step_size_up=3).state_dict()):
        with pytest.raises(ValueError, match=r"state_dict\['last_epoch'\] must be an integer "
                                             r"in \[0, 2\*\*63 - 2\]"):
            sched.load_state_dict({**saved, "last_epoch": last_epoch})
        assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == lr
    sched.load_state_dict({**state, "last_epoch": 2**63 - 2})
    assert opt.param_groups[0]["lr"] == sched.schedules[0](2**63 - 2)
    opt.step()
    sched.step()
    assert sched.last_epoch == 2**63 - 1


def test_one_cycle_where_torch_divides_by_zero():
    # pct_start * total_steps == 1 ends the warm-up at step 0: torch's first value is 0/0.
    with pytest.raises(ZeroDivisionError):
        torch.optim.lr_scheduler.OneCycleLR(_sgd(), 0.01, total_steps=10, pct_start=0.1)
    opt = _sgd()
    before = _groups(opt)
    with pytest.raises(ValueError, match=r"pct_start=0.1 with total_steps=10 .*step 0.0"):
        ct.OneCycleLR(opt, 0.01, total_steps=10, pct_start=0.1)
    assert _groups(opt) == before
