"""How a schedule behaves over time, as each schedule class describes itself to the
compiled-graph adapters (``cyclr.tables`` turns these into lookup plans): it settles
after some steps, repeats a cycle (times an envelope factor), runs cycles of growing
length from a table of cycles, or calls a user ``scale_fn``. Plain data; numpy-free."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class Settles:
    """The schedule holds its value from step ``length - 1`` on."""

    length: int            # steps until the value holds (table length)
    why: str               # the argument that sets the length, for errors


@dataclasses.dataclass(frozen=True)
class Cycles:
    """The schedule repeats a cycle of ``period`` steps, times an envelope factor.

    ``window(ticks, low, high)`` is a schedule whose value at whole step ``t`` is this
    schedule's cycle at offset ``t / ticks`` between ``low`` and ``high`` (``ticks`` a
    power of two: time scaled exactly), or None with a uniform ``height``.
    ``pinned_peaks``: a full-amplitude peak of the window is the bound itself (the
    cyclic policies; warm restarts only clamp).
    """

    period: float | int    # cycle length in steps, as the core adds it up
    window: Callable[[int, float, float], Any] | None
    height: float | None   # uniform height (no window)
    low: float
    high: float
    inverted: bool
    envelope: str          # "flat", "halving", "gamma_steps" or "gamma_cycles"
    gamma: float
    why: str               # the arguments that set the cycle, for errors
    high_name: str         # the argument that sets ``high``, for errors
    pinned_peaks: bool = True


@dataclasses.dataclass(frozen=True)
class GrowingCycles:
    """Warm restarts whose cycles grow: cycle ``k`` starts at whole step ``starts[k]``
    (its real start lies ``offsets[k]`` steps before), lasts ``lengths[k]`` steps and
    has the amplitude factor ``factors[k]``; the last cycle reaches past step
    ``2**63 - 1``. At step ``i`` in cycle ``k``, with ``t = (i - starts[k]) +
    offsets[k]`` and ``h = (high - low) * (1 + cos(pi * t / lengths[k])) / 2``, the
    value is ``low + h * factors[k]`` (``high - h * factors[k]`` when ``inverted``),
    clamped to ``[low, high]``: the core's own table and arithmetic."""

    starts: tuple          # int, from 0, non-decreasing
    offsets: tuple         # float, in [0, 1)
    lengths: tuple         # float, > 0
    factors: tuple         # float, in [0, 1]
    low: float
    high: float
    inverted: bool
    why: str               # the arguments that set the cycles, for errors
    high_name: str         # the argument that sets ``high``, for errors


@dataclasses.dataclass(frozen=True)
class UserFactor:
    """The amplitude comes from a Python ``scale_fn``, which a graph cannot run."""

    scale_fn: Any


Form = Settles | Cycles | GrowingCycles | UserFactor
