"""cyclr.adapters.torch: the values an optimizer holds at every step are the core's
float64 numbers, exactly, for thousands of steps."""

import numpy as np
import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct

STEPS = 3000

SCHEDULES = {
    "triangular2": cyclr.triangular2(0.001, 0.006, 200),
    "exp_range": cyclr.exp_range(0.001, 0.006, 150, gamma=0.9995),
    "hann": cyclr.triangular(0.001, 0.006, 170, shape="hann"),
    "welch-asymmetric": cyclr.triangular2(0.001, 0.006, 90, step_size_down=310, shape="welch"),
    "fractional-steps": cyclr.triangular(0.001, 0.006, 12.5, step_size_down=7.25),
    "chain": cyclr.chain((cyclr.triangular2(0.001, 0.006, 100), 800),
                         (cyclr.triangular2(0.0005, 0.003, 60), 1000),
                         cyclr.exp_range(0.0001, 0.001, 50, gamma=0.999)),
    "one_cycle": cyclr.one_cycle(0.01, STEPS, three_phase=True),
    "one_cycle-linear-short": cyclr.one_cycle(0.01, 700, anneal="linear", pct_start=0.25),
}


def _optimizer(kind, groups=1):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)]
    param_groups = [{"params": [p]} for p in params]
    if kind == "sgd":
        return torch.optim.SGD(param_groups, lr=0.5, momentum=0.5)
    return torch.optim.Adam(param_groups, lr=0.5, betas=(0.5, 0.99))


def _momentum(group):
    value = group["betas"][0] if "betas" in group else group["momentum"]
    return float(value)


def _run(opt, sched, steps):
    """The LRs and momenta of every group before each of ``steps`` optimizer updates."""
    lrs = np.empty((steps, len(opt.param_groups)))
    moms = np.empty_like(lrs)
    for i in range(steps):
        for k, group in enumerate(opt.param_groups):
            lrs[i, k] = float(group["lr"])
            moms[i, k] = _momentum(group)
        opt.step()
        sched.step()
    return lrs, moms


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_lr_values_are_the_core_arrays(name, optimizer):
    s = SCHEDULES[name]
    m = s.momentum_schedule(0.85, 0.95)
    opt = _optimizer(optimizer)
    betas_1 = opt.param_groups[0].get("betas", (None, None))[1]
    sched = ct.ScheduleLR(opt, s, momentum=m)
    lrs, moms = _run(opt, sched, STEPS)
    np.testing.assert_array_equal(lrs[:, 0], s.array(STEPS))
    np.testing.assert_array_equal(moms[:, 0], m.array(STEPS))
    assert sched.last_epoch == STEPS
    assert sched.get_last_lr() == [s(STEPS)]
    if optimizer == "adam":
        assert opt.param_groups[0]["betas"][1] == betas_1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("mode, shape", [("triangular2", "linear"), ("exp_range", "hann"),
                                         ("triangular", "welch")])
def test_cyclic_lr_per_group_lists_are_the_core_arrays(mode, shape, optimizer):
    opt = _optimizer(optimizer, groups=3)
    sched = ct.CyclicLR(opt, base_lr=[0.001, 0.002, 0.0], max_lr=[0.006, 0.01, 0.003],
                        step_size_up=110, step_size_down=70, mode=mode, gamma=0.9993,
                        base_momentum=[0.8, 0.85, 0.7], max_momentum=0.95, shape=shape)
    lrs, moms = _run(opt, sched, STEPS)
    for k, (low, high, bm) in enumerate([(0.001, 0.006, 0.8), (0.002, 0.01, 0.85),
                                         (0.0, 0.003, 0.7)]):
        s = cyclr.cyclic(low, high, 110, step_size_down=70, policy=mode, gamma=0.9993,
                         shape=shape)
        np.testing.assert_array_equal(lrs[:, k], s.array(STEPS))
        np.testing.assert_array_equal(moms[:, k], s.momentum_schedule(bm, 0.95).array(STEPS))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_cycle_lr_is_the_core_array(optimizer):
    opt = _optimizer(optimizer, groups=2)
    sched = ct.OneCycleLR(opt, max_lr=[0.01, 0.05], epochs=10, steps_per_epoch=250,
                          anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0)
    lrs, moms = _run(opt, sched, 2500)
    for k, top in enumerate([0.01, 0.05]):
        s = cyclr.one_cycle(top, 2500, anneal="linear", div_factor=10.0,
                            final_div_factor=100.0)
        np.testing.assert_array_equal(lrs[:, k], s.array(2500))
        np.testing.assert_array_equal(moms[:, k], s.momentum_schedule(0.85, 0.95).array(2500))


def test_schedule_list_per_group_and_shared_momentum():
    opt = _optimizer("sgd", groups=2)
    slow, fast = cyclr.triangular(0.0, 0.01, 50), cyclr.exp_range(0.0, 0.1, 20, gamma=0.999)
    m = slow.momentum_schedule(0.8, 0.9)
    sched = ct.ScheduleLR(opt, [slow, fast], momentum=m)
    lrs, moms = _run(opt, sched, 500)
    np.testing.assert_array_equal(lrs, np.stack([slow.array(500), fast.array(500)], axis=1))
    np.testing.assert_array_equal(moms, np.stack([m.array(500)] * 2, axis=1))
    assert sched.schedules == (slow, fast) and sched.momentum_schedules == (m, m)


def test_without_momentum_schedule_momentum_is_left_alone():
    opt = _optimizer("sgd", groups=1)
    sched = ct.CyclicLR(opt, 0.001, 0.01, step_size_up=5, cycle_momentum=False)
    _, moms = _run(opt, sched, 30)
    assert (moms == 0.5).all() and sched.momentum_schedules is None


def test_tensor_lr_keeps_one_tensor_per_group_with_exact_values():
    opt = _optimizer("adam", groups=2)
    s = cyclr.triangular2(0.001, 0.006, 40)
    m = s.momentum_schedule(0.85, 0.95)
    sched = ct.ScheduleLR(opt, s, momentum=m, tensor_lr=True)
    lr_tensors = [g["lr"] for g in opt.param_groups]
    beta_tensors = [g["betas"][0] for g in opt.param_groups]
    assert all(t.dtype == torch.float64 and t.shape == () for t in lr_tensors + beta_tensors)
    assert all(isinstance(b, torch.Tensor) for g in opt.param_groups for b in g["betas"])
    lrs, moms = _run(opt, sched, 400)
    np.testing.assert_array_equal(lrs, np.stack([s.array(400)] * 2, axis=1))
    np.testing.assert_array_equal(moms, np.stack([m.array(400)] * 2, axis=1))
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, lr_tensors))
    assert all(g["betas"][0] is t for g, t in zip(opt.param_groups, beta_tensors))
    # get_last_lr gives the float64 values, not aliases of the group tensors.
    assert sched.get_last_lr() == [s(400), s(400)]


def test_tensor_lr_on_sgd_keeps_momentum_a_float():
    opt = _optimizer("sgd")
    sched = ct.CyclicLR(opt, 0.001, 0.006, step_size_up=10, tensor_lr=True)
    opt.step()
    sched.step()
    group = opt.param_groups[0]
    assert isinstance(group["lr"], torch.Tensor)
    assert type(group["momentum"]) is float
    assert group["momentum"] == sched.momentum_schedules[0](1)


def test_user_tensor_lr_is_filled_in_place():
    param = torch.nn.Parameter(torch.zeros(2))
    lr = torch.tensor(0.5)  # float32, the user's own choice
    opt = torch.optim.SGD([param], lr=lr, momentum=0.9)
    s = cyclr.triangular(0.001, 0.006, 10)
    sched = ct.ScheduleLR(opt, s)
    for i in range(25):
        assert opt.param_groups[0]["lr"] is lr
        assert lr.item() == np.float32(s(i))
        opt.step()
        sched.step()


def test_tensor_arguments_are_copied_not_aliased():
    base, top = torch.tensor(0.001, dtype=torch.float64), torch.tensor(0.01, dtype=torch.float64)
    opt = _optimizer("sgd")
    sched = ct.CyclicLR(opt, base_lr=base, max_lr=top, step_size_up=4)
    base.fill_(0.5)
    top.fill_(0.9)
    lrs, _ = _run(opt, sched, 12)
    np.testing.assert_array_equal(lrs[:, 0], cyclr.triangular(0.001, 0.01, 4).array(12))


def test_last_epoch_resumes_at_the_next_step():
    s = cyclr.exp_range(0.001, 0.01, 30, gamma=0.999)
    opt = _optimizer("adam")
    sched = ct.ScheduleLR(opt, s, last_epoch=99)
    assert sched.last_epoch == 100
    lrs, _ = _run(opt, sched, 50)
    np.testing.assert_array_equal(lrs[:, 0], s.array(50, start=100))


def test_deprecated_epoch_argument_jumps_there_with_torchs_warning():
    s = cyclr.triangular(0.001, 0.01, 8)
    opt = _optimizer("sgd")
    sched = ct.ScheduleLR(opt, s)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(13)
    assert opt.param_groups[0]["lr"] == s(13) and sched.last_epoch == 13


def test_step_before_optimizer_step_warns_like_torch():
    for make in (lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.001, 0.01),
                 lambda o: ct.CyclicLR(o, 0.001, 0.01)):
        opt = _optimizer("sgd")
        sched = make(opt)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            sched.step()


def test_get_lr_outside_step_warns_and_gives_current_values():
    s = cyclr.triangular(0.001, 0.01, 8)
    opt = _optimizer("sgd")
    sched = ct.ScheduleLR(opt, s, last_epoch=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        assert sched.get_lr() == [s(3)]


def test_is_a_torch_lr_scheduler():
    opt = _optimizer("sgd")
    for sched in (ct.CyclicLR(opt, 0.001, 0.01), ct.OneCycleLR(opt, 0.01, 100),
                  ct.ScheduleLR(opt, cyclr.constant(0.01))):
        assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
