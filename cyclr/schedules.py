"""Schedule objects: immutable, picklable values that compute an LR (or momentum) per step.

Every class here only validates and describes; the numbers come from the C kernels in
``cyclr._core`` (``Kernel``), which each schedule is an instance of.

References:
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017.
    L. N. Smith, "Super-Convergence" (2018) and "A disciplined approach to neural network
    hyper-parameters" (2018), for 1cycle and cyclical momentum.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable, Literal, SupportsIndex, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _validate as v
from ._core import Kernel
from ._forms import Cycles, Form, GrowingCycles, Settles, UserFactor
from ._functions import function_path

#: The window shapes, policies, scale modes and 1cycle anneals, as type hints.
Shape = Literal["linear", "welch", "hann"]
Policy = Literal["triangular", "triangular2", "exp_range"]
ScaleMode = Literal["cycle", "iterations"]
Anneal = Literal["cos", "linear"]
#: A user amplitude factor: of the 1-based cycle number or of the step, in [0, 1].
ScaleFn = Callable[[int], float]
#: A chain segment: a schedule, or a (schedule, steps) pair (steps None: open-ended).
Segment = Union["Schedule", Tuple["Schedule", Union[int, None]]]

#: Cycle-end steps, as a class computes them (a list or an int64 array).
Ends = Union[list, npt.NDArray[np.int64]]

#: The version of the ``to_dict`` format (``cyclr.from_dict`` reads only this one).
FORMAT_VERSION = 1


class Field:
    """The kinds of constructor parameter a schedule class declares in ``fields``:
    ``to_dict`` writes and ``from_dict`` checks each parameter by its kind."""

    NUMBER = "number"
    OPT_NUMBER = "number or null"
    STR = "string"
    BOOL = "bool"
    INT = "int"
    SCALE_FN = "scale_fn"          # a function, saved as "module:qualname" (or null)
    SCHEDULE = "schedule"          # a nested schedule description
    SEGMENTS = "segments"          # a chain's [{"schedule": ..., "steps": int | null}]

_SHAPES = ("linear", "welch", "hann")
_POLICIES = ("triangular", "triangular2", "exp_range")
_SCALE_MODES = ("cycle", "iterations")
_ANNEALS = ("cos", "linear")


def _rebuild(cls, params):
    return cls(**dict(params))


def _fmt(value) -> str:
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__
    return repr(value)


class Schedule(Kernel):
    """A schedule: ``s(i)`` is the value used for optimizer update number ``i + 1``.

    Schedules are immutable, compare and hash by value, pickle, and are safe to share
    across threads. Build them with the constructors (``cyclr.triangular`` ...).
    """

    __slots__ = ("_params", "_hash")
    _params: tuple[tuple[str, Any], ...]
    _hash: int | None

    #: The ``"type"`` of this class's descriptions, and the kind of each constructor
    #: parameter (its ``params``, in order). A subclass that sets ``type_name`` is
    #: registered in ``registry``, which ``cyclr.from_dict`` reads.
    type_name: str | None = None
    fields: dict = {}
    registry: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("type_name"):
            if cls.type_name in Schedule.registry:
                raise TypeError(f"schedule type {cls.type_name!r} is already registered "
                                f"by {Schedule.registry[cls.type_name].__name__}")
            Schedule.registry[cls.type_name] = cls

    def _freeze(self, **params) -> None:
        object.__setattr__(self, "_params", tuple(params.items()))
        object.__setattr__(self, "_hash", None)

    @property
    def params(self) -> dict[str, Any]:
        """The canonical constructor arguments, as a new dict."""
        return dict(self._params)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        if self is other:
            return True
        # Hashes are cached, so unequal schedules (chains sharing sub-chains included)
        # are told apart without walking their parameters again.
        return hash(self) == hash(other) and self._params == other._params

    def __hash__(self):
        # Cached: a chain that reuses a sub-chain hashes each distinct node once.
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((type(self).__name__, self._params)))
        return self._hash

    def __reduce__(self):
        return _rebuild, (type(self), self._params)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def _call_repr(self, name: str, positional: tuple, defaults: dict) -> str:
        params = self.params
        parts = [_fmt(params[k]) for k in positional]
        parts += [f"{k}={_fmt(params[k])}" for k in defaults if params[k] != defaults[k]]
        return f"{name}({', '.join(parts)})"

    def array(self, n: SupportsIndex, *, start: SupportsIndex = 0,
              dtype: npt.DTypeLike | None = None,
              out: npt.NDArray[np.floating] | None = None) -> npt.NDArray[np.floating]:
        """Values at steps ``start .. start + n - 1``.

        Args:
            n: number of steps, an integer >= 0.
            start: first step, an integer >= 0.
            dtype: ``numpy.float64`` (default) or ``numpy.float32``; float32 values are
                the float64 values rounded once.
            out: optional C-contiguous, writeable 1-D array of length ``n`` to fill;
                its dtype is used when ``dtype`` is not given.

        Returns:
            The filled array (``out`` when given).

        Raises:
            TypeError, ValueError: for a bad ``n``, ``start``, ``dtype`` or ``out``.

        Examples:
            >>> import cyclr
            >>> cyclr.triangular(0.0, 1.0, 2).array(5).tolist()
            [0.0, 0.5, 1.0, 0.5, 0.0]
        """
        n = v.count("n", n)
        start = v.count("start", start)
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"dtype must be float64 or float32, got {dtype!r}") from None
            if dtype not in (np.float64, np.float32):
                raise TypeError(f"dtype must be float64 or float32, got {dtype}")
        if out is None:
            dtype = np.dtype(np.float64) if dtype is None else dtype
            if n > np.iinfo(np.intp).max // dtype.itemsize:
                raise MemoryError(f"n={n} values of {dtype} exceed the address space")
            out = np.empty(n, dtype=dtype)
        else:
            if not isinstance(out, np.ndarray):
                raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
            if dtype is not None and out.dtype != dtype:
                raise TypeError(f"out has dtype {out.dtype}, but dtype={dtype} was asked for")
            if out.shape != (n,):
                raise ValueError(f"out must have shape ({n},), got {out.shape}")
        self._fill(out, start)
        if out.dtype == np.float32 and self._peak() > _FLOAT32_MAX and np.isinf(out).any():
            raise ValueError(
                f"{self!r} has values above the float32 maximum ({_FLOAT32_MAX:.6g}), "
                f"which would read as inf; use dtype=numpy.float64 (out was written)")
        return out

    def _peak(self) -> float:
        """An upper bound of the schedule's values (each class knows its own)."""
        raise NotImplementedError

    def momentum_schedule(self, base_momentum: float, max_momentum: float) -> Schedule:
        """A momentum schedule that cycles inversely to this LR schedule (high momentum
        where the LR is low), as PyTorch's ``CyclicLR``/``OneCycleLR`` do.

        Defined for the schedules that cycle (cyclic, 1cycle, warm restarts) and chains
        of them; each class says how its momentum runs (``_setup_momentum``).

        Args:
            base_momentum: the momentum at the LR's peak, finite and >= 0.
            max_momentum: the momentum at the LR's low, >= base_momentum.

        Raises:
            TypeError: for a schedule without cycles (constant, decay, ...).
            ValueError: for invalid bounds, naming them.

        Examples:
            >>> import cyclr
            >>> m = cyclr.triangular(0.0, 1.0, 2).momentum_schedule(0.8, 0.9)
            >>> [m(i) for i in range(5)]
            [0.9, 0.8500000000000001, 0.8, 0.8500000000000001, 0.9]
        """
        if getattr(type(self), "_setup_momentum", None) is None:
            raise TypeError(
                f"momentum_schedule is defined for cyclic, one_cycle and cosine_restarts "
                f"schedules and chains of them, not for {type(self).__name__}")
        return Momentum(self, base_momentum, max_momentum)

    def cycle_ends(self, total_steps: SupportsIndex) -> npt.NDArray[np.int64]:
        """The steps ``i <= total_steps`` at which a cycle, or the whole run, ends:
        after that many updates the LR is back at its low point, the places the paper
        advises to stop training (or to take a snapshot).

        A cyclic schedule ends a cycle every ``cycle_length`` steps (for a fractional
        cycle length, at the first whole step at or after each end); a 1cycle run or a
        decay ends once; a chain ends where its segments' cycles end and, if it is
        finite, where it ends; a schedule with no cycles (constant, exponential,
        step decay) has none.

        Args:
            total_steps: the run length, an integer >= 0.

        Returns:
            Strictly increasing int64 steps, all in ``1 .. total_steps``.

        Raises:
            TypeError, ValueError: for a bad ``total_steps``, or when the answer would
                hold more than ``MAX_CYCLE_ENDS`` steps.

        Examples:
            >>> import cyclr
            >>> cyclr.triangular(0.0, 1.0, 2).cycle_ends(10).tolist()
            [4, 8]
            >>> cyclr.one_cycle(0.1, 100).cycle_ends(1000).tolist()
            [100]
        """
        total_steps = v.count("total_steps", total_steps)
        return _ends_array(self._ends(total_steps))

    def _ends(self, total_steps: int) -> Ends:
        """Sorted, distinct cycle-end steps in ``1 .. total_steps`` (each class says
        where its cycles end; by default there are none)."""
        return []

    #: Whether the schedule runs in cycles (cyclic policies, 1cycle, warm restarts, and
    #: their momentum; a chain when any segment does).
    is_cyclical: bool = False

    def lookup_form(self) -> Form:
        """How the schedule behaves over time, for adapters that look values up in a
        compiled graph (``cyclr.tables``): it settles, repeats a cycle, or calls a
        Python ``scale_fn``. Each class describes itself.

        Raises:
            ValueError: for a schedule with no such description (a chain is planned
                segment by segment instead).
        """
        raise ValueError(f"no lookup plan is known for {type(self).__name__} schedules "
                         f"({self!r})")

    def natural_length(self) -> int | None:
        """How many steps the schedule takes to settle: from step
        ``natural_length() - 1`` on it holds its value. None for a schedule that
        changes forever (cyclic, exponential, step decay, an open-ended chain ending
        in one).

        Examples:
            >>> import cyclr
            >>> cyclr.one_cycle(0.1, 100).natural_length(), cyclr.constant(0.1).natural_length()
            (100, 1)
            >>> cyclr.triangular(0.0, 1.0, 2).natural_length() is None
            True
        """
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description; ``cyclr.from_dict`` turns it back into an equal
        schedule: ``"version"``, ``"type"``, then each constructor parameter, written
        by the kind its class declares in ``fields``.

        Raises:
            ValueError: for a ``scale_fn`` that is not a module-level function (it
                cannot be named for import).

        Examples:
            >>> import cyclr
            >>> cyclr.triangular(0.0, 1.0, 2).to_dict()["type"]
            'cyclic'
        """
        out = {"version": FORMAT_VERSION, "type": self.type_name}
        for key, value in self._params:
            kind = self.fields[key]
            if kind == Field.SCHEDULE:
                value = value.to_dict()
            elif kind == Field.SEGMENTS:
                value = [{"schedule": s.to_dict(), "steps": n} for s, n in value]
            elif kind == Field.SCALE_FN and value is not None:
                value = function_path(value)
            out[key] = value
        return out


#: The most steps ``cycle_ends`` returns (1 GiB of int64): a longer answer is a mistake.
MAX_CYCLE_ENDS = 2**27


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _ends_array(ends) -> np.ndarray:
    if isinstance(ends, np.ndarray):
        return ends.astype(np.int64, copy=False)
    return np.array(ends, dtype=np.int64).reshape(-1)


def _check_ends(count: int, total_steps: int) -> None:
    if count > MAX_CYCLE_ENDS:
        raise ValueError(
            f"cycle_ends(total_steps={total_steps!r}) would return {count} steps, more than "
            f"{MAX_CYCLE_ENDS}; ask for a shorter run")


def _periodic_ends(length, total_steps: int) -> np.ndarray:
    """``ceil(k * length)`` for ``k = 1, 2, ...`` up to ``total_steps``, deduplicated,
    in exact integer arithmetic (``length`` is an int or a float, which is a fraction
    ``p / q`` with ``q`` a power of two)."""
    p, q = (length, 1) if isinstance(length, int) else float(length).as_integer_ratio()
    if p <= q:
        # A cycle ends within every step (length <= 1): every step is an end.
        _check_ends(total_steps, total_steps)
        return np.arange(1, total_steps + 1, dtype=np.int64)
    cycles = total_steps * q // p            # cycles that end at or before total_steps
    _check_ends(cycles, total_steps)
    # ceil(k * p / q) is strictly increasing in k for p > q; exact in int64 while
    # k * p stays below 2**63, else in Python integers.
    if cycles * p + q < 2**63:
        k = np.arange(1, cycles + 1, dtype=np.int64)
        return (k * p + (q - 1)) // q
    return np.array([(k * p + q - 1) // q for k in range(1, cycles + 1)], dtype=np.int64)


def _momentum_bounds(base_momentum, max_momentum):
    base = v.rate("base_momentum", base_momentum)
    top = v.rate("max_momentum", max_momentum)
    v.ordered("base_momentum", base, "max_momentum", top)
    return base, top


_ENVELOPES = {
    ("triangular", "cycle"): "flat",
    ("triangular2", "cycle"): "halving",
    ("exp_range", "iterations"): "gamma_steps",
    ("exp_range", "cycle"): "gamma_cycles",
    ("custom", "cycle"): "user_cycles",
    ("custom", "iterations"): "user_steps",
}


def _setup_cyclic_kernel(kernel, p, low, high, inverted):
    """Set up ``kernel`` with the cycle of Cyclic parameters ``p`` between low and high."""
    down = p["step_size"] if p["step_size_down"] is None else p["step_size_down"]
    kernel._setup_cyclic(low=low, high=high, step_size=p["step_size"], step_size_down=down,
                         shape=p["shape"], envelope=_ENVELOPES[p["policy"], p["scale_mode"]],
                         gamma=p["gamma"], scale_fn=p["scale_fn"], inverted=inverted)


class Cyclic(Schedule):
    """Smith's cyclical LR: ``base_lr + (max_lr - base_lr) * w(u) * f``.

    ``u`` rises 0 -> 1 over ``step_size`` steps and falls back over ``step_size_down``
    (default ``step_size``); ``w`` is the window ``shape`` (linear = triangular, welch =
    parabolic, hann = sinusoidal); ``f`` is the amplitude factor of the ``policy``.
    Build it with ``triangular``, ``triangular2``, ``exp_range`` or ``cyclic``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.triangular(0.0, 1.0, 2)
        >>> isinstance(s, cyclr.Cyclic), [s(i) for i in range(4)]
        (True, [0.0, 0.5, 1.0, 0.5])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "cyclic"
    fields = {"base_lr": Field.NUMBER, "max_lr": Field.NUMBER, "step_size": Field.NUMBER,
              "step_size_down": Field.OPT_NUMBER, "policy": Field.STR, "gamma": Field.NUMBER,
              "scale_fn": Field.SCALE_FN, "scale_mode": Field.STR, "shape": Field.STR}

    def __init__(self, base_lr: float, max_lr: float, step_size: float,
                 step_size_down: float | None = None, policy: str = "triangular",
                 gamma: float = 1.0, scale_fn: ScaleFn | None = None,
                 scale_mode: str = "cycle", shape: str = "linear") -> None:
        base_lr = v.rate("base_lr", base_lr)
        max_lr = v.rate("max_lr", max_lr)
        v.ordered("base_lr", base_lr, "max_lr", max_lr)
        step_size = v.span("step_size", step_size)
        if step_size_down is not None:
            step_size_down = v.span("step_size_down", step_size_down)
            if step_size_down == step_size:
                step_size_down = None
        shape = v.choice("shape", shape, _SHAPES)
        scale_mode = v.choice("scale_mode", scale_mode, _SCALE_MODES)
        gamma = v.gamma("gamma", gamma)
        if scale_fn is not None:
            if not callable(scale_fn):
                raise TypeError(f"scale_fn must be callable, got {scale_fn!r}")
            policy = "custom"
        else:
            policy = v.choice("policy", policy, _POLICIES)
        if policy != "exp_range":
            gamma = 1.0
        if policy in ("triangular", "triangular2"):
            scale_mode = "cycle"
        self._freeze(base_lr=base_lr, max_lr=max_lr, step_size=step_size,
                     step_size_down=step_size_down, policy=policy, gamma=gamma,
                     scale_fn=scale_fn, scale_mode=scale_mode, shape=shape)
        _setup_cyclic_kernel(self, self.params, base_lr, max_lr, inverted=False)

    @property
    def cycle_length(self) -> int | float:
        """Steps in one full cycle: ``step_size + step_size_down``."""
        p = self.params
        return p["step_size"] + (p["step_size_down"] or p["step_size"])

    def num_cycles(self, total_steps: SupportsIndex) -> float:
        """How many cycles a run of ``total_steps`` updates spans (may be fractional)."""
        return v.count("total_steps", total_steps) / self.cycle_length

    def steps_for_cycles(self, cycles: SupportsIndex) -> int:
        """Updates in ``cycles`` whole cycles: a run of that length stops at the end of a
        cycle, with the LR back at ``base_lr``, as the paper advises.

        Raises:
            TypeError, ValueError: for a bad ``cycles``, or when the run would be longer
                than 2**63 - 1 steps.
        """
        cycles = v.count("cycles", cycles)
        length = self.cycle_length
        p, q = (length, 1) if isinstance(length, int) else float(length).as_integer_ratio()
        steps = -(-cycles * p // q)              # ceil, exactly
        if steps > 2**63 - 1:
            raise ValueError(
                f"cycles={cycles!r} of {length!r} steps is more than 2**63 - 1 steps")
        return steps

    def _ends(self, total_steps: int) -> Ends:
        return _periodic_ends(self.cycle_length, total_steps)

    def _peak(self) -> float:
        return self.params["max_lr"]

    @property
    def envelope(self) -> str:
        """The form of the amplitude factor ``f``: ``"flat"`` (triangular),
        ``"halving"`` (triangular2, ``2**-c``), ``"gamma_steps"`` (exp_range,
        ``gamma**i``), ``"gamma_cycles"`` (exp_range per cycle, ``gamma**c``),
        ``"user_cycles"`` / ``"user_steps"`` (a ``scale_fn`` of the cycle or step)."""
        p = self.params
        return _ENVELOPES[p["policy"], p["scale_mode"]]

    def _setup_momentum(self, kernel, base, top) -> None:
        _setup_cyclic_kernel(kernel, self.params, base, top, inverted=True)

    def lookup_form(self) -> Form:
        p = self.params
        return self._cycles_form(p["base_lr"], p["max_lr"], False, "max_lr")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self._cycles_form(base, top, True, "max_momentum")

    def _cycles_form(self, low, high, inverted, high_name) -> Form:
        p = self.params
        if p["policy"] == "custom":
            return UserFactor(p["scale_fn"])
        up = p["step_size"]
        down = up if p["step_size_down"] is None else p["step_size_down"]
        why = f"step_size={up!r}" + ("" if p["step_size_down"] is None
                                     else f", step_size_down={down!r}")
        shape = p["shape"]

        def window(ticks, lo, hi):
            # Time scaled by a power of two is exact: t / (up * T) == (t / T) / up.
            return Cyclic(lo, hi, up * ticks, down * ticks, shape=shape)

        return Cycles(self.cycle_length, window, None, low, high, inverted, self.envelope,
                      p["gamma"], why, high_name)

    def __repr__(self):
        p = self.params
        extra = {"step_size_down": None, "shape": "linear"}
        positional = ("base_lr", "max_lr", "step_size")
        if p["policy"] == "custom":
            return self._call_repr("cyclic", positional,
                                   {**extra, "scale_fn": None, "scale_mode": "cycle"})
        if p["policy"] == "exp_range":
            return self._call_repr("exp_range", positional,
                                   {"gamma": None, **extra, "scale_mode": "iterations"})
        return self._call_repr(p["policy"], positional, extra)


class OneCycle(Schedule):
    """The 1cycle policy with PyTorch ``OneCycleLR``'s arithmetic and defaults; holds its
    final value from step ``total_steps - 1`` on. Build it with ``one_cycle``.

    Tiny runs are accepted wherever torch computes finite, non-negative values on steps
    ``0 .. total_steps - 1``, and equal torch's there; a phase that gets no step then
    draws a warning.

    Examples:
        >>> import cyclr
        >>> s = cyclr.one_cycle(0.1, 100)
        >>> isinstance(s, cyclr.OneCycle), [s(i) for i in range(4)]
        (True, [0.0040000000000000036, 0.004281378056590748, 0.00512221332591585, 0.006512647783225481])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "one_cycle"
    fields = {"max_lr": Field.NUMBER, "total_steps": Field.INT, "pct_start": Field.NUMBER,
              "anneal": Field.STR, "div_factor": Field.NUMBER,
              "final_div_factor": Field.NUMBER, "three_phase": Field.BOOL}

    def __init__(self, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal: str = "cos", div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False) -> None:
        max_lr = v.rate("max_lr", max_lr)
        total_steps = v.count("total_steps", total_steps, minimum=1)
        pct = v.real("pct_start", pct_start)
        if not 0.0 <= pct <= 1.0:       # NaN too: torch would compute NaN LRs from it
            raise ValueError(f"pct_start must be in [0, 1], got pct_start={pct_start!r} "
                             f"(total_steps={total_steps!r})")
        pct_start = pct + 0.0           # -0.0 becomes 0.0, as for the rates
        anneal = v.choice("anneal", anneal, _ANNEALS)
        div_factor = v.positive("div_factor", div_factor)
        final_div_factor = v.positive("final_div_factor", final_div_factor)
        if not isinstance(three_phase, (bool, np.bool_)):
            raise TypeError(f"three_phase must be a bool, got {three_phase!r}")
        three_phase = bool(three_phase)
        self._freeze(max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                     anneal=anneal, div_factor=div_factor,
                     final_div_factor=final_div_factor, three_phase=three_phase)
        ends = self._phase_ends()
        self._check_phases(ends)
        initial = max_lr / div_factor
        low = initial / final_div_factor
        if not math.isfinite(initial):
            raise ValueError(f"max_lr / div_factor must be finite, got max_lr={max_lr!r}, "
                             f"div_factor={div_factor!r}")
        if not math.isfinite(low) or not math.isfinite(max_lr - low):
            raise ValueError(f"the final LR max_lr / div_factor / final_div_factor must be "
                             f"finite, got final_div_factor={final_div_factor!r}")
        if three_phase:
            self._setup_one_cycle(ends=ends, starts=[initial, max_lr, initial],
                                  stops=[max_lr, initial, low], anneal=anneal,
                                  last_step=total_steps - 1)
        else:
            self._setup_one_cycle(ends=ends, starts=[initial, max_lr], stops=[max_lr, low],
                                  anneal=anneal, last_step=total_steps - 1)

    def _phase_ends(self) -> list:
        # PyTorch OneCycleLR's phase end steps, computed the same way.
        p = self.params
        first = float(p["pct_start"] * p["total_steps"]) - 1
        if p["three_phase"]:
            return [first, float(2 * p["pct_start"] * p["total_steps"]) - 2,
                    float(p["total_steps"] - 1)]
        return [first, float(p["total_steps"] - 1)]

    def _check_phases(self, ends: list) -> None:
        """Refuse the phase ends where torch's OneCycleLR divides by zero; warn when a
        phase gets no step.

        torch evaluates step ``x`` in the first phase ``k`` with ``x <= ends[k]`` (or the
        last), at ``pct = (x - start) / (ends[k] - start)`` where ``start`` is the previous
        phase's end (0.0 for the first). So phase ``k`` holds the whole steps ``x`` in
        ``0 .. total_steps - 1`` with ``max(ends[:k]) < x <= ends[k]``; for ``k > 0`` such
        an ``x`` has ``start <= max(ends[:k]) < x <= ends[k]``, hence a positive divisor
        and ``pct`` in (0, 1]. The first phase holds ``0 <= x <= ends[0]``: its divisor
        ``ends[0]`` is zero exactly when ``pct_start * total_steps == 1`` in floats, and
        step 0 then divides by zero. Everywhere else ``pct`` stays in [0, 1], so every LR
        lies between two non-negative phase bounds: finite and non-negative.
        """
        p = self.params
        total, last = p["total_steps"], len(ends) - 1
        empty = []
        for k, end in enumerate(ends):
            low = 0 if k == 0 else max(0, math.floor(max(ends[:k])) + 1)
            high = total - 1 if k == last else min(total - 1, math.floor(end))
            if low > high:
                empty.append(k)
            elif not end - (0.0 if k == 0 else ends[k - 1]) > 0.0:
                raise ValueError(
                    f"pct_start={p['pct_start']!r} with total_steps={total!r} puts the "
                    f"end of phase {k + 1} at step {end!r}, where torch's OneCycleLR "
                    f"divides by zero; use another pct_start or total_steps")
        if empty:
            names = (["warm-up", "cool-down", "final annealing"] if p["three_phase"]
                     else ["warm-up", "annealing"])
            warnings.warn(
                f"one_cycle: pct_start={p['pct_start']!r} with total_steps={total!r} gives "
                f"the {' and '.join(names[k] for k in empty)} phase no step (phase ends "
                f"{ends}), so the LR never reaches its intended points; the values are "
                f"torch OneCycleLR's for this configuration", UserWarning, stacklevel=4)

    def _peak(self) -> float:
        p = self.params
        return max(p["max_lr"], p["max_lr"] / p["div_factor"])

    def natural_length(self) -> int:
        return self.params["total_steps"]

    def lookup_form(self) -> Form:
        total = self.params["total_steps"]
        return Settles(total, f"one_cycle total_steps={total!r}")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self.lookup_form()

    def _setup_momentum(self, kernel, base, top) -> None:
        p = self.params
        if p["three_phase"]:
            starts, stops = [top, base, top], [base, top, top]
        else:
            starts, stops = [top, base], [base, top]
        kernel._setup_one_cycle(ends=self._phase_ends(), starts=starts, stops=stops,
                                anneal=p["anneal"], last_step=p["total_steps"] - 1)

    def _ends(self, total_steps: int) -> Ends:
        # The run ends after total_steps updates.
        end = self.params["total_steps"]
        return [end] if end <= total_steps else []

    def __repr__(self):
        return self._call_repr(
            "one_cycle", ("max_lr", "total_steps"),
            {"pct_start": 0.3, "anneal": "cos", "div_factor": 25.0,
             "final_div_factor": 1e4, "three_phase": False})


class Momentum(Schedule):
    """Momentum cycled inversely to a cyclic or 1cycle LR schedule: ``max_momentum`` where
    the LR is at its low, ``base_momentum`` at its peak. Build it with
    ``schedule.momentum_schedule(base_momentum, max_momentum)``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95)
        >>> isinstance(s, cyclr.Momentum), [s(i) for i in range(4)]
        (True, [0.95, 0.9497068978577179, 0.9488310277855043, 0.9473826585591401])
    """

    __slots__ = ()
    is_cyclical = True        # only cycling schedules have a momentum schedule
    type_name = "momentum"
    fields = {"schedule": Field.SCHEDULE, "base_momentum": Field.NUMBER,
              "max_momentum": Field.NUMBER}

    def __init__(self, schedule: Schedule, base_momentum: float, max_momentum: float) -> None:
        setup = getattr(type(schedule), "_setup_momentum", None)
        if not isinstance(schedule, Schedule) or setup is None:
            raise TypeError(f"schedule must be a cyclic, one_cycle or cosine_restarts "
                            f"schedule, got {schedule!r}")
        base, top = _momentum_bounds(base_momentum, max_momentum)
        self._freeze(schedule=schedule, base_momentum=base, max_momentum=top)
        setup(schedule, self, base, top)

    def _ends(self, total_steps: int) -> Ends:
        return self.params["schedule"]._ends(total_steps)

    def natural_length(self) -> int | None:
        return self.params["schedule"].natural_length()

    def lookup_form(self) -> Form:
        p = self.params
        return p["schedule"]._momentum_form(p["base_momentum"], p["max_momentum"])

    def _peak(self) -> float:
        return self.params["max_momentum"]

    def __repr__(self):
        p = self.params
        return (f"{p['schedule']!r}.momentum_schedule("
                f"{p['base_momentum']!r}, {p['max_momentum']!r})")


class Constant(Schedule):
    """A fixed LR (the paper's "fixed" baseline). Build it with ``constant``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.constant(0.1)
        >>> isinstance(s, cyclr.Constant), [s(i) for i in range(4)]
        (True, [0.1, 0.1, 0.1, 0.1])
    """

    __slots__ = ()
    type_name = "constant"
    fields = {"lr": Field.NUMBER}

    def __init__(self, lr: float) -> None:
        lr = v.rate("lr", lr)
        self._freeze(lr=lr)
        self._setup_constant(lr=lr)

    def _peak(self) -> float:
        return self.params["lr"]

    def natural_length(self) -> int:
        return 1

    def lookup_form(self) -> Form:
        return Settles(1, "constant")

    def __repr__(self):
        return self._call_repr("constant", ("lr",), {})


class Decay(Schedule):
    """The paper's "decay" baseline: linear from ``max_lr`` to ``base_lr`` over ``steps``
    steps, then ``base_lr``. Build it with ``decay``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.decay(1.0, 0.5, 2)
        >>> isinstance(s, cyclr.Decay), [s(i) for i in range(4)]
        (True, [1.0, 0.75, 0.5, 0.5])
    """

    __slots__ = ()
    type_name = "decay"
    fields = {"max_lr": Field.NUMBER, "base_lr": Field.NUMBER, "steps": Field.NUMBER}

    def __init__(self, max_lr: float, base_lr: float, steps: float) -> None:
        max_lr = v.rate("max_lr", max_lr)
        base_lr = v.rate("base_lr", base_lr)
        v.ordered("base_lr", base_lr, "max_lr", max_lr)
        steps = v.span("steps", steps)
        if not math.isfinite((base_lr - max_lr) * float(steps)):
            raise ValueError(
                f"(base_lr - max_lr) * steps must be finite, got base_lr={base_lr!r}, "
                f"max_lr={max_lr!r}, steps={steps!r}")
        self._freeze(max_lr=max_lr, base_lr=base_lr, steps=steps)
        self._setup_ramp(start=max_lr, end=base_lr, steps=steps, how="linear")

    def _peak(self) -> float:
        return self.params["max_lr"]

    def natural_length(self) -> int:
        # Linear until step ``steps``, base_lr from the first whole step at or after it.
        return math.ceil(self.params["steps"]) + 1

    def lookup_form(self) -> Form:
        return Settles(self.natural_length(), f"decay steps={self.params['steps']!r}")

    def _ends(self, total_steps: int) -> Ends:
        # The decay reaches base_lr at step ``steps`` (the first whole step at or after).
        end = math.ceil(self.params["steps"])
        return [end] if end <= total_steps else []

    def __repr__(self):
        return self._call_repr("decay", ("max_lr", "base_lr", "steps"), {})


class Exponential(Schedule):
    """``lr * gamma**i`` (the paper's "exp" baseline). Build it with ``exponential``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.exponential(1.0, 0.5)
        >>> isinstance(s, cyclr.Exponential), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 0.25, 0.125])
    """

    __slots__ = ()
    type_name = "exponential"
    fields = {"lr": Field.NUMBER, "gamma": Field.NUMBER}

    def __init__(self, lr: float, gamma: float) -> None:
        lr = v.rate("lr", lr)
        gamma = v.gamma("gamma", gamma)
        self._freeze(lr=lr, gamma=gamma)
        self._setup_exponential(lr=lr, gamma=gamma)

    def _peak(self) -> float:
        return self.params["lr"]

    def lookup_form(self) -> Form:
        # lr * gamma**i: a cycle of one step of height lr over 0, as the core computes it.
        p = self.params
        return Cycles(1, None, p["lr"], 0.0, p["lr"], False, "gamma_steps", p["gamma"],
                      "exponential", "lr")

    def __repr__(self):
        return self._call_repr("exponential", ("lr", "gamma"), {})


class StepDecay(Schedule):
    """``lr * gamma**floor(i / step_size)``. Build it with ``step_decay``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.step_decay(1.0, 0.5, 2)
        >>> isinstance(s, cyclr.StepDecay), [s(i) for i in range(4)]
        (True, [1.0, 1.0, 0.5, 0.5])
    """

    __slots__ = ()
    type_name = "step_decay"
    fields = {"lr": Field.NUMBER, "gamma": Field.NUMBER, "step_size": Field.NUMBER}

    def __init__(self, lr: float, gamma: float, step_size: float) -> None:
        lr = v.rate("lr", lr)
        gamma = v.gamma("gamma", gamma)
        step_size = v.span("step_size", step_size)
        self._freeze(lr=lr, gamma=gamma, step_size=step_size)
        self._setup_step_decay(lr=lr, gamma=gamma, step_size=step_size)

    def _peak(self) -> float:
        return self.params["lr"]

    def lookup_form(self) -> Form:
        p = self.params
        return Cycles(p["step_size"], None, p["lr"], 0.0, p["lr"], False, "gamma_cycles",
                      p["gamma"], f"step_decay step_size={p['step_size']!r}", "lr")

    def __repr__(self):
        return self._call_repr("step_decay", ("lr", "gamma", "step_size"), {})


def _finite_product(names: str, *values) -> None:
    product = 1.0
    for x in values:
        product *= float(x)
    if not math.isfinite(product):
        raise ValueError(f"{names} must be finite, got {values!r}")


class _Ramp(Schedule):
    """From ``start_lr`` at step 0 to ``end_lr`` at step ``steps``, then ``end_lr``."""

    __slots__ = ()
    fields = {"start_lr": Field.NUMBER, "end_lr": Field.NUMBER, "steps": Field.NUMBER}
    _how = ""

    def __init__(self, start_lr: float, end_lr: float, steps: float) -> None:
        start_lr = v.rate("start_lr", start_lr)
        end_lr = v.rate("end_lr", end_lr)
        steps = v.span("steps", steps)
        _finite_product("(end_lr - start_lr) * steps", end_lr - start_lr, steps)
        self._freeze(start_lr=start_lr, end_lr=end_lr, steps=steps)
        self._setup_ramp(start=start_lr, end=end_lr, steps=steps, how=self._how)

    def _peak(self) -> float:
        return max(self.params["start_lr"], self.params["end_lr"])

    def natural_length(self) -> int:
        return math.ceil(self.params["steps"]) + 1

    def lookup_form(self) -> Form:
        return Settles(self.natural_length(),
                       f"{self.type_name} steps={self.params['steps']!r}")

    def _ends(self, total_steps: int) -> Ends:
        # An anneal down ends at its low point; a warm-up (rising) ends nothing.
        p = self.params
        end = math.ceil(p["steps"])
        return [end] if p["end_lr"] <= p["start_lr"] and end <= total_steps else []

    def __repr__(self):
        return self._call_repr(self.type_name, ("start_lr", "end_lr", "steps"), {})


class Linear(_Ramp):
    """``start_lr + (end_lr - start_lr) * min(i, steps) / steps``: a linear anneal in
    either direction (a warm-up when ``start_lr < end_lr``), holding ``end_lr`` exactly
    from step ``steps`` on. Build it with ``linear``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.linear(0.0, 1.0, 2)
        >>> isinstance(s, cyclr.Linear), [s(i) for i in range(4)]
        (True, [0.0, 0.5, 1.0, 1.0])
    """

    __slots__ = ()
    type_name = "linear"
    _how = "linear"


class Cosine(_Ramp):
    """``end_lr + (start_lr - end_lr) * (1 + cos(pi * min(i, steps) / steps)) / 2``: a
    half-cosine anneal in either direction, holding ``end_lr`` from step ``steps`` on.
    Build it with ``cosine``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine(1.0, 0.0, 2)
        >>> isinstance(s, cyclr.Cosine), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 0.0, 0.0])
    """

    __slots__ = ()
    type_name = "cosine"
    _how = "cos"


#: Most cycles of growing length a warm-restart schedule tabulates (up to step
#: 2**63 - 1); a cycle_mult so close to 1 that it needs more is refused.
MAX_RESTART_CYCLES = 2**20
_INT64_MAX = 2**63 - 1


@functools.lru_cache(maxsize=64)
def _restart_cycles(first_cycle, cycle_mult, amplitude_decay):
    """(first steps, fractional offsets, lengths, factors) of every cycle up to the one
    holding step 2**63 - 1, or None when every cycle has the same length.

    Whole first_cycle and cycle_mult: exact integers. Otherwise the cycle lengths and
    starts are accumulated in IEEE double arithmetic, each operation rounded once
    (``length *= cycle_mult``, ``start += length``); a cycle then starts at the first
    whole step at or after its (real) start, with the fractional part kept as its offset.
    """
    if cycle_mult == 1:
        return None
    starts, offsets, lengths, factors = [], [], [], []
    exact = isinstance(first_cycle, int) and isinstance(cycle_mult, int)
    start, length = (0, first_cycle) if exact else (0.0, float(first_cycle))
    k = 0
    while start <= _INT64_MAX:
        if k >= MAX_RESTART_CYCLES:
            raise ValueError(
                f"cycle_mult={cycle_mult!r} with first_cycle={first_cycle!r} needs more "
                f"than {MAX_RESTART_CYCLES} cycles to reach step 2**63 - 1; use a larger "
                f"cycle_mult (or 1 for equal cycles)")
        whole = math.ceil(start)
        starts.append(whole)
        offsets.append(float(whole - start))
        lengths.append(float(length))
        factors.append(amplitude_decay ** k)
        start += length
        length *= cycle_mult
        k += 1
    return tuple(starts), tuple(offsets), tuple(lengths), tuple(factors)


class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR): cycle ``k`` (0-based) lasts
    ``first_cycle * cycle_mult**k`` steps; at offset ``t`` in it the LR is
    ``min_lr + (max_lr - min_lr) * amplitude_decay**k * (1 + cos(pi * t / T_k)) / 2``.
    Build it with ``cosine_restarts``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.cosine_restarts(1.0, 2)
        >>> isinstance(s, cyclr.CosineRestarts), [s(i) for i in range(4)]
        (True, [1.0, 0.5, 1.0, 0.5])
    """

    __slots__ = ()
    is_cyclical = True
    type_name = "cosine_restarts"
    fields = {"max_lr": Field.NUMBER, "first_cycle": Field.NUMBER, "min_lr": Field.NUMBER,
              "cycle_mult": Field.NUMBER, "amplitude_decay": Field.NUMBER}

    def __init__(self, max_lr: float, first_cycle: float, min_lr: float = 0.0,
                 cycle_mult: float = 1.0, amplitude_decay: float = 1.0) -> None:
        max_lr = v.rate("max_lr", max_lr)
        min_lr = v.rate("min_lr", min_lr)
        v.ordered("min_lr", min_lr, "max_lr", max_lr)
        first_cycle = v.span("first_cycle", first_cycle)
        mult = v.finite("cycle_mult", cycle_mult)
        if not mult >= 1.0:
            raise ValueError(f"cycle_mult must be >= 1, got {cycle_mult!r}")
        cycle_mult = int(mult) if mult.is_integer() else mult
        amplitude_decay = v.gamma("amplitude_decay", amplitude_decay)
        self._freeze(max_lr=max_lr, first_cycle=first_cycle, min_lr=min_lr,
                     cycle_mult=cycle_mult, amplitude_decay=amplitude_decay)
        self._setup_momentum(self, min_lr, max_lr, inverted=False)

    def _setup_momentum(self, kernel, base, top, inverted=True) -> None:
        p = self.params
        kernel._setup_restarts(
            low=base, high=top, first_cycle=p["first_cycle"],
            amplitude_decay=p["amplitude_decay"], inverted=inverted,
            cycles=_restart_cycles(p["first_cycle"], p["cycle_mult"], p["amplitude_decay"]))

    def lookup_form(self) -> Form:
        p = self.params
        return self._restarts_form(p["min_lr"], p["max_lr"], False, "max_lr")

    def _momentum_form(self, base: float, top: float) -> Form:
        return self._restarts_form(base, top, True, "max_momentum")

    def _restarts_form(self, low, high, inverted, high_name) -> Form:
        p = self.params
        first, mult, decay = p["first_cycle"], p["cycle_mult"], p["amplitude_decay"]
        if mult != 1:
            # No table of values repeats cycles of growing length: the graph evaluates
            # the window from the core's own table of cycles.
            starts, offsets, lengths, factors = _restart_cycles(first, mult, decay)
            return GrowingCycles(starts, offsets, lengths, factors, low, high, inverted,
                                 f"first_cycle={first!r}, cycle_mult={mult!r}", high_name)

        def window(ticks, lo, hi):
            return CosineRestarts(hi, first * ticks, min_lr=lo)

        return Cycles(first, window, None, low, high, inverted,
                      "flat" if decay == 1 else "gamma_cycles", decay,
                      f"first_cycle={first!r}", high_name, pinned_peaks=False)

    def cycle_starts(self, total_steps: SupportsIndex) -> npt.NDArray[np.int64]:
        """The first whole step of every cycle that starts at or before ``total_steps``
        (0 included): where the LR restarts at its peak."""
        total_steps = v.count("total_steps", total_steps)
        return np.concatenate([[0], self._ends(total_steps)]).astype(np.int64)

    def _ends(self, total_steps: int) -> Ends:
        p = self.params
        cycles = _restart_cycles(p["first_cycle"], p["cycle_mult"], p["amplitude_decay"])
        if cycles is None:
            return _periodic_ends(p["first_cycle"], total_steps)
        starts = np.array(cycles[0][1:], dtype=np.int64)
        return np.unique(starts[starts <= total_steps])

    def _peak(self) -> float:
        return self.params["max_lr"]

    def __repr__(self):
        return self._call_repr("cosine_restarts", ("max_lr", "first_cycle"),
                               {"min_lr": 0.0, "cycle_mult": 1, "amplitude_decay": 1.0})


#: Deepest nesting of chains in chains (each level is one C call deep when evaluated).
MAX_NESTING = 64
#: Most schedules a chain may hold, counting a sub-schedule once per place it is used
#: (what ``to_dict`` and ``repr`` write out): a few shared sub-chains nested a few levels
#: deep would otherwise describe billions of segments.
MAX_CHAIN_SIZE = 1_000_000


class Chain(Schedule):
    """Schedules one after another; each segment sees its own step, starting at 0.

    ``segments`` is a tuple of ``(schedule, steps)`` pairs; the last may have ``steps``
    None (open-ended). A finite chain holds its last value after its end. Build it with
    ``chain``.

    Examples:
        >>> import cyclr
        >>> s = cyclr.chain((cyclr.constant(0.5), 2), cyclr.linear(0.5, 1.0, 2))
        >>> isinstance(s, cyclr.Chain), [s(i) for i in range(4)]
        (True, [0.5, 0.5, 0.5, 0.75])
    """

    __slots__ = ("_depth", "_size", "_top")
    _depth: int
    _size: int
    _top: float
    type_name = "chain"
    fields = {"segments": Field.SEGMENTS}

    def __init__(self, segments: tuple[Segment, ...] | list[Segment]) -> None:
        if not isinstance(segments, (tuple, list)) or not segments:
            raise ValueError(f"segments must be a non-empty sequence, got {segments!r}")
        canonical = []
        for k, segment in enumerate(segments):
            if isinstance(segment, Schedule):
                segment = (segment, None)
            if (not isinstance(segment, (tuple, list)) or len(segment) != 2
                    or not isinstance(segment[0], Schedule)):
                raise TypeError(
                    f"segment {k} must be a schedule or a (schedule, steps) pair, got {segment!r}")
            schedule, steps = segment
            if steps is None:
                if k != len(segments) - 1:
                    raise ValueError(
                        f"only the last segment may be open-ended; segment {k} has steps=None")
            else:
                steps = v.count(f"steps of segment {k}", steps, minimum=1)
            canonical.append((schedule, steps))
        canonical = tuple(canonical)  # type: ignore[assignment]  # frozen from here on
        # Each sub-chain already knows its depth and size: linear work, however often
        # a sub-chain is shared.
        depth = 1 + max((getattr(s, "_depth", 1) for s, _ in canonical
                         if isinstance(s, Chain)), default=0)
        size = 1 + sum(getattr(s, "_size", 1) if isinstance(s, Chain) else 1
                       for s, _ in canonical)
        if depth > MAX_NESTING:
            raise ValueError(f"chains may nest at most {MAX_NESTING} levels deep")
        if size > MAX_CHAIN_SIZE:
            raise ValueError(
                f"this chain would hold {size} schedules, counting each sub-schedule once "
                f"per use; at most {MAX_CHAIN_SIZE} are allowed")
        self._freeze(segments=canonical)
        object.__setattr__(self, "_depth", depth)
        object.__setattr__(self, "_size", size)
        self._setup_chain(kernels=tuple(s for s, _ in canonical),
                          lengths=[n for _, n in canonical])
        # Each sub-chain's bound is cached too: linear in the distinct nodes.
        object.__setattr__(self, "_top", max(s._peak() for s, _ in canonical))

    @property
    def is_cyclical(self) -> bool:  # type: ignore[override]
        return any(s.is_cyclical for s, _ in self.params["segments"])

    @property
    def open_tail(self) -> tuple[int, Schedule] | None:
        """``(first step, schedule)`` of the open-ended last segment, or None for a
        finite chain."""
        segments = self.params["segments"]
        if segments[-1][1] is not None:
            return None
        return sum(n for _, n in segments[:-1]), segments[-1][0]

    @property
    def total_steps(self) -> int | None:
        """Steps until the chain ends (it holds its value after), or None if open-ended."""
        segments = self.params["segments"]
        if segments[-1][1] is None:
            return None
        return sum(n for _, n in segments)

    def _ends(self, total_steps: int) -> Ends:
        parts, start = [], 0
        for schedule, steps in self.params["segments"]:
            if start > total_steps:
                break
            local = total_steps - start if steps is None else min(steps, total_steps - start)
            parts.append(start + _ends_array(schedule._ends(local)))
            if steps is not None:
                start += steps
        if self.params["segments"][-1][1] is not None and start <= total_steps:
            parts.append(np.array([start], dtype=np.int64))        # the run's end
        ends = np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)
        _check_ends(ends.size, total_steps)
        return ends[ends >= 1]

    def _peak(self) -> float:
        return self._top

    def natural_length(self) -> int | None:
        segments = self.params["segments"]
        if segments[-1][1] is not None:
            return self.total_steps
        tail = segments[-1][0].natural_length()
        return None if tail is None else sum(n for _, n in segments[:-1]) + tail

    def momentum_schedule(self, base_momentum: float, max_momentum: float) -> Chain:
        """The chain of each segment's momentum schedule (same bounds for all)."""
        return Chain(tuple((s.momentum_schedule(base_momentum, max_momentum), n)
                           for s, n in self.params["segments"]))

    def __repr__(self):
        parts = [repr(s) if n is None else f"({s!r}, {n!r})"
                 for s, n in self.params["segments"]]
        return f"chain({', '.join(parts)})"
