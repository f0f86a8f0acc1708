"""Properties of every policy, against the paper's formulas and invariants."""

import math
import pickle
import threading
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cyclr
from strategies import (
    SHAPES,
    any_schedules,
    bounds,
    chains,
    close,
    cyclic_schedules,
    gammas,
    int_sizes,
    one_cycle_schedules,
    sizes,
    steps,
)


def reference_cyclic(i, base, top, up, down, policy, shape, gamma=1.0, scale_mode=None):
    """The paper's formula (docs/arithmetic.md), written out independently in plain
    Python."""
    period = up + down
    c = math.floor(i / period)
    t = i - c * period
    u = t / up if t <= up else (period - t) / down
    w = {"linear": u, "welch": 1 - (1 - u) ** 2, "hann": (1 - math.cos(math.pi * u)) / 2}[shape]
    f = {"triangular": 1.0, "triangular2": 0.5 ** c,
         "exp_range": gamma ** (c if scale_mode == "cycle" else i)}[policy]
    return base + (top - base) * w * f


def peak(base, top, f):
    """The LR at a cycle's peak with factor f: the formula, except that a full-amplitude
    peak is max_lr itself and rounding never carries a value past max_lr."""
    return top if f == 1.0 else min(base + (top - base) * f, top)


# -- bounds, periodicity, halving, envelopes -----------------------------------------

@given(cyclic_schedules(), steps)
@example(cyclr.triangular(0.001, 0.006, 2000), 2000)
@example(cyclr.triangular2(0.001, 0.006, 2000, shape="hann"), 6000)
def test_cyclic_lr_stays_within_bounds(s, i):
    p = s.params
    assert p["base_lr"] <= s(i) <= p["max_lr"]


@given(cyclic_schedules(), steps)
def test_cyclic_matches_paper_formula(s, i):
    p = s.params
    down = p["step_size_down"] or p["step_size"]
    expected = reference_cyclic(i, p["base_lr"], p["max_lr"], p["step_size"], down,
                                p["policy"], p["shape"], p["gamma"], p["scale_mode"])
    assert close(s(i), expected, rel=1e-9, abs_=1e-12)


@given(cyclic_schedules(policy="triangular"), steps, st.integers(1, 50))
@example(cyclr.triangular(0.1, 1.0, 3, step_size_down=5), 0, 7)
def test_triangular_is_periodic(s, i, k):
    period = s.cycle_length
    if float(period).is_integer():
        assert s(i) == s(i + k * int(period))
    else:
        j = math.ceil(period * 2) * 2  # a whole multiple of two periods if period = x.5
        if (j / period).is_integer():
            assert close(s(i), s(i + j), rel=1e-9, abs_=1e-12)


@given(bounds(), int_sizes, st.sampled_from(SHAPES), st.integers(0, 40))
@example((0.001, 0.006), 2000, "linear", 2)
def test_triangular2_peak_halves_and_trough_stays(b, up, shape, c):
    base, top = b
    s = cyclr.triangular2(base, top, up, shape=shape)
    peak_lr, trough = s(2 * up * c + up), s(2 * up * c)
    assert trough == base
    assert peak_lr == peak(base, top, 0.5 ** c)
    if c:
        previous = s(2 * up * (c - 1) + up)
        assert close(peak_lr - base, (previous - base) / 2, rel=1e-9, abs_=1e-15)


@given(bounds(), sizes, gammas, steps)
def test_exp_range_amplitude_within_gamma_envelope(b, up, gamma, i):
    base, top = b
    s = cyclr.exp_range(base, top, up, gamma=gamma)
    assert base <= s(i) <= base + (top - base) * gamma ** i * (1 + 1e-12) + 1e-300


@given(bounds(), int_sizes, gammas, st.integers(0, 30))
def test_exp_range_per_cycle_is_constant_amplitude_within_a_cycle(b, up, gamma, c):
    base, top = b
    s = cyclr.exp_range(base, top, up, gamma=gamma, scale_mode="cycle")
    assert s(2 * up * c + up) == peak(base, top, gamma ** c)


@given(bounds(), int_sizes, st.one_of(st.none(), int_sizes), st.sampled_from(SHAPES),
       st.integers(0, 5))
def test_shapes_zero_at_start_one_at_peak_monotone_halves(b, up, down, shape, c):
    base, top = b
    s = cyclr.triangular(base, top, up, step_size_down=down, shape=shape)
    period = s.cycle_length
    start = c * period
    lrs = s.array(period + 1, start=start)
    assert lrs[0] == base and lrs[-1] == base
    assert lrs[up] == top
    assert np.all(np.diff(lrs[: up + 1]) >= 0)
    assert np.all(np.diff(lrs[up:]) <= 0)


def test_shapes_differ_as_windows_should():
    mid = {shape: cyclr.triangular(0.0, 1.0, 4, shape=shape)(2) for shape in SHAPES}
    # u = 1/2: linear 1/2, welch 1 - 1/4, hann (1 - cos(pi/2)) / 2
    assert mid["linear"] == 0.5
    assert mid["welch"] == 0.75
    assert close(mid["hann"], 0.5)
    quarter = {shape: cyclr.triangular(0.0, 1.0, 4, shape=shape)(1) for shape in SHAPES}
    assert quarter["linear"] == 0.25
    assert quarter["welch"] == 1 - 0.75 ** 2
    assert close(quarter["hann"], (1 - math.cos(math.pi / 4)) / 2)


def test_asymmetric_cycle():
    s = cyclr.triangular(0.0, 1.0, 2, step_size_down=4)
    assert s.array(7).tolist() == [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    assert s.cycle_length == 6


def test_fractional_step_sizes_as_torch_allows():
    s = cyclr.triangular(0.0, 1.0, 1.5)
    assert s.array(4).tolist() == [0.0, 1 / 1.5, 1 / 1.5, 0.0]
    assert s.cycle_ends(10).tolist() == [3, 6, 9]
    odd = cyclr.triangular(0.0, 1.0, 1.25)
    assert odd.cycle_ends(10).tolist() == [3, 5, 8, 10]


# -- the paper's worked numbers --------------------------------------------------------

def test_paper_cifar10_example():
    # Smith (2017), section 4.1.1: base_lr = 0.001, max_lr = 0.006, stepsize = 2000.
    s = cyclr.triangular(0.001, 0.006, 2000)
    assert [s(i) for i in (0, 2000, 4000, 6000)] == [0.001, 0.006, 0.001, 0.006]
    assert close(s(1000), 0.0035) and close(s(3000), 0.0035)
    t2 = cyclr.triangular2(0.001, 0.006, 2000)
    assert close(t2(6000), 0.0035) and close(t2(10000), 0.00225)
    assert s.cycle_ends(70000).tolist() == list(range(4000, 70001, 4000))
    assert s.steps_for_cycles(3) == 12000
    assert s.num_cycles(70000) == 17.5


def test_decay_and_exp_baselines():
    d = cyclr.decay(0.006, 0.001, 1000)
    assert d(0) == 0.006 and d(1000) == 0.001 and d(5000) == 0.001
    assert close(d(500), 0.0035)
    e = cyclr.exponential(0.1, 0.5)
    assert [e(i) for i in range(4)] == [0.1, 0.05, 0.025, 0.0125]
    sd = cyclr.step_decay(1.0, 0.1, 3)
    assert [sd(i) for i in range(7)] == [1.0] * 3 + [0.1] * 3 + [pow(0.1, 2)]
    assert cyclr.constant(0.3).array(3).tolist() == [0.3] * 3


# -- one cycle ------------------------------------------------------------------------

@given(one_cycle_schedules(), st.integers(0, 10**7))
def test_one_cycle_holds_final_value_and_stays_in_range(s, i):
    p = s.params
    last = p["total_steps"] - 1
    initial = p["max_lr"] / p["div_factor"]
    final = initial / p["final_div_factor"]
    assert s(max(i, last)) == s(last)
    assert close(s(last), final, rel=1e-9, abs_=1e-15)
    lo = min(final, initial)
    assert lo * (1 - 1e-12) - 1e-15 <= s(i) <= p["max_lr"] * (1 + 1e-12) + 1e-15


def test_one_cycle_peak_and_phases():
    s = cyclr.one_cycle(1.0, 100, pct_start=0.5, anneal="linear", div_factor=10.0,
                        final_div_factor=2.0)
    lrs = s.array(100)
    assert s(0) == 0.1 and s(49) == 1.0 == lrs.max() and s(99) == lrs.min()
    assert close(s(99), 0.05)  # torch's operation order: (0.05 - 1.0) * 1 + 1.0
    assert np.all(np.diff(lrs[:50]) > 0) and np.all(np.diff(lrs[49:]) < 0)
    three = cyclr.one_cycle(1.0, 100, pct_start=0.25, three_phase=True, anneal="linear",
                            div_factor=4.0, final_div_factor=2.0)
    assert three(24) == 1.0 and three(48) == 0.25 and three(99) == 0.125


@pytest.mark.parametrize("kwargs", [
    dict(total_steps=3, pct_start=0.3),             # pct_start * total_steps < 1
    dict(total_steps=100, pct_start=0.005),
    dict(total_steps=100, pct_start=0.6, three_phase=True),
])
def test_one_cycle_phases_without_steps_warn_and_still_compute(kwargs):
    # torch computes these; so does cyclr, saying the LR never reaches its intended points
    with pytest.warns(UserWarning, match="never reaches its intended points"):
        s = cyclr.one_cycle(0.1, **kwargs)
    values = s.array(kwargs["total_steps"])
    assert np.isfinite(values).all() and (values >= 0).all()


@pytest.mark.parametrize("kwargs", [
    dict(total_steps=10, pct_start=0.1),            # the first phase ends at step 0
    dict(total_steps=4, pct_start=0.25, three_phase=True),
])
def test_one_cycle_raises_where_torch_divides_by_zero(kwargs):
    with pytest.raises(ValueError, match=r"pct_start=.*total_steps="):
        cyclr.one_cycle(0.1, **kwargs)


# -- momentum -------------------------------------------------------------------------

@given(cyclic_schedules(), bounds(), steps)
def test_cyclic_momentum_is_inverse_of_lr(s, m, i):
    base_m, max_m = m
    mom = s.momentum_schedule(base_m, max_m)
    p = s.params
    if p["max_lr"] > p["base_lr"]:
        frac = (s(i) - p["base_lr"]) / (p["max_lr"] - p["base_lr"])
        assert close(mom(i), max_m - (max_m - base_m) * frac, rel=1e-9, abs_=1e-9)
    assert base_m <= mom(i) <= max_m


def test_momentum_repr_and_errors():
    s = cyclr.one_cycle(0.1, 100)
    m = s.momentum_schedule(0.85, 0.95)
    assert repr(m) == "one_cycle(0.1, 100).momentum_schedule(0.85, 0.95)"
    assert m(0) == 0.95 and m(29) == 0.85 and m(99) == 0.95
    with pytest.raises(ValueError, match="max_momentum"):
        s.momentum_schedule(0.95, 0.85)
    with pytest.raises(TypeError, match="momentum_schedule"):
        cyclr.constant(0.1).momentum_schedule(0.8, 0.9)


# -- scalar vs array, chunks, dtypes ---------------------------------------------------

@given(any_schedules, st.integers(0, 3000), st.integers(0, 300))
def test_scalar_equals_array_bit_for_bit(s, start, n):
    values = s.array(n, start=start)
    assert values.tolist() == [s(start + k) for k in range(n)]


@given(any_schedules, st.lists(st.integers(0, 200), min_size=1, max_size=6))
def test_chunked_arrays_concatenate_to_whole_run(s, chunks):
    whole = s.array(sum(chunks))
    starts = np.cumsum([0] + chunks[:-1])
    parts = [s.array(n, start=int(a)) for a, n in zip(starts, chunks)]
    assert np.array_equal(np.concatenate(parts), whole)


@given(any_schedules, st.integers(0, 10**6))
def test_float32_is_float64_rounded_once(s, start):
    f64 = s.array(257, start=start)
    f32 = s.array(257, start=start, dtype=np.float32)
    assert f32.dtype == np.float32
    assert np.array_equal(f32, f64.astype(np.float32))


def test_out_buffers_are_filled_in_place():
    s = cyclr.triangular2(0.1, 1.0, 5)
    out = np.zeros(20, dtype=np.float32)
    assert s.array(20, out=out) is out
    assert np.array_equal(out, s.array(20).astype(np.float32))


@given(st.integers(0, 2**62 - 10**4), int_sizes, int_sizes)
@example(2**53 - 3, 7, 5)
@example(2**62, 2000, 1)
@example(2**63 - 1 - 20, 3, 4)
def test_huge_steps_stay_exact(i, up, down):
    s = cyclr.triangular(0.0, 1.0, up, step_size_down=down, shape="hann")
    period = up + down
    assert s(i) == s(i % period)
    n = min(20, 2**63 - i)
    assert s.array(n, start=i).tolist() == [s((i + k) % period) for k in range(n)]


# -- chains ---------------------------------------------------------------------------

def test_chain_segments_see_local_steps():
    a = cyclr.triangular2(0.001, 0.006, 10)
    b = cyclr.triangular2(0.0001, 0.001, 5)
    s = cyclr.chain((a, 40), b)
    assert [s(i) for i in range(40)] == [a(i) for i in range(40)]
    assert [s(40 + i) for i in range(100)] == [b(i) for i in range(100)]
    finite = cyclr.chain((a, 40), (b, 7))
    assert finite.total_steps == 47
    assert finite(46) == b(6) and finite(10**12) == b(6)
    assert finite.array(5, start=45).tolist() == [b(5), b(6), b(6), b(6), b(6)]


@given(chains(), st.integers(0, 3000))
def test_chain_equals_its_segments(s, i):
    segments = s.params["segments"]
    start = 0
    for k, (seg, n) in enumerate(segments):
        if n is None or i < start + n:
            assert s(i) == seg(i - start)
            return
        start += n
    last, n = segments[-1]
    assert s(i) == last(n - 1)


def test_nested_chain_and_momentum_chain():
    inner = cyclr.chain((cyclr.constant(0.5), 3), cyclr.constant(0.25))
    s = cyclr.chain((inner, 5), cyclr.constant(0.125))
    assert s.array(7).tolist() == [0.5] * 3 + [0.25] * 2 + [0.125] * 2
    tri = cyclr.chain((cyclr.triangular(0.1, 1.0, 2), 4), cyclr.triangular(0.2, 0.4, 3))
    mom = tri.momentum_schedule(0.8, 0.9)
    assert mom(0) == 0.9 and mom(2) == 0.8 and mom(4) == 0.9 and mom(7) == 0.8


# -- values: equality, hashing, immutability, pickle, repr, dicts, threads ----------------

@given(any_schedules)
def test_round_trips(s):
    import json
    for other in (pickle.loads(pickle.dumps(s)),
                  cyclr.from_dict(json.loads(json.dumps(s.to_dict()))),
                  eval(repr(s), vars(cyclr))):
        assert other == s and hash(other) == hash(s)
        assert np.array_equal(other.array(500), s.array(500))


def test_equality_is_by_value():
    assert cyclr.triangular(0.001, 0.006, 2000) == cyclr.cyclic(0.001, 0.006, 2000.0)
    assert cyclr.triangular(0.001, 0.006, 2000, step_size_down=2000) == \
        cyclr.triangular(0.001, 0.006, 2000)
    assert cyclr.triangular(0.001, 0.006, 2000) != cyclr.triangular2(0.001, 0.006, 2000)
    assert cyclr.exp_range(0, 1, 4, gamma=0.9) != cyclr.exp_range(0, 1, 4, gamma=0.9,
                                                                  scale_mode="cycle")
    assert cyclr.constant(0.1) != 0.1


def test_schedules_are_immutable():
    s = cyclr.triangular(0.001, 0.006, 2000)
    with pytest.raises(AttributeError):
        s.base_lr = 1.0
    with pytest.raises(AttributeError):
        s._params = ()
    with pytest.raises(AttributeError):
        s._setup_constant(lr=1.0)
    assert s(2000) == 0.006


def test_reprs_read_as_constructor_calls():
    assert repr(cyclr.triangular(0.001, 0.006, 2000)) == "triangular(0.001, 0.006, 2000)"
    assert repr(cyclr.triangular2(0, 1, 3, shape="hann", step_size_down=2.5)) == \
        "triangular2(0.0, 1.0, 3, step_size_down=2.5, shape='hann')"
    assert repr(cyclr.exp_range(0, 1, 3, gamma=0.99)) == "exp_range(0.0, 1.0, 3, gamma=0.99)"
    assert repr(cyclr.chain((cyclr.constant(0.1), 2), cyclr.decay(0.1, 0.01, 10))) == \
        "chain((constant(0.1), 2), decay(0.1, 0.01, 10))"


def test_threads_share_a_schedule():
    s = cyclr.chain((cyclr.triangular2(0.001, 0.006, 500), 20_000),
                    cyclr.exp_range(0.0001, 0.001, 300, gamma=0.9999))
    serial = s.array(200_000)
    results = [None] * 8

    def work(k):
        results[k] = s.array(200_000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(r, serial) for r in results)


def test_step_size_advice():
    assert cyclr.iterations_per_epoch(50_000, 100) == 500
    assert cyclr.suggest_step_size(50_000, 100) == 2000
    assert cyclr.suggest_step_size(1797, 64, 2) == 58
    assert cyclr.suggest_step_size(1797, 64, 2, drop_last=True) == 56
    with pytest.raises(ValueError, match="batch_size"):
        cyclr.iterations_per_epoch(100, 0)


# -- cycle ends: every schedule, exact integers ----------------------------------------

def ends_by_definition(length, n):
    """The steps ceil(k * length) <= n, k = 1, 2, ..., from exact fractions."""
    length = Fraction(length)
    found, k = set(), 1
    while math.ceil(k * length) <= n:
        found.add(math.ceil(k * length))
        k += 1
    return sorted(found)


@given(cyclic_schedules(), st.integers(min_value=0, max_value=3000))
@example(cyclr.triangular(0.0, 1.0, 0.25), 5)
@example(cyclr.triangular(0.0, 1.0, 1.5, step_size_down=2.25), 20)
def test_cycle_ends_are_the_exact_ceilings_of_whole_cycles(s, n):
    ends = s.cycle_ends(n)
    assert ends.dtype == np.int64
    assert ends.tolist() == ends_by_definition(s.cycle_length, n)
    # The momentum schedule ends its cycles where its LR schedule does.
    assert s.momentum_schedule(0.8, 0.9).cycle_ends(n).tolist() == ends.tolist()


@given(cyclic_schedules(policy="triangular"), st.integers(1, 20))
def test_at_a_whole_cycle_end_the_lr_is_back_at_base_lr(s, cycles):
    n = s.steps_for_cycles(cycles)
    ends = s.cycle_ends(n)
    assert len(ends) == cycles if s.cycle_length >= 1 else len(ends) == n
    if isinstance(s.cycle_length, int):
        assert all(s(int(e)) == s.params["base_lr"] for e in ends)


def test_cycle_ends_at_the_edges_of_int64():
    assert cyclr.triangular(0, 1, 2**61).cycle_ends(2**63 - 1).tolist() == [2**62]
    s = cyclr.triangular(0, 1, 3, step_size_down=2**62 - 1)
    assert s.cycle_ends(2**63 - 1).tolist() == [2**62 + 2]
    assert cyclr.triangular(0, 1, 2**61).steps_for_cycles(1) == 2**62
    with pytest.raises(ValueError, match="cycles=2 .* 2\\*\\*63 - 1"):
        cyclr.triangular(0, 1, 2**61, step_size_down=2**61 + 1).steps_for_cycles(2)


def test_cycle_ends_work_is_bounded_by_the_steps_asked_for():
    # A cycle every 1e-9 steps: every step is an end, once; nothing sized by the
    # billions of cycles in between.
    tiny = cyclr.triangular(0.0, 1.0, 1e-9)
    assert tiny.cycle_ends(1000).tolist() == list(range(1, 1001))
    with pytest.raises(ValueError, match="total_steps=1099511627776.*more than"):
        cyclr.triangular(0.0, 1.0, 1).cycle_ends(2**40)


def test_cycle_ends_of_runs_that_end_once_or_never():
    assert cyclr.one_cycle(0.1, 100).cycle_ends(99).tolist() == []
    assert cyclr.one_cycle(0.1, 100).cycle_ends(100).tolist() == [100]
    assert cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95).cycle_ends(500).tolist() \
        == [100]
    assert cyclr.decay(1.0, 0.5, 2.5).cycle_ends(10).tolist() == [3]
    for s in (cyclr.constant(0.1), cyclr.exponential(0.1, 0.9), cyclr.step_decay(1, 0.5, 3)):
        assert s.cycle_ends(100).tolist() == []


def test_cycle_ends_of_chains_shift_each_segment_and_end_the_run():
    run = cyclr.chain((cyclr.triangular(0, 1, 2), 10), (cyclr.one_cycle(0.1, 5), 7),
                      cyclr.triangular2(0, 1, 3))
    # cycles of 4 in [0, 10); 1cycle ends 5 steps after 10; cycles of 6 from 17 on
    assert run.cycle_ends(40).tolist() == [4, 8, 15, 23, 29, 35]
    finite = cyclr.chain((cyclr.triangular(0, 1, 2), 10), (cyclr.constant(0.1), 5))
    assert finite.cycle_ends(100).tolist() == [4, 8, 15]       # 15: the run's end
    assert finite.cycle_ends(12).tolist() == [4, 8]
    nested = cyclr.chain((finite, 15), cyclr.triangular(0, 1, 1))
    assert nested.cycle_ends(20).tolist() == [4, 8, 15, 17, 19]
