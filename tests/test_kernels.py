"""The fast paths of ``cyclr._core`` against its one-step kernels, bit for bit.

``s.array`` takes exact shortcuts that ``s(i)`` does not: a cyclic fill tabulates the
window of one cycle and computes the envelope factor once per cycle, 1cycle is filled
phase by phase, step decay period by period. Which path a fill takes depends on its
length (a table only when the output is at least 16 times its size), the period (whole,
at most 2**20 steps) and how far the steps go (fractional step sizes only below 2**52),
so the tests draw lengths, periods and starts on both sides of those limits and compare
every value with the one-step kernel, ``s(i)``, and with fills taken in small chunks.
Long exp_range and float32 cos-1cycle fills replace the libm call per step with blocks
(double-double powers, enclosures); they are compared with a libm call per step.
``s(i)`` itself is called by vectorcall; the last tests check that path against
``tp_call``'s.
"""

import threading
import time

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import cyclr
from cyclr._core import Kernel
from strategies import SHAPES, bounds, builtin_cyclic, one_cycle_schedules

EXACT = 2**52                     # fractional step sizes take the fast path below this
HAVE_VECTORCALL = 1 << 11         # Py_TPFLAGS_HAVE_VECTORCALL


def one_step(s, start, n):
    return np.array([s(start + k) for k in range(n)], dtype=np.float64)


def assert_bits_equal(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = np.uint64 if got.dtype == np.float64 else np.uint32
    mismatch = np.flatnonzero(got.view(bits) != want.view(bits))
    assert mismatch.size == 0, (
        f"{mismatch.size} values differ, first at {mismatch[0]}: "
        f"{got[mismatch[0]]!r} != {want[mismatch[0]]!r}")


# -- strategies -------------------------------------------------------------------------

whole = st.integers(min_value=1, max_value=60)


@st.composite
def step_sizes(draw):
    """(up, down): whole numbers, fractional ones that add up to a whole period (the
    fast path's float branch), or fractional ones that do not (the generic path)."""
    kind = draw(st.sampled_from(["whole", "whole", "halves", "quarters", "ragged"]))
    if kind == "whole":
        return draw(whole), draw(st.one_of(st.none(), whole))
    if kind == "halves":
        return draw(whole) - 0.5, draw(whole) + 0.5
    if kind == "quarters":
        a = draw(st.integers(1, 120))
        b = 4 * draw(st.integers(1, 40)) - a % 4 or 4
        return a / 4, b / 4
    return draw(st.floats(0.3, 40.0)), draw(st.floats(0.3, 40.0))


def cyclic_kernels():
    """Any built-in cyclic policy and shape, maybe as inverted (momentum) kernel."""
    return builtin_cyclic(step_sizes())


def near(x, spread=5000):
    return st.integers(max(0, x - spread), x + spread)


starts = st.one_of(st.integers(0, 10**6), near(EXACT), near(2**53), near(2**62),
                   st.integers(2**63 - 1 - 4000, 2**63 - 1))

# Long enough to take the table path for every period drawn above (at most 120 steps).
lengths = st.one_of(st.integers(0, 40), st.integers(16 * 121, 16 * 121 + 600))


def clip(start, n):
    return min(n, 2**63 - start)


# -- cyclic ---------------------------------------------------------------------------

@given(cyclic_kernels(), starts, lengths)
@example(cyclr.triangular(0.0, 1.0, 2.5, step_size_down=1.5), EXACT - 3000, 2500)
@example(cyclr.triangular(0.0, 1.0, 2.5, step_size_down=1.5), EXACT - 1000, 2500)
@example(cyclr.triangular2(0.1, 1.0, 3, shape="hann"), 2**63 - 2000, 2000)
@example(cyclr.exp_range(0.1, 1.0, 5, gamma=0.999), 0, 3000)
def test_cyclic_fill_equals_one_step_kernel(s, start, n):
    n = clip(start, n)
    want = one_step(s, start, n)
    assert_bits_equal(s.array(n, start=start), want)
    assert_bits_equal(s.array(n, start=start, dtype=np.float32), want.astype(np.float32))


@given(cyclic_kernels(), starts, st.lists(st.integers(1, 300), min_size=2, max_size=8))
def test_small_chunks_concatenate_to_a_tabulated_fill(s, start, chunks):
    # A long fill takes the table path; fills shorter than 16 cycles compute each
    # window value directly. Both must give the same bits at every step.
    n = clip(start, 16 * 121 + sum(chunks))
    whole_run = s.array(n, start=start)
    cuts = np.minimum(np.cumsum([0] + chunks), n).tolist() + [n]
    parts = [s.array(b - a, start=start + a) for a, b in zip(cuts, cuts[1:]) if b > a]
    assert_bits_equal(np.concatenate(parts), whole_run)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("period", [7, 4000, 65537])
def test_at_the_length_where_fills_start_tabulating(period, dtype):
    # A fill tabulates one cycle when its output is at least 16 times the table
    # (16 cycles in float64, 32 in float32); one step either side of that length.
    s = cyclr.triangular2(0.001, 0.01, period // 2, step_size_down=period - period // 2,
                          shape="welch")
    cycles = 16 if dtype == np.float64 else 32
    for n in (cycles * period - 1, cycles * period):
        start = 3 * period - 5
        run = s.array(n, start=start, dtype=dtype)
        parts = [s.array(min(period, n - a), start=start + a, dtype=dtype)
                 for a in range(0, n, period)]
        assert_bits_equal(np.concatenate(parts), run)
        for j in np.random.default_rng(n).integers(0, n, 200).tolist() + [0, n - 1]:
            assert run[j] == dtype(s(start + j))


@pytest.mark.parametrize("sizes", [(0.5, 0.5), (1, 1), (2, 1), (3, 4), (2047, 2048),
                                   (2048, 2049), (1.5, 2.5)])
@pytest.mark.parametrize("shape", SHAPES)
def test_constant_amplitude_runs_repeat_their_first_cycle(sizes, shape):
    # triangular fills compute one period and copy it forward, short periods doubled
    # up to a block first; runs just past one period, a block, and many blocks.
    s = cyclr.triangular(0.25, 0.75, sizes[0], step_size_down=sizes[1], shape=shape)
    m = s.momentum_schedule(0.8, 0.95)
    period = int(sum(sizes))
    for n in (period + 1, 2 * period, 4096 + 3, 3 * 4096 + period + 5):
        for start in (0, 5, 2**62 + 1):
            for t in (s, m):
                want = one_step(t, start, n)
                assert_bits_equal(t.array(n, start=start), want)
                assert_bits_equal(t.array(n, start=start, dtype=np.float32),
                                  want.astype(np.float32))


@pytest.mark.parametrize("s", [
    cyclr.triangular(0.1, 1.0, 1), cyclr.triangular(0.1, 1.0, 2, shape="hann"),
    cyclr.triangular2(0.1, 1.0, 3), cyclr.exp_range(0.1, 1.0, 2, gamma=0.99),
    cyclr.one_cycle(1.0, 50), cyclr.step_decay(1.0, 0.5, 3),
    cyclr.chain((cyclr.triangular(0.1, 1.0, 1), 4099), cyclr.triangular2(0.1, 1.0, 2)),
], ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fills_write_nothing_past_their_buffer(s, dtype):
    # The copies and tables work in blocks; a block that ran one value long would
    # overwrite whatever follows the buffer. Fill views of a longer, marked array.
    for n in (1, 2, 3, 4095, 4096, 4097, 8192, 8193, 3 * 4096 + 1):
        backing = np.full(n + 64, -7.0, dtype=dtype)
        s.array(n, start=1, out=backing[:n])
        assert (backing[n:] == -7.0).all()
        assert_bits_equal(backing[:n], one_step(s, 1, n).astype(dtype))


@pytest.mark.parametrize("make", [
    lambda: cyclr.triangular2(0.001, 0.01, 2),
    lambda: cyclr.triangular2(0.0, 0.01, 2, shape="hann"),
    lambda: cyclr.triangular2(0.001, 0.01, 3, step_size_down=1).momentum_schedule(0.8, 0.9),
    lambda: cyclr.exp_range(0.5, 3.0, 2, gamma=0.5, scale_mode="cycle"),
    lambda: cyclr.exp_range(1e-300, 1e-290, 1, gamma=0.25, scale_mode="cycle"),
])
def test_cycles_whose_amplitude_vanishes(make):
    # After ~60 halvings a cycle's values are all base_lr (the fill writes them as one
    # constant); after ~1000 the factor is subnormal, after ~1075 zero.
    s = make()
    for dtype in (np.float64, np.float32):
        run = s.array(5000, dtype=dtype)
        assert_bits_equal(run, one_step(s, 0, 5000).astype(dtype))


@given(st.sampled_from([(2.5, 1.5), (0.75, 3.25), (7.5, 0.5)]),
       st.integers(-3000, 3000), st.integers(1, 6000))
def test_fractional_step_sizes_across_two_to_the_52(sizes, offset, n):
    # Below 2**52 a whole period of fractional step sizes is filled cycle by cycle;
    # from 2**52 on, per step. The two must agree where a fill straddles the limit.
    s = cyclr.triangular(0.0, 1.0, sizes[0], step_size_down=sizes[1], shape="hann")
    start = EXACT + offset
    assert_bits_equal(s.array(n, start=start), one_step(s, start, n))


# -- gamma**i and cos 1cycle by blocks ------------------------------------------------------
#
# Long enough fills of exp_range (per step) and of the exponential baseline compute
# gamma**i in blocks of 256 steps, double-double for float64 (pow only where the result
# is near a rounding boundary) and an enclosure for float32; cos 1cycle in float32 uses
# an enclosure too. Both must give the bits of one libm call per step.

BLOCKED = 16 * 256                # the shortest fill that takes the block path
blocked_lengths = st.integers(BLOCKED, BLOCKED + 3000)
block_gammas = st.one_of(
    st.floats(0.9, 1.0, exclude_max=True),
    st.floats(2.0, 14.0).map(lambda e: 1.0 - 10.0 ** -e),       # near 1: long runs
    st.floats(1e-3, 0.9))                                          # quick underflow


@given(bounds(), st.integers(1, 250), st.one_of(st.none(), st.integers(1, 250)),
       st.sampled_from(SHAPES), block_gammas, st.booleans(),
       st.one_of(st.integers(0, 10**7), near(EXACT - 4000, 4000)), blocked_lengths)
@example((1e-4, 1e-2), 20, None, "linear", 1 - 1e-7, False, 0, 20_000)
@example((0.0, 1.0), 7, 9, "hann", 0.999, True, 123, 20_000)      # decays to base
@example((0.5, 0.5), 3, None, "welch", 0.99999, False, 0, BLOCKED)  # no amplitude
def test_exp_range_blocks_equal_one_pow_per_step(lr_bounds, up, down, shape, gamma,
                                                 momentum, start, n):
    s = cyclr.exp_range(*lr_bounds, up, step_size_down=down, shape=shape, gamma=gamma)
    if momentum:
        s = s.momentum_schedule(0.85, 0.95)
    want = one_step(s, start, n)
    assert_bits_equal(s.array(n, start=start), want)
    assert_bits_equal(s.array(n, start=start, dtype=np.float32), want.astype(np.float32))


@given(st.floats(0.0, 10.0), block_gammas,
       st.one_of(st.integers(0, 10**7), near(EXACT - 4000, 4000)), blocked_lengths)
@example(0.1, 1 - 1e-7, 0, 20_000)
@example(1e-3, 0.5, 77, BLOCKED)                   # underflows to 0 within the fill
def test_exponential_blocks_equal_one_pow_per_step(lr, gamma, start, n):
    s = cyclr.exponential(lr, gamma)
    want = one_step(s, start, n)
    assert_bits_equal(s.array(n, start=start), want)
    assert_bits_equal(s.array(n, start=start, dtype=np.float32), want.astype(np.float32))


def test_exp_range_blocks_across_ten_million_steps():
    # 20 seeded configurations of 500k steps: each block's head carried from the one
    # before, about 5% of float64 steps near a rounding boundary (pow decides), the
    # other 95% decided by the double-double value and glibc's documented bound. Every
    # value against fills too short for blocks (one pow per step).
    rng = np.random.default_rng(2026)
    n = 500_000
    for _ in range(20):
        near_one = rng.random() < 0.7
        gamma = 1.0 - 10.0 ** -rng.uniform(2, 12) if near_one else rng.uniform(0.5, 0.9999)
        base = float(rng.choice([0.0, rng.uniform(0.0, 1e-3)]))
        s = cyclr.exp_range(base, base + rng.uniform(1e-6, 1.0), int(rng.integers(1, 2000)),
                            gamma=gamma, shape=str(rng.choice(SHAPES)))
        if rng.random() < 0.3:
            s = s.momentum_schedule(0.85, 0.95)
        start = int(rng.integers(0, 10**8)) if rng.random() < 0.8 else int(rng.integers(0, 2**45))
        for dtype in (np.float64, np.float32):
            want = np.concatenate([s.array(min(4000, n - a), start=start + a, dtype=dtype)
                                   for a in range(0, n, 4000)])
            assert_bits_equal(s.array(n, start=start, dtype=dtype), want)


@given(st.floats(1e-4, 10.0), st.integers(1000, 10**6), st.floats(0.05, 0.45),
       st.booleans(), st.floats(1.0, 1e3), st.sampled_from([1.0, 1e4, 1e9, 1e14]),
       st.floats(0.0, 1.0), blocked_lengths, st.booleans())
@example(0.01, 10**6, 0.3, False, 25.0, 1e4, 0.0, 20_000, False)
def test_float32_cos_one_cycle_is_float64_rounded_once(max_lr, total, pct_start, three,
                                                       div, final_div, at, n, momentum):
    # float64 1cycle fills take one cos per step; float32 ones an enclosure, which huge
    # final_div_factors (values far below the amplitude) defeat near the end, often.
    s = cyclr.one_cycle(max_lr, total, pct_start=pct_start, three_phase=three,
                        div_factor=div, final_div_factor=final_div)
    if momentum:
        s = s.momentum_schedule(0.85, 0.95)
    start = int(at * total)
    want = s.array(n, start=start)
    assert_bits_equal(want, one_step(s, start, n))
    assert_bits_equal(s.array(n, start=start, dtype=np.float32), want.astype(np.float32))


# -- 1cycle and step decay ----------------------------------------------------------------

@given(one_cycle_schedules(), st.booleans(), st.integers(0, 12_000), st.integers(0, 6000))
def test_one_cycle_fill_equals_one_step_kernel(s, momentum, start, n):
    if momentum:
        s = s.momentum_schedule(0.85, 0.95)
    want = one_step(s, start, n)
    assert_bits_equal(s.array(n, start=start), want)
    assert_bits_equal(s.array(n, start=start, dtype=np.float32), want.astype(np.float32))


@pytest.mark.parametrize("total", [2**53 + 7, 2**62 + 3, 2**63 - 1])
@pytest.mark.parametrize("pct_start,three_phase", [(0.3, False), (0.25, True)])
def test_one_cycle_phase_ends_at_huge_steps(total, pct_start, three_phase):
    # Near 2**62 consecutive steps round to the same double: the phase test must see
    # the same doubles in the fill as in the one-step kernel.
    s = cyclr.one_cycle(0.1, total, pct_start=pct_start, three_phase=three_phase)
    ends = [int(pct_start * total) - 1, int(2 * pct_start * total) - 2, total - 1]
    for end in ends:
        start = max(0, end - 3000)
        n = clip(start, 6000)
        assert_bits_equal(s.array(n, start=start), one_step(s, start, n))


@pytest.mark.parametrize("size", [1, 2, 7, 60, 0.5, 2.5, 1.25])
@pytest.mark.parametrize("start", [0, 59, 10**6 + 1, EXACT - 300, 2**62 + 5])
def test_step_decay_fill_equals_one_step_kernel(size, start):
    s = cyclr.step_decay(0.3, 0.9, size)
    assert_bits_equal(s.array(700, start=start), one_step(s, start, 700))


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("max_lr,total,pct_start,three_phase", [
    (0.1, 100, 0.3, False), (0.37, 1000, 0.25, True), (3.0, 20, 0.5, False),
    (0.011, 4000, 0.125, True), (1e-3, 10**7, 0.3, False)])
def test_one_cycle_at_whole_phase_ends(anneal, max_lr, total, pct_start, three_phase):
    # pct_start * total_steps whole: a step lands exactly on each phase end, where the
    # two adjacent phases give the same value in exact arithmetic but not always in
    # floating point; the fill must pick the phase the one-step kernel picks.
    s = cyclr.one_cycle(max_lr, total, pct_start=pct_start, three_phase=three_phase,
                        anneal=anneal)
    for m in (s, s.momentum_schedule(0.85, 0.95)):
        for end in (int(pct_start * total) - 1, int(2 * pct_start * total) - 2, total - 1):
            start = max(0, end - 40)
            assert_bits_equal(m.array(80, start=start), one_step(m, start, 80))
    assert_bits_equal(s.array(min(total, 5000)), one_step(s, 0, min(total, 5000)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chain_segments_share_the_fills_table_budget(dtype):
    # Each segment spans 10 cycles, too few to tabulate on its own; the chain's
    # whole output is long enough for a table per segment, one after another.
    s = cyclr.chain((cyclr.triangular2(1e-3, 1e-2, 100, shape="hann"), 2000),
                    (cyclr.triangular2(1e-4, 1e-3, 100, step_size_down=50), 1500),
                    (cyclr.exp_range(1e-5, 1e-4, 100, gamma=0.999), 2000),
                    cyclr.triangular2(1e-5, 1e-4, 25))
    for n, start in ((40_000, 0), (7001, 999)):
        want = one_step(s, start, n).astype(dtype)
        assert_bits_equal(s.array(n, start=start, dtype=dtype), want)


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_scale_fn_fills_in_chunks(scale_mode):
    # A scale_fn's factors are gathered in chunks of 65536 steps; runs across chunks.
    s = cyclr.cyclic(0.1, 1.0, 3, scale_fn=lambda x: 1.0 / (1.0 + x % 7),
                     scale_mode=scale_mode)
    n, start = 2 * 65536 + 11, 65536 - 5
    assert_bits_equal(s.array(n, start=start), one_step(s, start, n))


def test_chain_of_fast_segments():
    s = cyclr.chain((cyclr.triangular2(1e-3, 1e-2, 50), 4001),
                    (cyclr.one_cycle(1e-2, 3000).momentum_schedule(0.8, 0.9), 2999),
                    (cyclr.step_decay(0.1, 0.5, 7), 1000),
                    cyclr.exp_range(1e-5, 1e-4, 40, gamma=0.9999, shape="hann"))
    n = 12_000
    assert_bits_equal(s.array(n, start=17), one_step(s, 17, n))


def test_fills_release_the_gil():
    # While a long fill runs in one thread, Python code in another keeps running: the
    # spinning thread below must get through the middle half of the fill. (With the GIL
    # held it would only run before the fill starts and after it returns.)
    # A period that is not a whole number of steps: fmod and pow at every step, slow.
    s = cyclr.exp_range(0.001, 0.01, 100.5, step_size_down=100.25, gamma=0.999999)
    span = []

    def fill():
        span.append(time.perf_counter())
        s.array(4_000_000)
        span.append(time.perf_counter())

    worker = threading.Thread(target=fill)
    busy = set()                     # the milliseconds in which this thread ran
    worker.start()
    while worker.is_alive():
        busy.add(int(time.perf_counter() * 1000))
    worker.join()
    quarter = (span[1] - span[0]) / 4
    middle = [ms for ms in busy if span[0] + quarter < ms / 1000 < span[1] - quarter]
    assert len(middle) > 5, (span, len(busy))


def test_concurrent_block_fills_match_serial_ones():
    # Block fills keep their tables per call: fills in six threads at once (without
    # the GIL) give the bits that one thread gives.
    schedules = [cyclr.exp_range(1e-4, 1e-2, 500, gamma=1 - 1e-6),
                 cyclr.exponential(0.1, 0.99999), cyclr.one_cycle(0.1, 400_000)]
    jobs = [(s, dtype) for s in schedules for dtype in (np.float64, np.float32)]
    serial = [s.array(400_000, start=7, dtype=dtype) for s, dtype in jobs]
    results = [None] * len(jobs)

    def run(k):
        s, dtype = jobs[k]
        results[k] = s.array(400_000, start=7, dtype=dtype)

    for _ in range(3):
        threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for got, want in zip(results, serial):
            assert_bits_equal(got, want)


# -- s(i) by vectorcall ---------------------------------------------------------------------

def every_kind():
    tri = cyclr.triangular(0.001, 0.01, 20)
    return [tri, tri.momentum_schedule(0.8, 0.9), cyclr.one_cycle(0.1, 100),
            cyclr.constant(0.1), cyclr.decay(0.1, 0.01, 10), cyclr.exponential(0.1, 0.99),
            cyclr.step_decay(0.1, 0.5, 3), cyclr.chain((tri, 30), cyclr.constant(0.1)),
            cyclr.cyclic(0.0, 1.0, 4, scale_fn=lambda c: 1.0 / c)]


@pytest.mark.parametrize("s", every_kind(), ids=lambda s: type(s).__name__)
def test_every_schedule_type_is_called_by_vectorcall(s):
    assert type(s).__flags__ & HAVE_VECTORCALL


@given(st.sampled_from(every_kind()), st.integers(0, 2**63 - 1))
def test_vectorcall_and_tp_call_agree(s, i):
    value = s(i)
    assert type(value) is float
    assert value == Kernel.__call__(s, i) == s(i=i) == s(np.int64(i))


@pytest.mark.parametrize("args,kwargs,error,match", [
    ((), {}, TypeError, "positional argument"),
    ((1, 2), {}, TypeError, "positional argument"),
    ((1,), {"j": 2}, TypeError, "keyword"),
    ((), {"j": 2}, TypeError, "keyword"),
    ((-1,), {}, ValueError, "step must be an integer >= 0, got -1"),
    ((2**63,), {}, ValueError, "step must be an integer in"),
    ((1.0,), {}, TypeError, "step must be an integer >= 0, got 1.0"),
    ((True,), {}, TypeError, "step must be an integer >= 0, got True"),
])
def test_vectorcall_rejects_what_tp_call_rejects(args, kwargs, error, match):
    s = cyclr.triangular(0.001, 0.01, 20)
    with pytest.raises(error, match=match):
        s(*args, **kwargs)
    with pytest.raises(error, match=match):
        Kernel.__call__(s, *args, **kwargs)


def test_a_subclass_that_overrides_call_keeps_its_own():
    class Shouting(cyclr.Cyclic):
        __slots__ = ()

        def __call__(self, i):
            return f"step {i}!"

    s = Shouting(0.001, 0.01, 20)
    assert s(3) == "step 3!"
    assert not type(s).__flags__ & HAVE_VECTORCALL
    assert s.array(3).tolist() == [cyclr.triangular(0.001, 0.01, 20)(k) for k in range(3)]
