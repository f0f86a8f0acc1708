"""Hypothesis strategies that draw valid schedule configurations."""

import math

from hypothesis import strategies as st

import cyclr

SHAPES = ("linear", "welch", "hann")
rates = st.floats(min_value=0.0, max_value=10.0, allow_nan=False, allow_infinity=False)
int_sizes = st.integers(min_value=1, max_value=500)
frac_sizes = st.floats(min_value=0.5, max_value=500.0).filter(lambda x: not x.is_integer())
sizes = st.one_of(int_sizes, int_sizes, frac_sizes)
steps = st.integers(min_value=0, max_value=10**6)
gammas = st.floats(min_value=0.9, max_value=1.0, exclude_min=True)


@st.composite
def bounds(draw):
    a, b = draw(rates), draw(rates)
    return min(a, b), max(a, b)


@st.composite
def cyclic_schedules(draw, policy=None, shape=None):
    base, top = draw(bounds())
    policy = policy or draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
    shape = shape or draw(st.sampled_from(SHAPES))
    up = draw(sizes)
    down = draw(st.one_of(st.none(), sizes))
    if policy == "exp_range":
        return cyclr.exp_range(base, top, up, step_size_down=down, shape=shape,
                               gamma=draw(gammas),
                               scale_mode=draw(st.sampled_from(["iterations", "cycle"])))
    return cyclr.cyclic(base, top, up, step_size_down=down, policy=policy, shape=shape)


@st.composite
def one_cycle_schedules(draw):
    total = draw(st.integers(min_value=4, max_value=5000))
    three = draw(st.booleans())
    hi = 0.45 if three else 0.95
    lo = 2.0 / total + 1e-9
    if lo >= hi:
        total = 100
        lo = 0.03
    pct = draw(st.floats(min_value=lo, max_value=hi))
    return cyclr.one_cycle(draw(rates), total, pct_start=pct, three_phase=three,
                           anneal=draw(st.sampled_from(["cos", "linear"])),
                           div_factor=draw(st.floats(1.0, 1e3)),
                           final_div_factor=draw(st.floats(1.0, 1e5)))


@st.composite
def baselines(draw):
    lo, hi = draw(bounds())
    kind = draw(st.sampled_from(["constant", "decay", "exponential", "step_decay"]))
    if kind == "constant":
        return cyclr.constant(hi)
    if kind == "decay":
        return cyclr.decay(hi, lo, draw(sizes))
    if kind == "exponential":
        return cyclr.exponential(hi, draw(gammas))
    return cyclr.step_decay(hi, draw(gammas), draw(sizes))


@st.composite
def builtin_cyclic(draw, step_sizes):
    """Any built-in cyclic policy and shape, with ``(up, down)`` drawn from
    ``step_sizes``, maybe as its momentum schedule."""
    base, top = draw(bounds())
    up, down = draw(step_sizes)
    shape = draw(st.sampled_from(SHAPES))
    kind = draw(st.sampled_from(["triangular", "triangular2", "exp_steps", "exp_cycles"]))
    if kind.startswith("exp"):
        s = cyclr.exp_range(base, top, up, step_size_down=down, shape=shape,
                            gamma=draw(gammas),
                            scale_mode="iterations" if kind == "exp_steps" else "cycle")
    else:
        s = cyclr.cyclic(base, top, up, step_size_down=down, policy=kind, shape=shape)
    if draw(st.booleans()):
        lo, hi = draw(bounds())
        s = s.momentum_schedule(min(lo, 1.0), min(hi, 1.0))
    return s


@st.composite
def annealing(draw):
    """linear and cosine anneals (either direction) and warm restarts."""
    lo, hi = draw(bounds())
    kind = draw(st.sampled_from(["linear", "cosine", "restarts"]))
    if kind == "restarts":
        return cyclr.cosine_restarts(
            hi, draw(sizes), min_lr=lo,
            cycle_mult=draw(st.one_of(st.integers(1, 3), st.sampled_from([1.5, 1.25]))),
            amplitude_decay=draw(st.one_of(st.just(1.0), gammas)))
    start, end = (lo, hi) if draw(st.booleans()) else (hi, lo)
    return getattr(cyclr, kind)(start, end, draw(sizes))


leaf_schedules = st.one_of(cyclic_schedules(), one_cycle_schedules(), baselines(), annealing())


@st.composite
def chains(draw):
    k = draw(st.integers(min_value=1, max_value=4))
    segments = [(draw(leaf_schedules), draw(st.integers(1, 400))) for _ in range(k)]
    if draw(st.booleans()):
        segments[-1] = segments[-1][0]
    return cyclr.chain(*segments)


any_schedules = st.one_of(leaf_schedules, chains())


def close(a, b, rel=1e-12, abs_=1e-15):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
