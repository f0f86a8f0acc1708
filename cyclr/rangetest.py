"""The LR range test: the paper's way to choose ``base_lr`` and ``max_lr``.

Train briefly while the LR rises from low to high, record loss and/or accuracy at every
step, then read the bounds off the curve. Smith (2017), section 3.3: "note the learning
rate value when the accuracy starts to increase and when the accuracy slows, becomes
ragged, or starts to fall. These two learning rates are good choices for bounds";
alternatively set ``base_lr`` to 1/3 or 1/4 of ``max_lr``.

This module is the framework-agnostic part (numpy only): :class:`RangeTest` drives any
training loop and :class:`RangeTestResult` holds the curve, suggests bounds and turns
them into a schedule. The runners ``cyclr.adapters.{torch,keras,optax}.range_test`` use
it and leave the user's model and optimizer as they were.

Examples:
    >>> import cyclr.rangetest as rtm
    >>> rt = rtm.RangeTest(1e-3, 1.0, num_steps=4, progress=False)
    >>> rt.lrs.round(6).tolist()
    [0.001, 0.01, 0.1, 1.0]
    >>> for lr in rt:
    ...     rt.record(loss=1.0 / (1.0 + 100 * lr))
    >>> result = rt.result()
    >>> len(result), result.stop_reason
    (4, None)

References:
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from . import _validate as v
from ._curves import ONSET, PLATEAU, check_beta, crossing, ema, running_median, smooth, \
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


def ramp(start_lr: float, end_lr: float, num_steps: int,
         mode: str = "exp") -> npt.NDArray[np.float64]:
    """The LRs of a range test: ``num_steps`` values from ``start_lr`` to ``end_lr``.

    ``"linear"`` spaces them evenly (the paper's ramp), ``"exp"`` evenly in log-LR. The
    first value is exactly ``start_lr``, the last exactly ``end_lr``, and they strictly
    increase.

    Args:
        start_lr: first LR, finite and >= 0 (> 0 for ``"exp"``).
        end_lr: last LR, finite and > ``start_lr``.
        num_steps: number of LRs, an integer >= 2.
        mode: ``"linear"`` or ``"exp"``.

    Returns:
        A new float64 array of length ``num_steps``.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> ramp(0.0, 0.02, 5, "linear").tolist()
        [0.0, 0.005, 0.01, 0.015, 0.02]
    """
    mode = v.choice("mode", mode, MODES)
    start_lr = v.rate("start_lr", start_lr)
    end_lr = v.rate("end_lr", end_lr)
    num_steps = v.count("num_steps", num_steps, minimum=2)
    if not end_lr > start_lr:
        raise ValueError(
            f"end_lr must be > start_lr, got start_lr={start_lr!r}, end_lr={end_lr!r}")
    if mode == "exp":
        if start_lr == 0.0:
            raise ValueError("start_lr must be > 0 for mode='exp', got 0.0")
        lrs = np.geomspace(start_lr, end_lr, num_steps)
    else:
        lrs = np.linspace(start_lr, end_lr, num_steps)
    lrs[0], lrs[-1] = start_lr, end_lr
    if not np.all(np.diff(lrs) > 0):
        raise ValueError(
            f"start_lr={start_lr!r} and end_lr={end_lr!r} are too close for "
            f"num_steps={num_steps} distinct LRs")
    return lrs


class RangeTest:
    """The engine of an LR range test, for any training loop.

    Iterate over it to get the LR of each step; after each step call :meth:`record`
    with the loss and/or accuracy. The test stops early when the loss diverges: when it
    is NaN or infinite, or when its smoothed value (bias-corrected moving average, see
    :func:`ema`) exceeds ``diverge_factor`` times the best smoothed loss so far.

    Args:
        start_lr: first LR (> 0 for ``mode="exp"``).
        end_lr: last LR, > ``start_lr``.
        num_steps: number of steps (LRs), >= 2.
        mode: ``"exp"`` (evenly spaced in log-LR, the default) or ``"linear"`` (the
            paper's ramp).
        smoothing: ``beta`` in [0, 1) of both smoothings: the running average the
            divergence check reads, and the result's :func:`smooth`; 0 disables them.
        diverge_factor: stop when the smoothed loss exceeds this multiple (> 1) of the
            best one; None only stops on NaN or infinite losses. Only applied while the
            best smoothed loss is > 0.
        progress: report progress on stderr: a bar on a terminal (with tqdm
            installed), plain lines every tenth of the ramp otherwise.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> rt = RangeTest(0.01, 1.0, num_steps=3, mode="linear", progress=False)
        >>> for lr in rt:
        ...     rt.record(loss=1.0, accuracy=lr)
        >>> rt.result().accuracies.tolist()
        [0.01, 0.505, 1.0]
    """

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
                 *, mode: str = "exp", smoothing: float = 0.8,
                 diverge_factor: float | None = 5.0, progress: bool = True) -> None:
        self._lrs = ramp(start_lr, end_lr, num_steps, mode)
        self._lrs.flags.writeable = False
        self._mode = mode
        self._beta = check_beta(smoothing)
        if diverge_factor is not None:
            diverge_factor = v.finite("diverge_factor", diverge_factor)
            if not diverge_factor > 1.0:
                raise ValueError(f"diverge_factor must be > 1, got {diverge_factor!r}")
        self._factor = diverge_factor
        if not isinstance(progress, (bool, np.bool_)):
            raise TypeError(f"progress must be a bool, got {progress!r}")
        self._bar = _Progress(len(self._lrs)) if progress else None
        self._losses: list[float] = []
        self._accuracies: list[float] = []
        self._kinds: tuple[str, ...] | None = None
        self._step = 0
        self._avg, self._best = 0.0, math.inf
        self._smoothed = math.nan
        self._stop_reason = None
        self._done = False

    @property
    def lrs(self) -> np.ndarray:
        """The planned ramp, all ``num_steps`` LRs (read-only)."""
        return self._lrs

    @property
    def step(self) -> int:
        """Steps recorded so far."""
        return self._step

    @property
    def lr(self) -> float:
        """The LR for the next step.

        Raises:
            RuntimeError: when the test is done.
        """
        self._check_running()
        return float(self._lrs[self.step])

    @property
    def done(self) -> bool:
        """Whether the test has finished (end of the ramp, divergence or :meth:`stop`)."""
        return self._done

    @property
    def stop_reason(self) -> str | None:
        """Why the test stopped before the end of the ramp, or None."""
        return self._stop_reason

    @property
    def smoothed_loss(self) -> float:
        """The bias-corrected moving average of the losses so far (NaN before any)."""
        return self._smoothed

    @property
    def best_loss(self) -> float:
        """The lowest smoothed loss so far (inf before any)."""
        return self._best

    def __len__(self) -> int:
        return len(self._lrs)

    def __iter__(self):
        while not self._done:
            k = self.step
            yield float(self._lrs[k])
            if self.step != k + 1 and not self._done:
                raise RuntimeError(
                    f"record() must be called exactly once per LR; step {k} has "
                    f"{self.step - k} records")

    def record(self, loss: float | None = None, accuracy: float | None = None) -> None:
        """Record the step just trained at :attr:`lr`.

        Args:
            loss: the step's loss (a real number, numpy or 0-d tensor value).
            accuracy: the step's accuracy.
            Pass the same ones at every step; at least one.

        Raises:
            TypeError: for a missing or non-numeric value.
            RuntimeError: when the test is already done.
        """
        self._check_running()
        kinds = tuple(k for k, x in (("loss", loss), ("accuracy", accuracy)) if x is not None)
        if not kinds:
            raise TypeError("record() needs loss=, accuracy= or both, got neither")
        if self._kinds is not None and kinds != self._kinds:
            raise TypeError(
                f"record() was given {' and '.join(self._kinds)} before; got "
                f"{' and '.join(kinds)} at step {self.step}")
        if loss is not None:
            loss = v.real("loss", loss)
        if accuracy is not None:
            accuracy = v.real("accuracy", accuracy)
        self._kinds = kinds
        k = self._step
        self._step += 1
        if accuracy is not None:
            self._accuracies.append(accuracy)
        if loss is not None:
            self._losses.append(loss)
            self._check_divergence(k, loss)
        if not self._done and self._step == len(self._lrs):
            self._finish(None)
        elif self._bar is not None and not self._done:
            self._bar.update(self._step, self._lrs[k], loss, accuracy)

    def _check_divergence(self, k, loss):
        lr = self._lrs[k]
        if not math.isfinite(loss):
            self._finish(f"loss is {loss!r} at step {k} (lr={lr:.4g})")
            return
        self._avg = self._beta * self._avg + (1.0 - self._beta) * loss
        self._smoothed = self._avg / (1.0 - self._beta ** (k + 1))
        if (self._factor is not None and self._best > 0.0
                and self._smoothed > self._factor * self._best):
            self._finish(f"smoothed loss {self._smoothed:.4g} exceeded {self._factor:g} x "
                         f"the best {self._best:.4g} at step {k} (lr={lr:.4g})")
        self._best = min(self._best, self._smoothed)

    def stop(self, reason: str = "stopped") -> None:
        """End the test early (a time limit, data that ran out ...).

        Args:
            reason: a short text, kept as :attr:`stop_reason`.
        """
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, got {reason!r}")
        if not self._done:
            self._finish(reason)

    def close(self) -> None:
        """End the progress report; the runners call this in ``finally``."""
        if self._bar is not None:
            self._bar.close(self.step, self._stop_reason)
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _finish(self, reason):
        self._stop_reason = reason
        self._done = True
        self.close()

    def _check_running(self):
        if self._done:
            raise RuntimeError(
                f"the range test is done ({self._stop_reason or 'end of the ramp'}); "
                f"call result()")

    def result(self) -> RangeTestResult:
        """The curve recorded so far.

        Raises:
            RuntimeError: before the first :meth:`record`.
        """
        n = self.step
        if n == 0:
            raise RuntimeError("no step recorded yet: call record() after each step")
        kinds = self._kinds or ()
        return RangeTestResult(
            self._lrs[:n], self._losses if "loss" in kinds else None,
            self._accuracies if "accuracy" in kinds else None,
            mode=self._mode, smoothing=self._beta, stop_reason=self._stop_reason)


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


class _Progress:
    """Progress of a range test on stderr: a tqdm bar on a terminal (when tqdm is
    installed), else a plain line every tenth of the ramp and one at the end, so that a
    log file gets whole lines and no carriage returns."""

    def __init__(self, total, stream=None):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self._bar = None
        self._every = max(1, total // 10)
        if _isatty(self.stream):
            try:
                from tqdm.auto import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=total, desc="LR range test", unit="step",
                                 file=self.stream, leave=True, dynamic_ncols=True)

    def update(self, done, lr, loss, accuracy):
        values = f"lr {lr:.3g}"
        if loss is not None:
            values += f" loss {loss:.4g}"
        if accuracy is not None:
            values += f" acc {accuracy:.4g}"
        if self._bar is not None:
            self._bar.set_postfix_str(values, refresh=False)
            self._bar.update(done - self._bar.n)
        elif done % self._every == 0:
            self._write(f"LR range test {done}/{self.total}: {values}")

    def close(self, done, reason):
        if reason:
            end = f"stopped: {reason}"
        else:
            end = "done" if done == self.total else "interrupted"
        if self._bar is not None:
            self._bar.set_postfix_str(end, refresh=False)
            self._bar.update(done - self._bar.n)
            self._bar.close()
        else:
            self._write(f"LR range test {done}/{self.total}: {end}")

    def _write(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


__all__ = ["RangeTest", "RangeTestResult", "ema", "ramp", "smooth"]
