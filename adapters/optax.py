"""cyclr schedules as ``optax.Schedule`` functions that look cyclr's numbers up.

``schedule(s)`` returns a pure function of the step ``count`` that evaluates the
:mod:`cyclr.tables` plan of ``s``: a gather from a float32 table, or from one cycle of
numbers times an envelope factor computed in float64 (in a ``jax.enable_x64`` scope,
whatever the global setting) and rounded once to float32. It equals the core's float32
``s(count)`` at every count, with no run length: bit for bit from a table or a flat
cycle, within 1 float32 ulp where a factor (``2**-c``, ``gamma**i``) is multiplied in
(and a value below float32's smallest normal, about 1.2e-38, reads as 0 where XLA
flushes subnormals). It is safe under ``jax.jit``, ``jax.vmap`` and ``jax.grad``, takes
int32 counts (up to 2**31 - 1) or, with x64 on, int64 counts (up to 2**62), scalar or
batched, and fits wherever optax takes a schedule: ``optax.sgd(learning_rate=...)``,
``optax.inject_hyperparams``, and for momentum or Adam's ``b1`` a
``momentum_schedule``. Its tables keep at most ``cyclr.tables.MAX_TABLE_BYTES``.
"""

from __future__ import annotations

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


class _Ops:
    """jax.numpy for ``cyclr.tables.evaluate`` (inside the x64 scope)."""

    where = staticmethod(jnp.where)
    cos = staticmethod(jnp.cos)
    minimum = staticmethod(jnp.minimum)
    maximum = staticmethod(jnp.maximum)

    @staticmethod
    def gather(table, index):
        # Tables are below 2**31 entries; int32 indices gather fastest.
        return table[index.astype(jnp.int32)]

    @staticmethod
    def float64(x):
        return jnp.asarray(x).astype(jnp.float64)

    @staticmethod
    def float32(x):
        return jnp.asarray(x).astype(jnp.float32)


def schedule(s, total_steps=None):
    """An optax schedule that gives ``s``'s float32 values, count for count, forever.

    Args:
        s: any cyclr schedule (an LR schedule, or a momentum schedule for ``momentum``
            or ``b1``).
        total_steps: only for a cyclic schedule with a Python ``scale_fn``, which
            cannot run in a compiled graph: its values are tabulated for counts
            ``0 .. total_steps - 1`` and the last one holds after (a UserWarning says
            so when the schedule is built). For any other schedule it is accepted and
            changes nothing: values are exact at every count.

    Returns:
        A function of an integer ``count`` (scalar or array) returning float32 values
        of the same shape; counts below 0 read step 0.

    Raises:
        TypeError: if ``s`` is not a cyclr schedule or ``total_steps`` not an integer;
            the returned function raises it for a non-integer ``count``.
        ValueError: for ``total_steps < 1``; None where a ``scale_fn`` needs it; a
            fractional cycle length that is not a multiple of ``2**-20`` steps (such
            as ``step_size=2.3``; 56.15625 is fine); tables above
            ``cyclr.tables.MAX_TABLE_BYTES`` (e.g. a cycle of 2**25 steps), naming
            the argument.

    Examples:
        >>> import cyclr, jax.numpy as jnp, optax
        >>> from cyclr.adapters.optax import schedule
        >>> lr = schedule(cyclr.triangular2(0.0, 1.0, 2))
        >>> optimizer = optax.sgd(learning_rate=lr, momentum=0.9)
        >>> lr(jnp.arange(8)).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25]
    """
    if not isinstance(s, cyclr.Schedule):
        raise TypeError(f"s must be a cyclr schedule, got {s!r}")
    with jax.enable_x64(True):
        # Only the device arrays are kept: the numpy plan is dropped here.
        plan = tables.convert(tables.plan(s, total_steps), jnp.asarray)

    def lookup(count):
        with jax.enable_x64(True):
            return tables.evaluate(plan, _counts(count), _Ops)

    return lookup


from ._range_optax import range_test  # noqa: E402  (the range-test runner, re-exported)

__all__ = ["range_test", "schedule"]
