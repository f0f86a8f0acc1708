"""cyclr.adapters.torch resuming checkpoints saved by torch's own CyclicLR and OneCycleLR:
saved mid-run by torch's class, loaded into cyclr's built with the same arguments, both
stepped on; the values must be the ones torch gives when it continues itself."""

import contextlib
import io
import math
import pathlib
import sys

import pytest
import torch

from cyclr.adapters import torch as ct

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _torch_helpers as helpers  # noqa: E402  (lives beside this file)

CYCLIC = {
    "triangular": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 7},
    "triangular2-2groups": {"base_lr": [0.001, 0.002], "max_lr": [0.01, 0.05],
                            "step_size_up": 5, "step_size_down": 3, "mode": "triangular2",
                            "base_momentum": [0.8, 0.7], "max_momentum": 0.95},
    "exp_range": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 4, "mode": "exp_range",
                  "gamma": 0.97},
    "float-step-size": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2 * 1797 / 64,
                        "step_size_down": 10.5},
    "module-scale_fn": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
                        "scale_fn": helpers.halve},
    "module-scale_fn-iterations": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
                                   "scale_fn": helpers.damped, "scale_mode": "iterations"},
    "object-scale_fn": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
                        "scale_fn": "Power(0.6)"},
    "no-momentum": {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 6,
                    "cycle_momentum": False},
}
ONE_CYCLE = {
    "cos": {"max_lr": 0.1, "total_steps": 50},
    "linear-2groups": {"max_lr": [0.1, 0.3], "total_steps": 40, "anneal_strategy": "linear",
                       "div_factor": 10.0, "final_div_factor": 100.0, "pct_start": 0.4},
    "three_phase-cos": {"max_lr": 0.05, "epochs": 4, "steps_per_epoch": 9,
                        "three_phase": True, "base_momentum": 0.8},
    "three_phase-linear": {"max_lr": 0.05, "total_steps": 37, "three_phase": True,
                           "anneal_strategy": "linear", "pct_start": 0.25},
    "tiny": {"max_lr": 0.1, "total_steps": 3},      # a warm-up with no step: warns
    "no-momentum": {"max_lr": 0.1, "total_steps": 20, "cycle_momentum": False},
}


def _kwargs(kwargs):
    """A fresh copy, with a callable-object scale_fn built anew (each scheduler its own)."""
    kwargs = dict(kwargs)
    if kwargs.get("scale_fn") == "Power(0.6)":
        kwargs["scale_fn"] = helpers.Power(0.6)
    return kwargs


def _groups(kwargs):
    lists = [v for v in kwargs.values() if isinstance(v, list)]
    return len(lists[0]) if lists else 1


def _saved_by_torch(name, kind, kwargs, steps):
    """torch's scheduler run ``steps`` updates, and its checkpoint as bytes."""
    params, opt = helpers.make_optimizer(kind, _groups(kwargs))
    theirs = getattr(torch.optim.lr_scheduler, name)(opt, **_kwargs(kwargs))
    helpers.train(params, opt, theirs, steps)
    buffer = io.BytesIO()
    torch.save({"params": [p.detach().clone() for p in params],
                "optimizer": opt.state_dict(), "scheduler": theirs.state_dict()}, buffer)
    return params, opt, theirs, buffer.getvalue()


def _resumed(name, kind, kwargs, checkpoint, *, scheduler_first=False):
    """cyclr's scheduler built with ``kwargs`` on a fresh optimizer, resumed from a
    checkpoint that torch saved (``weights_only``, as a careful user loads it)."""
    state = torch.load(io.BytesIO(checkpoint), weights_only=True)
    params, opt = helpers.make_optimizer(kind, _groups(kwargs), seed=1)
    degenerate = name == "OneCycleLR" and kwargs.get("total_steps") == 3
    with (pytest.warns(UserWarning, match="warm-up phase no step") if degenerate
          else contextlib.nullcontext()):
        ours = getattr(ct, name)(opt, **kwargs)
    with torch.no_grad():
        for p, saved in zip(params, state["params"]):
            p.copy_(saved)
    if scheduler_first:
        ours.load_state_dict(state["scheduler"])
        opt.load_state_dict(state["optimizer"])
    else:
        opt.load_state_dict(state["optimizer"])
        ours.load_state_dict(state["scheduler"])
    return params, opt, ours


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("case", sorted(CYCLIC))
def test_cyclic_lr_resumes_a_torch_checkpoint_as_torch_continues(case, kind):
    kwargs, before, after = CYCLIC[case], 23, 60
    params_t, opt_t, theirs, checkpoint = _saved_by_torch("CyclicLR", kind, kwargs, before)
    params, opt, ours = _resumed("CyclicLR", kind, _kwargs(kwargs), checkpoint)
    assert ours.last_epoch == theirs.last_epoch == before
    expected = helpers.train(params_t, opt_t, theirs, after)   # torch continuing itself
    got = helpers.train(params, opt, ours, after)
    cycle_momentum = kwargs.get("cycle_momentum", True)
    for step, (want, have) in enumerate(zip(expected, got), start=before):
        for k, ((lr_t, m_t), (lr_o, m_o)) in enumerate(zip(want, have)):
            low = _at(kwargs, "base_lr", k, None)
            high = _at(kwargs, "max_lr", k, None)
            tol = 1e-15 + helpers.torch_slack(kwargs, low, high, step)
            assert math.isclose(lr_o, lr_t, rel_tol=1e-12, abs_tol=tol), (step, k)
            if cycle_momentum:
                low = _at(kwargs, "base_momentum", k, 0.8)
                high = _at(kwargs, "max_momentum", k, 0.9)
                tol = 1e-15 + helpers.torch_slack(kwargs, low, high, step)
                assert math.isclose(m_o, m_t, rel_tol=1e-12, abs_tol=tol), (step, k)
            else:
                assert m_o == m_t
        # ...and they are cyclr's own values for those steps.
        assert [lr for lr, _ in have] == [s(step) for s in ours.schedules]
    assert ours.last_epoch == theirs.last_epoch == before + after


def _at(kwargs, name, k, default):
    value = kwargs.get(name, default)
    return value[k] if isinstance(value, list) else value


@pytest.mark.parametrize("scheduler_first", [False, True])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("case", sorted(ONE_CYCLE))
def test_one_cycle_lr_resumes_a_torch_checkpoint_bit_for_bit(case, kind, scheduler_first):
    kwargs = ONE_CYCLE[case]
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    before = total // 2
    params_t, opt_t, theirs, checkpoint = _saved_by_torch("OneCycleLR", kind, kwargs, before)
    params, opt, ours = _resumed("OneCycleLR", kind, kwargs, checkpoint,
                                 scheduler_first=scheduler_first)
    assert helpers.hyper(opt) == helpers.hyper(opt_t)
    # Up to step total_steps - 1: the last step torch computes inside its run.
    after = total - 1 - before
    assert helpers.train(params, opt, ours, after) == helpers.train(params_t, opt_t, theirs,
                                                                     after)
    assert helpers.hyper(opt) == helpers.hyper(opt_t)
    assert ours.get_last_lr() == theirs.get_last_lr()
    assert [p.tolist() for p in params] == [p.tolist() for p in params_t]


def test_callable_object_state_is_restored_as_torch_restores_it():
    kwargs = {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3}
    params_t, opt_t = helpers.make_optimizer("sgd", 1)
    theirs = torch.optim.lr_scheduler.CyclicLR(opt_t, scale_fn=helpers.Power(0.5), **kwargs)
    helpers.train(params_t, opt_t, theirs, 14)
    state = theirs.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.5}
    # Built with another rate: torch's load puts the saved one into the object.
    fn = helpers.Power(0.25)
    params, opt = helpers.make_optimizer("sgd", 1)
    ours = ct.CyclicLR(opt, scale_fn=fn, **kwargs)
    opt.load_state_dict(opt_t.state_dict())
    ours.load_state_dict(state)
    assert fn.rate == 0.5
    assert ours.schedules[0].params["scale_fn"] is fn
    # torch itself does the same, and both go on with rate 0.5.
    params_u, opt_u = helpers.make_optimizer("sgd", 1)
    torch_fn = helpers.Power(0.25)
    again = torch.optim.lr_scheduler.CyclicLR(opt_u, scale_fn=torch_fn, **kwargs)
    opt_u.load_state_dict(opt_t.state_dict())
    again.load_state_dict(theirs.state_dict())
    assert torch_fn.rate == 0.5
    expected = helpers.train(params_t, opt_t, theirs, 30)
    assert helpers.train(params_u, opt_u, again, 30) == expected
    got = helpers.train(params, opt, ours, 30)
    for (want,), (have,) in zip(expected, got):
        assert math.isclose(have[0], want[0], rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(have[1], want[1], rel_tol=1e-12, abs_tol=1e-15)


# -- built with other arguments: refused, naming the first difference ----------------

CYCLIC_BASE = {"base_lr": [0.001, 0.002], "max_lr": [0.01, 0.02], "step_size_up": 5,
               "step_size_down": 3, "mode": "exp_range", "gamma": 0.99,
               "base_momentum": 0.8, "max_momentum": 0.9}
CYCLIC_CHANGES = [
    ({"base_lr": [0.001, 0.003]}, r"base_lrs\[1\]: saved 0.002, this scheduler has 0.003"),
    ({"max_lr": 0.01}, r"max_lrs\[1\]: saved 0.02, this scheduler has 0.01"),
    ({"step_size_up": 6}, r"step_size_up: saved 5.0.*this scheduler has 6.0"),
    ({"step_size_down": None}, r"step_size_down: saved 3.0.*this scheduler has 5.0"),
    ({"step_size_up": 3, "step_size_down": 5}, r"step_size_up: saved 5.0.*has 3.0"),
    ({"mode": "triangular"}, r"mode: saved 'exp_range', this scheduler has 'triangular'"),
    ({"gamma": 0.98}, r"gamma: saved 0.99, this scheduler has 0.98"),
    ({"scale_fn": helpers.halve, "scale_mode": "cycle"},
     r"scale_mode: saved 'iterations', this scheduler has 'cycle'"),
    ({"base_momentum": 0.7}, r"base_momentums\[0\]: saved 0.8, this scheduler has 0.7"),
    ({"max_momentum": [0.9, 0.95]}, r"max_momentums\[1\]: saved 0.9, this scheduler has 0.95"),
    ({"cycle_momentum": False}, r"cycle_momentum: saved True, this scheduler has False"),
]
ONE_CYCLE_BASE = {"max_lr": [0.1, 0.2], "total_steps": 30, "pct_start": 0.3,
                  "div_factor": 10.0, "final_div_factor": 100.0, "three_phase": True,
                  "base_momentum": 0.8, "max_momentum": 0.9}
ONE_CYCLE_CHANGES = [
    ({"total_steps": 31}, r"total_steps: saved 30, this scheduler has 31"),
    ({"pct_start": 0.25}, r"pct_start: the saved phases end at steps \[8.0, 16.0, 29.0\], "
                          r"this scheduler's \(pct_start=0.25\) at \[6.5, 13.0, 29.0\]"),
    ({"three_phase": False}, r"three_phase: .*this scheduler has 2 phases"),
    ({"anneal_strategy": "linear"}, r"anneal_strategy: saved 'cos', this scheduler has 'linear'"),
    ({"max_lr": [0.1, 0.3]}, r"base_lrs\[1\]: saved 0.02, this scheduler has 0.03"),
    ({"div_factor": 20.0}, r"base_lrs\[0\]: saved 0.01, this scheduler has 0.005"),
    # Not in torch's scheduler state: torch reads them from the (restored) param groups.
    ({"final_div_factor": 10.0}, r"param_groups\[0\]\['min_lr'\]: the optimizer holds 0.0001"),
    ({"max_momentum": 0.95}, r"param_groups\[0\]\['max_momentum'\]: the optimizer holds 0.9"),
    ({"cycle_momentum": False}, r"cycle_momentum: saved True, this scheduler has False"),
]


def _refusal(name, base, change, message, *, kind="sgd", other_kind=None):
    _, opt_t, _, checkpoint = _saved_by_torch(name, kind, base, 7)
    state = torch.load(io.BytesIO(checkpoint), weights_only=True)
    params, opt = helpers.make_optimizer(other_kind or kind, 2)
    ours = getattr(ct, name)(opt, **{**base, **change})
    opt.load_state_dict(state["optimizer"])
    hyper, schedules = helpers.hyper(opt), ours.schedules
    counters = (ours.last_epoch, ours._step_count, ours.get_last_lr())
    with pytest.raises(ValueError, match=rf"saved by torch's {name}\) does not match.*{message}"):
        ours.load_state_dict(state["scheduler"])
    assert helpers.hyper(opt) == hyper and ours.schedules is schedules
    assert (ours.last_epoch, ours._step_count, ours.get_last_lr()) == counters


@pytest.mark.parametrize("change, message", CYCLIC_CHANGES)
def test_cyclic_lr_built_otherwise_refuses_a_torch_checkpoint(change, message):
    _refusal("CyclicLR", CYCLIC_BASE, change, message)


@pytest.mark.parametrize("change, message", ONE_CYCLE_CHANGES)
def test_one_cycle_lr_built_otherwise_refuses_a_torch_checkpoint(change, message):
    _refusal("OneCycleLR", ONE_CYCLE_BASE, change, message)


@pytest.mark.parametrize("name, base", [("CyclicLR", CYCLIC_BASE),
                                        ("OneCycleLR", ONE_CYCLE_BASE)])
def test_an_optimizer_of_another_kind_is_named(name, base):
    # Saved with SGD's momentum, resumed on Adam's betas.
    _, opt_t, theirs, _ = _saved_by_torch(name, "sgd", base, 4)
    _, opt = helpers.make_optimizer("adam", 2)
    ours = getattr(ct, name)(opt, **base)
    with pytest.raises(ValueError, match=r"use_beta1: saved False, this scheduler's "
                                         r"optimizer has betas"):
        ours.load_state_dict(theirs.state_dict())


def test_other_group_count_and_callable_object_are_named():
    kwargs = {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3}
    _, opt_t = helpers.make_optimizer("sgd", 1)
    state = torch.optim.lr_scheduler.CyclicLR(opt_t, **kwargs).state_dict()
    _, opt = helpers.make_optimizer("sgd", 2)
    with pytest.raises(ValueError, match=r"base_lrs: saved \[0.001\], this scheduler has "
                                         r"\[0.001, 0.001\] \(one value per param group\)"):
        ct.CyclicLR(opt, **kwargs).load_state_dict(state)
    with_object = torch.optim.lr_scheduler.CyclicLR(
        helpers.make_optimizer("sgd", 1)[1], scale_fn=helpers.Power(0.5), **kwargs)
    _, opt1 = helpers.make_optimizer("sgd", 1)
    with pytest.raises(ValueError, match=r"scale_fn: saved with a callable-object scale_fn "
                                         r"\(its __dict__ is \{'rate': 0.5\}\)"):
        ct.CyclicLR(opt1, **kwargs).load_state_dict(with_object.state_dict())


def test_equal_arguments_in_another_spelling_load():
    # torch keeps float(step_size_up) and the sum; cyclr canonicalizes its arguments:
    # 10 and 10.0, or step_size_down omitted and given equal, are the same run.
    _, opt_t = helpers.make_optimizer("adam", 1)
    theirs = torch.optim.lr_scheduler.CyclicLR(opt_t, 0.001, 0.01, step_size_up=10.0,
                                               step_size_down=None, mode="triangular2")
    for _ in range(12):
        opt_t.step()
        theirs.step()
    _, opt = helpers.make_optimizer("adam", 1)
    ours = ct.CyclicLR(opt, 0.001, 0.01, step_size_up=10, step_size_down=10,
                       mode="triangular2")
    ours.load_state_dict(theirs.state_dict())
    assert ours.last_epoch == 12


def test_state_of_the_other_torch_class_is_refused():
    _, opt = helpers.make_optimizer("sgd", 1)
    one_cycle_state = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10).state_dict()
    _, opt1 = helpers.make_optimizer("sgd", 1)
    with pytest.raises(ValueError, match=r"not saved by a cyclr scheduler nor by torch's "
                                         r"CyclicLR"):
        ct.CyclicLR(opt1, 0.001, 0.01).load_state_dict(one_cycle_state)
    _, opt2 = helpers.make_optimizer("sgd", 1)
    cyclic_state = torch.optim.lr_scheduler.CyclicLR(opt2, 0.001, 0.01).state_dict()
    with pytest.raises(ValueError, match=r"nor by torch's OneCycleLR"):
        ct.OneCycleLR(opt2, 0.1, total_steps=10).load_state_dict(cyclic_state)
    with pytest.raises(ValueError, match=r"not saved by a cyclr scheduler \(keys"):
        ct.ScheduleLR(opt2, ct.CyclicLR(opt1, 0.001, 0.01).schedules[0]).load_state_dict(
            cyclic_state)


def test_saved_last_epoch_past_the_last_step_is_refused_with_state_unchanged():
    _, opt_t = helpers.make_optimizer("sgd", 1)
    state = torch.optim.lr_scheduler.OneCycleLR(opt_t, 0.1, total_steps=10).state_dict()
    _, opt = helpers.make_optimizer("sgd", 1)
    ours = ct.OneCycleLR(opt, 0.1, total_steps=10)
    hyper = helpers.hyper(opt)
    with pytest.raises(ValueError, match=r"state_dict\['last_epoch'\]"):
        ours.load_state_dict({**state, "last_epoch": 2**63 - 1})
    assert ours.last_epoch == 0 and helpers.hyper(opt) == hyper


def test_torch_checkpoints_resume_in_a_new_process(tmp_path):
    # As a user switching over would: the checkpoint file written by torch's classes,
    # read back with weights_only=True by a fresh interpreter that builds cyclr's.
    configs = [
        ("sgd", "CyclicLR", {"base_lr": [0.001, 0.002], "max_lr": 0.01, "step_size_up": 4,
                             "mode": "triangular2"}, 21, 30),
        ("adam", "CyclicLR", {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 5,
                              "scale_fn": "halve"}, 17, 30),
        ("adam", "OneCycleLR", {"max_lr": [0.05, 0.1], "total_steps": 60,
                                "three_phase": True, "anneal_strategy": "linear"}, 29, 30),
    ]
    jobs, expected = [], []
    for n, (kind, name, kwargs, before, after) in enumerate(configs):
        params, opt = helpers.make_optimizer(kind, 2)
        torch_kwargs = dict(kwargs)
        if "scale_fn" in kwargs:
            torch_kwargs["scale_fn"] = helpers.SCALE_FNS[kwargs["scale_fn"]]
        theirs = getattr(torch.optim.lr_scheduler, name)(opt, **torch_kwargs)
        helpers.train(params, opt, theirs, before)
        path = tmp_path / f"{n}.pt"
        torch.save({"params": [p.detach().clone() for p in params],
                    "optimizer": opt.state_dict(), "scheduler": theirs.state_dict()}, path)
        config = {"optimizer": kind, "groups": 2, "scheduler": name, "kwargs": kwargs}
        jobs.append({"config": config, "checkpoint": str(path), "steps": after})
        expected.append((name, kwargs, before, helpers.train(params, opt, theirs, after)))
    for (name, kwargs, before, seen), got in zip(expected,
                                                helpers.resume_in_new_process(jobs, tmp_path)):
        assert "error" not in got, got
        assert got["last_epoch"] == before + len(seen)
        if name == "OneCycleLR":
            assert got["seen"] == seen
            continue
        for step, (want, have) in enumerate(zip(seen, got["seen"]), start=before):
            for k, ((lr_t, m_t), (lr_o, m_o)) in enumerate(zip(want, have)):
                low, high = _at(kwargs, "base_lr", k, None), _at(kwargs, "max_lr", k, None)
                tol = 1e-15 + helpers.torch_slack(kwargs, low, high, step)
                assert math.isclose(lr_o, lr_t, rel_tol=1e-12, abs_tol=tol), (step, k)
                tol = 1e-15 + helpers.torch_slack(kwargs, 0.8, 0.9, step)
                assert math.isclose(m_o, m_t, rel_tol=1e-12, abs_tol=tol), (step, k)
