"""The LR range test: the paper's way to choose ``base_lr`` and ``max_lr``.

Train briefly while the LR rises from low to high, record loss and/or accuracy at every
step, then read the bounds off the curve. Smith (2017), section 3.3: "note the learning
rate value when the accuracy starts to increase and when the accuracy slows, becomes
ragged, or starts to fall. These two learning rates are good choices for bounds";
alternatively set ``base_lr`` to 1/3 or 1/4 of ``max_lr``.

This module is the framework-agnostic part (numpy only): :class:`RangeTest` drives any
training loop and :class:`RangeTestResult` (in ``cyclr._range_result``, re-exported
here) holds the curve, suggests bounds and turns them into a schedule. The runners ``cyclr.adapters.{torch,keras,optax}.range_test`` use
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

import numpy as np
import numpy.typing as npt

from . import _validate as v
from ._curves import check_beta, ema, smooth
from ._range_result import MODES, RangeTestResult


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
