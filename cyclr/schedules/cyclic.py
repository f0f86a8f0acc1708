"""Smith's cyclical policies (triangular, triangular2, exp_range, a custom scale_fn)
with their window shapes: ``Cyclic``."""

from __future__ import annotations

from typing import SupportsIndex

from .. import _validate as v
from .._forms import Cycles, Form, UserFactor
from ._base import (
    _POLICIES,
    _SCALE_MODES,
    _SHAPES,
    Ends,
    Field,
    Schedule,
    ScaleFn,
    _periodic_ends,
)

_ENVELOPES = {
    ("triangular", "cycle"): "flat",
    ("triangular2", "cycle"): "halving",
    ("exp_range", "iterations"): "gamma_steps",
    ("exp_range", "cycle"): "gamma_cycles",
    ("custom", "cycle"): "user_cycles",
    ("custom", "iterations"): "user_steps",
}


def _setup_cyclic_kernel(kernel, p, low, high, inverted):
    """Set up ``kernel`` with the cycle of Cyclic parameters ``p`` between low and high."""
    down = p["step_size"] if p["step_size_down"] is None else p["step_size_down"]
    kernel._setup_cyclic(low=low, high=high, step_size=p["step_size"], step_size_down=down,
                         shape=p["shape"], envelope=_ENVELOPES[p["policy"], p["scale_mode"]],
                         gamma=p["gamma"], scale_fn=p["scale_fn"], inverted=inverted)


class Cyclic(Schedule):
    """Smith's cyclical LR: ``base_lr + (max_lr - base_lr) * w(u) * f``.

    ``u`` rises 0 -> 1 over ``step_size`` steps and falls back over ``step_size_down``
    (default ``step_size``); ``w`` is the window ``shape`` (linear = triangular, welch =
    parabolic, hann = sinusoidal); ``f`` is the amplitude factor of the ``policy``.
    Build it with ``triangular``, ``triangular2``, ``exp_range`` or ``cyclic``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.triangular(0.0, 1.0, 2)
        >>> isinstance(s, cyclr.Cyclic), [s(i) for i in range(4)]
        (True, [0.0, 0.5, 1.0, 0.5])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "cyclic"
    fields = {"base_lr": Field.NUMBER, "max_lr": Field.NUMBER, "step_size": Field.NUMBER,
              "step_size_down": Field.OPT_NUMBER, "policy": Field.STR, "gamma": Field.NUMBER,
              "scale_fn": Field.SCALE_FN, "scale_mode": Field.STR, "shape": Field.STR}

    def __init__(self, base_lr: float, max_lr: float, step_size: float,
                 step_size_down: float | None = None, policy: str = "triangular",
                 gamma: float = 1.0, scale_fn: ScaleFn | None = None,
                 scale_mode: str = "cycle", shape: str = "linear") -> None:
        base_lr = v.rate("base_lr", base_lr)
        max_lr = v.rate("max_lr", max_lr)
        v.ordered("base_lr", base_lr, "max_lr", max_lr)
        step_size = v.span("step_size", step_size)
        if step_size_down is not None:
            step_size_down = v.span("step_size_down", step_size_down)
            if step_size_down == step_size:
                step_size_down = None
        shape = v.choice("shape", shape, _SHAPES)
        scale_mode = v.choice("scale_mode", scale_mode, _SCALE_MODES)
        gamma = v.gamma("gamma", gamma)
        if scale_fn is not None:
            if not callable(scale_fn):
                raise TypeError(f"scale_fn must be callable, got {scale_fn!r}")
            policy = "custom"
        else:
            policy = v.choice("policy", policy, _POLICIES)
        if policy != "exp_range":
            gamma = 1.0
        if policy in ("triangular", "triangular2"):
            scale_mode = "cycle"
        self._freeze(base_lr=base_lr, max_lr=max_lr, step_size=step_size,
                     step_size_down=step_size_down, policy=policy, gamma=gamma,
                     scale_fn=scale_fn, scale_mode=scale_mode, shape=shape)
        _setup_cyclic_kernel(self, self.params, base_lr, max_lr, inverted=False)

    @property
    def cycle_length(self) -> int | float:
        """Steps in one full cycle: ``step_size + step_size_down``."""
        p = self.params
        return p["step_size"] + (p["step_size_down"] or p["step_size"])

    def num_cycles(self, total_steps: SupportsIndex) -> float:
        """How many cycles a run of ``total_steps`` updates spans (may be fractional)."""
        return v.count("total_steps", total_steps) / self.cycle_length

    def steps_for_cycles(self, cycles: SupportsIndex) -> int:
        """Updates in ``cycles`` whole cycles: a run of that length stops at the end of a
        cycle, with the LR back at ``base_lr``, as the paper advises.

        Raises:
            TypeError, ValueError: for a bad ``cycles``, or when the run would be longer
                than 2**63 - 1 steps.
        """
        cycles = v.count("cycles", cycles)
        length = self.cycle_length
        p, q = (length, 1) if isinstance(length, int) else float(length).as_integer_ratio()
        steps = -(-cycles * p // q)              # ceil, exactly
        if steps > 2**63 - 1:
            raise ValueError(
                f"cycles={cycles!r} of {length!r} steps is more than 2**63 - 1 steps")
        return steps

    def _ends(self, total_steps: int) -> Ends:
        return _periodic_ends(self.cycle_length, total_steps)

    def _peak(self) -> float:
        return self.params["max_lr"]

    @property
    def envelope(self) -> str:
        """The form of the amplitude factor ``f``: ``"flat"`` (triangular),
        ``"halving"`` (triangular2, ``2**-c``), ``"gamma_steps"`` (exp_range,
        ``gamma**i``), ``"gamma_cycles"`` (exp_range per cycle, ``gamma**c``),
        ``"user_cycles"`` / ``"user_steps"`` (a ``scale_fn`` of the cycle or step)."""
        p = self.params
        return _ENVELOPES[p["policy"], p["scale_mode"]]

    def _setup_momentum(self, kernel, base, top) -> None:
        _setup_cyclic_kernel(kernel, self.params, base, top, inverted=True)

    def lookup_form(self) -> Form:
        p = self.params
        return self._cycles_form(p["base_lr"], p["max_lr"], False, "max_lr")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self._cycles_form(base, top, True, "max_momentum")

    def _cycles_form(self, low, high, inverted, high_name) -> Form:
        p = self.params
        if p["policy"] == "custom":
            return UserFactor(p["scale_fn"])
        up = p["step_size"]
        down = up if p["step_size_down"] is None else p["step_size_down"]
        why = f"step_size={up!r}" + ("" if p["step_size_down"] is None
                                     else f", step_size_down={down!r}")
        shape = p["shape"]

        def window(ticks, lo, hi):
            # Time scaled by a power of two is exact: t / (up * T) == (t / T) / up.
            return Cyclic(lo, hi, up * ticks, down * ticks, shape=shape)

        return Cycles(self.cycle_length, window, None, low, high, inverted, self.envelope,
                      p["gamma"], why, high_name)

    def __repr__(self):
        p = self.params
        extra = {"step_size_down": None, "shape": "linear"}
        positional = ("base_lr", "max_lr", "step_size")
        if p["policy"] == "custom":
            return self._call_repr("cyclic", positional,
                                   {**extra, "scale_fn": None, "scale_mode": "cycle"})
        if p["policy"] == "exp_range":
            return self._call_repr("exp_range", positional,
                                   {"gamma": None, **extra, "scale_mode": "iterations"})
        return self._call_repr(p["policy"], positional, extra)
