"""The 1cycle policy with PyTorch ``OneCycleLR``'s arithmetic: ``OneCycle``."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _validate as v
from .._forms import Form, Settles
from ._base import _ANNEALS, Ends, Field, Schedule

class OneCycle(Schedule):
    """The 1cycle policy with PyTorch ``OneCycleLR``'s arithmetic and defaults; holds its
    final value from step ``total_steps - 1`` on. Build it with ``one_cycle``.

    Tiny runs are accepted wherever torch computes finite, non-negative values on steps
    ``0 .. total_steps - 1``, and equal torch's there; a phase that gets no step then
    draws a warning.

    Examples:
        >>> import cyclr
        >>> s = cyclr.one_cycle(0.1, 100)
        >>> isinstance(s, cyclr.OneCycle), [s(i) for i in range(4)]
        (True, [0.0040000000000000036, 0.004281378056590748, 0.00512221332591585, 0.006512647783225481])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "one_cycle"
    fields = {"max_lr": Field.NUMBER, "total_steps": Field.INT, "pct_start": Field.NUMBER,
              "anneal": Field.STR, "div_factor": Field.NUMBER,
              "final_div_factor": Field.NUMBER, "three_phase": Field.BOOL}

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal: str = "cos", div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False) -> None:
        max_lr = v.rate("max_lr", max_lr)
        total_steps = v.count("total_steps", total_steps, minimum=1)
        pct = v.real("pct_start", pct_start)
        if not 0.0 <= pct <= 1.0:       # NaN too: torch would compute NaN LRs from it
            raise ValueError(f"pct_start must be in [0, 1], got pct_start={pct_start!r} "
                             f"(total_steps={total_steps!r})")
        pct_start = pct + 0.0           # -0.0 becomes 0.0, as for the rates
        anneal = v.choice("anneal", anneal, _ANNEALS)
        div_factor = v.positive("div_factor", div_factor)
        final_div_factor = v.positive("final_div_factor", final_div_factor)
        if not isinstance(three_phase, (bool, np.bool_)):
            raise TypeError(f"three_phase must be a bool, got {three_phase!r}")
        three_phase = bool(three_phase)
        self._freeze(max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                     anneal=anneal, div_factor=div_factor,
                     final_div_factor=final_div_factor, three_phase=three_phase)
        ends = self._phase_ends()
        self._check_phases(ends)
        initial = max_lr / div_factor
        low = initial / final_div_factor
        if not math.isfinite(initial):
            raise ValueError(f"max_lr / div_factor must be finite, got max_lr={max_lr!r}, "
                             f"div_factor={div_factor!r}")
        if not math.isfinite(low) or not math.isfinite(max_lr - low):
            raise ValueError(f"the final LR max_lr / div_factor / final_div_factor must be "
                             f"finite, got final_div_factor={final_div_factor!r}")
        if three_phase:
            self._setup_one_cycle(ends=ends, starts=[initial, max_lr, initial],
                                  stops=[max_lr, initial, low], anneal=anneal,
                                  last_step=total_steps - 1)
        else:
            self._setup_one_cycle(ends=ends, starts=[initial, max_lr], stops=[max_lr, low],
                                  anneal=anneal, last_step=total_steps - 1)

    def _phase_ends(self) -> list:
        # PyTorch OneCycleLR's phase end steps, computed the same way.
        p = self.params
        first = float(p["pct_start"] * p["total_steps"]) - 1
        if p["three_phase"]:
            return [first, float(2 * p["pct_start"] * p["total_steps"]) - 2,
                    float(p["total_steps"] - 1)]
        return [first, float(p["total_steps"] - 1)]

    def _check_phases(self, ends: list) -> None:
        """Refuse the phase ends where torch's OneCycleLR divides by zero; warn when a
        phase gets no step.

        torch evaluates step ``x`` in the first phase ``k`` with ``x <= ends[k]`` (or the
        last), at ``pct = (x - start) / (ends[k] - start)`` where ``start`` is the previous
        phase's end (0.0 for the first). So phase ``k`` holds the whole steps ``x`` in
        ``0 .. total_steps - 1`` with ``max(ends[:k]) < x <= ends[k]``; for ``k > 0`` such
        an ``x`` has ``start <= max(ends[:k]) < x <= ends[k]``, hence a positive divisor
        and ``pct`` in (0, 1]. The first phase holds ``0 <= x <= ends[0]``: its divisor
        ``ends[0]`` is zero exactly when ``pct_start * total_steps == 1`` in floats, and
        step 0 then divides by zero. Everywhere else ``pct`` stays in [0, 1], so every LR
        lies between two non-negative phase bounds: finite and non-negative.
        """
        p = self.params
        total, last = p["total_steps"], len(ends) - 1
        empty = []
        for k, end in enumerate(ends):
            low = 0 if k == 0 else max(0, math.floor(max(ends[:k])) + 1)
            high = total - 1 if k == last else min(total - 1, math.floor(end))
            if low > high:
                empty.append(k)
            elif not end - (0.0 if k == 0 else ends[k - 1]) > 0.0:
                raise ValueError(
                    f"pct_start={p['pct_start']!r} with total_steps={total!r} puts the "
                    f"end of phase {k + 1} at step {end!r}, where torch's OneCycleLR "
                    f"divides by zero; use another pct_start or total_steps")
        if empty:
            names = (["warm-up", "cool-down", "final annealing"] if p["three_phase"]
                     else ["warm-up", "annealing"])
            warnings.warn(
                f"one_cycle: pct_start={p['pct_start']!r} with total_steps={total!r} gives "
                f"the {' and '.join(names[k] for k in empty)} phase no step (phase ends "
                f"{ends}), so the LR never reaches its intended points; the values are "
                f"torch OneCycleLR's for this configuration", UserWarning, stacklevel=4)

    def _peak(self) -> float:
        p = self.params
        return max(p["max_lr"], p["max_lr"] / p["div_factor"])

    def natural_length(self) -> int:
        return self.params["total_steps"]

    def lookup_form(self) -> Form:
        total = self.params["total_steps"]
        return Settles(total, f"one_cycle total_steps={total!r}")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self.lookup_form()

    def _setup_momentum(self, kernel, base, top) -> None:
        p = self.params
        if p["three_phase"]:
            starts, stops = [top, base, top], [base, top, top]
        else:
            starts, stops = [top, base], [base, top]
        kernel._setup_one_cycle(ends=self._phase_ends(), starts=starts, stops=stops,
                                anneal=p["anneal"], last_step=p["total_steps"] - 1)

    def _ends(self, total_steps: int) -> Ends:
        # The run ends after total_steps updates.
        end = self.params["total_steps"]
        return [end] if end <= total_steps else []

    def __repr__(self):
        return self._call_repr(
            "one_cycle", ("max_lr", "total_steps"),
            {"pct_start": 0.3, "anneal": "cos", "div_factor": 25.0,
             "final_div_factor": 1e4, "three_phase": False})
