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

This module decides plans; what each kind means and how it is evaluated
(:func:`evaluate`, :func:`convert`, :func:`nbytes`) is in ``cyclr._plans``, and public
from here.

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
import typing
import warnings

import numpy as np

from . import _validate as v
from ._forms import Cycles as _Cycles
from ._forms import GrowingCycles as _Growing
from ._forms import Settles as _Settles
from ._forms import UserFactor as _User
# The plan kinds and their evaluation live in ._plans and are public from here
# (_arrays too, which the tests read).
from ._plans import (ENVELOPES, Periodic, Piecewise, Plan, Restarts, Table, _arrays, convert,
                     envelope_factor, evaluate, nbytes, periodic_value)
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


def _leaves(schedule: Schedule) -> list[tuple[int, int | None, Schedule]]:
    """``(start, length or None, schedule)`` for every non-chain schedule a chain
    reaches, in order, each clipped as the chain clips it."""
    out: list[tuple[int, int | None, Schedule]] = []

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
            # The last segment ends, so the chain does: its total_steps is an int.
            return offset + typing.cast(int, schedule.total_steps), None
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
    pieces: list[Plan] = []
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


__all__ = ["ENVELOPES", "MAX_PIECES", "MAX_TABLE_BYTES", "MAX_TICK_BITS", "Periodic",
           "Piecewise", "Plan", "Restarts", "Table", "check_total_steps", "convert",
           "envelope_factor", "evaluate", "nbytes", "periodic", "periodic_value", "plan"]
