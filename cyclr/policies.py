"""The constructors users call: one per policy of the paper, plus 1cycle and chains."""

from __future__ import annotations

from typing import Any, Callable

from . import _validate as v
from .schedules import (
    Chain,
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Decay,
    Exponential,
    Linear,
    OneCycle,
    Schedule,
    StepDecay,
)
from .schedules import Anneal, Policy, ScaleFn, ScaleMode, Segment, Shape


def cyclic(base_lr: float, max_lr: float, step_size: float, *,
           step_size_down: float | None = None, policy: Policy = "triangular",
           gamma: float = 1.0, scale_fn: ScaleFn | None = None,
           scale_mode: ScaleMode = "cycle", shape: Shape = "linear") -> Cyclic:
    """A cyclical learning rate, with PyTorch ``CyclicLR``'s meaning of every argument.

    ``lr(i) = base_lr + (max_lr - base_lr) * w * f`` where ``w`` is the window (0 at the
    start of a cycle, 1 at its peak) and ``f`` the policy's amplitude factor:
    1 (``"triangular"``), ``2**-c`` for 0-based cycle ``c`` (``"triangular2"``), or
    ``gamma**i`` (``"exp_range"``). A ``scale_fn`` replaces the policy: it gets the
    1-based cycle number (``scale_mode="cycle"``) or the step (``"iterations"``).
    ``scale_mode`` is only read with a ``scale_fn``: built-in policies fix their own.

    Args:
        base_lr: lower bound, finite and >= 0.
        max_lr: upper bound, finite and >= base_lr.
        step_size: steps in the rising half of a cycle (> 0; may be fractional).
        step_size_down: steps in the falling half; defaults to ``step_size``.
        policy: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: exp_range's factor per step, in (0, 1].
        scale_fn: optional callable replacing the policy's factor.
        scale_mode: ``"cycle"`` or ``"iterations"``: what ``scale_fn`` receives.
        shape: window, ``"linear"`` (triangular), ``"welch"`` (parabolic) or ``"hann"``
            (sinusoidal).

    Returns:
        A :class:`cyclr.Cyclic` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cyclic(0.001, 0.006, 2000, policy="triangular2")
        >>> s(0), s(2000), s(6000)
        (0.001, 0.006, 0.0035)

    References:
        L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    """
    v.choice("scale_mode", scale_mode, ("cycle", "iterations"))
    return Cyclic(base_lr, max_lr, step_size, step_size_down, policy, gamma, scale_fn,
                  scale_mode if scale_fn is not None else _builtin_mode(policy), shape)


def _builtin_mode(policy: str) -> ScaleMode:
    return "iterations" if policy == "exp_range" else "cycle"


def triangular(base_lr: float, max_lr: float, step_size: float, *,
               step_size_down: float | None = None, shape: Shape = "linear") -> Cyclic:
    """The triangular policy: the LR goes linearly (or along ``shape``) from base_lr to
    max_lr over ``step_size`` steps and back, with a constant amplitude.

    Args:
        base_lr, max_lr, step_size, step_size_down, shape: as for :func:`cyclic`.

    Returns:
        A :class:`cyclr.Cyclic` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.triangular(0.001, 0.006, 2000)
        >>> s(0), s(1000), s(2000), s(4000)
        (0.001, 0.0035, 0.006, 0.001)
    """
    return Cyclic(base_lr, max_lr, step_size, step_size_down, "triangular", shape=shape)


def triangular2(base_lr: float, max_lr: float, step_size: float, *,
                step_size_down: float | None = None, shape: Shape = "linear") -> Cyclic:
    """Like :func:`triangular`, but the amplitude halves at the end of every cycle.

    Args:
        base_lr, max_lr, step_size, step_size_down, shape: as for :func:`cyclic`.

    Returns:
        A :class:`cyclr.Cyclic` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.triangular2(0.001, 0.005, 10)
        >>> s(10), s(30), s(50)
        (0.005, 0.003, 0.002)
    """
    return Cyclic(base_lr, max_lr, step_size, step_size_down, "triangular2", shape=shape)


def exp_range(base_lr: float, max_lr: float, step_size: float, *, gamma: float,
              step_size_down: float | None = None, shape: Shape = "linear",
              scale_mode: ScaleMode = "iterations") -> Cyclic:
    """The exp_range policy: the amplitude decays as ``gamma**i`` over all steps ``i``
    (as in the paper, PyTorch and TensorFlow Addons).

    With ``scale_mode="cycle"`` the amplitude is ``gamma**c`` instead, constant within the
    0-based cycle ``c`` (a per-cycle decay).

    Args:
        base_lr, max_lr, step_size, step_size_down, shape: as for :func:`cyclic`.
        gamma: the factor per step (per cycle with ``scale_mode="cycle"``), in (0, 1].
        scale_mode: ``"iterations"`` (the paper's) or ``"cycle"``.

    Returns:
        A :class:`cyclr.Cyclic` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.exp_range(0.0, 1.0, 2, gamma=0.5)
        >>> [s(i) for i in range(5)]
        [0.0, 0.25, 0.25, 0.0625, 0.0]
    """
    return Cyclic(base_lr, max_lr, step_size, step_size_down, "exp_range", gamma,
                  None, scale_mode, shape)


def one_cycle(max_lr: float, total_steps: int, *, pct_start: float = 0.3,
              anneal: Anneal = "cos", div_factor: float = 25.0,
              final_div_factor: float = 1e4, three_phase: bool = False) -> OneCycle:
    """The 1cycle policy, step for step equal to PyTorch's ``OneCycleLR``.

    The LR rises from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then anneals to
    ``max_lr / div_factor / final_div_factor`` (with ``three_phase``, it first comes back
    down to the initial LR symmetrically). From step ``total_steps - 1`` on it holds
    the final LR.

    Tiny runs are accepted as torch accepts them: wherever torch's ``OneCycleLR``
    computes finite, non-negative LRs on steps ``0 .. total_steps - 1`` (including
    ``total_steps`` of 1 or 2, ``pct_start`` of 0 or 1, ``pct_start * total_steps < 1``
    and ``three_phase`` with ``pct_start >= 0.5``) the values equal torch's. When a
    phase then gets no step, or phases overlap, the LR never reaches some of its
    intended points, and a ``UserWarning`` says so.

    Args:
        max_lr: the peak LR, finite and >= 0.
        total_steps: steps in the run, an integer >= 1.
        pct_start: fraction of the run spent rising to ``max_lr``, in [0, 1].
        anneal: ``"cos"`` or ``"linear"``.
        div_factor: the first LR is ``max_lr / div_factor`` (> 0).
        final_div_factor: the last LR is ``max_lr / div_factor / final_div_factor``
            (> 0).
        three_phase: come back down to the first LR symmetrically, then anneal.

    Returns:
        A :class:`cyclr.OneCycle` schedule.

    Raises:
        ValueError: for ``pct_start`` outside [0, 1] (or NaN), and where torch divides
            by zero: when ``pct_start * total_steps == 1`` (in floats), the warm-up
            ends at step 0; the message names pct_start and total_steps. Other
            invalid arguments are named too.
        TypeError: for arguments of the wrong type.

    Examples:
        >>> import cyclr
        >>> s = cyclr.one_cycle(0.1, 100)
        >>> round(s(0), 12), s(29), s(99) == s(10**9)
        (0.004, 0.1, True)
    """
    return OneCycle(max_lr, total_steps, pct_start, anneal, div_factor, final_div_factor,
                    three_phase)


def constant(lr: float) -> Constant:
    """A fixed LR: the paper's "fixed" baseline.

    Args:
        lr: the LR at every step, finite and >= 0.

    Returns:
        A :class:`cyclr.Constant` schedule.

    Raises:
        ValueError, TypeError: for an invalid ``lr``, naming it and the value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.constant(0.01)
        >>> s(0), s(10**12)
        (0.01, 0.01)
    """
    return Constant(lr)


def decay(max_lr: float, base_lr: float, steps: float) -> Decay:
    """The paper's decay baseline: from max_lr linearly down to base_lr at step
    ``steps``, then base_lr (exactly): ``max_lr + (base_lr - max_lr) * i / steps``.

    Args:
        max_lr: the LR at step 0, finite and >= base_lr.
        base_lr: the LR from step ``steps`` on, finite and >= 0.
        steps: the length of the decay, > 0 (may be fractional).

    Returns:
        A :class:`cyclr.Decay` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.decay(1.0, 0.5, 4)
        >>> [s(i) for i in (0, 2, 4, 9)]
        [1.0, 0.75, 0.5, 0.5]
    """
    return Decay(max_lr, base_lr, steps)


def exponential(lr: float, gamma: float) -> Exponential:
    """``lr * gamma**i``: the paper's "exp" baseline.

    Args:
        lr: the LR at step 0, finite and >= 0.
        gamma: the factor per step, in (0, 1].

    Returns:
        A :class:`cyclr.Exponential` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.exponential(1.0, 0.5)
        >>> [s(i) for i in range(4)]
        [1.0, 0.5, 0.25, 0.125]
    """
    return Exponential(lr, gamma)


def step_decay(lr: float, gamma: float, step_size: float) -> StepDecay:
    """``lr * gamma**floor(i / step_size)``: the LR drops by ``gamma`` every
    ``step_size`` steps (PyTorch's ``StepLR`` stepped per batch).

    Args:
        lr: the LR at step 0, finite and >= 0.
        gamma: the factor per drop, in (0, 1].
        step_size: steps between drops, > 0 (may be fractional).

    Returns:
        A :class:`cyclr.StepDecay` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.step_decay(1.0, 0.1, 3)
        >>> [s(i) for i in range(7)]
        [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.010000000000000002]
    """
    return StepDecay(lr, gamma, step_size)


def linear(start_lr: float, end_lr: float, steps: float) -> Linear:
    """A linear anneal from ``start_lr`` to ``end_lr`` over ``steps`` steps, then
    ``end_lr``: ``start_lr + (end_lr - start_lr) * min(i, steps) / steps``.

    Either direction: with ``start_lr < end_lr`` it is a warm-up, e.g.
    ``chain((linear(0.0, peak, w), w), cosine(peak, 0.0, n))`` for warm-up then cosine
    decay.

    Args:
        start_lr: the LR at step 0, finite and >= 0.
        end_lr: the LR from step ``steps`` on (exactly), finite and >= 0.
        steps: the length of the anneal, > 0 (may be fractional).

    Returns:
        A :class:`cyclr.Linear` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.linear(0.0, 1.0, 4)
        >>> [s(i) for i in (0, 1, 2, 4, 100)]
        [0.0, 0.25, 0.5, 1.0, 1.0]
    """
    return Linear(start_lr, end_lr, steps)


def cosine(start_lr: float, end_lr: float, steps: float) -> Cosine:
    """A half-cosine anneal from ``start_lr`` to ``end_lr`` over ``steps`` steps, then
    ``end_lr``: ``end_lr + (start_lr - end_lr) * (1 + cos(pi * min(i, steps) / steps)) / 2``.

    Args:
        start_lr: the LR at step 0, finite and >= 0.
        end_lr: the LR from step ``steps`` on (exactly), finite and >= 0.
        steps: the length of the anneal, > 0 (may be fractional).

    Returns:
        A :class:`cyclr.Cosine` schedule.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine(1.0, 0.0, 4)
        >>> [round(s(i), 6) for i in (0, 1, 2, 4, 100)]
        [1.0, 0.853553, 0.5, 0.0, 0.0]
    """
    return Cosine(start_lr, end_lr, steps)


def cosine_restarts(max_lr: float, first_cycle: float, *, min_lr: float = 0.0,
                    cycle_mult: float = 1.0, amplitude_decay: float = 1.0) -> CosineRestarts:
    """Cosine annealing with warm restarts (SGDR; Loshchilov & Hutter, 2017).

    Cycle ``k`` (0-based) lasts ``T_k = first_cycle * cycle_mult**k`` steps; at offset
    ``t`` into it the LR is
    ``min_lr + (max_lr - min_lr) * amplitude_decay**k * (1 + cos(pi * t / T_k)) / 2``:
    it restarts at ``max_lr`` (times the decayed amplitude) and anneals to ``min_lr``.
    Equal to PyTorch's ``CosineAnnealingWarmRestarts(T_0=first_cycle,
    T_mult=cycle_mult, eta_min=min_lr)`` stepped per batch (whole ``cycle_mult``,
    ``amplitude_decay=1``) and to Keras' ``CosineDecayRestarts``.

    Cycle starts are exact: integer arithmetic for whole ``first_cycle`` and
    ``cycle_mult``; otherwise lengths and starts accumulated in double arithmetic, each
    operation rounded once, a cycle starting at the first whole step at or after its
    real start. The values never leave ``[min_lr, max_lr]``.

    Args:
        max_lr: the LR at the start of the first cycle, finite and >= min_lr.
        first_cycle: steps in the first cycle, > 0 (may be fractional).
        min_lr: the LR each cycle anneals to, finite and >= 0.
        cycle_mult: growth of each cycle's length, >= 1 (may be fractional).
        amplitude_decay: factor on the amplitude per cycle, in (0, 1].

    Returns:
        A :class:`cyclr.CosineRestarts` schedule (with ``momentum_schedule``).

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine_restarts(1.0, 4, cycle_mult=2)
        >>> [round(s(i), 4) for i in range(13)]
        [1.0, 0.8536, 0.5, 0.1464, 1.0, 0.9619, 0.8536, 0.6913, 0.5, 0.3087, 0.1464, 0.0381, 1.0]
        >>> s.cycle_ends(30).tolist()
        [4, 12, 28]

    References:
        I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
        Restarts", ICLR 2017.
    """
    return CosineRestarts(max_lr, first_cycle, min_lr, cycle_mult, amplitude_decay)


def chain(*segments: Segment | list[Segment]) -> Chain:
    """Schedules one after another: ``chain((s1, n1), (s2, n2), s3)``.

    Each segment runs for its number of steps and sees a local step starting at 0; the
    last may be a bare schedule (open-ended). A finite chain holds its last value. This
    is how the paper appends triangular2 runs with different bounds, and how a warm-up
    goes before any schedule.

    Args:
        *segments: ``(schedule, steps)`` pairs (``steps`` an integer >= 1), the last
            one possibly a bare schedule or ``(schedule, None)``; or one list of them.

    Returns:
        A :class:`cyclr.Chain` schedule.

    Raises:
        TypeError, ValueError: for a segment that is not a schedule or a pair, bad step
            counts, an open-ended segment before the last, or chains nested deeper than
            64 levels (or holding more than a million schedules counted per use).

    Examples:
        >>> import cyclr
        >>> s = cyclr.chain((cyclr.constant(0.1), 2), cyclr.triangular(0.0, 1.0, 2))
        >>> [s(i) for i in range(5)]
        [0.1, 0.1, 0.0, 0.5, 1.0]
    """
    parts: Any = segments
    if len(parts) == 1 and isinstance(parts[0], list):
        parts = tuple(parts[0])
    return Chain(parts)


#: What ``cyclr show POLICY`` offers: every constructor users call by name (not
#: ``cyclic``, whose ``scale_fn`` is code, nor ``chain``, which takes schedules). The
#: command reads each one's signature for its options, so a policy added here shows
#: up there with nothing else to change.
POLICIES: dict[str, Callable[..., Schedule]] = {
    "triangular": triangular,
    "triangular2": triangular2,
    "exp_range": exp_range,
    "one_cycle": one_cycle,
    "constant": constant,
    "decay": decay,
    "exponential": exponential,
    "step_decay": step_decay,
    "linear": linear,
    "cosine": cosine,
    "cosine_restarts": cosine_restarts,
}


__all__ = ["POLICIES", "Schedule", "chain", "constant", "cosine", "cosine_restarts", "cyclic",
           "decay", "exp_range", "exponential", "linear", "one_cycle", "step_decay",
           "triangular", "triangular2"]
