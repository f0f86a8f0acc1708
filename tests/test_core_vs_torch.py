"""The core against PyTorch's own CyclicLR and OneCycleLR trajectories (LR and momentum)."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cyclr


def torch_trajectory(make_scheduler, n):
    """LR and momentum the optimizer holds before each of n updates."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    sched = make_scheduler(opt)
    lrs, moms = [], []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    return np.array(lrs), np.array(moms)


sizes = st.one_of(st.integers(1, 60), st.floats(0.5, 60.0))
rates = st.floats(0.0, 1.0)


@settings(max_examples=60)
@given(rates, rates, sizes, st.one_of(st.none(), sizes),
       st.sampled_from(["triangular", "triangular2", "exp_range"]),
       st.floats(0.95, 1.0), st.floats(0.5, 0.85), st.floats(0.85, 0.99))
def test_cyclic_matches_torch(a, b, up, down, mode, gamma, base_m, max_m):
    base, top = min(a, b), max(a, b)
    n = 400
    lrs, moms = torch_trajectory(lambda opt: torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=base, max_lr=top, step_size_up=up, step_size_down=down, mode=mode,
        gamma=gamma, base_momentum=base_m, max_momentum=max_m), n)
    s = cyclr.cyclic(base, top, up, step_size_down=down, policy=mode, gamma=gamma)
    # torch's cycle position `1 + i/L - floor(1 + i/L)` carries an absolute error of a few
    # eps * (1 + i/L); cyclr's position is exact. Allow torch's error, scaled to the LR.
    period = up + (down or up)
    position_error = 4 * np.finfo(float).eps * (2 + np.arange(n) / period) * period / min(
        up, down or up)
    for ours, theirs, amplitude in ((s.array(n), lrs, top - base),
                                    (s.momentum_schedule(base_m, max_m).array(n), moms,
                                     max_m - base_m)):
        assert np.all(np.abs(ours - theirs) <= 1e-12 * np.abs(theirs) + 1e-15
                      + amplitude * position_error)


def halving(x):
    return 0.5 ** (x - 1)


def test_cyclic_custom_scale_fn_matches_torch():
    for mode in ("cycle", "iterations"):
        fn = halving if mode == "cycle" else (lambda x: 0.999 ** x)
        lrs, moms = torch_trajectory(lambda opt: torch.optim.lr_scheduler.CyclicLR(
            opt, 0.01, 0.1, step_size_up=7, step_size_down=3, scale_fn=fn,
            scale_mode=mode), 300)
        s = cyclr.cyclic(0.01, 0.1, 7, step_size_down=3, scale_fn=fn, scale_mode=mode)
        np.testing.assert_allclose(s.array(300), lrs, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(s.momentum_schedule(0.8, 0.9).array(300), moms,
                                   rtol=1e-12, atol=1e-15)


@settings(max_examples=60)
@given(st.floats(1e-4, 10.0), st.integers(40, 3000), st.floats(0.05, 0.45),
       st.sampled_from(["cos", "linear"]), st.floats(1.0, 100.0), st.floats(1.0, 1e5),
       st.booleans())
def test_one_cycle_matches_torch_exactly(max_lr, total, pct, anneal, div, final_div, three):
    lrs, moms = torch_trajectory(lambda opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=max_lr, total_steps=total, pct_start=pct, anneal_strategy=anneal,
        div_factor=div, final_div_factor=final_div, three_phase=three), total)
    s = cyclr.one_cycle(max_lr, total, pct_start=pct, anneal=anneal, div_factor=div,
                        final_div_factor=final_div, three_phase=three)
    assert np.array_equal(s.array(total), lrs)
    assert np.array_equal(s.momentum_schedule(0.85, 0.95).array(total), moms)


# -- tiny and degenerate 1cycle runs ----------------------------------------------------

def _torch_one_cycle(total, **kwargs):
    """torch's LRs and momenta on steps 0 .. total - 1 and its phase ends, or None where
    torch raises (0/0 at step 0, or pct_start outside [0, 1])."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    lrs, moms = [], []
    try:
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=total, **kwargs)
        for i in range(total):
            if i:  # not past step total - 1, where torch's run ends
                opt.step()
                sched.step()
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
    except (ZeroDivisionError, ValueError):
        return None
    return lrs, moms, [p["end_step"] for p in sched._schedule_phases]


def _empty_phase(ends, total):
    # torch evaluates step x in the first phase whose end is >= x (else the last).
    used = {next((k for k, e in enumerate(ends) if x <= e), len(ends) - 1)
            for x in range(total)}
    return used != set(range(len(ends)))


def _fills_equal_calls(s, n):
    for start in (0, 1, 2, n // 2):
        calls = np.array([s(i) for i in range(start, start + n + 3)])
        for dtype in (np.float64, np.float32):
            assert np.array_equal(s.array(n + 3, start=start, dtype=dtype),
                                  calls.astype(dtype)), (s, start, dtype)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_tiny_one_cycle_equals_torch_or_fails_where_torch_fails(three_phase, anneal):
    outcomes = set()
    for total in range(1, 13):
        edge = 1.0 / total
        grid = {0.0, 1e-9, 0.25, 0.3, 0.45, 0.5, 0.55, 0.7, 0.99, 1.0,
                math.nextafter(edge, 0.0), edge, math.nextafter(edge, 2.0),
                *(k / total for k in range(total + 1))}
        for pct in sorted(grid):
            kwargs = dict(max_lr=0.1, pct_start=pct, anneal_strategy=anneal,
                          three_phase=three_phase, div_factor=4.0, final_div_factor=3.0)
            found = _torch_one_cycle(total, **kwargs)
            build = lambda: cyclr.one_cycle(0.1, total, pct_start=pct, anneal=anneal,  # noqa: E731
                                            three_phase=three_phase, div_factor=4.0,
                                            final_div_factor=3.0)
            if found is None:
                with pytest.raises(ValueError, match=rf"pct_start={pct!r}.*total_steps={total}\b"):
                    build()
                outcomes.add("refused")
                continue
            lrs, moms, ends = found
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                s = build()
            degenerate = _empty_phase(ends, total)
            assert len(caught) == degenerate, (total, pct)
            outcomes.add("warned" if degenerate else "plain")
            assert np.array_equal(s.array(total), lrs), (total, pct)
            m = s.momentum_schedule(0.85, 0.95)
            assert np.array_equal(m.array(total), moms), (total, pct)
            _fills_equal_calls(s, total)
            _fills_equal_calls(m, total)
    assert outcomes == {"refused", "warned", "plain"}


@pytest.mark.parametrize("pct, three_phase", [(0.0, False), (1.0, False), (0.0, True),
                                              (0.7, True), (1.0, True), (0.9999, False)])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_long_degenerate_one_cycle_equals_torch_and_fills_equal_calls(pct, three_phase,
                                                                      anneal):
    # Long enough for the float32 cos fills to take their block path.
    total = 3001
    lrs, moms, _ = _torch_one_cycle(total, max_lr=0.3, pct_start=pct,
                                    anneal_strategy=anneal, three_phase=three_phase)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        s = cyclr.one_cycle(0.3, total, pct_start=pct, anneal=anneal,
                            three_phase=three_phase)
    assert np.array_equal(s.array(total), lrs)
    assert np.array_equal(s.momentum_schedule(0.85, 0.95).array(total), moms)
    _fills_equal_calls(s, total)
