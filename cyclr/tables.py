"""Lookup plans for compiled-graph adapters (Keras, Optax).

A compiled graph should not re-derive a schedule: it gathers from numbers the core
computed. This module decides which numbers, with the core's public API only, and
describes them as a *plan*, a small tree the adapters evaluate with their own ops:

* :class:`Table`: float32 values at steps ``0 .. n - 1``; the last one holds after.
  For schedules that truly settle (``constant``, ``decay``, ``one_cycle`` and its
  momentum), and for a cyclic schedule with a user ``scale_fn`` (a Python function
  cannot run in a graph), bounded by ``total_steps``: the one case where a plan holds a
  value the schedule itself would not (the adapters warn when they build it).
* :class:`Periodic`: one cycle of numbers and an envelope factor (``2**-c``,
  ``gamma**i``, ``gamma**c``) multiplied in float64 in the graph, for every schedule
  that repeats: the cyclic policies and their momentum, ``exponential`` (a cycle of
  one step) and ``step_decay`` (a cycle of ``step_size`` steps). A fractional cycle
  length that is a multiple of ``2**-k`` (``k <= 20``) is tabulated at ``2**k`` ticks
  per step, so every step lands exactly on an entry.
* :class:`Restarts`: warm restarts whose cycles grow (``cosine_restarts`` with
  ``cycle_mult != 1``, and its momentum). No table of values repeats such cycles and
  no run length bounds them, so this is the one place where the graph evaluates a
  window formula itself: it finds the step's cycle in the core's own small table of
  cycles (first step, fractional offset, length, amplitude factor; at most
  ``cyclr.schedules.MAX_RESTART_CYCLES``, about 64 for ``cycle_mult >= 2``) and computes
  the core's half-cosine height ``(high - low) * (1 + cos(pi * t / length)) / 2`` in
  float64, in the core's order of operations.
* :class:`Piecewise`: a chain, as pieces that each see their local step.

Evaluating a plan (:func:`evaluate`) gives float32(``s(i)``) at every step ``i >= 0``:
bit for bit from a table or a flat envelope, within 1 float32 ulp where a factor is
multiplied in the graph (the framework's ``pow`` is not the core's) or a cosine
computed there (nor is its ``cos``). Cycle positions are int64 arithmetic, exact at any
step (for fractional cycle lengths up to 2**53, the last step at which the core's own
float64 step is exact); a growing cycle is found by a bisection on int64 first steps.

Budget: everything a plan keeps (float32 values 4 bytes, float64 heights 8 bytes, bool
peaks 1 byte per entry, 32 bytes per cycle of growing length) is at most
``MAX_TABLE_BYTES`` (64 MiB). A plan that would need more is refused before anything
large is allocated, naming the argument that makes it large. Adapters convert the
arrays to tensors with :func:`convert` and drop the numpy copies, so the budget is
also what they keep.

Examples:
    >>> import cyclr
    >>> from cyclr import tables
    >>> p = tables.plan(cyclr.triangular2(0.0, 1.0, 2))
    >>> p.period_ticks, p.ticks, p.envelope, p.heights.tolist()
    (4, 1, 'halving', [0.0, 0.5, 1.0, 0.5])
    >>> tables.plan(cyclr.triangular(0.0, 1.0, 1.25)).ticks      # cycle of 5/2 steps
    2
    >>> tables.plan(cyclr.decay(1.0, 0.5, 2)).values.tolist()       # then holds 0.5
    [1.0, 0.75, 0.5]
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any, Callable

import numpy as np

from . import _validate as v
from ._forms import Cycles as _Cycles
from ._forms import GrowingCycles as _Growing
from ._forms import Settles as _Settles
from ._forms import UserFactor as _User
from .schedules import Chain, Schedule

#: The most bytes a plan may keep: every table it holds, all together.
MAX_TABLE_BYTES = 64 * 2**20
#: The finest step subdivision for fractional cycle lengths: ``2**MAX_TICK_BITS`` ticks.
MAX_TICK_BITS = 20
#: The most pieces of a chain evaluated in the graph; beyond, pieces are tabulated.
MAX_PIECES = 64

# A finite chain segment whose table is at most this big is tabulated even when it
# cycles: a few KiB buy one gather instead of a cycle's arithmetic, and neighbouring
# tables merge into one piece.
_SMALL_TABLE_BYTES = 2**20
# Leaves of a chain walked before planning gives up piece by piece (chains that reuse
# sub-chains can have exponentially many) and tabulates the finite front as a whole.
_MAX_LEAVES = 2**16

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


def check_total_steps(total_steps) -> int | None:
    """``total_steps`` as an int >= 1, or None.

    Raises:
        TypeError: if it is not an integer (bools and floats are refused).
        ValueError: if it is below 1.
    """
    if total_steps is None:
        return None
    return v.count("total_steps", total_steps, minimum=1)


def _check_schedule(schedule) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a cyclr schedule, got {schedule!r}")
    return schedule


def _mib(n: int) -> str:
    return f"{n / 2**20:.6g} MiB"


def _refuse(why: str, what: str, nbytes: int):
    raise ValueError(
        f"{why}: {what} needs {_mib(nbytes)}, more than the {_mib(MAX_TABLE_BYTES)} "
        f"limit on lookup tables (cyclr.tables.MAX_TABLE_BYTES)")


# -- planning -----------------------------------------------------------------------------

class _TooManyLeaves(Exception):
    pass


def _leaves(schedule: Schedule) -> list:
    """``(start, length or None, schedule)`` for every non-chain schedule a chain
    reaches, in order, each clipped as the chain clips it."""
    out = []

    def walk(s, start, length):
        if not isinstance(s, Chain):
            out.append((start, length, s))
            if len(out) > _MAX_LEAVES:
                raise _TooManyLeaves
            return
        at = 0
        for sub, n in s.params["segments"]:
            if length is not None and at >= length:
                break
            clip = n
            if length is not None:
                clip = length - at if n is None else min(n, length - at)
            walk(sub, start + at, clip)
            if n is not None:
                at += n

    walk(schedule, 0, None)
    return out


def _spine(schedule: Schedule):
    """(first step of the open-ended tail, the tail) of a chain, or (its length, None)
    for a finite one: without visiting any finite segment's insides."""
    offset = 0
    while isinstance(schedule, Chain):
        segments = schedule.params["segments"]
        if segments[-1][1] is not None:
            return offset + schedule.total_steps, None
        offset += sum(n for _, n in segments[:-1])
        schedule = segments[-1][0]
    return offset, schedule


@dataclasses.dataclass
class _TableSpec:
    start: int
    n: int
    why: str
    warn: int | None = None        # total_steps, for a user scale_fn's bounded table

    @property
    def nbytes(self) -> int:
        return 4 * self.n


@dataclasses.dataclass
class _PeriodicSpec:
    start: int
    length: int | None
    form: _Cycles
    ticks: int
    period_ticks: int
    with_heights: bool = False

    @property
    def nbytes(self) -> int:
        if self.form.height is not None:
            return 0
        if self.form.envelope == "flat" and not self.with_heights:
            return 4 * self.period_ticks
        return (9 if self.form.pinned_peaks else 8) * self.period_ticks


@dataclasses.dataclass
class _RestartsSpec:
    start: int
    length: int | None
    form: _Growing

    @property
    def ncycles(self) -> int:
        """Cycles the piece reaches: all, or those starting before its length."""
        if self.length is None:
            return len(self.form.starts)
        return max(1, sum(1 for first in self.form.starts if first < self.length))

    @property
    def nbytes(self) -> int:
        return 32 * self.ncycles           # int64 start and three float64 per cycle


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32(form: _Cycles | _Growing) -> None:
    # Every value lies in [low, high]; above float32's range it would read as inf.
    if form.high > _FLOAT32_MAX:
        raise ValueError(
            f"{form.high_name}={form.high!r} is above the float32 maximum "
            f"({_FLOAT32_MAX:.6g}): Keras and Optax schedules give float32 values")


def _ticks(form: _Cycles) -> tuple[int, int]:
    """(ticks per step, ticks per cycle): the coarsest power-of-two subdivision of a
    step on which the cycle length is a whole number."""
    period = form.period
    for k in range(MAX_TICK_BITS + 1):
        scaled = period * 2**k                    # exact: a power-of-two scaling
        if scaled == math.floor(scaled):
            return 2**k, int(scaled)
    raise ValueError(
        f"{form.why}: the cycle of {period!r} steps is not a multiple of "
        f"2**-{MAX_TICK_BITS} steps, so no table of cycle offsets holds every step "
        f"(Keras and Optax look values up instead of computing them); use a step size "
        f"that is a whole number or a multiple of a power of two such as 1/64")


def _leaf_spec(start, length, s, total_steps):
    form = s.lookup_form()
    segment = f"a chain segment of {length} steps"
    if isinstance(form, _Settles):
        if length is not None and length < form.length:
            return _TableSpec(start, length, segment)
        return _TableSpec(start, form.length, form.why)
    if isinstance(form, _User):
        if length is not None:
            return _TableSpec(start, length, segment + " with a scale_fn")
        if total_steps is None:
            raise ValueError(
                f"total_steps=None, but the schedule cycles with a Python scale_fn "
                f"({form.scale_fn!r}), which cannot run in a compiled graph: pass "
                f"total_steps (the run length) to tabulate it; the LR then holds its "
                f"last value from step total_steps on")
        return _TableSpec(start, max(total_steps - start, 1), f"total_steps={total_steps}",
                          warn=total_steps)
    if length is not None and 4 * length <= _SMALL_TABLE_BYTES:
        return _TableSpec(start, length, segment)
    _check_float32(form)
    if isinstance(form, _Growing):
        growing = _RestartsSpec(start, length, form)
        if length is not None and 4 * length <= growing.nbytes:
            return _TableSpec(start, length, segment)
        if growing.nbytes > MAX_TABLE_BYTES:
            _refuse(form.why, f"{growing.ncycles} cycles", growing.nbytes)
        return growing
    try:
        ticks, period_ticks = _ticks(form)
    except ValueError:
        if length is not None and 4 * length <= MAX_TABLE_BYTES:
            return _TableSpec(start, length, segment)
        raise
    spec = _PeriodicSpec(start, length, form, ticks, period_ticks)
    if length is not None and 4 * length <= spec.nbytes:
        return _TableSpec(start, length, segment)
    if spec.nbytes > MAX_TABLE_BYTES:
        _refuse(form.why, f"a cycle of {form.period!r} steps ({period_ticks} table "
                f"entries)", spec.nbytes)
    return spec


def _merge_tables(specs: list, force: bool) -> list:
    """Neighbouring table specs as one table (padded with the first one's held value)
    where that costs little (``force``: whenever the budget allows)."""
    out = [specs[0]]
    for spec in specs[1:]:
        last = out[-1]
        if isinstance(last, _TableSpec) and isinstance(spec, _TableSpec) \
                and last.warn is None and spec.warn is None:
            merged = spec.start - last.start + spec.n
            cheap = 4 * merged <= 2 * (last.nbytes + spec.nbytes) + 2**16
            if (force or cheap) and 4 * merged <= MAX_TABLE_BYTES:
                out[-1] = _TableSpec(last.start, merged, last.why)
                continue
        out.append(spec)
    return out


def _specs(schedule: Schedule, total_steps):
    try:
        specs = [_leaf_spec(*leaf, total_steps) for leaf in _leaves(schedule)]
        specs = _merge_tables(specs, force=False)
        if len(specs) > MAX_PIECES:
            specs = _merge_tables(specs, force=True)
    except _TooManyLeaves:
        specs = None
    if specs is None or len(specs) > MAX_PIECES:
        # Too many pieces to evaluate in a graph: the finite front as one table.
        front, tail = _spine(schedule)
        what = (f"a chain of more than {MAX_PIECES} pieces, tabulated as one table of "
                f"{front} steps")
        if 4 * front > MAX_TABLE_BYTES:
            _refuse(f"chain of {front} steps", what, 4 * front)
        specs = [_TableSpec(0, front, what)] if front else []
        if tail is not None:
            specs.append(_leaf_spec(front, None, tail, total_steps))
    total = sum(spec.nbytes for spec in specs)
    if total > MAX_TABLE_BYTES:
        big = max(specs, key=lambda spec: spec.nbytes)
        why = big.why if isinstance(big, _TableSpec) else big.form.why
        _refuse(why, f"the schedule's lookup tables ({len(specs)} pieces)", total)
    return specs


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _build_periodic(spec: _PeriodicSpec) -> Periodic:
    form, ticks, n = spec.form, spec.ticks, spec.period_ticks
    values = heights = peaks = None
    if form.window is not None:
        if form.envelope == "flat" and not spec.with_heights:
            # The schedule's own class gives its cycle with time scaled by ``ticks``:
            # its value at step t is the original's at offset t / ticks, bit for bit.
            window = form.window(ticks, form.low, form.high)
            if form.inverted:
                window = window.momentum_schedule(form.low, form.high)
            values = _frozen(window.array(n, dtype=np.float32))
        else:
            # From 0 to (high - low) the window policy gives (high - low) * w, the very
            # height the core scales and adds to low (or takes from high).
            heights = _frozen(form.window(ticks, 0.0, form.high - form.low).array(n))
            if form.pinned_peaks:
                # From 0 to 1 it gives the window itself, so its peaks are exact.
                peaks = _frozen(form.window(ticks, 0.0, 1.0).array(n) == 1.0)
    return Periodic(period_ticks=n, ticks=ticks, values=values, heights=heights,
                    peaks=peaks, height=None if form.height is None else float(form.height),
                    low=float(form.low), high=float(form.high), inverted=form.inverted,
                    envelope=form.envelope, gamma=float(form.gamma))


def _build_restarts(spec: _RestartsSpec) -> Restarts:
    form, m = spec.form, spec.ncycles
    return Restarts(starts=_frozen(np.array(form.starts[:m], dtype=np.int64)),
                    offsets=_frozen(np.array(form.offsets[:m], dtype=np.float64)),
                    lengths=_frozen(np.array(form.lengths[:m], dtype=np.float64)),
                    factors=_frozen(np.array(form.factors[:m], dtype=np.float64)),
                    low=float(form.low), high=float(form.high), inverted=form.inverted)


def plan(schedule, total_steps=None) -> Plan:
    """What an adapter should evaluate for ``schedule``: float32(``s(i)``) at every step.

    Args:
        schedule: any cyclr schedule.
        total_steps: the run length (an int >= 1) or None. Only a cyclic schedule with
            a Python ``scale_fn`` (which cannot run in a compiled graph) needs it: its
            table stops there and the last value holds after (a UserWarning says so).
            For every other schedule it changes nothing.

    Returns:
        A :class:`Table`, :class:`Periodic`, :class:`Restarts` or :class:`Piecewise`
        with read-only numpy arrays.

    Raises:
        TypeError: for a non-schedule, or a ``total_steps`` that is not an integer.
        ValueError: for ``total_steps < 1``; None where a user ``scale_fn`` needs it; a
            fractional cycle length that is not a multiple of ``2**-MAX_TICK_BITS``
            steps; or tables above ``MAX_TABLE_BYTES``; each naming the argument.

    Examples:
        >>> import cyclr
        >>> from cyclr import tables
        >>> p = tables.plan(cyclr.chain((cyclr.constant(0.5), 2), cyclr.exponential(1.0, 0.5)))
        >>> p.starts, p.pieces[0].values.tolist(), p.pieces[1].envelope
        ((0, 2), [0.5], 'gamma_steps')
    """
    _check_schedule(schedule)
    total_steps = check_total_steps(total_steps)
    specs = _specs(schedule, total_steps)
    pieces = []
    for spec in specs:
        if isinstance(spec, _TableSpec):
            pieces.append(Table(_frozen(schedule.array(spec.n, start=spec.start,
                                                       dtype=np.float32))))
        elif isinstance(spec, _RestartsSpec):
            pieces.append(_build_restarts(spec))
        else:
            pieces.append(_build_periodic(spec))
    for spec in specs:
        if isinstance(spec, _TableSpec) and spec.warn is not None:
            warnings.warn(
                f"the schedule cycles with a Python scale_fn, tabulated for "
                f"total_steps={spec.warn} steps: from step {spec.warn} on, the value "
                f"holds at the one of step {spec.warn - 1}", UserWarning, stacklevel=2)
    lengths = [spec.n if isinstance(spec, _TableSpec) else spec.length for spec in specs]
    if len(pieces) == 1 and (isinstance(pieces[0], Table) or lengths[0] is None):
        return pieces[0]
    return Piecewise(starts=tuple(spec.start for spec in specs), lengths=tuple(lengths),
                     pieces=tuple(pieces))


def periodic(schedule, *, heights: bool = False) -> Periodic:
    """The :class:`Periodic` plan of a built-in cyclic schedule (or its momentum
    schedule), as TFA-style classes need it to multiply their own ``scale_fn`` in.

    Args:
        schedule: a ``Cyclic`` schedule without a ``scale_fn``, or its momentum.
        heights: give ``heights`` and ``peaks`` even for a flat envelope.

    Raises:
        TypeError: for a non-schedule.
        ValueError: for any other schedule, a cycle length that is not a multiple of
            ``2**-MAX_TICK_BITS`` steps, or tables above ``MAX_TABLE_BYTES``.
    """
    _check_schedule(schedule)
    form = None if isinstance(schedule, Chain) else schedule.lookup_form()
    if not isinstance(form, _Cycles) or form.window is None:
        raise ValueError(f"schedule {schedule!r} is not a cyclic schedule with a "
                         f"built-in policy, nor its momentum schedule")
    _check_float32(form)
    ticks, period_ticks = _ticks(form)
    spec = _PeriodicSpec(0, None, form, ticks, period_ticks, with_heights=heights)
    if spec.nbytes > MAX_TABLE_BYTES:
        _refuse(form.why, f"a cycle of {form.period!r} steps ({period_ticks} table "
                f"entries)", spec.nbytes)
    return _build_periodic(spec)


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
        return dataclasses.replace(p, **{k: to_tensor(getattr(p, k))
                                         for k in _RESTART_ARRAYS})
    return dataclasses.replace(p, **{k: None if getattr(p, k) is None
                                     else to_tensor(getattr(p, k))
                                     for k in ("values", "heights", "peaks")})


_RESTART_ARRAYS = ("starts", "offsets", "lengths", "factors")


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


__all__ = ["ENVELOPES", "MAX_PIECES", "MAX_TABLE_BYTES", "MAX_TICK_BITS", "Periodic",
           "Piecewise", "Plan", "Restarts", "Table", "check_total_steps", "convert",
           "envelope_factor", "evaluate", "nbytes", "periodic", "periodic_value", "plan"]
