"""The paper's baselines: ``Constant``, ``Decay`` (linear), ``Exponential`` and
``StepDecay``."""

from __future__ import annotations

import math

from .. import _validate as v
from .._forms import Cycles, Form, Settles
from ._base import Ends, Field, Schedule

class Constant(Schedule):
    """A fixed LR (the paper's "fixed" baseline). Build it with ``constant``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.constant(0.1)
        >>> isinstance(s, cyclr.Constant), [s(i) for i in range(4)]
        (True, [0.1, 0.1, 0.1, 0.1])
    """

    __slots__ = ()
    type_name = "constant"
    fields = {"lr": Field.NUMBER}

    def __init__(self, lr: float) -> None:
        lr = v.rate("lr", lr)
        self._freeze(lr=lr)
        self._setup_constant(lr=lr)

    def _peak(self) -> float:
        return self.params["lr"]

    def natural_length(self) -> int:
        return 1

    def lookup_form(self) -> Form:
        return Settles(1, "constant")

    def __repr__(self):
        return self._call_repr("constant", ("lr",), {})


class Decay(Schedule):
    """The paper's "decay" baseline: linear from ``max_lr`` to ``base_lr`` over ``steps``
    steps, then ``base_lr``. Build it with ``decay``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.decay(1.0, 0.5, 2)
        >>> isinstance(s, cyclr.Decay), [s(i) for i in range(4)]
        (True, [1.0, 0.75, 0.5, 0.5])
    """

    __slots__ = ()
    type_name = "decay"
    fields = {"max_lr": Field.NUMBER, "base_lr": Field.NUMBER, "steps": Field.NUMBER}

    def __init__(self, max_lr: float, base_lr: float, steps: float) -> None:
        max_lr = v.rate("max_lr", max_lr)
        base_lr = v.rate("base_lr", base_lr)
        v.ordered("base_lr", base_lr, "max_lr", max_lr)
        steps = v.span("steps", steps)
        if not math.isfinite((base_lr - max_lr) * float(steps)):
            raise ValueError(
                f"(base_lr - max_lr) * steps must be finite, got base_lr={base_lr!r}, "
                f"max_lr={max_lr!r}, steps={steps!r}")
        self._freeze(max_lr=max_lr, base_lr=base_lr, steps=steps)
        self._setup_ramp(start=max_lr, end=base_lr, steps=steps, how="linear")

    def _peak(self) -> float:
        return self.params["max_lr"]

    def natural_length(self) -> int:
        # Linear until step ``steps``, base_lr from the first whole step at or after it.
        return math.ceil(self.params["steps"]) + 1

    def lookup_form(self) -> Form:
        return Settles(self.natural_length(), f"decay steps={self.params['steps']!r}")

    def _ends(self, total_steps: int) -> Ends:
        # The decay reaches base_lr at step ``steps`` (the first whole step at or after).
        end = math.ceil(self.params["steps"])
        return [end] if end <= total_steps else []

    def __repr__(self):
        return self._call_repr("decay", ("max_lr", "base_lr", "steps"), {})


class Exponential(Schedule):
    """``lr * gamma**i`` (the paper's "exp" baseline). Build it with ``exponential``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.exponential(1.0, 0.5)
        >>> isinstance(s, cyclr.Exponential), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 0.25, 0.125])
    """

    __slots__ = ()
    type_name = "exponential"
    fields = {"lr": Field.NUMBER, "gamma": Field.NUMBER}

    def __init__(self, lr: float, gamma: float) -> None:
        lr = v.rate("lr", lr)
        gamma = v.gamma("gamma", gamma)
        self._freeze(lr=lr, gamma=gamma)
        self._setup_exponential(lr=lr, gamma=gamma)

    def _peak(self) -> float:
        return self.params["lr"]

    def lookup_form(self) -> Form:
        # lr * gamma**i: a cycle of one step of height lr over 0, as the core computes it.
        p = self.params
        return Cycles(1, None, p["lr"], 0.0, p["lr"], False, "gamma_steps", p["gamma"],
                      "exponential", "lr")

    def __repr__(self):
        return self._call_repr("exponential", ("lr", "gamma"), {})


class StepDecay(Schedule):
    """``lr * gamma**floor(i / step_size)``. Build it with ``step_decay``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.step_decay(1.0, 0.5, 2)
        >>> isinstance(s, cyclr.StepDecay), [s(i) for i in range(4)]
        (True, [1.0, 1.0, 0.5, 0.5])
    """

    __slots__ = ()
    type_name = "step_decay"
    fields = {"lr": Field.NUMBER, "gamma": Field.NUMBER, "step_size": Field.NUMBER}

    def __init__(self, lr: float, gamma: float, step_size: float) -> None:
        lr = v.rate("lr", lr)
        gamma = v.gamma("gamma", gamma)
        step_size = v.span("step_size", step_size)
        self._freeze(lr=lr, gamma=gamma, step_size=step_size)
        self._setup_step_decay(lr=lr, gamma=gamma, step_size=step_size)

    def _peak(self) -> float:
        return self.params["lr"]

    def lookup_form(self) -> Form:
        p = self.params
        return Cycles(p["step_size"], None, p["lr"], 0.0, p["lr"], False, "gamma_cycles",
                      p["gamma"], f"step_decay step_size={p['step_size']!r}", "lr")

    def __repr__(self):
        return self._call_repr("step_decay", ("lr", "gamma", "step_size"), {})
