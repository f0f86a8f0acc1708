"""cyclr.adapters.torch.CosineAnnealingWarmRestarts against torch's own class of that
name, run side by side: values, T_i / T_cur after every step, checkpoints both ways,
and the arguments each one refuses."""

import io
import math
import warnings

import numpy as np
import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct

TorchRestarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
LRS = (0.1, 0.05, 1.0)          # one param group each


def _optimizer(lrs=LRS, kind="sgd"):
    params = [torch.nn.Parameter(torch.full((2,), 0.5, dtype=torch.float64)) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    if kind == "adam":
        return params, torch.optim.Adam(groups)
    return params, torch.optim.SGD(groups, momentum=0.9)


def _lrs(opt) -> list:
    return [float(g["lr"]) for g in opt.param_groups]


def _train(params, opt, sched, steps) -> list:
    """``steps`` real updates on a quadratic loss; per step, the LRs the update used
    and the scheduler's (last_epoch, T_i, T_cur) after it stepped."""
    seen = []
    for _ in range(steps):
        lrs = _lrs(opt)
        loss = sum(0.1 * ((p - 1.0) ** 2).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        seen.append((lrs, (sched.last_epoch, sched.T_i, sched.T_cur)))
    return seen


def _same_lr(ours: float, theirs: float, peak: float) -> bool:
    """Equal, or the one place they may differ (see tests/test_restarts.py): at a
    restart torch computes eta_min + (peak - eta_min), which can round past the peak;
    cyclr gives the peak itself."""
    return ours == theirs or (ours == peak and theirs > peak and math.isclose(ours, theirs))


# -- stepped per batch: torch's values and attributes, step for step ---------------------

@pytest.mark.parametrize("t0, t_mult, eta_min, steps", [
    (10, 1, 0.0, 3000), (5, 1, 0.02, 3000), (1, 1, 0.0, 500),   # a restart every step
    (7, 2, 0.001, 4000), (1, 2, 0.0, 5000), (3, 3, 0.01, 4000), (2, 3, 0.0, 5000),
])
def test_equal_to_torch_stepped_per_batch_past_many_restarts(t0, t_mult, eta_min, steps):
    params, opt = _optimizer()
    params_t, opt_t = _optimizer()
    ours = ct.CosineAnnealingWarmRestarts(opt, t0, t_mult, eta_min)
    theirs = TorchRestarts(opt_t, t0, t_mult, eta_min)
    for name in ("T_0", "T_mult", "eta_min", "base_lrs", "last_epoch", "T_i", "T_cur"):
        assert getattr(ours, name) == getattr(theirs, name), name
    got = _train(params, opt, ours, steps)
    expected = _train(params_t, opt_t, theirs, steps)
    restarts = 0
    for step, ((lrs, counters), (lrs_t, counters_t)) in enumerate(zip(got, expected)):
        assert counters == counters_t, step
        assert all(_same_lr(a, b, peak) for a, b, peak in zip(lrs, lrs_t, LRS)), step
        restarts += counters[2] == 0
    assert restarts >= 7
    assert ours.get_last_lr() == [s(steps) for s in ours.schedules]
    assert all(_same_lr(a, b, p) for a, b, p in zip(ours.get_last_lr(), theirs.get_last_lr(),
                                                    LRS))
    # The updates saw (almost always) the very same LRs: the parameters agree.
    for p, q in zip(params, params_t):
        assert torch.allclose(p, q, rtol=1e-12, atol=1e-15)


def test_each_group_follows_cosine_restarts_of_its_own_lr():
    _, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, 4, 2, eta_min=0.01)
    assert sched.schedules == tuple(
        cyclr.cosine_restarts(lr, 4, min_lr=0.01, cycle_mult=2) for lr in LRS)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    assert "CosineAnnealingWarmRestarts" in ct.__all__


def test_t_i_and_t_cur_are_exact_far_out():
    # Cycle k of T_0=3, T_mult=2 starts at 3 * (2**k - 1) and lasts 3 * 2**k steps.
    _, opt = _optimizer((0.1,))
    opt.param_groups[0]["initial_lr"] = 0.1
    step = 3 * (2**40 - 1) + 5
    sched = ct.CosineAnnealingWarmRestarts(opt, 3, 2, last_epoch=step - 1)
    assert (sched.last_epoch, sched.T_i, sched.T_cur) == (step, 3 * 2**40, 5)
    # T_mult=1, next to the last step a schedule takes.
    _, opt = _optimizer((0.1,))
    opt.param_groups[0]["initial_lr"] = 0.1
    sched = ct.CosineAnnealingWarmRestarts(opt, 7, last_epoch=2**63 - 3)
    assert (sched.T_i, sched.T_cur) == (7, (2**63 - 2) % 7)
    expected = 0.05 * (1 + math.cos(math.pi * ((2**63 - 2) % 7) / 7))
    assert math.isclose(_lrs(opt)[0], expected, rel_tol=1e-14)


def test_momentum_is_left_alone_as_torch_leaves_it():
    _, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, 3)
    for _ in range(10):
        opt.step()
        sched.step()
    assert [g["momentum"] for g in opt.param_groups] == [0.9] * 3
    assert sched.momentum_schedules is None


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_schedule_lr_cycles_momentum_with_cosine_restarts(kind):
    # The way to cycle momentum with restarts: ScheduleLR with momentum_schedule. It is
    # the inverse of the LR, 0.85 at each restart up to 0.95 at a cycle's end, checked
    # against the cosine of torch's own T_cur / T_i.
    s = cyclr.cosine_restarts(0.1, 5, min_lr=0.001, cycle_mult=2)
    _, opt = _optimizer((0.1,), kind)
    sched = ct.ScheduleLR(opt, s, momentum=s.momentum_schedule(0.85, 0.95))
    _, opt_t = _optimizer((0.1,))
    theirs = TorchRestarts(opt_t, 5, 2, eta_min=0.001)
    key = "betas" if kind == "adam" else "momentum"
    for _ in range(200):
        group = opt.param_groups[0]
        momentum = group["betas"][0] if key == "betas" else group["momentum"]
        cosine = (1 + math.cos(math.pi * theirs.T_cur / theirs.T_i)) / 2
        assert math.isclose(momentum, 0.95 - 0.1 * cosine, rel_tol=1e-12, abs_tol=1e-15)
        assert _same_lr(group["lr"], opt_t.param_groups[0]["lr"], 0.1)
        opt.step()
        sched.step()
        opt_t.step()
        theirs.step()


def test_tensor_lr_keeps_one_tensor_with_torch_values():
    _, opt = _optimizer()
    _, opt_t = _optimizer()
    ours = ct.CosineAnnealingWarmRestarts(opt, 3, 2, tensor_lr=True)
    theirs = TorchRestarts(opt_t, 3, 2)
    tensors = [g["lr"] for g in opt.param_groups]
    for _ in range(40):
        assert all(_same_lr(a, b, p) for a, b, p in zip(_lrs(opt), _lrs(opt_t), LRS))
        opt.step()
        ours.step()
        opt_t.step()
        theirs.step()
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors))


# -- where the peak LR comes from: torch's rule ----------------------------------------

def test_peak_is_the_groups_initial_lr_when_it_has_one():
    # A checkpoint's optimizer state brings back initial_lr and a mid-run lr; torch's
    # class built then anneals from initial_lr, and so does cyclr's.
    _, opt = _optimizer((0.3, 0.03))
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"] * 2
    _, opt_t = _optimizer((0.3, 0.03))
    opt_t.load_state_dict(opt.state_dict())
    ours = ct.CosineAnnealingWarmRestarts(opt, 4)
    theirs = TorchRestarts(opt_t, 4)
    assert ours.base_lrs == theirs.base_lrs == [0.6, 0.06]
    assert _lrs(opt) == _lrs(opt_t) == [0.6, 0.06]


def test_last_epoch_continues_the_run_where_torch_restarts_its_count():
    # Resumed with last_epoch=k, cyclr is at step k + 1 of the run. torch's class (for
    # T_mult > 1) takes T_cur = (k + 1) % T_0 with T_i = T_0 * T_mult instead: cyclr
    # differs there on purpose, and equals torch's own run stepped k + 1 times.
    k = 12
    _, opt_run = _optimizer((0.1,))
    run = TorchRestarts(opt_run, 3, 2)
    for _ in range(k + 1):
        opt_run.step()
        run.step()
    _, opt = _optimizer((0.1,))
    opt.param_groups[0]["initial_lr"] = 0.1
    ours = ct.CosineAnnealingWarmRestarts(opt, 3, 2, last_epoch=k)
    _, opt_t = _optimizer((0.1,))
    opt_t.param_groups[0]["initial_lr"] = 0.1
    resumed = TorchRestarts(opt_t, 3, 2, last_epoch=k)
    assert (ours.last_epoch, ours.T_i, ours.T_cur) == (run.last_epoch, run.T_i, run.T_cur)
    assert _lrs(opt) == _lrs(opt_run)
    assert (resumed.T_i, resumed.T_cur) == (6, (k + 1) % 3) != (ours.T_i, ours.T_cur)


def test_resuming_without_initial_lr_is_refused_as_torch_refuses_it():
    _, opt = _optimizer((0.1,))
    with pytest.raises(KeyError, match=r"initial_lr"):
        TorchRestarts(opt, 3, last_epoch=4)
    # cyclr: a ValueError (bad input), naming the group and the key.
    before = dict(opt.param_groups[0])
    with pytest.raises(ValueError, match=r"param_groups\[0\] has no 'initial_lr' to resume "
                                         r"from with last_epoch=4"):
        ct.CosineAnnealingWarmRestarts(opt, 3, last_epoch=4)
    assert opt.param_groups[0] == before


# -- step(epoch) ----------------------------------------------------------------------

@pytest.mark.parametrize("t0, t_mult", [(10, 1), (4, 2)])
def test_integer_epoch_jumps_as_torch_does_without_a_warning(t0, t_mult):
    _, opt = _optimizer()
    _, opt_t = _optimizer()
    ours = ct.CosineAnnealingWarmRestarts(opt, t0, t_mult, 0.001)
    theirs = TorchRestarts(opt_t, t0, t_mult, 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # torch's class does not warn here either
        for epoch in (26, 3, 27, 59, 0, 44):
            opt.step()
            ours.step(epoch)
            opt_t.step()
            theirs.step(epoch)
            assert ours.last_epoch == theirs.last_epoch == epoch
            assert (ours.T_i, ours.T_cur) == (theirs.T_i, theirs.T_cur)
            assert all(_same_lr(a, b, p) for a, b, p in zip(_lrs(opt), _lrs(opt_t), LRS))
            ours.step()
            theirs.step()
            assert ours.last_epoch == theirs.last_epoch == epoch + 1
            assert all(_same_lr(a, b, p) for a, b, p in zip(_lrs(opt), _lrs(opt_t), LRS))
            assert _lrs(opt) == [s(epoch + 1) for s in ours.schedules]


def test_integer_epoch_lands_in_its_cycle_where_torch_log_does_not():
    # torch finds the cycle of an epoch with math.log(121 * 2 + 1, 3), which is
    # 4.999999999999999: it puts step 121 at the end of cycle 4 (LR eta_min). Step 121
    # starts cycle 5 (1 + 3 + 9 + 27 + 81 = 121), as torch's class stepped per batch
    # says: cyclr jumps there.
    _, opt_run = _optimizer((0.1,))
    run = TorchRestarts(opt_run, 1, 3)
    for _ in range(121):
        opt_run.step()
        run.step()
    assert (run.T_i, run.T_cur, _lrs(opt_run)) == (243, 0, [0.1])
    _, opt_t = _optimizer((0.1,))
    jumped = TorchRestarts(opt_t, 1, 3)
    jumped.step(121)
    assert _lrs(opt_t) == [0.0]
    _, opt = _optimizer((0.1,))
    ours = ct.CosineAnnealingWarmRestarts(opt, 1, 3)
    opt.step()
    ours.step(121)
    assert (ours.T_i, ours.T_cur, _lrs(opt)) == (243, 0, [0.1])


@pytest.mark.parametrize("epoch", [2.5, 3.0, np.float64(1.25), 2 + 1 / 3])
def test_fractional_epoch_is_refused_saying_how_to_step_per_batch(epoch):
    _, opt_t = _optimizer()
    TorchRestarts(opt_t, 3).step(epoch)        # torch takes it (the docs' epoch + i / iters)
    _, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, 3)
    opt.step()
    sched.step()
    before = (_lrs(opt), sched.last_epoch, sched._step_count, sched.get_last_lr())
    with pytest.raises(ValueError, match=r"epoch must be a whole step, got epoch=.*give T_0 "
                                         r"in batches \(T_0 \* iters\) and call step\(\) with "
                                         r"no argument once per batch"):
        sched.step(epoch)
    assert (_lrs(opt), sched.last_epoch, sched._step_count, sched.get_last_lr()) == before


@pytest.mark.parametrize("epoch", [-1, 2**63])
def test_epoch_out_of_range_is_refused(epoch):
    _, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, 3)
    opt.step()
    with pytest.raises(ValueError, match=rf"epoch must be an integer in \[0, 2\*\*63 - 1\], "
                                         rf"got {epoch}"):
        sched.step(epoch)
    assert sched.last_epoch == 0
    if epoch < 0:
        with pytest.raises(ValueError, match="Expected non-negative epoch"):
            TorchRestarts(_optimizer()[1], 3).step(epoch)


# -- checkpoints ------------------------------------------------------------------------

def _through_file(state) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("optimizer_first", [True, False])
def test_state_dict_round_trip_continues_the_run(optimizer_first):
    kwargs = {"T_0": 4, "T_mult": 2, "eta_min": 0.001}
    params, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, **kwargs)
    _train(params, opt, sched, 37)
    saved = _through_file({"params": [p.detach().clone() for p in params],
                           "optimizer": opt.state_dict(), "scheduler": sched.state_dict()})
    params2, opt2 = _optimizer()
    with torch.no_grad():
        for p, q in zip(params2, saved["params"]):
            p.copy_(q)
    if optimizer_first:
        # The optimizer now holds the mid-run lr and initial_lr: the peak is initial_lr.
        opt2.load_state_dict(saved["optimizer"])
        resumed = ct.CosineAnnealingWarmRestarts(opt2, **kwargs)
        resumed.load_state_dict(saved["scheduler"])
    else:
        resumed = ct.CosineAnnealingWarmRestarts(opt2, **kwargs)
        resumed.load_state_dict(saved["scheduler"])
        opt2.load_state_dict(saved["optimizer"])
    assert (resumed.last_epoch, resumed.T_i, resumed.T_cur) == (37, 32, 9)   # cycles start at 0, 4, 12, 28, 60
    assert _lrs(opt2) == _lrs(opt)
    assert _train(params2, opt2, resumed, 50) == _train(params, opt, sched, 50)
    assert [p.tolist() for p in params2] == [p.tolist() for p in params]


@pytest.mark.parametrize("optimizer_first", [True, False])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("t0, t_mult, eta_min, before", [
    (5, 2, 0.001, 23),       # mid-way through the third cycle (15 .. 34)
    (4, 1, 0.0, 30),
    (3, 3, 0.01, 12),        # at a restart
])
def test_torch_checkpoint_resumes_where_torch_continues(t0, t_mult, eta_min, before, kind,
                                                        optimizer_first):
    kwargs = {"T_0": t0, "T_mult": t_mult, "eta_min": eta_min}
    params_t, opt_t = _optimizer(kind=kind)
    theirs = TorchRestarts(opt_t, **kwargs)
    _train(params_t, opt_t, theirs, before)
    saved = _through_file({"params": [p.detach().clone() for p in params_t],
                           "optimizer": opt_t.state_dict(), "scheduler": theirs.state_dict()})
    params, opt = _optimizer(kind=kind)
    with torch.no_grad():
        for p, q in zip(params, saved["params"]):
            p.copy_(q)
    if optimizer_first:
        opt.load_state_dict(saved["optimizer"])
    ours = ct.CosineAnnealingWarmRestarts(opt, **kwargs)
    ours.load_state_dict(saved["scheduler"])
    if not optimizer_first:
        opt.load_state_dict(saved["optimizer"])
    assert (ours.last_epoch, ours.T_i, ours.T_cur) == (theirs.last_epoch, theirs.T_i,
                                                       theirs.T_cur)
    assert _lrs(opt) == [s(before) for s in ours.schedules]
    assert all(_same_lr(a, b, p) for a, b, p in zip(_lrs(opt), _lrs(opt_t), LRS))
    got = _train(params, opt, ours, 80)
    expected = _train(params_t, opt_t, theirs, 80)      # torch continuing itself
    for (lrs, counters), (lrs_t, counters_t) in zip(got, expected):
        assert counters == counters_t
        assert all(_same_lr(a, b, p) for a, b, p in zip(lrs, lrs_t, LRS))
    for p, q in zip(params, params_t):
        assert torch.allclose(p, q, rtol=1e-12, atol=1e-15)


BASE = {"T_0": 5, "T_mult": 2, "eta_min": 0.001}


@pytest.mark.parametrize("change, lrs, message", [
    ({"T_0": 6}, LRS, r"T_0: saved 5, this scheduler has 6"),
    ({"T_mult": 3}, LRS, r"T_mult: saved 2, this scheduler has 3"),
    ({"eta_min": 0.0}, LRS, r"eta_min: saved 0.001, this scheduler has 0.0"),
    ({}, (0.1, 0.06, 1.0), r"base_lrs\[1\]: saved 0.05, this scheduler has 0.06 \(each param "
                           r"group's initial lr\)"),
    ({}, (0.1, 0.05), r"base_lrs: saved \[0.1, 0.05, 1.0\], this scheduler has \[0.1, 0.05\] "
                      r"\(one value per param group\)"),
])
def test_torch_checkpoint_of_other_arguments_is_refused_leaving_all_unchanged(change, lrs,
                                                                              message):
    _, opt_t = _optimizer()
    theirs = TorchRestarts(opt_t, **BASE)
    for _ in range(9):
        opt_t.step()
        theirs.step()
    _refused(theirs.state_dict(), {**BASE, **change}, lrs, message)


def _refused(state, kwargs, lrs, message):
    _, opt = _optimizer(lrs)
    ours = ct.CosineAnnealingWarmRestarts(opt, **kwargs)
    for _ in range(3):
        opt.step()
        ours.step()
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    before = (ours.schedules, ours.last_epoch, ours._step_count, ours.get_last_lr(),
              ours.T_i, ours.T_cur)
    with pytest.raises(ValueError, match=r"saved by torch's CosineAnnealingWarmRestarts\) "
                                         rf"does not match.*{message}"):
        ours.load_state_dict(state)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == groups
    assert (ours.schedules, ours.last_epoch, ours._step_count, ours.get_last_lr(),
            ours.T_i, ours.T_cur) == before
    assert ours.schedules[0] is before[0][0]


def test_torch_checkpoint_of_a_fractional_epoch_run_is_refused():
    # Stepped as torch's docs show (epoch + i / iters): T_cur is fractional, last_epoch
    # its floor; no per-batch run is there.
    _, opt_t = _optimizer()
    theirs = TorchRestarts(opt_t, **BASE)
    for i in range(7):
        opt_t.step()
        theirs.step(1 + i / 4)
    assert (theirs.last_epoch, theirs.T_cur) == (2, 2.5)
    _refused(theirs.state_dict(), BASE, LRS,
             r"T_i, T_cur: saved 5, 2.5 at last_epoch=2, where a run stepped once per "
             r"batch has 5, 2")


def test_torch_checkpoint_resumed_by_torch_with_last_epoch_is_refused():
    # torch's own resume with last_epoch=k and T_mult > 1 restarts its count at
    # (k + 1) % T_0: not where its run was, so not a state cyclr can continue.
    _, opt_t = _optimizer()
    for group in opt_t.param_groups:
        group["initial_lr"] = group["lr"]
    theirs = TorchRestarts(opt_t, last_epoch=11, **BASE)
    _refused(theirs.state_dict(), BASE, LRS,
             r"T_i, T_cur: saved 10, 2 at last_epoch=12, where a run stepped once per "
             r"batch has 10, 7")


def test_cyclr_state_of_other_arguments_is_refused():
    _, opt = _optimizer()
    sched = ct.CosineAnnealingWarmRestarts(opt, **BASE)
    state = _through_file(sched.state_dict())
    _, opt2 = _optimizer()
    other = ct.CosineAnnealingWarmRestarts(opt2, **{**BASE, "T_mult": 1})
    with pytest.raises(ValueError, match=r"state_dict does not match this "
                                         r"CosineAnnealingWarmRestarts: schedules\[0\]"
                                         r"\.cycle_mult: saved 2, this scheduler has 1"):
        other.load_state_dict(state)
    assert other.schedules[0].params["cycle_mult"] == 1


# -- bad arguments ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, torch_error, ours", [
    ({"T_0": 0}, "Expected positive integer T_0, but got 0",
     (ValueError, r"T_0 must be a positive integer, got 0")),
    ({"T_0": 1.5}, "Expected positive integer T_0, but got 1.5",
     (ValueError, r"T_0 must be a positive integer, got 1.5")),
    ({"T_0": 10, "T_mult": 0}, "Expected integer T_mult >= 1, but got 0",
     (ValueError, r"T_mult must be an integer >= 1, got 0")),
    ({"T_0": 10, "T_mult": 1.5}, "Expected integer T_mult >= 1, but got 1.5",
     (ValueError, r"T_mult must be an integer >= 1, got 1.5 \(for a fractional one, drive "
                  r"cyclr.cosine_restarts\(..., cycle_mult=...\) with ScheduleLR\)")),
    # torch: ValueError; cyclr: TypeError, its type for an argument of the wrong type.
    ({"T_0": 10, "eta_min": "0.1"}, "Expected float or int eta_min",
     (TypeError, r"eta_min must be a real number, got '0.1'")),
])
def test_bad_arguments_refused_as_torch_refuses_them(kwargs, torch_error, ours):
    with pytest.raises(ValueError, match=torch_error):
        TorchRestarts(_optimizer()[1], **kwargs)
    _refused_at_construction(kwargs, *ours)


@pytest.mark.parametrize("kwargs, error, message", [
    # torch anneals to a negative LR (SGD then steps uphill); cyclr's LRs are >= 0.
    ({"T_0": 10, "eta_min": -1}, ValueError, r"eta_min must be >= 0, got -1"),
    # torch anneals upwards from the group's lr; cyclr's cycles go from their peak down.
    ({"T_0": 10, "eta_min": 0.07}, ValueError,
     r"param_groups\[1\]\['lr'\] must be >= eta_min, got eta_min=0.07, "
     r"param_groups\[1\]\['lr'\]=0.05"),
    ({"T_0": 10, "eta_min": math.nan}, ValueError, r"eta_min must be finite, got nan"),
    # torch takes True as 1 (bool is an int subclass); cyclr refuses a bool as a count.
    ({"T_0": True}, ValueError, r"T_0 must be a positive integer, got True"),
])
def test_arguments_torch_accepts_and_cyclr_refuses(kwargs, error, message):
    TorchRestarts(_optimizer()[1], **kwargs)
    _refused_at_construction(kwargs, error, message)


def _refused_at_construction(kwargs, error, message):
    _, opt = _optimizer()
    groups = [dict(g) for g in opt.param_groups]
    step = opt.step
    with pytest.raises(error, match=message):
        ct.CosineAnnealingWarmRestarts(opt, **kwargs)
    assert [dict(g) for g in opt.param_groups] == groups      # no initial_lr added
    assert opt.step == step and not hasattr(opt.step, "_wrapped_by_lr_sched")


def test_a_non_optimizer_is_refused():
    with pytest.raises(TypeError, match=r"optimizer must be a torch.optim.Optimizer, got "
                                        r"list"):
        ct.CosineAnnealingWarmRestarts([], 10)
