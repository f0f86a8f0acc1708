"""cyclr.tables: the numbers the Keras and Optax adapters gather from."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cyclr
from cyclr import tables
from strategies import builtin_cyclic

int_sizes = st.integers(min_value=1, max_value=300)
big_steps = st.integers(min_value=0, max_value=2**62)


def evaluate(plan, i):
    """The value a Periodic plan describes at step ``i``, read literally from its
    docstring, in Python floats (whose ``**`` is C ``pow``, as the core's)."""
    if i < plan.offset:
        return plan.prefix[i]
    j = i - plan.offset
    c, t = divmod(j, plan.period)
    f = {"flat": 1.0, "halving": 2.0 ** -c, "gamma_steps": plan.gamma ** j,
         "gamma_cycles": plan.gamma ** c}[plan.envelope]
    h = float(plan.heights[t])
    pinned = bool(plan.peaks[t]) and f == 1.0
    if plan.inverted:
        v = plan.high - h * f
        return np.float32(plan.low if pinned or v < plan.low else v)
    v = plan.low + h * f
    return np.float32(plan.high if pinned or v > plan.high else v)


def core32(s, i):
    return s.array(1, start=i, dtype=np.float32)[0]


@st.composite
def endless_cyclic(draw):
    """Cyclic schedules with whole step sizes, maybe cycled momentum, maybe after a
    chain prefix."""
    s = draw(builtin_cyclic(st.tuples(int_sizes, st.one_of(st.none(), int_sizes))))
    if draw(st.booleans()):
        s = cyclr.chain((cyclr.one_cycle(1.0, 50), draw(st.integers(1, 80))),
                        (cyclr.constant(0.3), draw(st.integers(1, 20))), s)
    return s


@given(endless_cyclic(), st.lists(big_steps, min_size=1, max_size=8))
@example(cyclr.triangular2(0.0, 1.0, 3), [0, 3, 6, 9, 2**40, 2**62 - 1])
@example(cyclr.exp_range(0.1, 1.0, 7, gamma=0.99, scale_mode="cycle"), [14, 13, 2**24 + 1])
def test_periodic_plan_gives_the_core_float32_value_at_any_step(s, steps):
    plan = tables.periodic(s)
    offsets = [plan.offset + k for k in range(-2, plan.period + 2) if plan.offset + k >= 0]
    for i in steps + offsets:
        assert evaluate(plan, i) == core32(s, i), i


@given(endless_cyclic(), st.integers(0, 10**9))
def test_flat_values_are_every_cycle_of_the_schedule(s, k):
    plan = tables.periodic(s)
    start = plan.offset + k * plan.period
    if plan.envelope == "flat":
        assert np.array_equal(plan.values, s.array(plan.period, start=start, dtype=np.float32))
    assert np.array_equal(plan.values, s.array(plan.period, start=plan.offset,
                                               dtype=np.float32))
    assert np.array_equal(plan.prefix, s.array(plan.offset, dtype=np.float32))


def test_periodic_plan_fields():
    s = cyclr.chain((cyclr.constant(0.5), 3),
                    cyclr.triangular2(0.25, 0.75, 2, step_size_down=4, shape="hann"))
    plan = tables.periodic(s)
    assert (plan.offset, plan.period, plan.envelope, plan.inverted) == (3, 6, "halving", False)
    assert (plan.low, plan.high) == (0.25, 0.75)
    assert plan.prefix.tolist() == [0.5, 0.5, 0.5]
    # hann window: 0, 1 at the peak (t = 2), back down over 4 steps
    r = 0.5 * np.cos(np.pi / 4)
    np.testing.assert_allclose(plan.heights, 0.5 * np.array([0, 0.5, 1, 0.5 + r, 0.5, 0.5 - r]),
                               rtol=1e-15)
    m = tables.periodic(cyclr.triangular(0.1, 1.0, 5).momentum_schedule(0.85, 0.95))
    assert m.inverted and (m.low, m.high) == (0.85, 0.95)
    for arr in (plan.prefix, plan.values, plan.heights):
        assert not arr.flags.writeable


def test_fractional_step_sizes_with_a_whole_cycle_length():
    s = cyclr.triangular2(0.0, 1.0, 2.5)
    plan = tables.periodic(s)
    assert plan.period == 5
    for i in [0, 1, 2, 3, 4, 5, 12, 10**6 + 3]:
        assert evaluate(plan, i) == core32(s, i)
    s = cyclr.exp_range(0.0, 1.0, 1.5, step_size_down=2.5, gamma=0.9)
    assert tables.periodic(s).period == 4


def test_whole_run_is_the_core_float32_array_read_only():
    for s in (cyclr.one_cycle(0.1, 300), cyclr.exp_range(1e-4, 1e-2, 17, gamma=0.999),
              cyclr.chain((cyclr.triangular2(0.0, 1.0, 5), 40), cyclr.exponential(0.5, 0.9))):
        table = tables.whole_run(s, 500)
        assert table.dtype == np.float32 and table.shape == (500,)
        assert np.array_equal(table, s.array(500, dtype=np.float32))
        assert not table.flags.writeable
        assert tables.plan(s, 500).tolist() == table.tolist()
    assert tables.whole_run(cyclr.constant(0.5), np.int64(3)).tolist() == [0.5] * 3


@pytest.mark.parametrize("s, length", [
    (cyclr.one_cycle(0.1, 300), 300),
    (cyclr.one_cycle(0.1, 300).momentum_schedule(0.85, 0.95), 300),
    (cyclr.constant(0.25), 1),
    (cyclr.decay(1.0, 0.5, 4), 5),
    (cyclr.decay(1.0, 0.5, 2.5), 4),
    (cyclr.chain((cyclr.triangular(0.0, 1.0, 3), 10), (cyclr.constant(0.5), 4)), 14),
    (cyclr.chain((cyclr.constant(0.5), 7), cyclr.one_cycle(0.1, 20)), 27),
])
def test_plan_without_total_steps_tabulates_a_schedule_until_it_settles(s, length):
    table = tables.plan(s, None)
    assert table.shape == (length,)
    assert np.array_equal(table, s.array(length, dtype=np.float32))
    # the schedule really holds the last entry from there on
    later = s.array(50, start=length - 1, dtype=np.float32)
    assert np.all(later == table[-1])
    assert core32(s, 10**15) == table[-1]


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-5, ValueError), (1.5, TypeError), (10.0, TypeError),
    (True, TypeError), ("100", TypeError), (2**64, ValueError),
])
def test_bad_total_steps_is_named(bad, error):
    s = cyclr.triangular(0.1, 1.0, 5)
    for call in (lambda: tables.plan(s, bad), lambda: tables.whole_run(s, bad),
                 lambda: tables.check_total_steps(bad)):
        with pytest.raises(error, match="total_steps"):
            call()


def test_oversized_tables_are_refused_pointing_to_the_periodic_mode():
    s = cyclr.triangular(0.1, 1.0, 5)
    n = tables.MAX_TABLE_STEPS + 1
    with pytest.raises(ValueError, match=rf"total_steps={n}.*total_steps=None"):
        tables.whole_run(s, n)
    with pytest.raises(ValueError, match="one cycle of .* pass total_steps"):
        tables.periodic(cyclr.triangular(0.1, 1.0, 2**25 + 1))
    with pytest.raises(ValueError, match="lookup table.* pass total_steps"):
        tables.plan(cyclr.one_cycle(0.1, n), None)
    with pytest.raises(ValueError, match="before the cyclic part"):
        tables.plan(cyclr.chain((cyclr.constant(0.1), n), cyclr.triangular(0.1, 1.0, 5)), None)


@pytest.mark.parametrize("s, match", [
    (cyclr.exponential(0.1, 0.99), "total_steps"),
    (cyclr.step_decay(0.1, 0.5, 10), "total_steps"),
    (cyclr.chain((cyclr.constant(0.1), 3), cyclr.exponential(0.1, 0.9)), "total_steps"),
    (cyclr.cyclic(0.1, 1.0, 4, scale_fn=abs), "scale_fn"),
    (cyclr.triangular(0.1, 1.0, 2.3), "whole number"),
    (cyclr.triangular(0.1, 1.0, 2, step_size_down=1.5), "whole number"),
])
def test_plan_without_total_steps_refuses_what_it_cannot_tabulate(s, match):
    with pytest.raises(ValueError, match=match):
        tables.plan(s, None)


def test_periodic_refuses_schedules_that_do_not_cycle_forever():
    for s in (cyclr.one_cycle(0.1, 100), cyclr.constant(0.1),
              cyclr.chain((cyclr.triangular(0.0, 1.0, 2), 10), (cyclr.constant(0.1), 5))):
        with pytest.raises(ValueError, match="endless cyclic"):
            tables.periodic(s)
    with pytest.raises(TypeError, match="schedule"):
        tables.periodic(0.1)
    with pytest.raises(TypeError, match="schedule"):
        tables.plan("triangular", 10)


def test_importing_tables_imports_no_framework():
    code = ("import sys, cyclr.tables; "
            "print([m for m in ('torch', 'tensorflow', 'keras', 'jax', 'optax') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
