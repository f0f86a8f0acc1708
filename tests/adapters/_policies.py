"""Schedules of every policy, and the float32 comparisons, for the Keras and Optax
adapter tests."""

import numpy as np

import cyclr
from cyclr import tables


def ulps(got, expected):
    """Distance in float32 units in the last place; a float32 subnormal expected value
    may read as 0 (TensorFlow and XLA flush subnormals when computing)."""
    got, expected = np.asarray(got, np.float32), np.asarray(expected, np.float32)
    expected = np.where(np.abs(expected) < np.finfo(np.float32).tiny, got * (got == 0),
                        expected)
    return np.abs(got.view(np.int32).astype(np.int64)
                  - expected.view(np.int32).astype(np.int64))


def multiplies_in_graph(s, total=None):
    """Whether the adapter multiplies an envelope factor or computes a cosine in the
    graph (1 ulp allowed)."""
    plan = tables.plan(s, total)
    pieces = plan.pieces if isinstance(plan, tables.Piecewise) else (plan,)
    return any(isinstance(p, tables.Restarts)
               or isinstance(p, tables.Periodic) and p.values is None for p in pieces)


def expected32(s, steps):
    """The core's float32 values at ``steps``, one by one (any int64 steps)."""
    return np.array([s.array(1, start=int(i), dtype=np.float32)[0] for i in steps])


# Every policy, shape and baseline; chains finite, open-ended and nested.
POLICIES = {
    "triangular": cyclr.triangular(1e-3, 6e-3, 15),
    "triangular2": cyclr.triangular2(1e-3, 6e-3, 20),
    "exp_range": cyclr.exp_range(1e-4, 1e-2, 9, gamma=0.9995),
    "exp_range cycle": cyclr.exp_range(0.1, 1.0, 4, step_size_down=9, gamma=0.97,
                                       scale_mode="cycle"),
    "welch asymmetric": cyclr.triangular(0.1, 0.7, 2, step_size_down=5, shape="welch"),
    "hann triangular2": cyclr.triangular2(0.0, 1.0, 3, shape="hann"),
    "tfa fractional": cyclr.triangular2(1e-3, 6e-3, 2 * 1797 / 64),
    "fractional hann exp_range": cyclr.exp_range(0.1, 0.9, 1.5, step_size_down=2.25,
                                                 gamma=0.999, shape="hann"),
    "one_cycle": cyclr.one_cycle(0.1, 300),
    "one_cycle three_phase": cyclr.one_cycle(0.1, 300, three_phase=True, anneal="linear"),
    "constant": cyclr.constant(0.25),
    "decay": cyclr.decay(0.1, 0.01, 250.5),
    "exponential": cyclr.exponential(0.1, 0.999),
    "step_decay": cyclr.step_decay(0.1, 0.5, 7),
    "step_decay fractional": cyclr.step_decay(0.1, 0.9, 2.75),
    "momentum cyclic": cyclr.triangular(0.3, 0.9, 5, shape="welch").momentum_schedule(0.8, 0.95),
    "momentum exp_range": cyclr.exp_range(0.2, 0.9, 7, gamma=0.995).momentum_schedule(0.85, 0.95),
    "momentum one_cycle": cyclr.one_cycle(0.1, 200).momentum_schedule(0.85, 0.95),
    "chain finite": cyclr.chain((cyclr.one_cycle(0.1, 40), 40),
                                (cyclr.triangular2(0.1, 1.0, 3000), 500_000),
                                (cyclr.exp_range(0.1, 1.0, 2.5, gamma=0.9999), 300_000)),
    "chain open-ended": cyclr.chain((cyclr.constant(0.5), 7),
                                    (cyclr.triangular(0.1, 1.0, 2**20), 2**30),
                                    cyclr.exp_range(0.1, 1.0, 7, gamma=0.99,
                                                    scale_mode="cycle")),
    "chain nested": cyclr.chain(
        (cyclr.chain((cyclr.constant(0.2), 5), cyclr.exponential(1.0, 0.99)), 77),
        (cyclr.chain((cyclr.decay(1.0, 0.1, 1000), 300),
                     (cyclr.step_decay(0.5, 0.5, 1.5), 10**9)), 2 * 10**9),
        cyclr.chain((cyclr.triangular(0.2, 0.4, 10), 25), cyclr.one_cycle(0.3, 50))),
    "linear warm-up, cosine": cyclr.chain((cyclr.linear(1e-4, 0.1, 500), 500),
                                          cyclr.cosine(0.1, 1e-3, 2000)),
    "restarts equal cycles": cyclr.cosine_restarts(0.1, 100, min_lr=1e-3,
                                                   amplitude_decay=0.8),
    "restarts doubling": cyclr.cosine_restarts(0.1, 10, min_lr=1e-3, cycle_mult=2,
                                               amplitude_decay=0.9),
    "restarts fractional": cyclr.cosine_restarts(0.1, 7.5, cycle_mult=1.5),
    "momentum restarts": cyclr.cosine_restarts(0.1, 20, cycle_mult=3).momentum_schedule(
        0.85, 0.95),
    "chain warm-up, restarts": cyclr.chain((cyclr.linear(0.0, 0.1, 50), 50),
                                           cyclr.cosine_restarts(0.1, 30, cycle_mult=2)),
}
SMALL = np.arange(3000)
LARGE_INT32 = np.array([2**24 + 1, 2**30 + 7, 2**31 - 1])
LARGE_INT64 = np.array([2**31 + 5, 2**33 + 1, 2**40 - 1, 2**40 + 3, 2 * 10**9 + 76,
                        2 * 10**9 + 77, 2 * 10**9 + 78, 2**30 + 5, 2**30 + 6, 2**30 + 7])


