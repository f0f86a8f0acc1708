"""The base of every schedule: ``Schedule`` (values, fills, equality, description),
the kinds of constructor parameter (``Field``), cycle-end arithmetic shared by the
classes, type aliases, and ``Momentum``, the momentum schedule any cycling class
gives."""

from __future__ import annotations

from typing import Any, Callable, Literal, SupportsIndex, Tuple, Union

import numpy as np
import numpy.typing as npt

from .. import _validate as v
from .._core import Kernel
from .._forms import Form
from .._functions import function_path

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
