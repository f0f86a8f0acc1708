"""cyclr.adapters.torch: checkpoints (resumed in a fresh process), initial_lr, and
OneCycleLR past its end."""

import json
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _torch_helpers as helpers  # noqa: E402  (needs HERE on sys.path, as the script has)

# (config, steps before the checkpoint, steps after it)
RESUME_CASES = {
    "triangular2-sgd-2groups": ({
        "optimizer": "sgd", "groups": 2, "scheduler": "CyclicLR",
        "kwargs": {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.3], "step_size_up": 7,
                   "step_size_down": 4, "mode": "triangular2"}}, 30, 25),
    "module-scale_fn-adam": ({
        "optimizer": "adam", "groups": 1, "scheduler": "CyclicLR",
        "kwargs": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 5,
                   "scale_fn": "halve", "base_momentum": 0.85, "max_momentum": 0.95}},
        23, 30),
    "scale_fn-iterations-tensor_lr": ({
        "optimizer": "sgd", "groups": 1, "scheduler": "CyclicLR",
        "kwargs": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 4,
                   "scale_fn": "damped", "scale_mode": "iterations", "tensor_lr": True}},
        17, 20),
    "one_cycle-three_phase-adam": ({
        "optimizer": "adam", "groups": 2, "scheduler": "OneCycleLR",
        "kwargs": {"max_lr": [0.05, 0.1], "total_steps": 60, "three_phase": True}}, 31, 29),
    "chain-with-momentum": ({
        "optimizer": "sgd", "groups": 1, "scheduler": "ScheduleLR",
        "kwargs": {
            "schedule": cyclr.chain((cyclr.triangular2(0.01, 0.1, 5), 20),
                                    cyclr.exp_range(0.001, 0.05, 4, gamma=0.99)).to_dict(),
            "momentum": cyclr.chain((cyclr.triangular2(0.01, 0.1, 5), 20),
                                    cyclr.exp_range(0.001, 0.05, 4, gamma=0.99))
            .momentum_schedule(0.8, 0.95).to_dict()}}, 20, 30),
}


def _checkpoint(config, steps, path):
    """Train ``steps`` updates and save params, optimizer and scheduler with torch.save."""
    params, opt, sched = helpers.build(config)
    seen = helpers.train(params, opt, sched, steps)
    torch.save({"params": [p.detach().clone() for p in params],
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    return seen


def test_resume_in_a_new_process_continues_the_identical_trajectory(tmp_path):
    jobs, expected = [], []
    for name, (config, before, after) in RESUME_CASES.items():
        path = tmp_path / f"{name}.pt"
        _checkpoint(config, before, path)
        jobs.append({"config": config, "checkpoint": str(path), "steps": after})
        # The uninterrupted run, in this process.
        params, opt, sched = helpers.build(config)
        seen = helpers.train(params, opt, sched, before + after)
        expected.append((name, before, seen, [p.detach().tolist() for p in params], sched))
    results = helpers.resume_in_new_process(jobs, tmp_path)
    for (name, before, seen, params, sched), got in zip(expected, results):
        assert "error" not in got, (name, got)
        assert got["seen"] == seen[before:], name
        assert got["params"] == params, name
        assert got["last_epoch"] == len(seen)
        # ...and the uninterrupted run is the core's own numbers.
        for k, schedule in enumerate(sched.schedules):
            lrs = [step[k][0] for step in seen]
            np.testing.assert_array_equal(lrs, schedule.array(len(seen)), err_msg=name)
        for k, schedule in enumerate(sched.momentum_schedules or ()):
            moms = [step[k][1] for step in seen]
            np.testing.assert_array_equal(moms, schedule.array(len(seen)), err_msg=name)


def test_resume_with_a_different_scale_fn_fails_clearly(tmp_path):
    config, before, _ = RESUME_CASES["module-scale_fn-adam"]
    path = tmp_path / "halve.pt"
    _checkpoint(config, before, path)
    other = json.loads(json.dumps(config))
    other["kwargs"]["scale_fn"] = "third"
    _, opt, sched = helpers.build(other)
    lr_before = opt.param_groups[0]["lr"]
    state = torch.load(path, weights_only=True)["scheduler"]
    with pytest.raises(ValueError, match=r"scale_fn.*_torch_helpers:halve.*_torch_helpers:third"):
        sched.load_state_dict(state)
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == lr_before
    # Built with the same function, the same state loads and continues.
    _, _, same = helpers.build(config)
    same.load_state_dict(state)
    assert same.last_epoch == before


def test_state_dict_is_plain_data_and_names_the_function():
    _, opt, sched = helpers.build(RESUME_CASES["module-scale_fn-adam"][0])
    state = sched.state_dict()
    assert state["schedules"][0]["scale_fn"] == "_torch_helpers:halve"
    assert state["momentum_schedules"][0]["schedule"]["scale_fn"] == "_torch_helpers:halve"
    assert json.loads(json.dumps(state)) == state
    assert cyclr.from_dict(state["schedules"][0], allow_imports=True) == sched.schedules[0]


@pytest.mark.parametrize("change, where", [
    ({"max_lr": 0.02}, "max_lr"),
    ({"mode": "exp_range", "gamma": 0.99}, "policy"),
    ({"base_momentum": 0.7}, "base_momentum"),
])
def test_load_refuses_state_of_another_schedule(change, where):
    kwargs = {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 5}
    _, opt = helpers.make_optimizer("sgd", 1)
    saved = ct.CyclicLR(opt, **kwargs)
    opt.step()
    saved.step()
    state = saved.state_dict()
    _, opt2 = helpers.make_optimizer("sgd", 1)
    other = ct.CyclicLR(opt2, **{**kwargs, **change})
    with pytest.raises(ValueError, match=where):
        other.load_state_dict(state)


def test_load_refuses_other_group_count_and_foreign_state():
    _, opt = helpers.make_optimizer("sgd", 2)
    state = ct.CyclicLR(opt, 0.001, 0.01).state_dict()
    _, opt1 = helpers.make_optimizer("sgd", 1)
    one = ct.CyclicLR(opt1, 0.001, 0.01)
    with pytest.raises(ValueError, match="schedules"):
        one.load_state_dict(state)
    torch_state = torch.optim.lr_scheduler.StepLR(opt1, 3).state_dict()
    with pytest.raises(ValueError, match="not saved by a cyclr scheduler"):
        one.load_state_dict(torch_state)
    with pytest.raises(TypeError, match="state_dict"):
        one.load_state_dict([1, 2])


def _lambda_scheduler(fn):
    _, opt = helpers.make_optimizer("sgd", 1)
    return ct.CyclicLR(opt, 0.001, 0.01, step_size_up=3, scale_fn=fn)


def test_lambda_scale_fn_is_recorded_by_name_not_dropped(tmp_path):
    sched = _lambda_scheduler(lambda c: 0.5 ** (c - 1))
    for _ in range(5):
        sched.optimizer.step()
        sched.step()
    torch.save(sched.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    assert "<lambda>" in state["schedules"][0]["repr"]
    again = _lambda_scheduler(lambda c: 0.5 ** (c - 1))
    again.load_state_dict(state)
    assert again.last_epoch == 5
    assert again.optimizer.param_groups[0]["lr"] == sched.optimizer.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="halve"):
        _lambda_scheduler(helpers.halve).load_state_dict(state)


def test_load_state_dict_sets_that_steps_values():
    params, opt, sched = helpers.build(RESUME_CASES["triangular2-sgd-2groups"][0])
    helpers.train(params, opt, sched, 9)
    state = sched.state_dict()
    _, opt2, fresh = helpers.build(RESUME_CASES["triangular2-sgd-2groups"][0])
    fresh.load_state_dict(state)
    assert helpers.hyper(opt2) == helpers.hyper(opt)
    assert fresh.get_last_lr() == [s(9) for s in fresh.schedules]


# -- initial_lr -------------------------------------------------------------------


def test_scheduler_created_second_follows_its_own_schedule():
    params, opt = helpers.make_optimizer("sgd", 1)
    first = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5)  # lr 0.05, initial_lr 0.1
    assert opt.param_groups[0]["initial_lr"] == 0.1
    s = cyclr.triangular(0.002, 0.02, 4)
    second = ct.ScheduleLR(opt, s)
    seen = helpers.train(params, opt, second, 12)
    assert [step[0][0] for step in seen] == s.array(12).tolist()
    assert first.base_lrs == [0.1]


def test_cyclic_lr_created_second_starts_at_base_lr_where_torchs_does_not():
    lrs = {}
    for name, cls in (("torch", torch.optim.lr_scheduler.CyclicLR), ("cyclr", ct.CyclicLR)):
        _, opt = helpers.make_optimizer("sgd", 1)
        torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5)  # leaves initial_lr = 0.1
        cls(opt, base_lr=0.001, max_lr=0.01, step_size_up=4)
        lrs[name] = opt.param_groups[0]["lr"]
    assert lrs["cyclr"] == 0.001
    assert lrs["torch"] == 0.1  # torch's first value uses the old initial_lr as base_lr


@pytest.mark.parametrize("make", [
    lambda opt: ct.CyclicLR(opt, 0.003, 0.03, step_size_up=3),
    lambda opt: ct.OneCycleLR(opt, 0.03, total_steps=20),
    lambda opt: ct.ScheduleLR(opt, cyclr.exp_range(0.003, 0.03, 3, gamma=0.9)),
])
def test_second_cyclr_scheduler_after_another_one_starts_at_its_step_0(make):
    params, opt = helpers.make_optimizer("adam", 1)
    first = ct.OneCycleLR(opt, 0.5, total_steps=40)  # writes initial_lr = 0.02
    helpers.train(params, opt, first, 7)
    second = make(opt)
    seen = helpers.train(params, opt, second, 15)
    assert [step[0][0] for step in seen] == second.schedules[0].array(15).tolist()


def test_resume_with_last_epoch_needs_no_initial_lr():
    s = cyclr.triangular2(0.001, 0.01, 5)
    _, opt = helpers.make_optimizer("sgd", 1)
    assert "initial_lr" not in opt.param_groups[0]
    with pytest.raises(KeyError, match="initial_lr"):  # torch's own
        torch.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, 5, last_epoch=8)
    sched = ct.CyclicLR(opt, 0.001, 0.01, 5, mode="triangular2", last_epoch=8)
    # As in torch, last_epoch=k means k+1 steps are done once the scheduler exists.
    assert sched.last_epoch == 9 and opt.param_groups[0]["lr"] == s(9)


# -- OneCycleLR past its end ----------------------------------------------------------


def test_one_cycle_past_total_steps_holds_and_warns_once():
    total = 12
    _, opt = helpers.make_optimizer("sgd", 1)
    ours = ct.OneCycleLR(opt, 0.1, total_steps=total)
    _, opt_t = helpers.make_optimizer("sgd", 1)
    theirs = torch.optim.lr_scheduler.OneCycleLR(opt_t, 0.1, total_steps=total)
    final = ours.schedules[0](total - 1)
    opt.step()
    opt_t.step()
    for _ in range(total):  # a whole run: no warning (filterwarnings=error)
        ours.step()
        theirs.step()
    with pytest.raises(ValueError, match="Tried to step"):
        theirs.step()
    with pytest.warns(UserWarning, match="past total_steps=12") as record:
        ours.step()
    assert len(record) == 1
    assert opt.param_groups[0]["lr"] == final
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(50):
            ours.step()
    assert opt.param_groups[0]["lr"] == final
    assert opt.param_groups[0]["momentum"] == ours.momentum_schedules[0](total - 1)


class _Decay:
    """A callable-object scale_fn that is not hashable (it defines __eq__ only)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, cycle):
        return self.rate ** (cycle - 1)

    def __eq__(self, other):
        return isinstance(other, _Decay) and other.rate == self.rate


def test_callable_object_scale_fn_resumes_by_name(tmp_path):
    sched = _lambda_scheduler(_Decay(0.7))
    for _ in range(8):
        sched.optimizer.step()
        sched.step()
    torch.save(sched.state_dict(), tmp_path / "s.pt")
    again = _lambda_scheduler(_Decay(0.7))
    again.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert again.optimizer.param_groups[0]["lr"] == sched.optimizer.param_groups[0]["lr"]
    assert again.optimizer.param_groups[0]["lr"] == cyclr.cyclic(
        0.001, 0.01, 3, scale_fn=_Decay(0.7))(8)
