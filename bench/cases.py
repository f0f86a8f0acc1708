"""The schedules the benchmark fills, each with its peers: the same formula written the
best way we know in vectorized numpy (in-place, no Python loop over steps) and in JAX
(float32 values from int32 steps, under ``jax.jit``).

The peers are deliberately independent of cyclr's kernels; ``check_peers`` compares
their output with cyclr's before anything is timed, so no row times a wrong formula.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

import cyclr

BASE, TOP, STEP = 1e-4, 1e-2, 2000     # the paper's CIFAR-10 step size (scalar calls)
GAMMA = 1.0 - 1e-7          # exp_range: the amplitude falls to about e**-1 over 10M steps


@dataclasses.dataclass(frozen=True)
class Cyclic:
    """Parameters of one cyclic schedule, as the peers need them."""

    base: float
    top: float
    up: int
    down: int
    shape: str = "linear"
    envelope: str = "flat"           # flat | halving | gamma
    gamma: float = 1.0


@dataclasses.dataclass(frozen=True)
class Case:
    """A schedule to fill, its peers, and the issue's targets for it.

    Attributes:
        name: row label.
        schedule: the cyclr schedule.
        numpy_fill: ``(n, start, dtype) -> ndarray``, the numpy peer.
        jax_fill: ``(n) -> f(start)``, a jitted JAX peer producing float32.
        full_target: the least throughput, as a fraction of ``np.full``'s, for float64.
        peer_targets: whether the benchmark issue set its targets against the numpy
            and JAX formulas for this case (10x and 1x); warm restarts came later, with
            no target of their own.
    """

    name: str
    schedule: cyclr.Schedule
    numpy_fill: Callable
    jax_fill: Callable
    full_target: float | None
    peer_targets: bool = True


# -- numpy peers ---------------------------------------------------------------------

def _numpy_cyclic(p: Cyclic, n: int, start: int, dtype) -> np.ndarray:
    period = p.up + p.down
    i = np.arange(start, start + n, dtype=np.int64)
    t = np.remainder(i, period)              # integer: exact and faster than fmod
    u = t.astype(dtype)
    u /= p.up
    t = np.subtract(period, t, out=t).astype(dtype)
    t /= p.down
    np.minimum(u, t, out=u)                  # the triangle: rising, then falling
    if p.shape == "welch":
        np.subtract(1.0, u, out=u)
        np.square(u, out=u)
        np.subtract(1.0, u, out=u)
    elif p.shape == "hann":
        u *= math.pi
        np.cos(u, out=u)
        np.subtract(1.0, u, out=u)
        u *= 0.5
    u *= p.top - p.base
    if p.envelope == "halving":
        np.floor_divide(i, period, out=i)
        f = np.negative(i, out=i).astype(dtype)
        np.exp2(f, out=f)
        u *= f
    elif p.envelope == "gamma":
        f = i.astype(dtype)
        f *= math.log(p.gamma)
        np.exp(f, out=f)
        u *= f
    u += p.base
    return u


def _numpy_one_cycle(top: float, total: int, n: int, start: int, dtype) -> np.ndarray:
    initial, ends = top / 25.0, [0.3 * total - 1, total - 1.0]
    low = initial / 1e4
    x = np.arange(start, start + n, dtype=dtype)
    np.minimum(x, total - 1, out=x)
    out = np.empty(n, dtype=dtype)
    lo = 0
    for k, (begin, end, a, b) in enumerate(((0.0, ends[0], initial, top),
                                            (ends[0], ends[1], top, low))):
        hi = n if k == 1 else int(np.searchsorted(x, end, side="right"))
        seg = out[lo:hi]
        np.subtract(x[lo:hi], begin, out=seg)
        seg *= math.pi / (end - begin)
        np.cos(seg, out=seg)
        seg += 1.0
        seg *= (a - b) / 2.0
        seg += b
        lo = hi
    return out


def _numpy_chain(parts, n: int, start: int, dtype) -> np.ndarray:
    """``parts``: (Cyclic, steps or None) pairs; fills each segment's slice."""
    out = np.empty(n, dtype=dtype)
    at = 0
    for p, steps in parts:
        lo = max(start, at) - start
        hi = n if steps is None else min(max(at + steps - start, 0), n)
        if hi > lo:
            out[lo:hi] = _numpy_cyclic(p, hi - lo, start + lo - at, dtype)
        if steps is not None:
            at += steps
    return out


def _restart_starts(first: int, mult: int, end: int) -> np.ndarray:
    """First steps of warm-restart cycles of ``first * mult**k`` steps, to ``end``."""
    starts, at, length = [0], first, first * mult
    while at < end:
        starts.append(at)
        at, length = at + length, length * mult
    return np.array(starts, dtype=np.int64)


def _numpy_restarts(first: int, mult: int, decay: float, n: int, start: int,
                    dtype) -> np.ndarray:
    """Cycle by cycle (a handful), each cycle's steps vectorized."""
    out = np.empty(n, dtype=dtype)
    starts = _restart_starts(first, mult, start + n)
    ends = np.append(starts[1:], start + n)
    for k, (begin, end) in enumerate(zip(starts, ends)):
        lo, hi = max(begin, start), min(end, start + n)
        if lo >= hi:
            continue
        t = out[lo - start:hi - start]
        t[:] = np.arange(lo - begin, hi - begin)
        t *= np.pi / (first * mult**k)
        np.cos(t, out=t)
        t += 1.0
        t *= (TOP - BASE) / 2.0 * decay**k
        t += BASE
    return out


# -- JAX peers (float32, jitted; the start step is traced so nothing constant-folds) ---

def _jax_cyclic(p: Cyclic, i):
    import jax.numpy as jnp

    period = p.up + p.down
    t = jnp.remainder(i, period)             # int32, by a constant: no division
    x = t.astype(jnp.float32)
    u = jnp.minimum(x / p.up, (period - x) / p.down)
    if p.shape == "welch":
        u = 1.0 - jnp.square(1.0 - u)
    elif p.shape == "hann":
        u = (1.0 - jnp.cos(jnp.pi * u)) * 0.5
    h = (p.top - p.base) * u
    if p.envelope == "halving":
        h = h * jnp.exp2(-(i // period).astype(jnp.float32))
    elif p.envelope == "gamma":
        h = h * jnp.exp(i.astype(jnp.float32) * np.float32(math.log(p.gamma)))
    return p.base + h


def _jax_one_cycle(top: float, total: int, i):
    import jax.numpy as jnp

    x = i.astype(jnp.float32)
    initial, end0, end1 = top / 25.0, 0.3 * total - 1, total - 1.0
    low = initial / 1e4
    x = jnp.minimum(x, end1)
    rise = (initial - top) / 2.0 * (jnp.cos(jnp.pi * x / end0) + 1.0) + top
    fall = (top - low) / 2.0 * (jnp.cos(jnp.pi * (x - end0) / (end1 - end0)) + 1.0) + low
    return jnp.where(x <= end0, rise, fall)


def _jax_chain(parts, x):
    import jax.numpy as jnp

    out = _jax_cyclic(parts[0][0], x)
    at = 0
    for (p, _), (_, steps) in zip(parts[1:], parts[:-1]):
        at += steps
        out = jnp.where(x < at, out, _jax_cyclic(p, x - at))
    return out


def _jax_restarts(first: int, mult: int, decay: float, end: int, i):
    import jax.numpy as jnp

    starts = _restart_starts(first, mult, end)
    k = jnp.searchsorted(jnp.asarray(starts.astype(np.int32)), i, side="right") - 1
    t = (i - jnp.asarray(starts.astype(np.int32))[k]).astype(jnp.float32)
    length = jnp.asarray((first * np.float64(mult) ** np.arange(starts.size))
                         .astype(np.float32))[k]
    factor = jnp.asarray((decay ** np.arange(starts.size)).astype(np.float32))[k]
    return BASE + (TOP - BASE) / 2.0 * factor * (1.0 + jnp.cos(jnp.pi * t / length))


def _jitted(formula: Callable) -> Callable:
    def make(n: int):
        import jax
        import jax.numpy as jnp

        @jax.jit
        def fill(start):
            return formula(jnp.arange(n, dtype=jnp.int32) + start)

        return lambda start: fill(np.int32(start))

    return make


# -- the cases -------------------------------------------------------------------------

def _cyclic_case(name, schedule, p: Cyclic, target) -> Case:
    return Case(name, schedule,
                lambda n, start, dtype: _numpy_cyclic(p, n, start, dtype),
                _jitted(lambda x: _jax_cyclic(p, x)), target)


def cases(n: int) -> list[Case]:
    """Every schedule of section 2, sized for runs of ``n`` steps.

    Cyclic schedules run 50 cycles (step size ``n // 100``). With many more, a
    triangular2 fill would mostly time cycles whose amplitude has halved below an ulp
    of base_lr, which cyclr fills as constants: fast, exact, and not what a fill
    normally costs.
    """
    step = max(n // 100, 1)
    tri = Cyclic(BASE, TOP, step, step)
    out = [
        _cyclic_case("triangular", cyclr.triangular(BASE, TOP, step), tri, 0.7),
        _cyclic_case("triangular, welch", cyclr.triangular(BASE, TOP, step, shape="welch"),
                     dataclasses.replace(tri, shape="welch"), 0.3),
        _cyclic_case("triangular, hann", cyclr.triangular(BASE, TOP, step, shape="hann"),
                     dataclasses.replace(tri, shape="hann"), 0.3),
        _cyclic_case("triangular2", cyclr.triangular2(BASE, TOP, step),
                     dataclasses.replace(tri, envelope="halving"), 0.7),
        _cyclic_case("exp_range", cyclr.exp_range(BASE, TOP, step, gamma=GAMMA),
                     dataclasses.replace(tri, envelope="gamma", gamma=GAMMA), 0.3),
        Case("one_cycle", cyclr.one_cycle(TOP, n),
             lambda m, start, dtype: _numpy_one_cycle(TOP, n, m, start, dtype),
             _jitted(lambda x: _jax_one_cycle(TOP, n, x)), 0.3),
    ]
    # The paper's way: triangular2 runs with lower bounds appended, then triangular.
    seg = 2 * n // 5
    parts = ((Cyclic(1e-3, 1e-2, step, step, envelope="halving"), seg),
             (Cyclic(1e-4, 1e-3, step, step, envelope="halving"), seg),
             (Cyclic(1e-5, 1e-4, step, step), None))
    chained = cyclr.chain((cyclr.triangular2(1e-3, 1e-2, step), seg),
                          (cyclr.triangular2(1e-4, 1e-3, step), seg),
                          cyclr.triangular(1e-5, 1e-4, step))
    out.append(Case("chain of 3", chained,
                    lambda m, start, dtype: _numpy_chain(parts, m, start, dtype),
                    _jitted(lambda x: _jax_chain(parts, x)), None))
    # Warm restarts: cycles doubling from n/1000 steps (about 10 in the run), the
    # amplitude times 0.9 at each restart.
    first = max(n // 1000, 1)
    out.append(Case("cosine_restarts", cyclr.cosine_restarts(
        TOP, first, min_lr=BASE, cycle_mult=2, amplitude_decay=0.9),
        lambda m, start, dtype: _numpy_restarts(first, 2, 0.9, m, start, dtype),
        _jitted(lambda x: _jax_restarts(first, 2, 0.9, n, x)), None, peer_targets=False))
    return out


def check_peers(case: Case, n: int, *, with_jax: bool) -> None:
    """Raise AssertionError unless the peers compute the same schedule as cyclr."""
    want = case.schedule.array(n)
    got = case.numpy_fill(n, 0, np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0,
                               err_msg=f"numpy peer of {case.name}")
    got = case.numpy_fill(n, 0, np.float32)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=TOP * 1e-6,
                               err_msg=f"numpy float32 peer of {case.name}")
    if with_jax:
        got = np.asarray(case.jax_fill(n)(0))
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=TOP * 1e-6,
                                   err_msg=f"jax peer of {case.name}")
