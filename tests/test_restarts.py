"""Warm restarts (SGDR), warm-up and cosine anneals: properties against the formulas of
docs/arithmetic.md written out independently, and against PyTorch's own schedulers."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cyclr
from strategies import bounds

lengths = st.one_of(st.integers(1, 300), st.sampled_from([0.5, 1.25, 2.5, 7.75, 10.0625]))
mults = st.one_of(st.integers(1, 4), st.sampled_from([1.5, 1.25, 2.5, 1.0]))
decays = st.one_of(st.just(1.0), st.floats(0.3, 1.0))


@st.composite
def restarts(draw):
    low, high = draw(bounds())
    return cyclr.cosine_restarts(high, draw(lengths), min_lr=low, cycle_mult=draw(mults),
                                 amplitude_decay=draw(decays))


def cycles_by_definition(first, mult, until):
    """(start, length) of each cycle that starts at or before ``until``, as exact reals
    for whole values, else with cyclr's documented once-rounded double accumulation."""
    exact = isinstance(first, int) and float(mult).is_integer()
    start, length = (Fraction(0), Fraction(first)) if exact else (0.0, float(first))
    out = []
    while start <= until:
        out.append((start, length))
        start += length
        length *= int(mult) if exact else mult
    return out


def reference(s, i):
    p = s.params
    for k, (start, length) in reversed(list(enumerate(
            cycles_by_definition(p["first_cycle"], p["cycle_mult"], i)))):
        if math.ceil(start) <= i:
            t = float(i - math.ceil(start)) + float(math.ceil(start) - start)
            height = (p["max_lr"] - p["min_lr"]) * (1 + math.cos(math.pi * t / float(length))) / 2
            value = p["min_lr"] + height * p["amplitude_decay"] ** k
            return min(max(value, p["min_lr"]), p["max_lr"])
    raise AssertionError("no cycle")


@given(restarts(), st.integers(0, 5000))
@example(cyclr.cosine_restarts(1.0, 4, cycle_mult=2), 12)
@example(cyclr.cosine_restarts(0.1, 2.5, min_lr=0.01, cycle_mult=1.5, amplitude_decay=0.5), 3)
def test_restarts_follow_the_formula_and_stay_within_bounds(s, i):
    p = s.params
    value = s(i)
    assert p["min_lr"] <= value <= p["max_lr"]
    assert math.isclose(value, reference(s, i), rel_tol=1e-13, abs_tol=1e-300)


@given(restarts(), st.integers(0, 2000))
def test_each_cycle_restarts_at_its_decayed_peak_and_anneals_down(s, n):
    p = s.params
    starts = s.cycle_starts(n)
    assert starts[0] == 0 and (np.diff(starts) > 0).all()
    assert s.cycle_ends(n).tolist() == starts[1:].tolist()
    values = s.array(n + 1)
    exact_starts = isinstance(p["first_cycle"], int) and isinstance(p["cycle_mult"], int)
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n + 1
        cycle = values[start:stop]
        # Within a cycle the LR only falls (a half cosine), from its peak.
        assert (np.diff(cycle) <= 0).all()
        if exact_starts:
            peak = p["min_lr"] + (p["max_lr"] - p["min_lr"]) * p["amplitude_decay"] ** k
            assert math.isclose(cycle[0], min(peak, p["max_lr"]), rel_tol=1e-12)


@given(restarts(), st.integers(0, 3000), st.integers(0, 2**62))
def test_fills_equal_one_step_values_in_both_dtypes(s, n, start):
    n = min(n, 2**63 - 1 - start)
    values = s.array(n, start=start)
    assert values.tolist() == [s(start + k) for k in range(n)]
    assert s.array(n, start=start, dtype=np.float32).tolist() == \
        values.astype(np.float32).tolist()


@given(restarts(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(0, 3000))
def test_restart_momentum_is_inverse_to_the_lr(s, a, b, i):
    base_m, max_m = min(a, b), max(a, b)
    m = s.momentum_schedule(base_m, max_m)
    p = s.params
    assert base_m <= m(i) <= max_m
    if p["max_lr"] - p["min_lr"] > 1e-12 and max_m - base_m > 1e-12:   # not subnormal spans
        # the fraction of the amplitude used is the same, mirrored
        lr_part = (s(i) - p["min_lr"]) / (p["max_lr"] - p["min_lr"])
        m_part = (max_m - m(i)) / (max_m - base_m)
        assert math.isclose(lr_part, m_part, rel_tol=1e-9, abs_tol=1e-9)
    assert m.cycle_ends(500).tolist() == s.cycle_ends(500).tolist()


def test_cycle_starts_at_the_edges_of_int64():
    s = cyclr.cosine_restarts(1.0, 3, cycle_mult=2)
    # Every start is 3 * (2**k - 1); the last one below 2**63 is k = 61.
    assert s.cycle_ends(2**63 - 1).tolist() == [3 * (2**k - 1) for k in range(1, 62)]
    assert s(2**63 - 1) >= 0.0
    assert s.array(3, start=2**63 - 3).tolist() == [s(2**63 - 3 + k) for k in range(3)]
    equal = cyclr.cosine_restarts(1.0, 2**61)
    assert equal.cycle_ends(2**63 - 1).tolist() == [2**61, 2**62, 3 * 2**61]


def test_a_cycle_mult_too_close_to_one_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"cycle_mult=1\.000001 .* more than 1048576 cycles"):
        cyclr.cosine_restarts(1.0, 1, cycle_mult=1.000001)


@pytest.mark.parametrize("call, match", [
    (lambda: cyclr.cosine_restarts(1.0, 10, cycle_mult=0.5), r"cycle_mult must be >= 1, got 0\.5"),
    (lambda: cyclr.cosine_restarts(1.0, 0), r"first_cycle must be > 0, got 0"),
    (lambda: cyclr.cosine_restarts(1.0, 10, min_lr=2.0), r"max_lr must be >= min_lr"),
    (lambda: cyclr.cosine_restarts(1.0, 10, amplitude_decay=1.5),
     r"amplitude_decay must be in \(0, 1\], got 1\.5"),
    (lambda: cyclr.cosine_restarts(math.nan, 10), r"max_lr must be finite"),
    (lambda: cyclr.linear(0.0, 1.0, 0), r"steps must be > 0, got 0"),
    (lambda: cyclr.cosine(-1.0, 1.0, 5), r"start_lr must be >= 0, got -1\.0"),
])
def test_invalid_arguments_name_the_parameter_and_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -- linear and cosine anneals -------------------------------------------------------------

ramp_steps = st.one_of(st.integers(1, 500), st.floats(0.5, 500.0))


@given(bounds(), st.booleans(), ramp_steps, st.integers(0, 2000))
def test_linear_anneal_is_the_formula_then_holds_end_exactly(b, up, steps, i):
    start, end = (b[0], b[1]) if up else (b[1], b[0])
    s = cyclr.linear(start, end, steps)
    if i >= steps:
        assert s(i) == end
    else:
        assert s(i) == start + (end - start) * i / steps      # the documented order
    assert min(start, end) <= s(i) <= max(start, end)


@given(bounds(), st.booleans(), ramp_steps, st.integers(0, 2000))
def test_cosine_anneal_is_the_formula_then_holds_end_exactly(b, up, steps, i):
    start, end = (b[0], b[1]) if up else (b[1], b[0])
    s = cyclr.cosine(start, end, steps)
    x = min(i, steps)
    assert s(i) == end + (start - end) * (1 + math.cos(math.pi * x / steps)) / 2
    if i >= steps:
        assert s(i) == end


def test_warm_up_then_cosine_decay_is_a_chain():
    run = cyclr.chain((cyclr.linear(0.0, 0.1, 10), 10), cyclr.cosine(0.1, 0.0, 90))
    lrs = run.array(120)
    assert lrs[0] == 0.0 and lrs[10] == 0.1 and lrs[100:].tolist() == [0.0] * 20
    assert (np.diff(lrs[:11]) > 0).all() and (np.diff(lrs[10:101]) < 0).all()
    assert run.cycle_ends(200).tolist() == [100]     # the decay's end; a warm-up ends nothing
    assert cyclr.from_dict(run.to_dict()) == run
    assert eval(repr(run), vars(cyclr)) == run


@pytest.mark.parametrize("s", [
    cyclr.linear(0.0, 0.1, 7), cyclr.cosine(0.1, 0.001, 2.5),
    cyclr.cosine_restarts(0.1, 10, min_lr=0.001, cycle_mult=2, amplitude_decay=0.5),
    cyclr.cosine_restarts(0.1, 2.5, cycle_mult=1.5),
    cyclr.cosine_restarts(0.1, 5).momentum_schedule(0.85, 0.95),
])
def test_new_policies_round_trip(s):
    import pickle

    assert cyclr.from_dict(s.to_dict()) == s
    assert pickle.loads(pickle.dumps(s)) == s
    assert eval(repr(s), vars(cyclr)) == s
    assert s.array(50).tolist() == cyclr.from_dict(s.to_dict()).array(50).tolist()


# -- against PyTorch ------------------------------------------------------------------------

@pytest.mark.parametrize("t0, t_mult, eta_min", [(10, 1, 0.0), (7, 2, 0.001), (3, 3, 0.01),
                                                 (1, 2, 0.0), (50, 1, 0.02)])
def test_equal_to_torch_cosine_annealing_warm_restarts_stepped_per_batch(t0, t_mult, eta_min):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=t0, T_mult=t_mult, eta_min=eta_min)
    theirs = []
    for _ in range(3000):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    s = cyclr.cosine_restarts(0.1, t0, min_lr=eta_min, cycle_mult=t_mult)
    ours = s.array(3000)
    # Bit for bit, except where torch's own rounding of eta_min + (base - eta_min) lands
    # past max_lr at a restart: cyclr never leaves its bounds.
    differ = np.flatnonzero(ours != np.array(theirs))
    assert all(theirs[i] > 0.1 and ours[i] == 0.1 for i in differ)


@given(restarts(), st.integers(0, 5000))
def test_cycle_at_names_the_cycle_that_holds_a_step(s, i):
    start, length = s.cycle_at(i)
    assert start == s.cycle_starts(i)[-1] <= i
    p = s.params
    # the last cycle whose first whole step is at or before i (several cycles shorter
    # than a step can share one first step: the last of them holds it)
    real_start, real_length = [(a, n) for a, n in cycles_by_definition(
        p["first_cycle"], p["cycle_mult"], i) if math.ceil(a) <= i][-1]
    assert start == math.ceil(real_start)
    assert length == real_length if isinstance(real_length, Fraction) \
        else length == float(real_length)
