"""Lookup tables for compiled-graph adapters (Keras, Optax).

A compiled graph should not re-derive a schedule: it gathers from numbers the core
computed. This module builds those numbers, with the core's public API only:

* a *whole run*: ``schedule.array(total_steps, dtype=float32)``; the graph reads entry
  ``min(step, total_steps - 1)``, so it holds the last value past the end;
* for an endless cyclic schedule, a :class:`Periodic` plan: one cycle of window heights
  ``(high - low) * w(t)`` (and, for a flat envelope, one cycle of final float32 values),
  plus a description of the envelope factor ``f`` that the graph multiplies in.

Both adapters then compute at most ``low + height * f`` (``high - height * f`` for cycled
momentum) in float64, with the core's two guards (the value never passes ``high``, and
is ``high`` itself at a peak of the window when ``f == 1``), and round once to float32.

Examples:
    >>> import cyclr
    >>> from cyclr import tables
    >>> tables.whole_run(cyclr.triangular(0.0, 1.0, 2), 5).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    >>> p = tables.plan(cyclr.triangular2(0.0, 1.0, 2), None)
    >>> p.period, p.envelope, p.heights.tolist()
    (4, 'halving', [0.0, 0.5, 1.0, 0.5])
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _validate as v
from .schedules import (
    Chain,
    Constant,
    Cyclic,
    Decay,
    Momentum,
    OneCycle,
    Schedule,
)

#: The most entries one lookup table may have (whole run or one cycle): 256 MiB of
#: float32, far beyond any real run; anything longer is almost surely a mistake.
MAX_TABLE_STEPS = 2**26

# (policy, scale_mode) of a Cyclic schedule -> the envelope factor f, for cycle c
# (0-based, counted from the cyclic part's first step) and local step j:
#   flat: 1;  halving: 2**-c;  gamma_steps: gamma**j;  gamma_cycles: gamma**c
ENVELOPES = ("flat", "halving", "gamma_steps", "gamma_cycles")
_ENVELOPE_OF = {
    ("triangular", "cycle"): "flat",
    ("triangular2", "cycle"): "halving",
    ("exp_range", "iterations"): "gamma_steps",
    ("exp_range", "cycle"): "gamma_cycles",
}


@dataclasses.dataclass(frozen=True, eq=False)
class Periodic:
    """How to evaluate an endless cyclic schedule from one cycle of numbers.

    At step ``i``: if ``i < offset`` the value is ``prefix[i]``; otherwise, with
    ``j = i - offset``, ``c = j // period`` and ``t = j % period``, it is
    ``v = low + heights[t] * f``, where ``f`` is the ``envelope`` factor for ``c`` and
    ``j`` (see ``ENVELOPES``), computed in float64; ``v`` is replaced by ``high`` if
    ``v > high`` or if ``peaks[t]`` and ``f == 1``; then it is rounded once to float32.
    When ``inverted``: ``v = high - heights[t] * f``, replaced by ``low`` if ``v < low``
    or at a peak with ``f == 1``. For the ``"flat"`` envelope (``f = 1``) the float32
    results are precomputed in ``values``; gather ``values[t]``.

    Attributes:
        offset: first step of the cyclic part (a chain's earlier segments come before).
        prefix: float32 values at steps ``0 .. offset - 1`` (empty when offset is 0).
        period: steps in one cycle (a whole number).
        values: float32 values at steps ``offset .. offset + period - 1`` (the first
            cycle; with a flat envelope, every cycle).
        heights: float64 ``(high - low) * w(t)`` for ``t = 0 .. period - 1``, as the
            core computes it.
        peaks: bool, where the window ``w(t)`` is exactly 1.
        low: the value where the window is 0 (``base_lr``; ``base_momentum``).
        high: the value where the window is 1 (``max_lr``; ``max_momentum``).
        inverted: True for cycled momentum, which falls while the LR rises.
        envelope: one of ``ENVELOPES``.
        gamma: the envelope's base for ``"gamma_steps"``/``"gamma_cycles"`` (else 1).
    """

    offset: int
    prefix: np.ndarray
    period: int
    values: np.ndarray
    heights: np.ndarray
    peaks: np.ndarray
    low: float
    high: float
    inverted: bool
    envelope: str
    gamma: float


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


def _check_size(n: int, what: str, hint: str) -> None:
    if n > MAX_TABLE_STEPS:
        raise ValueError(
            f"{what} would need a lookup table of {n} float32 values "
            f"({n * 4 / 2**20:.0f} MiB), more than the limit of {MAX_TABLE_STEPS} "
            f"steps; {hint}")


_PERIODIC_HINT = ("for an endless cyclic schedule pass total_steps=None, which tabulates "
                  "one cycle and holds no run length")
_RUN_HINT = "pass total_steps (the run length) to tabulate only the steps you train"


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def whole_run(schedule, total_steps) -> np.ndarray:
    """The schedule's float32 values at steps ``0 .. total_steps - 1``, read-only.

    Args:
        schedule: any cyclr schedule.
        total_steps: run length, an int >= 1 and at most ``MAX_TABLE_STEPS``.

    Returns:
        ``schedule.array(total_steps, dtype=numpy.float32)``, made read-only.

    Raises:
        TypeError: for a non-schedule or a non-integer ``total_steps``.
        ValueError: for ``total_steps < 1`` or above ``MAX_TABLE_STEPS``.
    """
    _check_schedule(schedule)
    total_steps = v.count("total_steps", total_steps, minimum=1)
    _check_size(total_steps, f"total_steps={total_steps}", _PERIODIC_HINT)
    return _frozen(schedule.array(total_steps, dtype=np.float32))


def _cyclic_part(schedule):
    """(low, high, inverted, Cyclic params) for a Cyclic or a Momentum of one, else
    None."""
    if isinstance(schedule, Cyclic):
        p = schedule.params
        return p["base_lr"], p["max_lr"], False, p
    if isinstance(schedule, Momentum) and isinstance(schedule.params["schedule"], Cyclic):
        p = schedule.params
        return p["base_momentum"], p["max_momentum"], True, p["schedule"].params
    return None


def _natural_length(schedule) -> int | None:
    """Steps after which a finite schedule holds its value (its table length), or None
    if it never settles."""
    if isinstance(schedule, Constant):
        return 1
    if isinstance(schedule, OneCycle):
        return schedule.params["total_steps"]
    if isinstance(schedule, Momentum) and isinstance(schedule.params["schedule"], OneCycle):
        return schedule.params["schedule"].params["total_steps"]
    if isinstance(schedule, Decay):
        # Linear until step ``steps``, base_lr from the first whole step at or after it.
        return int(np.ceil(schedule.params["steps"])) + 1
    if isinstance(schedule, Chain):
        segments = schedule.params["segments"]
        if segments[-1][1] is not None:
            return schedule.total_steps
        tail = _natural_length(segments[-1][0])
        return None if tail is None else sum(n for _, n in segments[:-1]) + tail
    return None


def _periodic_tail(schedule, offset: int, whole: Schedule) -> Periodic | None:
    """The Periodic plan of ``whole`` whose open-ended cyclic part ``schedule`` starts
    at step ``offset``; None when ``schedule`` is not endless and cyclic."""
    if isinstance(schedule, Chain):
        segments = schedule.params["segments"]
        if segments[-1][1] is not None:
            return None
        return _periodic_tail(segments[-1][0], offset + sum(n for _, n in segments[:-1]),
                              whole)
    part = _cyclic_part(schedule)
    if part is None:
        return None
    low, high, inverted, p = part
    if p["policy"] == "custom":
        raise ValueError(
            f"schedule has a custom scale_fn ({p['scale_fn']!r}), a Python function that "
            f"cannot run inside a compiled graph; pass total_steps to tabulate the "
            f"whole run instead")
    period = schedule.cycle_length if isinstance(schedule, Cyclic) \
        else schedule.params["schedule"].cycle_length
    if float(period) != int(period):
        raise ValueError(
            f"an endless cyclic schedule is tabulated one cycle at a time, so its cycle "
            f"length step_size + step_size_down must be a whole number, got {period!r}; "
            f"pass total_steps to tabulate the whole run instead")
    period = int(period)
    _check_size(period, f"one cycle of {period} steps", _RUN_HINT)
    _check_size(offset, f"the {offset} steps before the cyclic part", _RUN_HINT)
    # The triangular policy from 0 to (high - low) gives (high - low) * w, the very
    # height the core scales and adds to low, window shape and step sizes included.
    heights = Cyclic(0.0, high - low, p["step_size"], p["step_size_down"],
                     shape=p["shape"]).array(period)
    # From 0 to 1 the same policy gives the window itself, so its peaks are exact.
    window = Cyclic(0.0, 1.0, p["step_size"], p["step_size_down"],
                    shape=p["shape"]).array(period)
    return Periodic(
        offset=offset,
        prefix=_frozen(whole.array(offset, dtype=np.float32)),
        period=period,
        values=_frozen(whole.array(period, start=offset, dtype=np.float32)),
        heights=_frozen(heights),
        peaks=_frozen(window == 1.0),
        low=float(low),
        high=float(high),
        inverted=inverted,
        envelope=_ENVELOPE_OF[p["policy"], p["scale_mode"]],
        gamma=float(p["gamma"]),
    )


def periodic(schedule) -> Periodic:
    """The :class:`Periodic` plan of an endless cyclic schedule.

    Endless cyclic schedules are ``Cyclic`` schedules, their momentum schedules, and
    open-ended chains whose last segment is one of those (the chain's earlier steps
    become the plan's ``prefix``).

    Raises:
        TypeError: for a non-schedule.
        ValueError: for any other schedule, a custom ``scale_fn``, a cycle length that
            is not a whole number, or a table above ``MAX_TABLE_STEPS``.
    """
    _check_schedule(schedule)
    plan_ = _periodic_tail(schedule, 0, schedule)
    if plan_ is None:
        raise ValueError(
            f"schedule {schedule!r} is not an endless cyclic schedule (a cyclic schedule, "
            f"its momentum schedule, or a chain ending in one); pass total_steps")
    return plan_


def plan(schedule, total_steps) -> np.ndarray | Periodic:
    """What an adapter should look up for ``schedule``.

    Args:
        schedule: any cyclr schedule.
        total_steps: the run length (an int >= 1): the whole run is tabulated and held
            after its end. Or None: an endless cyclic schedule gets a :class:`Periodic`
            plan; a schedule that settles (constant, one_cycle, decay, finite chains)
            gets the table up to the step from which it holds its value.

    Returns:
        A read-only float32 array (whole run) or a :class:`Periodic`.

    Raises:
        TypeError, ValueError: for a bad ``total_steps`` (naming it), or None for a
            schedule that neither cycles nor settles (exponential, step_decay).
    """
    _check_schedule(schedule)
    total_steps = check_total_steps(total_steps)
    if total_steps is not None:
        return whole_run(schedule, total_steps)
    found = _periodic_tail(schedule, 0, schedule)
    if found is not None:
        return found
    length = _natural_length(schedule)
    if length is None:
        raise ValueError(
            f"total_steps=None needs a schedule that cycles or settles, but {schedule!r} "
            f"changes forever; pass total_steps (the run length)")
    _check_size(length, f"{schedule!r}", _RUN_HINT)
    return _frozen(schedule.array(length, dtype=np.float32))


def envelope_factor(plan: Periodic, c, j):
    """The envelope factor ``f`` of ``plan`` for 0-based cycle ``c`` and local step ``j``.

    ``c`` and ``j`` are float64 arrays or tensors of any framework with ``**`` (numpy,
    jax.numpy, Keras ops tensors): the adapters evaluate this inside their graphs.
    """
    if plan.envelope == "halving":
        return 2.0 ** -c
    if plan.envelope == "gamma_steps":
        return plan.gamma ** j
    return plan.gamma ** c                                   # gamma_cycles


def periodic_value(plan: Periodic, height, f, peak, where):
    """``low + height * f`` (``high - height * f`` for momentum) with the core's guards:
    a full-amplitude peak is the bound itself, and no value passes a bound.

    ``height`` and ``f`` are float64 and ``peak`` bool arrays or tensors (``heights[t]``,
    ``envelope_factor(...)``, ``peaks[t]``); ``where`` is the framework's ``where``.
    The result is float64: round it once to float32.
    """
    pinned = peak & (f == 1.0)
    if plan.inverted:
        value = plan.high - height * f
        return where(pinned | (value < plan.low), plan.low, value)
    value = plan.low + height * f
    return where(pinned | (value > plan.high), plan.high, value)


__all__ = ["ENVELOPES", "MAX_TABLE_STEPS", "Periodic", "check_total_steps",
           "envelope_factor", "periodic", "periodic_value",
           "plan", "whole_run"]
