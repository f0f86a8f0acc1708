"""cyclr.tables: the plans the Keras and Optax adapters evaluate, against the core's
float32 values at every step, and the byte budget of their tables."""

import math
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cyclr
from cyclr import tables
from strategies import builtin_cyclic

int_sizes = st.integers(min_value=1, max_value=300)
# multiples of 1/64 and 1/1024: fractional step sizes whose cycles are dyadic
dyadic_sizes = st.builds(lambda n, k: n / 2**k, st.integers(1, 2000), st.sampled_from([1, 6, 10]))
big_steps = st.integers(min_value=0, max_value=2**62)


def literal(plan, i):
    """The value a plan describes at step ``i``, read from the docstrings of Table,
    Periodic and Piecewise, in Python ints and floats (whose ``**`` is C ``pow``)."""
    if isinstance(plan, tables.Piecewise):
        k = max(k for k, start in enumerate(plan.starts) if start <= i)
        j = i - plan.starts[k]
        if plan.lengths[k] is not None:
            j = min(j, plan.lengths[k] - 1)
        return literal(plan.pieces[k], j)
    if isinstance(plan, tables.Table):
        return plan.values[min(i, plan.values.size - 1)]
    if isinstance(plan, tables.Restarts):
        k = max(k for k, first in enumerate(plan.starts.tolist()) if first <= i)
        t = float(i - int(plan.starts[k])) + float(plan.offsets[k])
        h = (plan.high - plan.low) * (1.0 + math.cos(math.pi * t / float(plan.lengths[k]))) / 2.0
        f = float(plan.factors[k])
        v = plan.high - h * f if plan.inverted else plan.low + h * f
        return np.float32(min(max(v, plan.low), plan.high))
    n, ticks = plan.period_ticks, plan.ticks
    u, r = divmod(i, n)
    q, t = divmod(r * ticks, n)
    c = u * ticks + q
    if plan.values is not None:
        assert plan.envelope == "flat"
        return plan.values[t]
    f = {"flat": 1.0, "halving": 2.0 ** -c, "gamma_steps": plan.gamma ** i,
         "gamma_cycles": plan.gamma ** c}[plan.envelope]
    if plan.heights is None:
        h, pinned = plan.height, False
    else:
        h, pinned = float(plan.heights[t]), bool(plan.peaks[t]) and f == 1.0
    if plan.inverted:
        v = plan.high - h * f
        return np.float32(plan.low if pinned or v < plan.low else v)
    v = plan.low + h * f
    return np.float32(plan.high if pinned or v > plan.high else v)


class NumpyOps:
    """numpy as the framework of ``tables.evaluate``."""
    gather = staticmethod(lambda table, index: table[index])
    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    float64 = staticmethod(lambda x: np.asarray(x, np.float64))
    float32 = staticmethod(lambda x: np.asarray(x, np.float32))
    cos = staticmethod(np.cos)


def core32(s, i):
    return s.array(1, start=i, dtype=np.float32)[0]


def probe_steps(plan, extra=()):
    """Steps around every piece boundary and cycle end, and far away."""
    steps = set(range(40)) | {2**24 + 1, 2**31 - 1, 2**40 + 3, 2**40 + 77, 10**15 + 11}
    starts = plan.starts if isinstance(plan, tables.Piecewise) else (0,)
    pieces = plan.pieces if isinstance(plan, tables.Piecewise) else (plan,)
    for start, piece in zip(starts, pieces):
        if isinstance(piece, tables.Restarts):
            for first in piece.starts[:70].tolist():
                steps.update(start + first + k for k in range(-2, 3))
            steps.update(start + int(first) for first in piece.starts[70::97])
            continue
        span = piece.values.size if isinstance(piece, tables.Table) else \
            -(-piece.period_ticks // piece.ticks) * 3
        for k in range(-2, min(span, 400) + 3):
            if start + k >= 0:
                steps.add(start + k)
        steps.update(start + span + k for k in range(-2, 3))
    return sorted(i for i in steps | set(extra) if i >= 0)


def assert_plan_is_the_core(s, plan, extra=()):
    steps = probe_steps(plan, extra)
    got = tables.evaluate(plan, np.asarray(steps, np.int64), NumpyOps)
    assert got.dtype == np.float32
    for i, value in zip(steps, got):
        expected = core32(s, i)
        assert literal(plan, i) == expected, (i, literal(plan, i), expected)
        assert value == expected, i


@st.composite
def any_cyclic(draw):
    """Built-in cyclic schedules, whole or dyadic fractional step sizes, maybe cycled
    momentum."""
    sizes = st.one_of(int_sizes, dyadic_sizes)
    return draw(builtin_cyclic(st.tuples(sizes, st.one_of(st.none(), sizes))))


baselines = st.one_of(
    st.builds(cyclr.constant, st.floats(0.0, 1.0)),
    st.builds(cyclr.decay, st.just(1.0), st.floats(0.0, 1.0), st.one_of(int_sizes, dyadic_sizes)),
    st.builds(cyclr.exponential, st.floats(1e-3, 1.0), st.floats(0.5, 1.0)),
    st.builds(cyclr.step_decay, st.floats(1e-3, 1.0), st.floats(0.1, 1.0),
              st.one_of(int_sizes, dyadic_sizes)),
    st.builds(cyclr.one_cycle, st.floats(1e-3, 1.0), st.integers(20, 400),
              three_phase=st.booleans()),
)


@given(any_cyclic(), st.lists(big_steps, max_size=6))
@example(cyclr.triangular2(0.0, 1.0, 3), [0, 3, 6, 9, 2**40, 2**62 - 1])
@example(cyclr.exp_range(0.1, 1.0, 7, gamma=0.99, scale_mode="cycle"), [14, 13, 2**24 + 1])
@example(cyclr.triangular2(1e-3, 6e-3, 2 * 1797 / 64), [112, 113, 1797, 1798])   # TFA users
@example(cyclr.exp_range(0.1, 0.9, 1.5, step_size_down=2.25, gamma=0.999, shape="hann")
         .momentum_schedule(0.85, 0.95), [2**40 + 5])
def test_cyclic_plans_give_the_core_float32_value_at_any_step(s, steps):
    plan = tables.plan(s)
    assert isinstance(plan, tables.Periodic)
    assert_plan_is_the_core(s, plan, [i for i in steps if i < 2**53])


@given(baselines, st.lists(big_steps, max_size=4))
def test_baseline_plans_give_the_core_float32_value_at_any_step(s, steps):
    assert_plan_is_the_core(s, tables.plan(s), steps)


def test_fractional_heights_are_the_core_heights_at_fractional_offsets():
    # one cycle of 1797 ticks at 16 ticks per step: the table at tick t holds the
    # window at offset t/16 of a step, which whole steps reach every 16 cycles
    s = cyclr.triangular2(0.0, 1.0, 2 * 1797 / 64, shape="hann")
    plan = tables.plan(s)
    assert (plan.ticks, plan.period_ticks) == (16, 1797)
    inner = cyclr.triangular(0.0, 1.0, 2 * 1797 / 64, shape="hann")
    values = inner.array(1797 * 16)            # 16 cycles, every offset once
    for i in range(0, 1797 * 16, 7):
        t = (i * 16) % 1797
        assert plan.heights[t] == values[i], i


# -- warm restarts with cycles of growing length -------------------------------------------

@st.composite
def growing_restarts(draw):
    """cosine_restarts with cycle_mult != 1 (whole and fractional), maybe its momentum."""
    low = draw(st.floats(0.0, 0.5))
    high = draw(st.floats(low, 2.0))
    first = draw(st.one_of(st.integers(1, 300), st.floats(0.25, 300.0)))
    mult = draw(st.one_of(st.integers(2, 5), st.sampled_from([1.5, 1.25, 1.1, 2.5, 1.0625])))
    decay = draw(st.one_of(st.just(1.0), st.floats(0.3, 1.0)))
    s = cyclr.cosine_restarts(high, first, min_lr=low, cycle_mult=mult, amplitude_decay=decay)
    if draw(st.booleans()):
        s = s.momentum_schedule(0.85, 0.95)
    return s


def first_cycles_and_far(plan, far):
    """Every step of the first four cycles (at most 4000), a few around each later
    first step, ``far`` and the last int64 step."""
    end = int(plan.starts[min(4, len(plan.starts) - 1)])
    steps = set(range(min(end + 3, 4000)))
    for first in plan.starts.tolist():
        steps.update(first + k for k in (-1, 0, 1) if 0 <= first + k < 2**63)
    return sorted(steps | set(far) | {2**63 - 1})


@given(growing_restarts(), st.lists(st.integers(0, 2**63 - 1), max_size=8))
@example(cyclr.cosine_restarts(1.0, 4, cycle_mult=2), [2**40, 2**62 + 11])
@example(cyclr.cosine_restarts(0.1, 2.5, min_lr=0.01, cycle_mult=1.5, amplitude_decay=0.5),
         [10**15 + 3])
@example(cyclr.cosine_restarts(0.1, 10, min_lr=0.001, cycle_mult=3).momentum_schedule(0.85, 0.95),
         [2**24 + 1])
def test_growing_restarts_plans_give_the_core_float32_value_at_any_step(s, far):
    plan = tables.plan(s)
    assert isinstance(plan, tables.Restarts)
    steps = first_cycles_and_far(plan, far)
    got = tables.evaluate(plan, np.asarray(steps, np.int64), NumpyOps)
    assert got.dtype == np.float32
    for i, value in zip(steps, got):
        expected = core32(s, i)
        assert value == expected, i
    for i in steps[::37] + far:
        assert literal(plan, i) == core32(s, i), i


def test_a_restarts_plan_carries_the_core_cycle_table():
    from cyclr.schedules import _restart_cycles

    s = cyclr.cosine_restarts(0.5, 2.5, min_lr=0.1, cycle_mult=1.5, amplitude_decay=0.9)
    plan = tables.plan(s)
    starts, offsets, lengths, factors = _restart_cycles(2.5, 1.5, 0.9)
    assert plan.starts.dtype == np.int64 and plan.starts.tolist() == list(starts)
    assert plan.offsets.tolist() == list(offsets) and plan.lengths.tolist() == list(lengths)
    assert plan.factors.tolist() == list(factors)
    assert (plan.low, plan.high, plan.inverted) == (0.1, 0.5, False)
    assert plan.starts.tolist()[:5] == [0, 3, 7, 12, 21]    # 2.5, 6.25, 11.875, 20.3125
    assert tables.nbytes(plan) == 32 * len(starts)
    assert all(not a.flags.writeable for a in tables._arrays(plan))
    m = tables.plan(s.momentum_schedule(0.8, 0.9))
    assert (m.low, m.high, m.inverted) == (0.8, 0.9, True)
    # cycles doubling from 1 step: cycle k starts at 2**k - 1, the last at 2**63 - 1
    doubling = tables.plan(cyclr.cosine_restarts(1.0, 1, cycle_mult=2)).starts
    assert doubling.tolist() == [2**k - 1 for k in range(64)]


@pytest.mark.parametrize("segment, cycles", [
    (2_000_000, 1), (10**7 + 1, 2), (3 * 10**7, 2), (3 * 10**7 + 1, 3), (10**12, 17)])
def test_a_finite_segment_keeps_only_the_cycles_it_reaches(segment, cycles):
    r = cyclr.cosine_restarts(1.0, 10**7, min_lr=0.1, cycle_mult=2, amplitude_decay=0.5)
    s = cyclr.chain((cyclr.constant(0.3), 5), (r, segment), cyclr.constant(0.2))
    plan = tables.plan(s)
    restarts = plan.pieces[1]
    assert isinstance(restarts, tables.Restarts) and len(restarts.starts) == cycles
    assert_plan_is_the_core(s, plan, [5 + segment + k for k in range(-3, 3)]
                            + [5 + 10**7 * k for k in (1, 3, 7)])


def test_short_growing_segments_are_tabulated_and_tails_kept_whole():
    r = cyclr.cosine_restarts(1.0, 3, cycle_mult=2)
    s = cyclr.chain((r, 1000), (cyclr.triangular(0.0, 1.0, 2**20), 2**22), r)
    plan = tables.plan(s)
    assert [type(p) for p in plan.pieces] == [tables.Table, tables.Periodic, tables.Restarts]
    assert len(plan.pieces[2].starts) == len(tables.plan(r).starts)
    assert_plan_is_the_core(s, plan, [1000 + 2**22 + k for k in range(-2, 50)])


def test_growing_restarts_beyond_the_budget_are_refused_naming_their_arguments():
    r = cyclr.cosine_restarts(1.0, 1, cycle_mult=1.000035)       # about 950,000 cycles
    assert tables.nbytes(tables.plan(r)) <= tables.MAX_TABLE_BYTES
    s = cyclr.chain((r, 2**61), (r, 2**61), r)
    peak, error = peak_bytes(lambda: tables.plan(s))
    assert isinstance(error, ValueError) and peak < 2**20
    assert re.search(r"first_cycle=1, cycle_mult=1\.000035.*64 MiB limit", str(error))


@pytest.mark.parametrize("s, kind", [
    (cyclr.constant(0.25), tables.Table),
    (cyclr.decay(1.0, 0.5, 2.5), tables.Table),
    (cyclr.one_cycle(0.1, 300), tables.Table),
    (cyclr.one_cycle(0.1, 300).momentum_schedule(0.85, 0.95), tables.Table),
    (cyclr.triangular(0.1, 1.0, 5), tables.Periodic),
    (cyclr.exponential(0.1, 0.99), tables.Periodic),
    (cyclr.step_decay(0.1, 0.5, 10), tables.Periodic),
    (cyclr.chain((cyclr.constant(0.1), 3), cyclr.exponential(0.1, 0.9)), tables.Piecewise),
    (cyclr.cosine_restarts(0.1, 10), tables.Periodic),
    (cyclr.cosine_restarts(0.1, 10, cycle_mult=2), tables.Restarts),
    (cyclr.cosine_restarts(0.1, 10, cycle_mult=1.5).momentum_schedule(0.85, 0.95),
     tables.Restarts),
], ids=repr)
def test_plan_kinds(s, kind):
    assert type(tables.plan(s)) is kind


def test_plan_fields():
    p = tables.plan(cyclr.triangular2(0.25, 0.75, 2, step_size_down=4, shape="hann"))
    assert (p.period_ticks, p.ticks, p.envelope, p.inverted) == (6, 1, "halving", False)
    assert (p.low, p.high, p.values, p.height) == (0.25, 0.75, None, None)
    r = 0.5 * np.cos(np.pi / 4)
    np.testing.assert_allclose(p.heights, 0.5 * np.array([0, 0.5, 1, 0.5 + r, 0.5, 0.5 - r]),
                               rtol=1e-15)
    assert p.peaks.tolist() == [False, False, True, False, False, False]
    flat = tables.plan(cyclr.triangular(0.0, 1.0, 2))
    assert (flat.values.tolist(), flat.heights, flat.peaks) == ([0.0, 0.5, 1.0, 0.5], None, None)
    m = tables.plan(cyclr.triangular(0.1, 1.0, 5).momentum_schedule(0.85, 0.95))
    assert m.inverted and (m.low, m.high) == (0.85, 0.95)
    e = tables.plan(cyclr.exponential(0.5, 0.9))
    assert (e.period_ticks, e.height, e.low, e.high, e.envelope) == (1, 0.5, 0.0, 0.5,
                                                                     "gamma_steps")
    d = tables.plan(cyclr.step_decay(0.5, 0.9, 2.5))
    assert (d.period_ticks, d.ticks, d.height, d.envelope) == (5, 2, 0.5, "gamma_cycles")
    assert tables.nbytes(e) == tables.nbytes(d) == 0
    for arr in (p.heights, p.peaks, flat.values):
        assert not arr.flags.writeable
    with_heights = tables.periodic(cyclr.triangular(0.0, 1.0, 2), heights=True)
    assert with_heights.values is None and with_heights.heights.tolist() == [0, 0.5, 1, 0.5]


@pytest.mark.parametrize("s, length", [
    (cyclr.one_cycle(0.1, 300), 300),
    (cyclr.constant(0.25), 1),
    (cyclr.decay(1.0, 0.5, 4), 5),
    (cyclr.decay(1.0, 0.5, 2.5), 4),
    (cyclr.chain((cyclr.triangular(0.0, 1.0, 3), 10), (cyclr.constant(0.5), 4)), 11),
    (cyclr.chain((cyclr.constant(0.5), 7), cyclr.one_cycle(0.1, 20)), 27),
])
def test_settling_schedules_are_tabulated_until_they_hold(s, length):
    table = tables.plan(s)
    assert isinstance(table, tables.Table) and table.values.shape == (length,)
    assert np.array_equal(table.values, s.array(length, dtype=np.float32))
    later = s.array(50, start=length - 1, dtype=np.float32)      # really held from there
    assert np.all(later == table.values[-1])
    assert core32(s, 10**15) == table.values[-1]


CHAINS = {
    "finite": cyclr.chain((cyclr.one_cycle(0.1, 40), 40),
                          (cyclr.triangular2(0.1, 1.0, 3000), 500_000),
                          (cyclr.exp_range(0.1, 1.0, 2.5, gamma=0.9999), 300_000)),
    "open-ended": cyclr.chain((cyclr.one_cycle(0.1, 40), 40),
                              (cyclr.triangular2(0.1, 1.0, 3000), 500_000),
                              cyclr.exp_range(0.1, 1.0, 7, gamma=0.99, scale_mode="cycle")),
    "nested": cyclr.chain((cyclr.chain((cyclr.constant(0.2), 5), cyclr.exponential(1.0, 0.99)),
                           77),
                          (cyclr.chain((cyclr.decay(1.0, 0.1, 1000), 300),
                                       (cyclr.step_decay(0.5, 0.5, 1.5), 10**9)), 2 * 10**9),
                          cyclr.chain((cyclr.triangular(0.2, 0.4, 10), 25),
                                      cyclr.one_cycle(0.3, 50))),
    "long segments": cyclr.chain((cyclr.step_decay(0.5, 0.9, 10**6), 10**12),
                                 (cyclr.triangular(0.0, 1.0, 2**20, shape="welch"), 2**40),
                                 cyclr.exponential(0.3, 1 - 1e-9)),
    "momentum": cyclr.chain((cyclr.one_cycle(0.1, 40), 40),
                            cyclr.triangular(0.1, 1.0, 5)).momentum_schedule(0.85, 0.95),
}


@pytest.mark.parametrize("name", CHAINS)
def test_chain_plans_give_the_core_float32_value_at_any_step(name):
    s = CHAINS[name]
    plan = tables.plan(s)
    assert isinstance(plan, tables.Piecewise)
    assert len(plan.pieces) <= 4
    total = s.total_steps or 0
    assert_plan_is_the_core(s, plan, [total + k for k in range(-3, 4) if total + k >= 0])


def test_short_chain_segments_merge_into_one_table():
    segments = [(cyclr.triangular(0.1, 0.2 + k / 1000, 3 + k % 5), 7 + k % 11)
                for k in range(500)]
    s = cyclr.chain(*segments, cyclr.triangular2(0.0, 1.0, 4))
    plan = tables.plan(s)
    assert len(plan.pieces) == 2 and isinstance(plan.pieces[0], tables.Table)
    assert_plan_is_the_core(s, plan)


def test_chains_with_too_many_pieces_tabulate_their_front():
    # 200 long cyclic segments cannot all be graph pieces: the front becomes one table
    s = cyclr.chain(*[(cyclr.exp_range(0.1, 0.5, 1000 + k, gamma=0.99), 300_000)
                      for k in range(30)], cyclr.triangular(0.0, 1.0, 3))
    plan = tables.plan(s)
    assert len(plan.pieces) <= tables.MAX_PIECES
    assert tables.nbytes(plan) <= tables.MAX_TABLE_BYTES
    assert_plan_is_the_core(s, plan, [299_999, 300_000, 8_999_999, 9_000_000])
    many = cyclr.chain(*[(cyclr.exp_range(0.1, 0.5, 1000 + k, gamma=0.99), 10**7)
                         for k in range(100)], cyclr.triangular(0.0, 1.0, 3))
    with pytest.raises(ValueError, match="MAX_TABLE_BYTES"):
        tables.plan(many)


def test_shared_sub_chains_plan_in_bounded_work():
    c = cyclr.chain((cyclr.triangular(0.0, 1.0, 2), 3), cyclr.exponential(0.5, 0.9))
    for _ in range(11):                           # 3**11 leaves if walked naively
        c = cyclr.chain((c, 1), (c, 2), c)
    plan = tables.plan(c)
    assert len(plan.pieces) <= tables.MAX_PIECES
    # (one fill each: the core's own fill of such a chain is the slow part here)
    steps = np.arange(400)
    assert np.array_equal(tables.evaluate(plan, steps, NumpyOps),
                          c.array(400, dtype=np.float32))
    far = np.arange(10**6, 10**6 + 5)
    assert np.array_equal(tables.evaluate(plan, far, NumpyOps),
                          c.array(5, start=10**6, dtype=np.float32))


def test_total_steps_changes_nothing_but_a_scale_fn_table():
    for s in [cyclr.triangular(0.001, 0.006, 15), cyclr.one_cycle(0.1, 60),
              CHAINS["open-ended"], cyclr.exponential(0.1, 0.99)]:
        a, b = tables.plan(s), tables.plan(s, 50)
        steps = np.asarray(probe_steps(a), np.int64)
        assert np.array_equal(tables.evaluate(a, steps, NumpyOps),
                              tables.evaluate(b, steps, NumpyOps))
    s = cyclr.triangular(0.001, 0.006, 15)
    assert tables.evaluate(tables.plan(s, total_steps=50), np.int64(99), NumpyOps) == core32(s, 99)


def half_per_cycle(k):
    return 0.5 ** (k - 1)


def test_a_user_scale_fn_needs_total_steps_and_warns_that_it_holds():
    s = cyclr.cyclic(0.1, 1.0, 4, scale_fn=half_per_cycle)
    with pytest.raises(ValueError, match="total_steps=None.*scale_fn"):
        tables.plan(s)
    with pytest.warns(UserWarning, match=r"total_steps=50 .*from step 50 on"):
        plan = tables.plan(s, 50)
    assert np.array_equal(plan.values, s.array(50, dtype=np.float32))
    assert tables.evaluate(plan, np.int64(10**9), NumpyOps) == core32(s, 49)
    # inside a finite chain segment it is tabulated whole: nothing to bound, no warning
    c = cyclr.chain((s, 30), cyclr.triangular(0.1, 1.0, 4))
    assert_plan_is_the_core(c, tables.plan(c))
    m = s.momentum_schedule(0.85, 0.95)
    with pytest.raises(ValueError, match="total_steps"):
        tables.plan(m)


# -- budget -------------------------------------------------------------------------------

def peak_bytes(call):
    tracemalloc.start()
    try:
        try:
            call()
        except ValueError as e:
            error = e
        else:
            error = None
        return tracemalloc.get_traced_memory()[1], error
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("s, match", [
    (cyclr.triangular(0.1, 1.0, 33554432), r"step_size=33554432: a cycle of 67108864 steps"),
    (cyclr.triangular2(0.1, 1.0, 4, step_size_down=2**23), r"step_size_down=8388608"),
    (cyclr.exp_range(0.1, 1.0, 2**22, gamma=0.9), r"step_size=4194304"),
    (cyclr.triangular2(0.1, 1.0, 2**13 + 2**-10), r"step_size=8192.0009765625"),
    (cyclr.one_cycle(0.1, 2**24 + 1), r"one_cycle total_steps=16777217"),
    (cyclr.decay(1.0, 0.5, 10**12), r"decay steps=1000000000000"),
    (cyclr.chain((cyclr.constant(0.1), 10**9), cyclr.one_cycle(0.1, 2**24)),
     r"one_cycle total_steps=16777216"),
], ids=repr)
def test_oversized_plans_are_refused_before_allocating_naming_the_argument(s, match):
    peak, error = peak_bytes(lambda: tables.plan(s))
    assert isinstance(error, ValueError)
    with pytest.raises(ValueError, match=match + r".*64 MiB limit.*MAX_TABLE_BYTES"):
        tables.plan(s)
    assert peak < 2**20                           # refused before any table exists


def test_a_user_table_beyond_the_budget_names_total_steps():
    s = cyclr.cyclic(0.1, 1.0, 4, scale_fn=half_per_cycle)
    peak, error = peak_bytes(lambda: tables.plan(s, 10**12))
    assert "total_steps=1000000000000" in str(error) and peak < 2**20


def test_plans_near_the_budget_keep_what_they_count():
    s = cyclr.triangular2(0.0, 1.0, 2**21)              # 2**22 ticks * 9 bytes = 36 MiB
    plan = tables.plan(s)
    assert tables.nbytes(plan) == 9 * 2**22 <= tables.MAX_TABLE_BYTES
    flat = tables.plan(cyclr.triangular(0.0, 1.0, 2**23))   # 4 bytes * 2**24 = 64 MiB
    assert tables.nbytes(flat) == tables.MAX_TABLE_BYTES


@pytest.mark.parametrize("s", [
    cyclr.triangular(0.1, 1.0, 2.3),
    cyclr.triangular(0.1, 1.0, 2, step_size_down=0.1),
    cyclr.step_decay(0.1, 0.5, 1 / 3),
], ids=repr)
def test_a_cycle_that_is_no_dyadic_fraction_is_refused_naming_the_step_size(s):
    with pytest.raises(ValueError, match=r"step_size.*not a multiple of 2\*\*-20 steps"):
        tables.plan(s)
    # a finite segment of it is just tabulated
    c = cyclr.chain((s, 1000), cyclr.constant(0.1))
    assert_plan_is_the_core(c, tables.plan(c))


@pytest.mark.parametrize("s, name", [
    (cyclr.triangular2(0.0, 1e300, 4), "max_lr=1e+300"),
    (cyclr.exp_range(0.0, 1e39, 4, gamma=0.9), "max_lr=1e+39"),
    (cyclr.triangular(0.1, 1.0, 4).momentum_schedule(0.1, 1e39), "max_momentum=1e+39"),
    (cyclr.exponential(1e300, 0.5), "lr=1e+300"),
    (cyclr.cosine_restarts(1e39, 10, cycle_mult=2), "max_lr=1e+39"),
    (cyclr.step_decay(1e300, 0.5, 3), "lr=1e+300"),
], ids=repr)
def test_values_beyond_float32_are_refused_not_read_as_inf(s, name):
    with pytest.raises(ValueError, match=re.escape(name) + " is above the float32 maximum"):
        tables.plan(s)


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-5, ValueError), (1.5, TypeError), (10.0, TypeError),
    (True, TypeError), ("100", TypeError), (2**64, ValueError),
])
def test_bad_total_steps_is_named(bad, error):
    s = cyclr.triangular(0.1, 1.0, 5)
    for call in (lambda: tables.plan(s, bad), lambda: tables.check_total_steps(bad)):
        with pytest.raises(error, match="total_steps"):
            call()


def test_periodic_refuses_what_is_not_a_built_in_cyclic_schedule():
    for s in (cyclr.one_cycle(0.1, 100), cyclr.constant(0.1), cyclr.exponential(0.1, 0.9),
              cyclr.cyclic(0.1, 1.0, 4, scale_fn=half_per_cycle),
              cyclr.chain((cyclr.constant(0.1), 5), cyclr.triangular(0.0, 1.0, 2))):
        with pytest.raises(ValueError, match="not a cyclic schedule"):
            tables.periodic(s)
    with pytest.raises(TypeError, match="schedule"):
        tables.periodic(0.1)
    with pytest.raises(TypeError, match="schedule"):
        tables.plan("triangular", 10)


def test_convert_maps_every_array_and_keeps_the_structure():
    plan = tables.plan(CHAINS["open-ended"])
    seen = []
    converted = tables.convert(plan, lambda a: seen.append(a.dtype) or a.copy())
    assert sorted(map(str, seen)) == sorted(str(a.dtype) for a in tables._arrays(plan))
    assert converted.starts == plan.starts and converted.lengths == plan.lengths
    steps = np.asarray(probe_steps(plan), np.int64)
    assert np.array_equal(tables.evaluate(converted, steps, NumpyOps),
                          tables.evaluate(plan, steps, NumpyOps))


def test_importing_tables_imports_no_framework():
    code = ("import sys, cyclr.tables; "
            "print([m for m in ('torch', 'tensorflow', 'keras', 'jax', 'optax') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_docstring_examples_hold():
    import doctest

    result = doctest.testmod(tables)
    assert result.attempted >= 5 and result.failed == 0
    assert tables.MAX_TABLE_BYTES == 64 * 2**20
