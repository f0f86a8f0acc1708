"""Numerics of LR range-test curves: the smoothings, and the points the rules pick.

Every function takes and returns plain numpy arrays; ``cyclr.rangetest`` decides which
curve each rule reads.
"""

from __future__ import annotations

import math
from bisect import bisect_left

import numpy as np

from . import _validate as v

# The accuracy "stops rising" once it is within PLATEAU of its full rise of the peak,
# and "starts to rise" once it has made ONSET of it (mirrored for the loss).
PLATEAU = 0.05
ONSET = 0.1


def ema(values, beta) -> np.ndarray:
    """Bias-corrected exponential moving average, as the range test's divergence check
    sees the loss: ``avg = beta*avg + (1-beta)*x``, reported as ``avg / (1 - beta**k)``
    after ``k`` finite values. Non-finite values are skipped (their output is NaN).

    Examples:
        >>> ema([2.0, 2.0, 2.0], 0.9).tolist()
        [2.0, 2.0, 2.0]
    """
    beta = check_beta(beta)
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    avg, k = 0.0, 0
    for i, xi in enumerate(x):
        if math.isfinite(xi):
            avg = beta * avg + (1.0 - beta) * xi
            k += 1
            out[i] = avg / (1.0 - beta**k)
    return out


def smooth(values, beta) -> np.ndarray:
    """The curve the suggestions read: a running median (isolated spikes vanish), then
    a two-sided exponential kernel, weight ``beta**|i - j|``, normalised over the finite
    points it covers. Being symmetric, it does not lag behind the LR the way a one-sided
    average does. Non-finite values are ignored; their output is NaN.

    Examples:
        >>> smooth([1.0, 1.0, 50.0, 1.0, 1.0], 0.5).tolist()
        [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    beta = check_beta(beta)
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    m = running_median(np.where(finite, x, np.nan))
    m = np.where(finite, m, 0.0)
    w = finite.astype(np.float64)
    fwd_x, fwd_w = _geometric_sums(m, w, beta)
    back_x, back_w = _geometric_sums(m[::-1], w[::-1], beta)
    num = fwd_x + back_x[::-1] - m
    den = fwd_w + back_w[::-1] - w
    out = np.full(x.shape, np.nan)
    np.divide(num, den, out=out, where=finite)
    return out


def _geometric_sums(x, w, beta):
    sx, sw = np.empty_like(x), np.empty_like(w)
    ax = aw = 0.0
    for i in range(x.shape[0]):
        ax = beta * ax + x[i]
        aw = beta * aw + w[i]
        sx[i], sw[i] = ax, aw
    return sx, sw


def running_median(x):
    """Centered running median that skips NaN (the window shrinks at the ends): of 5,
    or of 3 below 15 values and none below 5, where a wider one flattens the curve."""
    width = 5 if len(x) >= 15 else 3 if len(x) >= 5 else 1
    half = width // 2
    padded = np.concatenate([np.full(half, np.nan), x, np.full(half, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    ordered = np.sort(windows, axis=1)  # NaN sorts last
    k = np.isfinite(windows).sum(axis=1)
    rows = np.arange(x.shape[0])
    lo, hi = np.maximum(k - 1, 0) // 2, k // 2
    med = (ordered[rows, lo] + ordered[rows, np.minimum(hi, width - 1)]) / 2.0
    return np.where(k > 0, med, np.nan)


def check_beta(beta) -> float:
    beta = v.finite("smoothing", beta)
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {beta!r}")
    return beta


def _rise(curve):
    """A rising curve's lowest point before its peak, and its peak."""
    peak = int(np.argmax(curve))
    return int(np.argmin(curve[:peak + 1])), peak


def crossing(curve, sharp, fraction):
    """The first point, from the lowest before the peak on, where ``sharp`` has made
    ``fraction`` of ``curve``'s rise. Levels come from the smoothed ``curve`` (robust to
    noise); the crossing is looked for on the running median ``sharp``, which keeps
    corners where they are, where the two-sided smoothing would round them off late."""
    low, peak = _rise(curve)
    level = curve[low] + fraction * (curve[peak] - curve[low])
    above = sharp[low:] >= level
    return low + int(np.argmax(above)) if above.any() else peak


def steepest(curve, x):
    bottom = int(np.argmin(curve))
    if bottom == 0:
        return 0
    return int(np.argmin(np.gradient(curve[:bottom + 1], x[:bottom + 1])))


def valley(curve):
    """Half way down the longest decreasing subsequence (patience sorting, O(n log n))."""
    tails, tail_at, prev = [], [], [-1] * len(curve)
    best_len, best_end = 0, 0
    for i, y in enumerate(-curve):
        j = bisect_left(tails, y)
        if j == len(tails):
            tails.append(y)
            tail_at.append(i)
        else:
            tails[j], tail_at[j] = y, i
        prev[i] = tail_at[j - 1] if j else -1
        if j + 1 > best_len:
            best_len, best_end = j + 1, i
    start = best_end
    while prev[start] != -1:
        start = prev[start]
    half = (curve[start] + curve[best_end]) / 2.0
    return start + int(np.argmax(curve[start:best_end + 1] <= half))
