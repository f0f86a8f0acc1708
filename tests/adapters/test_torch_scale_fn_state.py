"""cyclr.adapters.torch checkpoints with a custom scale_fn: one never loads into a
scheduler whose scale_fn computes other values (lambdas and closures included); a
callable object's ``__dict__`` travels as torch's CyclicLR carries it."""

import io
import pathlib
import sys

import pytest
import torch

import cyclr
from cyclr.adapters import torch as ct

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _torch_helpers as helpers  # noqa: E402  (lives beside this file)

KWARGS = {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3}


def _scheduler(fn, *, scale_mode="cycle", kind="sgd"):
    params, opt = helpers.make_optimizer(kind, 1)
    return params, opt, ct.CyclicLR(opt, scale_fn=fn, scale_mode=scale_mode, **KWARGS)


def _saved(fn, steps=10, **kwargs):
    """A checkpoint of a run of ``steps`` updates, through torch.save and a
    ``weights_only`` load."""
    params, opt, sched = _scheduler(fn, **kwargs)
    helpers.train(params, opt, sched, steps)
    buffer = io.BytesIO()
    torch.save(sched.state_dict(), buffer)
    return torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)


def _refused(state, fn, message, **kwargs):
    """Loading ``state`` into a scheduler built with ``fn`` raises, naming ``message``,
    and changes nothing."""
    _, opt, sched = _scheduler(fn, **kwargs)
    before = (sched.last_epoch, sched._step_count, helpers.hyper(opt), sched.schedules)
    fn_state = dict(getattr(fn, "__dict__", {}))
    with pytest.raises(ValueError, match=message):
        sched.load_state_dict(state)
    assert (sched.last_epoch, sched._step_count, helpers.hyper(opt), sched.schedules) == before
    assert dict(getattr(fn, "__dict__", {})) == fn_state


def _decay(rate):
    def scale(cycle):
        return rate ** (cycle - 1)
    return scale


def test_a_lambda_that_computes_other_values_is_refused():
    state = _saved(lambda x: 0.5**x)
    _refused(state, lambda x: 0.9**x,
             r"custom scale_fn 0 computes other values: saved scale_fn\(1\) = 0.5, this "
             r"scheduler's gives 0.9")
    # The same lambda, written again, loads and continues.
    _, opt, sched = _scheduler(lambda x: 0.5**x)
    sched.load_state_dict(state)
    assert sched.last_epoch == 10
    assert opt.param_groups[0]["lr"] == cyclr.cyclic(0.001, 0.01, 3,
                                                     scale_fn=lambda x: 0.5**x)(10)


def test_a_closure_over_another_value_is_refused():
    # Same name, same code, same qualname: only the values tell them apart.
    state = _saved(_decay(0.5), scale_mode="cycle")
    _refused(state, _decay(0.75), r"saved scale_fn\(2\) = 0.5, this scheduler's gives 0.75")
    _, _, sched = _scheduler(_decay(0.5))
    sched.load_state_dict(state)


def test_iterations_scale_fn_is_probed_by_step():
    state = _saved(lambda i: 1 / (1 + i / 100), scale_mode="iterations")
    assert [arg for arg, _ in state["scale_fns"][0]["values"]][:3] == [0, 1, 2]
    _refused(state, lambda i: 1 / (1 + i / 99), r"saved scale_fn\(1\) = 0.990099",
             scale_mode="iterations")


def test_a_function_that_differs_only_far_out_is_refused():
    state = _saved(lambda c: 0.5 ** (c - 1) if c < 500 else 0.0)
    _refused(state, lambda c: 0.5 ** (c - 1),
             r"saved scale_fn\(1000\) = 0.0, this scheduler's gives 1.866")


def _table(clamp):
    table = [1.0, 0.5, 0.25, 0.125]

    def short(cycle):
        return table[min(cycle, 4) - 1] if clamp else table[cycle - 1]
    return short


def test_a_function_that_raises_is_recorded_as_raising():
    state = _saved(_table(clamp=False), steps=8)
    assert state["scale_fns"][0]["values"][3] == [10, "raises IndexError"]
    _refused(state, _table(clamp=True),
             r"saved scale_fn\(10\) = raises IndexError, this scheduler's gives 0.125")
    _, _, sched = _scheduler(_table(clamp=False))
    sched.load_state_dict(state)


def test_a_callable_object_state_is_restored_and_the_run_continues_with_it():
    params, opt, sched = _scheduler(helpers.Power(0.5))
    helpers.train(params, opt, sched, 40)
    state = sched.state_dict()
    assert state["scale_fns"][0]["state"] == {"rate": 0.5}
    # Built with Power(0.25): loading restores rate 0.5, as torch's CyclicLR does, and the
    # schedule is rebuilt with it (never silently 0.25).
    fn = helpers.Power(0.25)
    params2, opt2, resumed = _scheduler(fn)
    resumed.load_state_dict(state)
    assert fn.rate == 0.5
    assert resumed.schedules[0].params["scale_fn"] is fn
    want = cyclr.cyclic(0.001, 0.01, 3, scale_fn=helpers.Power(0.5))
    assert resumed.schedules[0].array(100).tolist() == want.array(100).tolist()
    assert (resumed.momentum_schedules[0].array(100).tolist()
            == want.momentum_schedule(0.8, 0.9).array(100).tolist())
    assert helpers.hyper(opt2) == helpers.hyper(opt)
    with torch.no_grad():
        for p, q in zip(params2, params):
            p.copy_(q)
    opt2.load_state_dict(opt.state_dict())
    assert helpers.train(params2, opt2, resumed, 30) == helpers.train(params, opt, sched, 30)


class Mirror:
    """Keeps ``rate`` in its __dict__ but computes with a class constant: restoring its
    state cannot make it compute what the saved one did."""

    factor = 0.25

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, cycle):
        return self.factor ** (cycle - 1)


class Slotted:
    """A callable object without __dict__: nothing to restore, its values decide."""

    __slots__ = ("rate",)

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, cycle):
        return self.rate ** (cycle - 1)


def test_an_object_whose_restored_state_computes_other_values_is_refused_and_put_back():
    state = _saved(helpers.Power(0.5))
    fn = Mirror(0.9)
    _refused(state, fn, r"(schedules\[0\].repr|computes other values)")
    assert fn.__dict__ == {"rate": 0.9}


def test_a_slotted_object_with_other_values_is_refused():
    state = _saved(Slotted(0.5))
    assert state["scale_fns"][0]["state"] is None
    _refused(state, Slotted(0.25), r"saved scale_fn\(2\) = 0.5, this scheduler's gives 0.25")
    _, _, sched = _scheduler(Slotted(0.5))
    sched.load_state_dict(state)


def test_restored_state_that_does_not_match_is_put_back():
    state = _saved(helpers.Power(0.5))
    tampered = {**state, "scale_fns": [{**record, "state": {"rate": 3.0}}
                                       for record in state["scale_fns"]]}
    fn = helpers.Power(0.5)
    _refused(tampered, fn, r"saved 'cyclic\(0.001, 0.01, 3, scale_fn=Power\(0.5\)\)', this "
                           r"scheduler has 'cyclic\(0.001, 0.01, 3, scale_fn=Power\(3.0\)\)'")
    assert fn.rate == 0.5


def test_restored_state_that_fails_the_step_is_put_back():
    # torch's state carries no values to check: restored, this one makes the step's
    # factor 3.0 (outside [0, 1]); the load fails and nothing changes, the object included.
    _, opt_t = helpers.make_optimizer("sgd", 1)
    theirs = torch.optim.lr_scheduler.CyclicLR(opt_t, scale_fn=helpers.Power(0.5), **KWARGS)
    for _ in range(10):
        opt_t.step()
        theirs.step()
    state = {**theirs.state_dict(), "_scale_fn_custom": {"rate": 3.0}}
    fn = helpers.Power(0.5)
    _refused(state, fn, r"scale_fn must return a number in \[0, 1\], got 3.0")
    assert fn.rate == 0.5


def test_chains_and_momentum_schedules_are_checked_too():
    def run(fn):
        cyc = cyclr.cyclic(0.001, 0.01, 2, scale_fn=fn)
        params, opt = helpers.make_optimizer("adam", 1)
        schedule = cyclr.chain((cyclr.constant(0.005), 3), cyc)
        return params, opt, ct.ScheduleLR(opt, schedule, momentum=cyc.momentum_schedule(0.8, 0.9))

    params, opt, sched = run(lambda c: 0.5 ** (c - 1))
    helpers.train(params, opt, sched, 9)
    state = sched.state_dict()
    assert len(state["scale_fns"]) == 2      # the chain's, and the momentum's
    _, opt2, other = run(lambda c: 0.7 ** (c - 1))
    with pytest.raises(ValueError, match=r"custom scale_fn 0 computes other values"):
        other.load_state_dict(state)
    assert other.last_epoch == 0
    _, opt3, same = run(lambda c: 0.5 ** (c - 1))
    same.load_state_dict(state)
    assert helpers.hyper(opt3) == helpers.hyper(opt)


def test_a_checkpoint_saved_before_values_were_recorded_still_loads():
    state = _saved(helpers.halve)
    del state["scale_fns"]
    _, _, sched = _scheduler(helpers.halve)
    sched.load_state_dict(state)
    assert sched.last_epoch == 10
    # ...and the import path is still checked.
    _refused(state, helpers.third, r"_torch_helpers:halve.*_torch_helpers:third")
