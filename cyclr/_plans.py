"""Lookup plans: what each kind holds, and how any framework evaluates one.

A plan is a small tree of read-only arrays and numbers that :func:`cyclr.tables.plan`
decides for a schedule (see :mod:`cyclr.tables` for which schedule gets which kind,
and the budget). This module says what each kind means, step by step, and evaluates
it with the ops of whichever framework holds the arrays (numpy, Keras ops, jax.numpy):

* :class:`Table`, :class:`Periodic`, :class:`Restarts`, :class:`Piecewise`: the kinds;
  each docstring gives the arithmetic :func:`evaluate` does for it.
* :func:`nbytes` and :func:`convert`: what a plan keeps, and the same plan with its
  arrays turned into a framework's tensors.
* :func:`evaluate`, with :func:`envelope_factor` and :func:`periodic_value` for
  classes that multiply in a factor of their own (TFA-style ``scale_fn``).

Everything here is public through :mod:`cyclr.tables`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable


# -- the plan kinds ----------------------------------------------------------------------

# The envelope factor f of a Periodic plan, for cycle c (0-based, counted from the
# piece's first step) and local step j:
#   flat: 1;  halving: 2**-c;  gamma_steps: gamma**j;  gamma_cycles: gamma**c
ENVELOPES = ("flat", "halving", "gamma_steps", "gamma_cycles")


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """Values at steps ``0 .. len(values) - 1``; the last one holds after.

    Attributes:
        values: float32, the core's values (float64 rounded once); at least one.
    """

    values: Any


@dataclasses.dataclass(frozen=True, eq=False)
class Periodic:
    """A schedule that repeats a cycle, times an envelope factor.

    At local step ``j`` (int64), with ``Pt = period_ticks`` and ``T = ticks``::

        u = j // Pt;  r = j - u*Pt
        c = u*T + (r*T) // Pt          # 0-based cycle
        t = (r*T) % Pt                 # offset in the cycle, in ticks (1/T steps)

    With a flat envelope (``f = 1``) the value is ``values[t]``. Otherwise, with ``f``
    the ``envelope`` factor for ``c`` and ``j`` (see ``ENVELOPES``) and ``h =
    heights[t]`` (or ``height`` for every ``t``), all in float64: ``v = low + h * f``,
    replaced by ``high`` if ``v > high`` or if ``peaks[t]`` and ``f == 1``; for cycled
    momentum (``inverted``) ``v = high - h * f``, replaced by ``low`` if ``v < low`` or
    at a peak with ``f == 1``. Then ``v`` is rounded once to float32.

    Attributes:
        period_ticks: entries in one cycle (the cycle length times ``ticks``).
        ticks: entries per step, a power of two (1 for whole cycle lengths).
        values: float32 values at each tick of a cycle; only with a flat envelope.
        heights: float64 ``(high - low) * w`` at each tick, ``w`` the window, as the
            core computes it; None with a flat envelope or a uniform ``height``.
        peaks: bool, where the window is exactly 1 (same length as ``heights``); None
            where no peak is pinned (warm restarts only clamp).
        height: the height at every tick (``exponential``, ``step_decay``), else None.
        low: the value where the window is 0 (``base_lr``; ``base_momentum``).
        high: the value where the window is 1 (``max_lr``; ``max_momentum``).
        inverted: True for cycled momentum, which falls while the LR rises.
        envelope: one of ``ENVELOPES``.
        gamma: the envelope's base for ``"gamma_steps"``/``"gamma_cycles"`` (else 1).
    """

    period_ticks: int
    ticks: int
    values: Any
    heights: Any
    peaks: Any
    height: float | None
    low: float
    high: float
    inverted: bool
    envelope: str
    gamma: float


@dataclasses.dataclass(frozen=True, eq=False)
class Restarts:
    """Warm restarts with cycles of growing length, computed in the graph.

    At local step ``j`` (int64): ``k`` is the last cycle with ``starts[k] <= j``; in
    float64, ``t = float64(j - starts[k]) + offsets[k]``, ``h = (high - low) * (1 +
    cos(pi * t / lengths[k])) / 2`` (in that order of operations) and ``v = low + h *
    factors[k]`` (``high - h * factors[k]`` when ``inverted``), clamped to ``[low,
    high]``. Then ``v`` is rounded once to float32. No peak is pinned.

    Attributes:
        starts: int64 first whole step of each cycle, from 0, non-decreasing.
        offsets: float64 fractional part by which each cycle's real start precedes
            its first whole step, in [0, 1).
        lengths: float64 length of each cycle in steps.
        factors: float64 amplitude factor of each cycle.
        low: the value at the end of a cycle (``min_lr``; ``base_momentum``).
        high: the value a full-amplitude cycle starts at (``max_lr``; ``max_momentum``).
        inverted: True for cycled momentum, which falls while the LR rises.
    """

    starts: Any
    offsets: Any
    lengths: Any
    factors: Any
    low: float
    high: float
    inverted: bool


@dataclasses.dataclass(frozen=True, eq=False)
class Piecewise:
    """A chain: piece ``k`` gives the value from step ``starts[k]`` until the next
    piece starts, at local step ``i - starts[k]`` clipped to ``lengths[k] - 1`` (not
    clipped where the length is None: only the last piece, open-ended). So a finite
    chain holds its last value.

    Attributes:
        starts: first step of each piece, increasing, the first 0.
        lengths: steps of each piece, or None.
        pieces: a :class:`Table`, :class:`Periodic` or :class:`Restarts` each (a
            Table is never longer than its piece).
    """

    starts: tuple
    lengths: tuple
    pieces: tuple


Plan = Table | Periodic | Restarts | Piecewise


# -- the arrays a plan keeps -------------------------------------------------------------

def _arrays(p: Plan):
    if isinstance(p, Piecewise):
        for piece in p.pieces:
            yield from _arrays(piece)
    elif isinstance(p, Table):
        yield p.values
    elif isinstance(p, Restarts):
        yield from (p.starts, p.offsets, p.lengths, p.factors)
    else:
        yield from (a for a in (p.values, p.heights, p.peaks) if a is not None)


def nbytes(p: Plan) -> int:
    """Bytes of every array the plan keeps."""
    return sum(int(a.nbytes) for a in _arrays(p))


def convert(p: Plan, to_tensor: Callable) -> Plan:
    """The same plan with each numpy array ``a`` replaced by ``to_tensor(a)`` (which
    should keep its dtype): adapters keep the result and drop the numpy copies."""
    if isinstance(p, Piecewise):
        return dataclasses.replace(p, pieces=tuple(convert(q, to_tensor) for q in p.pieces))
    if isinstance(p, Table):
        return Table(to_tensor(p.values))
    if isinstance(p, Restarts):
        return dataclasses.replace(p, starts=to_tensor(p.starts),
                                   offsets=to_tensor(p.offsets),
                                   lengths=to_tensor(p.lengths),
                                   factors=to_tensor(p.factors))

    def optional(a):
        return None if a is None else to_tensor(a)

    return dataclasses.replace(p, values=optional(p.values), heights=optional(p.heights),
                               peaks=optional(p.peaks))


# -- evaluation, with any framework's ops ------------------------------------------------

def envelope_factor(p: Periodic, c, j):
    """The envelope factor ``f`` of ``p`` for 0-based cycle ``c`` and local step ``j``,
    both float64 arrays or tensors of any framework with ``**`` (numpy, jax.numpy,
    Keras ops tensors): the core's ``pow(2, -c)``, ``pow(gamma, j)``, ``pow(gamma, c)``."""
    if p.envelope == "halving":
        return 2.0 ** -c
    if p.envelope == "gamma_steps":
        return p.gamma ** j
    return p.gamma ** c                                      # gamma_cycles


def periodic_value(p: Periodic, height, f, peak, where):
    """``low + height * f`` (``high - height * f`` for momentum) with the core's guards:
    a full-amplitude peak is the bound itself, and no value passes a bound.

    ``height`` and ``f`` are float64 and ``peak`` bool arrays or tensors (``peak``
    None: no tick is a peak that matters); ``where`` is the framework's ``where``. The
    result is float64: round it once to float32.
    """
    if p.inverted:
        value = p.high - height * f
        past = value < p.low
    else:
        value = p.low + height * f
        past = value > p.high
    if peak is not None:
        past = past | (peak & (f == 1.0))
    return where(past, p.low if p.inverted else p.high, value)


def evaluate(p: Plan, step, ops, factor: Callable | None = None):
    """The float32 value of plan ``p`` at ``step``, built from a framework's ops.

    Args:
        p: a plan (usually after :func:`convert`).
        step: int64 array or tensor of steps >= 0, any shape.
        ops: an object with ``gather(table, index)`` (int64 indices within bounds),
            ``where``, ``minimum``, ``maximum`` (tensor and Python int), ``float64(x)``
            and ``float32(x)`` (casts) and ``cos`` (float64, for :class:`Restarts`
            only); ``//``, ``%``, ``*``, ``-``, ``<=`` on int64 tensors and Python
            ints are used as operators.
        factor: for :class:`Periodic` plans, a function of (float64 0-based cycle,
            int64 local step) giving the float64 factor instead of the envelope's
            (TFA-style ``scale_fn``); then ``heights`` are used, never ``values``.

    Returns:
        float32 values of ``step``'s shape.
    """
    if not isinstance(p, Piecewise):
        return _evaluate_piece(p, step, ops, factor)
    value = None
    for start, length, piece in zip(p.starts, p.lengths, p.pieces):
        local = step if start == 0 else ops.maximum(step - start, 0)
        if length is not None and not isinstance(piece, Table):
            local = ops.minimum(local, length - 1)
        v = _evaluate_piece(piece, local, ops, factor)
        value = v if value is None else ops.where(step >= start, v, value)
    return value


def _evaluate_piece(p, j, ops, factor):
    if isinstance(p, Table):
        return ops.gather(p.values, ops.minimum(j, _len(p.values) - 1))
    if isinstance(p, Restarts):
        return _evaluate_restarts(p, j, ops)
    n, ticks = p.period_ticks, p.ticks
    flat = factor is None and p.values is not None
    if ticks == 1:
        if flat:
            return ops.gather(p.values, j % n)
        u = j // n
        t = j - u * n
        c = ops.float64(u)
    else:
        u = j // n
        r = (j - u * n) * ticks                  # < n * ticks: no overflow
        q = r // n
        t = r - q * n
        if flat:
            return ops.gather(p.values, t)
        c = ops.float64(u) * float(ticks) + ops.float64(q)
    if factor is not None:
        f = factor(c, j)
    elif p.envelope == "gamma_steps":
        f = envelope_factor(p, c, ops.float64(j))
    else:
        f = envelope_factor(p, c, None)
    if p.heights is None:
        height, peak = p.height, None
    else:
        height = ops.gather(p.heights, t)
        peak = None if p.peaks is None else ops.gather(p.peaks, t)
    return ops.float32(periodic_value(p, height, f, peak, ops.where))


def _restart_cycle(starts, j, ops):
    """The last cycle whose first step is at most ``j``: a branchless bisection of
    ``log2(len(starts))`` gathers (``starts[0]`` is 0, so cycle 0 is the floor)."""
    n = _len(starts)
    k = j - j                                        # int64 zeros of j's shape
    b = 1 << max(n - 1, 1).bit_length() - 1
    while b >= 1:
        # Clamping at the last cycle instead of skipping keeps every lane in bounds;
        # starts do not decrease, so the clamped candidate decides the same way.
        candidate = ops.minimum(k + b, n - 1)
        k = ops.where(ops.gather(starts, candidate) <= j, candidate, k)
        b //= 2
    return k


def _evaluate_restarts(p: Restarts, j, ops):
    k = _restart_cycle(p.starts, j, ops)
    t = ops.float64(j - ops.gather(p.starts, k)) + ops.gather(p.offsets, k)
    length = ops.gather(p.lengths, k)
    # The core's cyclr_cosine_height, operation for operation.
    height = (p.high - p.low) * (1.0 + ops.cos(3.141592653589793 * t / length)) / 2.0
    f = ops.gather(p.factors, k)
    value = p.high - height * f if p.inverted else p.low + height * f
    value = ops.where(value < p.low, p.low, value)
    return ops.float32(ops.where(value > p.high, p.high, value))


def _len(a) -> int:
    return int(a.shape[0])


__all__ = ["ENVELOPES", "Periodic", "Piecewise", "Plan", "Restarts", "Table", "convert",
           "envelope_factor", "evaluate", "nbytes", "periodic_value"]
