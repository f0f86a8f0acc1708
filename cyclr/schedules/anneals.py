"""Anneals and warm restarts: ``Linear`` and ``Cosine`` (either direction, then hold)
and ``CosineRestarts`` (SGDR)."""

from __future__ import annotations

import bisect
import functools
import math
from typing import SupportsIndex

import numpy as np
import numpy.typing as npt

from .. import _validate as v
from .._forms import Cycles, Form, GrowingCycles, Settles
from ._base import Ends, Field, Schedule, _periodic_ends

def _finite_product(names: str, *values) -> None:
    product = 1.0
    for x in values:
        product *= float(x)
    if not math.isfinite(product):
        raise ValueError(f"{names} must be finite, got {values!r}")


class _Ramp(Schedule):
    """From ``start_lr`` at step 0 to ``end_lr`` at step ``steps``, then ``end_lr``."""

    __slots__ = ()
    fields = {"start_lr": Field.NUMBER, "end_lr": Field.NUMBER, "steps": Field.NUMBER}
    _how = ""

    def __init__(self, start_lr: float, end_lr: float, steps: float) -> None:
        start_lr = v.rate("start_lr", start_lr)
        end_lr = v.rate("end_lr", end_lr)
        steps = v.span("steps", steps)
        _finite_product("(end_lr - start_lr) * steps", end_lr - start_lr, steps)
        self._freeze(start_lr=start_lr, end_lr=end_lr, steps=steps)
        self._setup_ramp(start=start_lr, end=end_lr, steps=steps, how=self._how)

    def _peak(self) -> float:
        return max(self.params["start_lr"], self.params["end_lr"])

    def natural_length(self) -> int:
        return math.ceil(self.params["steps"]) + 1

    def lookup_form(self) -> Form:
        return Settles(self.natural_length(),
                       f"{self.type_name} steps={self.params['steps']!r}")

    def _ends(self, total_steps: int) -> Ends:
        # An anneal down ends at its low point; a warm-up (rising) ends nothing.
        p = self.params
        end = math.ceil(p["steps"])
        return [end] if p["end_lr"] <= p["start_lr"] and end <= total_steps else []

    def __repr__(self):
        return self._call_repr(self.type_name, ("start_lr", "end_lr", "steps"), {})


class Linear(_Ramp):
    """``start_lr + (end_lr - start_lr) * min(i, steps) / steps``: a linear anneal in
    either direction (a warm-up when ``start_lr < end_lr``), holding ``end_lr`` exactly
    from step ``steps`` on. Build it with ``linear``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.linear(0.0, 1.0, 2)
        >>> isinstance(s, cyclr.Linear), [s(i) for i in range(4)]
        (True, [0.0, 0.5, 1.0, 1.0])
    """

    __slots__ = ()
    type_name = "linear"
    _how = "linear"


class Cosine(_Ramp):
    """``end_lr + (start_lr - end_lr) * (1 + cos(pi * min(i, steps) / steps)) / 2``: a
    half-cosine anneal in either direction, holding ``end_lr`` from step ``steps`` on.
    Build it with ``cosine``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine(1.0, 0.0, 2)
        >>> isinstance(s, cyclr.Cosine), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 0.0, 0.0])
    """

    __slots__ = ()
    type_name = "cosine"
    _how = "cos"


#: Most cycles of growing length a warm-restart schedule tabulates (up to step
#: 2**63 - 1); a cycle_mult so close to 1 that it needs more is refused.
MAX_RESTART_CYCLES = 2**20
_INT64_MAX = 2**63 - 1


@functools.lru_cache(maxsize=64)
def _restart_cycles(first_cycle, cycle_mult, amplitude_decay):
    """(first steps, fractional offsets, lengths, factors) of every cycle up to the one
    holding step 2**63 - 1, or None when every cycle has the same length.

    Whole first_cycle and cycle_mult: exact integers. Otherwise the cycle lengths and
    starts are accumulated in IEEE double arithmetic, each operation rounded once
    (``length *= cycle_mult``, ``start += length``); a cycle then starts at the first
    whole step at or after its (real) start, with the fractional part kept as its offset.
    """
    if cycle_mult == 1:
        return None
    starts, offsets, lengths, factors = [], [], [], []
    exact = isinstance(first_cycle, int) and isinstance(cycle_mult, int)
    start, length = (0, first_cycle) if exact else (0.0, float(first_cycle))
    k = 0
    while start <= _INT64_MAX:
        if k >= MAX_RESTART_CYCLES:
            raise ValueError(
                f"cycle_mult={cycle_mult!r} with first_cycle={first_cycle!r} needs more "
                f"than {MAX_RESTART_CYCLES} cycles to reach step 2**63 - 1; use a larger "
                f"cycle_mult (or 1 for equal cycles)")
        whole = math.ceil(start)
        starts.append(whole)
        offsets.append(float(whole - start))
        lengths.append(float(length))
        factors.append(amplitude_decay ** k)
        start += length
        length *= cycle_mult
        k += 1
    return tuple(starts), tuple(offsets), tuple(lengths), tuple(factors)


class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR): cycle ``k`` (0-based) lasts
    ``first_cycle * cycle_mult**k`` steps; at offset ``t`` in it the LR is
    ``min_lr + (max_lr - min_lr) * amplitude_decay**k * (1 + cos(pi * t / T_k)) / 2``.
    Build it with ``cosine_restarts``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine_restarts(1.0, 2)
        >>> isinstance(s, cyclr.CosineRestarts), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 1.0, 0.5])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "cosine_restarts"
    fields = {"max_lr": Field.NUMBER, "first_cycle": Field.NUMBER, "min_lr": Field.NUMBER,
              "cycle_mult": Field.NUMBER, "amplitude_decay": Field.NUMBER}

    def __init__(self, max_lr: float, first_cycle: float, min_lr: float = 0.0,
                 cycle_mult: float = 1.0, amplitude_decay: float = 1.0) -> None:
        max_lr = v.rate("max_lr", max_lr)
        min_lr = v.rate("min_lr", min_lr)
        v.ordered("min_lr", min_lr, "max_lr", max_lr)
        first_cycle = v.span("first_cycle", first_cycle)
        mult = v.finite("cycle_mult", cycle_mult)
        if not mult >= 1.0:
            raise ValueError(f"cycle_mult must be >= 1, got {cycle_mult!r}")
        cycle_mult = int(mult) if mult.is_integer() else mult
        amplitude_decay = v.gamma("amplitude_decay", amplitude_decay)
        self._freeze(max_lr=max_lr, first_cycle=first_cycle, min_lr=min_lr,
                     cycle_mult=cycle_mult, amplitude_decay=amplitude_decay)
        self._setup_momentum(self, min_lr, max_lr, inverted=False)

    def _setup_momentum(self, kernel, base, top, inverted=True) -> None:
        p = self.params
        kernel._setup_restarts(
            low=base, high=top, first_cycle=p["first_cycle"],
            amplitude_decay=p["amplitude_decay"], inverted=inverted,
            cycles=_restart_cycles(p["first_cycle"], p["cycle_mult"], p["amplitude_decay"]))

    def lookup_form(self) -> Form:
        p = self.params
        return self._restarts_form(p["min_lr"], p["max_lr"], False, "max_lr")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self._restarts_form(base, top, True, "max_momentum")

    def _restarts_form(self, low, high, inverted, high_name) -> Form:
        p = self.params
        first, mult, decay = p["first_cycle"], p["cycle_mult"], p["amplitude_decay"]
        if mult != 1:
            # No table of values repeats cycles of growing length: the graph evaluates
            # the window from the core's own table of cycles.
            starts, offsets, lengths, factors = _restart_cycles(first, mult, decay)
            return GrowingCycles(starts, offsets, lengths, factors, low, high, inverted,
                                 f"first_cycle={first!r}, cycle_mult={mult!r}", high_name)

        def window(ticks, lo, hi):
            return CosineRestarts(hi, first * ticks, min_lr=lo)

        return Cycles(first, window, None, low, high, inverted,
                      "flat" if decay == 1 else "gamma_cycles", decay,
                      f"first_cycle={first!r}", high_name, pinned_peaks=False)

    def cycle_starts(self, total_steps: SupportsIndex) -> npt.NDArray[np.int64]:
        """The first whole step of every cycle that starts at or before ``total_steps``
        (0 included): where the LR restarts at its peak."""
        total_steps = v.count("total_steps", total_steps)
        return np.concatenate([[0], self._ends(total_steps)]).astype(np.int64)

    def cycle_at(self, step: SupportsIndex) -> tuple[int, int | float]:
        """``(first step, length)`` of the cycle that holds ``step``: where it restarted
        and how many steps it lasts (a whole number for whole ``first_cycle`` and
        ``cycle_mult``, as torch's ``T_i``; the offset into it is ``step - first``).

        Examples:
            >>> import cyclr
            >>> cyclr.cosine_restarts(1.0, 4, cycle_mult=2).cycle_at(13)
            (12, 16)
        """
        step = v.count("step", step)
        p = self.params
        first, mult = p["first_cycle"], p["cycle_mult"]
        cycles = _restart_cycles(first, mult, p["amplitude_decay"])
        if cycles is None:
            # the last k with ceil(k * first) <= step is floor(step / first), exactly
            num, den = (first, 1) if isinstance(first, int) else first.as_integer_ratio()
            k = step * den // num
            return -(-k * num // den), first
        k = bisect.bisect_right(cycles[0], step) - 1
        if isinstance(first, int) and isinstance(mult, int):
            return cycles[0][k], first * mult**k        # exact beyond 2**53 too
        return cycles[0][k], cycles[2][k]

    def _ends(self, total_steps: int) -> Ends:
        p = self.params
        cycles = _restart_cycles(p["first_cycle"], p["cycle_mult"], p["amplitude_decay"])
        if cycles is None:
            return _periodic_ends(p["first_cycle"], total_steps)
        starts = np.array(cycles[0][1:], dtype=np.int64)
        return np.unique(starts[starts <= total_steps])

    def _peak(self) -> float:
        return self.params["max_lr"]

    def __repr__(self):
        return self._call_repr("cosine_restarts", ("max_lr", "first_cycle"),
                               {"min_lr": 0.0, "cycle_mult": 1, "amplitude_decay": 1.0})
