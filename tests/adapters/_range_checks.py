"""Checks shared by the tests of the three range-test runners (torch, Keras, Optax)."""

import numpy as np

import cyclr


def loss_bottom(losses, window=9):
    """The step at the bottom of the loss curve, smoothed over ``window`` steps."""
    moving = np.convolve(losses, np.ones(window) / window, mode="valid")
    return int(np.argmin(moving)) + window // 2


def divergence_index(result, bottom):
    """The step where the test stopped, or where the loss first rose back above its
    starting value after its bottom."""
    if result.stop_reason is not None:
        return len(result) - 1
    above = np.flatnonzero(result.losses[bottom:] > result.losses[0])
    return bottom + int(above[0])


def falling_trend(losses, i, half=5):
    """Least-squares slope of the raw losses around step i (per step)."""
    lo, hi = max(0, i - half), min(len(losses), i + half + 1)
    return np.polyfit(np.arange(lo, hi), losses[lo:hi], 1)[0]


def assert_max_lr_where_loss_still_falls(result, rule):
    """The paper's reading of the curve: max_lr below the loss's bottom (and so below
    where it diverges), base_lr below max_lr, and, but for the "minimum" rule (a tenth of
    the best LR may sit on the early plateau), the loss still falling at max_lr and
    already below where it started."""
    base_lr, max_lr = result.suggest(rule)
    losses = result.losses
    bottom = loss_bottom(losses)
    assert max_lr < result.lrs[bottom] < result.lrs[divergence_index(result, bottom)]
    assert 0 < base_lr < max_lr
    if rule != "minimum":
        i = int(np.searchsorted(result.lrs, max_lr))
        assert falling_trend(losses, i) < 0
        assert losses[i] < losses[0]


def triangular2_against_fixed(result, n_train, batch):
    """``base_lr`` and the per-step LRs of the paper's comparison: one whole triangular2
    cycle at the suggested bounds (2 epochs up, 2 down, so the run ends back at base_lr)
    and base_lr held fixed."""
    base_lr, max_lr = result.suggest()
    step_size = cyclr.suggest_step_size(n_train, batch, 2, drop_last=True)
    schedule = result.schedule("triangular2", step_size)
    assert schedule == cyclr.triangular2(base_lr, max_lr, step_size)
    total = 2 * step_size
    return base_lr, {"cyclic": schedule.array(total), "fixed": np.full(total, base_lr)}
