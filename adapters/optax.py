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

``cosine_onecycle_schedule``, ``warmup_cosine_decay_schedule`` and ``sgdr_schedule``
take optax's own arguments and follow its conventions, built as cyclr chains of
``cyclr.linear`` and ``cyclr.cosine`` segments, for code moving over from optax.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _require

with _require(__name__, "jax"):
    import jax
    import jax.numpy as jnp
    import optax

import cyclr
from cyclr import tables


def _counts(count: Any) -> jax.Array:
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
    def gather(table: jax.Array, index: jax.Array) -> jax.Array:
        # Tables are below 2**31 entries; int32 indices gather fastest.
        return table[index.astype(jnp.int32)]

    @staticmethod
    def float64(x: Any) -> jax.Array:
        return jnp.asarray(x).astype(jnp.float64)

    @staticmethod
    def float32(x: Any) -> jax.Array:
        return jnp.asarray(x).astype(jnp.float32)


def schedule(s: cyclr.Schedule, total_steps: int | None = None) -> optax.Schedule:
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

    def lookup(count: Any) -> jax.Array:
        with jax.enable_x64(True):
            return tables.evaluate(plan, _counts(count), _Ops)

    return lookup


# -- optax's own schedules, as cyclr chains ----------------------------------------------

def _real(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r:.200}") from None
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {value!r:.200}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def _rate(name: str, value: Any) -> float:
    x = _real(name, value)
    if x < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return x + 0.0


def _positive(name: str, value: Any) -> float:
    x = _real(name, value)
    if not x > 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def _steps(name: str, value: Any, minimum: int) -> int:
    """A whole step count (an int, or a float with a whole value) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer step count, got {value!r:.200}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number of steps, got {value!r}")
    n = int(float(value)) if not isinstance(value, numbers.Integral) else int(value)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return n


def _chain(segments: Sequence[tuple[cyclr.Schedule, int]]) -> cyclr.Schedule:
    """``cyclr.chain`` of ``(schedule, steps)`` pairs, the last one open-ended (each
    anneal holds its end value)."""
    if len(segments) == 1:
        return segments[0][0]
    return cyclr.chain(*segments[:-1], segments[-1][0])


def _onecycle_chain(transition_steps: Any, peak_value: Any, pct_start: Any, div_factor: Any,
                    final_div_factor: Any) -> cyclr.Schedule:
    total = _steps("transition_steps", transition_steps, 1)
    peak = _rate("peak_value", peak_value)
    pct = _real("pct_start", pct_start)
    if not 0.0 <= pct <= 1.0:
        raise ValueError(f"pct_start must be in [0, 1], got {pct_start!r}")
    div = _positive("div_factor", div_factor)
    final_div = _positive("final_div_factor", final_div_factor)
    # optax's boundaries and cumulative values, as it builds them: a dict keyed by
    # step, so pct_start = 1 (both at transition_steps) keeps only the second.
    scales = sorted({int(pct * total): div, total: 1.0 / (div * final_div)}.items())
    segments, at, value = [], 0, peak / div
    for boundary, scale in scales:
        target = value * scale
        if boundary > at:                  # optax never reaches an empty interval
            segments.append((cyclr.cosine(value, target, boundary - at), boundary - at))
        at, value = boundary, target
    return _chain(segments)


def _warmup_cosine_chain(init_value: Any, peak_value: Any, warmup_steps: Any,
                         decay_steps: Any, end_value: Any = 0.0,
                         exponent: Any = 1.0) -> cyclr.Schedule:
    init = _rate("init_value", init_value)
    peak = _rate("peak_value", peak_value)
    end = _rate("end_value", end_value)
    if _real("exponent", exponent) != 1.0:
        raise ValueError(
            f"exponent must be 1, got {exponent!r}: a cosine raised to a power is not "
            f"one of cyclr's anneals")
    warmup = _steps("warmup_steps", warmup_steps, 0)
    decay = _steps("decay_steps", decay_steps, 1)
    if decay <= warmup:
        raise ValueError(
            f"decay_steps must be > warmup_steps (decay_steps counts the warm-up too), "
            f"got warmup_steps={warmup_steps!r}, decay_steps={decay_steps!r}")
    # optax scales its decay by end_value / peak_value, which it takes as 0 when
    # peak_value is 0: the decay is then 0 throughout, whatever end_value.
    cosine = cyclr.cosine(peak, end if peak > 0.0 else 0.0, decay - warmup)
    if warmup == 0:
        return cosine
    return cyclr.chain((cyclr.linear(init, peak, warmup), warmup), cosine)


def _sgdr_chain(cosine_kwargs: Any) -> cyclr.Schedule:
    if isinstance(cosine_kwargs, Mapping) or not hasattr(cosine_kwargs, "__iter__"):
        raise TypeError(f"cosine_kwargs must be an iterable of dicts, got "
                        f"{cosine_kwargs!r:.200}")
    cycles = list(cosine_kwargs)
    if not cycles:
        raise ValueError("cosine_kwargs must hold at least one cycle, got none")
    segments = []
    for k, kwargs in enumerate(cycles):
        if not isinstance(kwargs, Mapping) or "decay_steps" not in kwargs:
            raise TypeError(f"cosine_kwargs[{k}] must be a dict of "
                            f"warmup_cosine_decay_schedule arguments with decay_steps, "
                            f"got {kwargs!r:.200}")
        try:
            cycle = _warmup_cosine_chain(**kwargs)
        except TypeError as exc:
            raise TypeError(f"cosine_kwargs[{k}]: {exc}") from None
        segments.append((cycle, int(kwargs["decay_steps"])))
    return _chain(segments)


def cosine_onecycle_schedule(transition_steps: int, peak_value: float,
                             pct_start: float = 0.3, div_factor: float = 25.0,
                             final_div_factor: float = 1e4) -> optax.Schedule:
    """optax's ``cosine_onecycle_schedule``, same arguments, as a cyclr chain.

    A cosine rise from ``peak_value / div_factor`` to ``peak_value`` over counts
    ``0 .. int(pct_start * transition_steps)``, then a cosine fall to ``peak_value /
    (div_factor * final_div_factor)`` at ``transition_steps``, held after: optax's
    boundaries (``int(pct_start * transition_steps)``, not torch's ``OneCycleLR``
    phase ends), each phase ``cyclr.cosine``. It equals optax's function within
    float32 rounding (optax computes in float32 unless x64 is on) at every count, and
    the float32 values of its chain exactly.

    Where it differs from optax: ``pct_start`` must lie in ``[0, 1]``, ``peak_value``
    be finite and >= 0, ``div_factor`` and ``final_div_factor`` be > 0 (optax's
    arithmetic goes astray or divides by zero otherwise); counts must be integers;
    a run of more than about 16 million counts is refused by the table budget
    (``cyclr.tables.MAX_TABLE_BYTES``). As in optax, ``pct_start=1`` gives a single
    fall from the initial value (its two boundaries coincide and optax keeps the
    last); ``int(pct_start * transition_steps) == 0`` starts at the peak.

    Args:
        transition_steps: counts until the final value, an integer >= 1.
        peak_value: the LR at ``int(pct_start * transition_steps)``.
        pct_start: the fraction of ``transition_steps`` spent rising.
        div_factor: the initial value is ``peak_value / div_factor``.
        final_div_factor: the final value is the initial one / ``final_div_factor``.

    Returns:
        A jit/vmap-safe function of an integer count, as :func:`schedule` returns.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import jax.numpy as jnp
        >>> from cyclr.adapters.optax import cosine_onecycle_schedule
        >>> lr = cosine_onecycle_schedule(10, 1.0, pct_start=0.2, div_factor=4.0)
        >>> [round(float(v), 3) for v in lr(jnp.arange(0, 12, 2))]
        [0.25, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    return schedule(_onecycle_chain(transition_steps, peak_value, pct_start, div_factor,
                                    final_div_factor))


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> optax.Schedule:
    """optax's ``warmup_cosine_decay_schedule``, same arguments, as a cyclr chain:
    ``chain((linear(init_value, peak_value, warmup_steps), warmup_steps),
    cosine(peak_value, end_value, decay_steps - warmup_steps))``.

    As in optax, ``decay_steps`` counts the warm-up too, the decay ends at count
    ``decay_steps`` and ``end_value`` holds after. It equals optax's function within
    float32 rounding at every count, and the float32 values of its chain exactly.

    Edge cases, as optax computes them: ``warmup_steps=0`` is a cosine decay from
    ``peak_value`` (``init_value`` unused); ``peak_value=0`` decays to 0 whatever
    ``end_value`` (optax scales by ``end_value / peak_value``, taken as 0 there);
    ``end_value > peak_value`` rises along the half cosine. Like optax it refuses
    ``decay_steps <= warmup_steps``. Where it differs: ``exponent`` must be 1 (a
    cosine to a power is no cyclr anneal); values must be finite and >= 0, step
    counts whole numbers (``warmup_steps >= 0``) and counts integers; a run of more
    than about 16 million counts is refused by the table budget.

    Args:
        init_value: the LR at count 0.
        peak_value: the LR at the end of the warm-up.
        warmup_steps: counts of the linear warm-up, an integer >= 0.
        decay_steps: counts of warm-up and decay together, > ``warmup_steps``.
        end_value: the LR from count ``decay_steps`` on.
        exponent: must be 1.

    Returns:
        A jit/vmap-safe function of an integer count, as :func:`schedule` returns.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import jax.numpy as jnp
        >>> from cyclr.adapters.optax import warmup_cosine_decay_schedule
        >>> lr = warmup_cosine_decay_schedule(0.0, 1.0, 2, 6, end_value=0.5)
        >>> lr(jnp.arange(8)).tolist()
        [0.0, 0.5, 1.0, 0.9267767071723938, 0.75, 0.5732232928276062, 0.5, 0.5]
    """
    return schedule(_warmup_cosine_chain(init_value, peak_value, warmup_steps,
                                         decay_steps, end_value, exponent))


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> optax.Schedule:
    """optax's ``sgdr_schedule``: warm-up + cosine decay cycles back to back, each
    ``warmup_cosine_decay_schedule(**kwargs)`` for one dict of ``cosine_kwargs``,
    lasting its ``decay_steps`` counts; the last holds its ``end_value`` after.

    A cyclr chain of the cycles' chains; it equals optax's function within float32
    rounding at every count. Each cycle takes and refuses what
    :func:`warmup_cosine_decay_schedule` does; an empty ``cosine_kwargs`` is refused
    (optax's function fails when called).

    Args:
        cosine_kwargs: an iterable of dicts of ``warmup_cosine_decay_schedule``
            arguments (``decay_steps`` required).

    Returns:
        A jit/vmap-safe function of an integer count, as :func:`schedule` returns.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the cycle and argument.

    Examples:
        >>> import jax.numpy as jnp
        >>> from cyclr.adapters.optax import sgdr_schedule
        >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=3)
        >>> sgdr_schedule([cycle, cycle])(jnp.arange(7)).tolist()
        [0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0]
    """
    return schedule(_sgdr_chain(cosine_kwargs))


from ._range_optax import range_test  # noqa: E402  (the range-test runner, re-exported)

__all__ = ["cosine_onecycle_schedule", "range_test", "schedule", "sgdr_schedule",
           "warmup_cosine_decay_schedule"]
