"""The curve of an LR range test and what it suggests: :class:`RangeTestResult` (the
paper's accuracy rule and the loss rules, the bounds as a schedule, the plot). Built by
``cyclr.rangetest.RangeTest.result()`` or directly from recorded curves; importable as
``cyclr.RangeTestResult``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from . import _validate as v
from ._curves import ONSET, PLATEAU, check_beta, crossing, running_median, smooth, \
    steepest, valley
from .policies import cosine_restarts, exp_range, one_cycle, triangular, triangular2
from .schedules import Schedule

MODES = ("linear", "exp")
RULES = ("auto", "accuracy", "steepest", "valley", "minimum")
BASES = ("ratio", "rise")
_CURVE_OF = {"accuracy": "accuracies", "steepest": "losses", "valley": "losses",
             "minimum": "losses"}
_POLICIES: dict[str, Callable[..., Schedule]] = {
    "triangular": triangular, "triangular2": triangular2, "exp_range": exp_range,
    "one_cycle": one_cycle, "cosine_restarts": cosine_restarts}


class RangeTestResult:
    """The curve of an LR range test, with the paper's and loss-based suggestions.

    Args:
        lrs: the LRs, strictly increasing (and > 0 for ``mode="exp"``).
        losses: the loss at each LR, or None.
        accuracies: the accuracy at each LR, or None (at least one of the two).
        mode: the ramp, ``"exp"`` or ``"linear"``; sets the axis that "steepest"
            measures slopes against (log-LR or LR) and the plot's default axis.
        smoothing: ``beta`` of :func:`smooth`, in [0, 1).
        stop_reason: why the test stopped early, or None.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.
    """

    def __init__(self, lrs: npt.ArrayLike, losses: npt.ArrayLike | None = None,
                 accuracies: npt.ArrayLike | None = None, *,
                 mode: str = "exp", smoothing: float = 0.8,
                 stop_reason: str | None = None) -> None:
        self.mode = v.choice("mode", mode, MODES)
        self.smoothing = check_beta(smoothing)
        self.lrs = _curve("lrs", lrs)
        n = len(self.lrs)
        if n == 0:
            raise ValueError("lrs must not be empty, got 0 values")
        if not (np.all(np.isfinite(self.lrs)) and np.all(self.lrs >= 0)):
            raise ValueError(f"lrs must be finite and >= 0, got {self.lrs!r}")
        if not np.all(np.diff(self.lrs) > 0):
            raise ValueError(f"lrs must be strictly increasing, got {self.lrs!r}")
        if mode == "exp" and self.lrs[0] <= 0:
            raise ValueError(f"lrs must be > 0 for mode='exp', got lrs[0]={self.lrs[0]!r}")
        self.losses = None if losses is None else _curve("losses", losses, n)
        self.accuracies = None if accuracies is None else _curve("accuracies", accuracies, n)
        if self.losses is None and self.accuracies is None:
            raise ValueError("losses and accuracies are both None; give at least one")
        if stop_reason is not None and not isinstance(stop_reason, str):
            raise TypeError(f"stop_reason must be a str or None, got {stop_reason!r}")
        self.stop_reason = stop_reason

    def __len__(self) -> int:
        return len(self.lrs)

    def __repr__(self):
        kinds = [k for k in ("losses", "accuracies") if getattr(self, k) is not None]
        return (f"<RangeTestResult {len(self)} steps, lr {self.lrs[0]:.3g}..{self.lrs[-1]:.3g}"
                f" ({self.mode}), {' and '.join(kinds)}"
                f"{', stopped: ' + self.stop_reason if self.stop_reason else ''}>")

    @property
    def smoothed_losses(self) -> np.ndarray | None:
        """:func:`smooth` of the losses (the curve the loss rules read), or None."""
        return None if self.losses is None else smooth(self.losses, self.smoothing)

    @property
    def smoothed_accuracies(self) -> np.ndarray | None:
        """:func:`smooth` of the accuracies (the curve the accuracy rule reads), or None."""
        return None if self.accuracies is None else smooth(self.accuracies, self.smoothing)

    def _usable(self) -> int:
        """How many leading steps the rules read: up to the first non-finite loss (a
        model that produced one is broken from there on)."""
        if self.losses is None:
            return len(self)
        bad = np.flatnonzero(~np.isfinite(self.losses))
        return int(bad[0]) if bad.size else len(self)

    def suggest(self, rule: str = "auto", *, ratio: float = 4.0,
                base: str = "ratio") -> tuple[float, float]:
        """Suggested ``(base_lr, max_lr)``.

        Rules for ``max_lr`` (all read the smoothed curves, up to the first non-finite
        loss):

        - ``"accuracy"``, the paper's: where the accuracy stops rising, i.e. first comes
          within 5% of its full rise of its peak (it is ragged or falling after).
        - ``"steepest"``: where the loss falls fastest, slope taken against log-LR for
          ``mode="exp"`` and against the LR for ``"linear"``, before the minimum.
        - ``"valley"``: along the longest valley of the loss (its longest decreasing
          subsequence, which tolerates bumps), where the loss has come half way down.
        - ``"minimum"``: a tenth of the LR at the lowest loss.
        - ``"auto"``: ``"accuracy"`` when the recorded accuracy varies, else
          ``"valley"`` (no accuracy, or one that never changes, such as the top-1
          accuracy of a one-output regression model); :attr:`auto_rule` says which.

        A suggestion at the first LR is returned like any other: it says the ramp
        started too high.

        Args:
            rule: one of the rules above.
            ratio: ``base_lr = max_lr / ratio`` (the paper: 3 to 4); finite, >= 1.
            base: ``"ratio"``, or ``"rise"``: the paper's other choice, where the
                accuracy starts to rise (for the loss rules, where the loss starts to
                fall: 10% of the way); ``max_lr / ratio`` if that is not below max_lr.

        Returns:
            ``(base_lr, max_lr)`` as floats, ``base_lr <= max_lr``.

        Raises:
            ValueError: for an unknown rule or base, a bad ratio, or a rule whose curve
                was not recorded or has no finite value.
        """
        rule = v.choice("rule", rule, RULES)
        ratio = v.finite("ratio", ratio)
        if not ratio >= 1.0:
            raise ValueError(f"ratio must be >= 1, got {ratio!r}")
        base = v.choice("base", base, BASES)
        if rule == "auto":
            rule = self.auto_rule
            if not self._finite(_CURVE_OF[rule]).any():
                raise ValueError(
                    "nothing to suggest from: no finite loss or accuracy was recorded"
                    + (f" (the test stopped: {self.stop_reason})" if self.stop_reason else ""))
        if rule == "accuracy":
            curve, sharp = self._curve_for("accuracies")
            top = crossing(curve, sharp, 1.0 - PLATEAU)
            onset = crossing(curve, sharp, ONSET)
        else:
            curve, sharp = self._curve_for("losses")
            onset = crossing(-curve, -sharp, ONSET)
            if rule == "steepest":
                top = steepest(curve, self._slope_axis())
            elif rule == "valley":
                top = valley(curve)
            else:
                top = int(np.argmin(curve))
        max_lr = float(self.lrs[top]) / (10.0 if rule == "minimum" else 1.0)
        base_lr = max_lr / ratio
        if base == "rise" and self.lrs[onset] < max_lr:
            base_lr = float(self.lrs[onset])
        return base_lr, max_lr

    @property
    def auto_rule(self) -> str:
        """The rule ``suggest(rule="auto")`` applies to this curve: ``"accuracy"`` when
        the accuracy (over the steps the rules read) takes more than one finite value,
        else ``"valley"`` when there are finite losses; ``"accuracy"`` for a curve of
        accuracies alone.

        Examples:
            >>> lrs = [1e-3, 1e-2, 1e-1]
            >>> RangeTestResult(lrs, [2.0, 1.0, 3.0], [0.5, 0.5, 0.5]).auto_rule
            'valley'
        """
        acc = self._finite("accuracies")
        if acc.size and acc.max() > acc.min():
            return "accuracy"
        if self.losses is not None and (self._finite("losses").size or not acc.size):
            return "valley"
        return "accuracy"

    def _finite(self, name) -> np.ndarray:
        """The finite values of a curve over the steps the rules read (empty if none)."""
        raw = getattr(self, name)
        if raw is None:
            return np.empty(0)
        raw = raw[:self._usable()]
        return raw[np.isfinite(raw)]

    def _curve_for(self, name):
        """The smoothed curve and its running median, over the usable steps; gaps (NaN
        accuracies) take the previous value, so the rules see whole curves."""
        raw = getattr(self, name)
        if raw is None:
            raise ValueError(f"rule needs {name}, but none were recorded")
        raw = raw[:self._usable()]
        finite = np.isfinite(raw)
        if not finite.any():
            raise ValueError(f"rule needs {name}, but none of them is finite")
        idx = np.maximum.accumulate(np.where(finite, np.arange(len(raw)), -1))
        idx = np.where(idx >= 0, idx, int(np.argmax(finite)))
        sharp = running_median(np.where(finite, raw, np.nan))
        return smooth(raw, self.smoothing)[idx], sharp[idx]

    def _slope_axis(self):
        return np.log(self.lrs) if self.mode == "exp" else self.lrs

    def schedule(self, policy: str = "triangular2", step_size: float | None = None, *,
                 rule: str = "auto", ratio: float = 4.0,
                 base: str = "ratio", **kwargs: Any) -> Schedule:
        """A schedule at the suggested bounds: a cyclic policy between ``base_lr`` and
        ``max_lr``, a 1cycle run peaking at ``max_lr`` (the flow fastai users know as
        ``lr_find`` then ``fit_one_cycle``), or warm restarts from ``max_lr``.

        Args:
            policy: ``"triangular"``, ``"triangular2"`` or ``"exp_range"`` (cycling
                between the two bounds); ``"one_cycle"`` (needs ``total_steps=``); or
                ``"cosine_restarts"`` (needs ``first_cycle=``; anneals to ``min_lr``,
                0 unless given).
            step_size: for the cyclic policies, steps in half a cycle (the paper: 2 to
                10 epochs, see ``cyclr.suggest_step_size``); not used by the others.
            rule, ratio, base: as for :meth:`suggest`.
            **kwargs: passed to the policy's constructor (``gamma`` for exp_range,
                ``step_size_down``, ``shape``; ``total_steps``, ``pct_start``,
                ``div_factor``... for one_cycle; ``first_cycle``, ``min_lr``,
                ``cycle_mult``, ``amplitude_decay`` for cosine_restarts).

        Returns:
            ``cyclr.<policy>(base_lr, max_lr, step_size, **kwargs)`` for a cyclic policy,
            ``cyclr.one_cycle(max_lr, **kwargs)`` or
            ``cyclr.cosine_restarts(max_lr, **kwargs)``.

        Raises:
            TypeError, ValueError: for an unknown policy, a missing ``step_size``
                (cyclic), ``total_steps`` (one_cycle) or ``first_cycle``
                (cosine_restarts), or a ``step_size`` given where it is not used.

        Examples:
            >>> import numpy as np
            >>> lrs = np.arange(1, 21) / 1000  # accuracy rises until lr = 0.01
            >>> res = RangeTestResult(lrs, accuracies=np.minimum(lrs / 0.01, 1.0),
            ...                       mode="linear")
            >>> res.schedule("triangular2", 100)
            triangular2(0.0025, 0.01, 100)
            >>> res.schedule("one_cycle", total_steps=1000)
            one_cycle(0.01, 1000)
            >>> res.schedule("cosine_restarts", first_cycle=200, cycle_mult=2)
            cosine_restarts(0.01, 200, cycle_mult=2)
        """
        policy = v.choice("policy", policy, _POLICIES)
        base_lr, max_lr = self.suggest(rule, ratio=ratio, base=base)
        if policy in ("one_cycle", "cosine_restarts"):
            needed = "total_steps" if policy == "one_cycle" else "first_cycle"
            if step_size is not None:
                raise TypeError(f"{policy} takes no step_size (got {step_size!r}); pass "
                                f"{needed}=...")
            if needed not in kwargs:
                raise TypeError(f"schedule({policy!r}) needs {needed}=..., got none")
            return _POLICIES[policy](max_lr, kwargs.pop(needed), **kwargs)
        if step_size is None:
            raise TypeError("schedule() needs step_size (steps in half a cycle), got None")
        return _POLICIES[policy](base_lr, max_lr, step_size, **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Plot the curve with the suggested bounds (needs matplotlib); see
        :func:`cyclr.plot.plot_range_test` for the arguments. Returns the Axes.

        A curve with nothing to suggest from (a test that diverged at its first step)
        is drawn without bounds, and the title says why.
        """
        from .plot import plot_range_test

        rule = v.choice("rule", kwargs.get("rule", "auto"), RULES)
        if kwargs.get("mark", True):
            name = _CURVE_OF[self.auto_rule if rule == "auto" else rule]
            if not self._finite(name).any():
                ax = plot_range_test(self, ax=ax, **{**kwargs, "mark": False})
                ax.set_title(f"{ax.get_title()}\nno bounds: no finite {name} to read",
                             fontsize="small")
                return ax
        return plot_range_test(self, ax=ax, **kwargs)


def _curve(name, values, n=None) -> np.ndarray:
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of real numbers, got {values!r}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} must have one value per LR ({n}), got {len(arr)}")
    arr.flags.writeable = False
    return arr
