"""cyclr schedules as ``optax.Schedule`` functions that look cyclr's numbers up.

``schedule(s, total_steps)`` returns a pure function of the step ``count``: one gather
from a float32 table of the whole run (held at its last value past the end) or, for an
endless cyclic schedule, from one cycle of window heights times an envelope factor
computed in float64 (in a ``jax.enable_x64`` scope, whatever the global setting) and
rounded once to float32 (so a value below float32's smallest normal, about 1.2e-38,
reads as 0 where XLA flushes subnormals). It is safe under ``jax.jit``, ``jax.vmap``
and ``jax.grad``, takes int32 (or, with x64, int64) counts, scalar or batched, and fits
wherever optax takes a schedule: ``optax.sgd(learning_rate=...)``,
``optax.inject_hyperparams``, and for momentum or Adam's ``b1`` a
``momentum_schedule``.
"""

from __future__ import annotations

import numpy as np

from . import _require

with _require(__name__, "jax"):
    import jax
    import jax.numpy as jnp
    import optax  # noqa: F401  (the re-exported range_test needs it)

import cyclr
from cyclr import tables


def _counts(count):
    """``count`` as an int64 array clipped at 0 (call inside the x64 scope)."""
    count = jnp.asarray(count)
    if not jnp.issubdtype(count.dtype, jnp.integer):
        raise TypeError(
            f"count must be an integer step count, got dtype {count.dtype}; a float "
            f"count cannot count past 2**24 exactly")
    return jnp.maximum(count.astype(jnp.int64), 0)


def _whole_run(table: np.ndarray):
    values = jnp.asarray(table, dtype=jnp.float32)
    last = table.size - 1

    def lookup(count):
        with jax.enable_x64(True):
            i = jnp.minimum(_counts(count), last)
            return values[i.astype(jnp.int32)]

    return lookup


def _periodic(plan: tables.Periodic):
    with jax.enable_x64(True):
        prefix = jnp.asarray(plan.prefix, dtype=jnp.float32)
        values = jnp.asarray(plan.values, dtype=jnp.float32)
        heights = jnp.asarray(plan.heights, dtype=jnp.float64)
        peaks = jnp.asarray(plan.peaks, dtype=bool)

    def lookup(count):
        with jax.enable_x64(True):
            i = _counts(count)
            j = jnp.maximum(i - plan.offset, 0)
            c = j // plan.period
            t = (j - c * plan.period).astype(jnp.int32)
            if plan.envelope == "flat":
                value = values[t]
            else:
                f = tables.envelope_factor(plan, c.astype(jnp.float64), j.astype(jnp.float64))
                value = tables.periodic_value(plan, heights[t], f, peaks[t], jnp.where)
                value = value.astype(jnp.float32)
            if plan.offset:
                head = prefix[jnp.minimum(i, plan.offset - 1).astype(jnp.int32)]
                value = jnp.where(i < plan.offset, head, value)
            return value

    return lookup


def schedule(s, total_steps):
    """An optax schedule that gives ``s``'s float32 values, count for count.

    Args:
        s: any cyclr schedule (an LR schedule, or a momentum schedule for ``momentum``
            or ``b1``).
        total_steps: the run length, an int >= 1: the whole run is tabulated once and
            the value holds after it. Or None: an endless cyclic schedule (or a chain
            ending in one) tabulates one cycle and never ends; a schedule that settles
            (one_cycle, constant, decay, finite chain) tabulates up to the step from
            which it holds its value.

    Returns:
        A function of an integer ``count`` (scalar or array) returning float32 values
        of the same shape; counts below 0 read step 0.

    Raises:
        TypeError: if ``s`` is not a cyclr schedule or ``total_steps`` not an integer;
            the returned function raises it for a non-integer ``count``.
        ValueError: for ``total_steps < 1``, a table above
            ``cyclr.tables.MAX_TABLE_STEPS``, or None where the schedule neither
            cycles nor settles (or cycles with a Python ``scale_fn``).

    Examples:
        >>> import cyclr, jax.numpy as jnp, optax
        >>> from cyclr.adapters.optax import schedule
        >>> lr = schedule(cyclr.triangular2(0.0, 1.0, 2), total_steps=None)
        >>> optimizer = optax.sgd(learning_rate=lr, momentum=0.9)
        >>> lr(jnp.arange(8)).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25]
    """
    if not isinstance(s, cyclr.Schedule):
        raise TypeError(f"s must be a cyclr schedule, got {s!r}")
    plan = tables.plan(s, total_steps)
    if isinstance(plan, np.ndarray):
        return _whole_run(plan)
    return _periodic(plan)


from ._range_optax import range_test  # noqa: E402  (the range-test runner, re-exported)

__all__ = ["range_test", "schedule"]
