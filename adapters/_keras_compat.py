"""Keras schedules that take other libraries' arguments, for code moving to cyclr:
TensorFlow Addons' ``CyclicalLearningRate`` and its three subclasses (TFA is archived),
and Keras' own ``CosineDecayRestarts``.

Each is a drop-in with the same arguments and defaults, computed by a cyclr schedule
and evaluated from its :mod:`cyclr.tables` plan like :func:`cyclr.adapters.keras.schedule`;
where it differs from the class it replaces, its docstring says so. The classes are
registered with Keras under package ``"cyclr"`` and their names, and are public as
``cyclr.adapters.keras.<name>`` (their ``__module__``): models saved with them load
with ``keras.models.load_model`` once ``cyclr.adapters.keras`` is imported.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

import cyclr
from cyclr import tables
from cyclr.serialize import function_path
from cyclr.schedules import ScaleMode

from . import renamed_errors
from ._keras_base import (
    PACKAGE,
    UNSAVED,
    Lookup,
    Tensor,
    config_dict,
    f64,
    resolve_function,
    unsaved,
    unsaved_message,
)

# The public module these classes are documented, saved and pickled under (pytest's
# doctest collection imports the package as ``adapters``, hence __package__).
_PUBLIC = f"{__package__}.keras"
_SCALE_MODES = ("cycle", "iterations")


# -- TensorFlow Addons compatible classes ---------------------------------------------

def _tfa_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or callable(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r:.200}") from None
    except OverflowError:                # an int beyond float range
        raise ValueError(f"{name} must be finite and >= 0, got {value!r:.200}") from None
    if not np.isfinite(x) or x < 0.0:
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if x > float(np.finfo(np.float32).max) and name.endswith("learning_rate"):
        raise ValueError(f"{name} must be at most the float32 maximum (3.40282e+38): the "
                         f"learning rate is a float32 value, got {value!r}")
    return x


def _tfa_step_size(value: Any) -> float:
    """A finite step size > 0, as TFA took it (floats too); whether the cycle can be
    tabulated is for ``cyclr.tables`` to say, naming step_size."""
    x = _tfa_rate("step_size", value)
    if not x > 0.0:
        raise ValueError(f"step_size must be > 0, got {value!r}")
    if isinstance(value, numbers.Integral) or x.is_integer():
        return int(x)
    return x


@keras.saving.register_keras_serializable(package=PACKAGE)
class CyclicalLearningRate(Lookup):
    """TensorFlow Addons' ``CyclicalLearningRate``, same arguments, on cyclr's tables.

    ``lr = initial + (maximal - initial) * w * scale_fn(x)``, with ``w`` the triangular
    window over cycles of ``2 * step_size`` steps and ``x`` the 1-based cycle number
    (``scale_mode="cycle"``) or the step (``"iterations"``), passed to ``scale_fn`` as
    a float64 tensor, as TFA passed a tensor. Endless; unlike TFA's, it saves and loads
    (a module-level ``scale_fn`` is saved by import path). As in cyclr's core, the LR
    never leaves ``[initial_learning_rate, maximal_learning_rate]``: a factor above 1
    (which TFA let through) is capped at the maximum.

    As in TFA, ``step_size`` may be a float (e.g. ``2 * 1797 / 64``): any multiple of
    ``2**-20`` works, exactly (``step_size=2.3`` is refused: no table of cycle offsets
    holds every step). The step may be a float tensor, as TFA was called: it is cut
    down to a whole step (a non-integral step reads the step below it), and a float32
    step counts exactly only up to 2**24, so prefer ``optimizer.iterations``.

    Args:
        initial_learning_rate: the lower bound, finite and >= 0.
        maximal_learning_rate: the upper bound, >= initial_learning_rate.
        step_size: steps from the lower to the upper bound (half a cycle), a whole
            number or a multiple of ``2**-20``.
        scale_fn: function of a tensor giving the amplitude factor.
        scale_mode: ``"cycle"`` or ``"iterations"``.
        name: kept in the config.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import keras
        >>> from cyclr.adapters.keras import CyclicalLearningRate
        >>> lr = CyclicalLearningRate(0.0, 1.0, 2, scale_fn=lambda x: 0.5 ** x)
        >>> keras.ops.convert_to_numpy(lr(keras.ops.arange(8))).tolist()
        [0.0, 0.25, 0.5, 0.25, 0.0, 0.125, 0.25, 0.125]
    """

    __module__ = _PUBLIC

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_fn: Callable[[Tensor], Tensor],
                 scale_mode: ScaleMode = "cycle", name: str = "CyclicalLearningRate") -> None:
        if not callable(scale_fn):
            raise TypeError(f"scale_fn must be callable, got {scale_fn!r}")
        self.scale_fn = scale_fn
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def _setup(self, initial_learning_rate: float, maximal_learning_rate: float,
               step_size: float, scale_mode: ScaleMode, name: str) -> None:
        low = _tfa_rate("initial_learning_rate", initial_learning_rate)
        high = _tfa_rate("maximal_learning_rate", maximal_learning_rate)
        if high < low:
            raise ValueError(
                f"maximal_learning_rate must be >= initial_learning_rate, got "
                f"initial_learning_rate={initial_learning_rate!r}, "
                f"maximal_learning_rate={maximal_learning_rate!r}")
        if not isinstance(scale_mode, str) or scale_mode not in _SCALE_MODES:
            raise ValueError(f"scale_mode must be one of {list(_SCALE_MODES)}, "
                             f"got {scale_mode!r}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self.initial_learning_rate = low
        self.maximal_learning_rate = high
        self.step_size = _tfa_step_size(step_size)
        self.scale_mode = scale_mode
        self.name = name
        self._use(tables.periodic(cyclr.triangular(low, high, self.step_size),
                                  heights=self._envelope() is not None))

    _float_steps = True

    def _envelope(self) -> Callable[[Tensor, Tensor], Tensor] | None:
        return self._factor

    def _factor(self, c: Tensor, j: Tensor) -> Tensor:
        # c: the 0-based cycle, float64; TFA's cycle is 1-based.
        x = c + 1.0 if self.scale_mode == "cycle" else ops.cast(j, "float64")
        return ops.cast(self.scale_fn(x), "float64")

    def get_config(self) -> dict[str, Any]:
        """The arguments, with ``scale_fn`` by its import path ``"module:qualname"``
        (a lambda or closure has none: the config then marks it unsaved, and loading
        it raises a ValueError that says so)."""
        scale_fn: str | dict[str, str]
        try:
            scale_fn = function_path(self.scale_fn)
        except ValueError:
            # Raising here would abort model.save after it started writing the file.
            scale_fn = unsaved(getattr(self.scale_fn, "__qualname__", repr(self.scale_fn)),
                                "it")
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_fn": scale_fn,
            "scale_mode": self.scale_mode,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CyclicalLearningRate:
        """The schedule a config describes; its ``scale_fn`` (an import path) must be
        registered with Keras or given in ``custom_objects``.

        Raises:
            TypeError, ValueError: the config holds an invalid argument, names a
                function not registered with Keras, or one that was not saved.
        """
        config = config_dict(config)
        if "scale_fn" in config:
            if isinstance(config["scale_fn"], dict) and UNSAVED in config["scale_fn"]:
                raise ValueError(unsaved_message("scale_fn", config["scale_fn"]))
            config["scale_fn"] = resolve_function(config["scale_fn"], "scale_fn")
        return cls(**config)

    def _tfa_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_mode": self.scale_mode,
            "name": self.name,
        }


def _halving(x: Tensor) -> Tensor:
    return 1.0 / 2.0 ** (x - 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
class TriangularCyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``TriangularCyclicalLearningRate``: constant amplitude.

    Equal, in float32, to ``cyclr.triangular(initial_learning_rate,
    maximal_learning_rate, step_size)`` (``scale_mode`` makes no difference, as in TFA).
    """

    __module__ = _PUBLIC

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_mode: ScaleMode = "cycle",
                 name: str = "TriangularCyclicalLearningRate") -> None:
        self.scale_fn = _unit
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def _envelope(self) -> None:
        return None        # a factor of 1: the flat cycle of the core's values

    def get_config(self) -> dict[str, Any]:
        return self._tfa_config()


def _unit(x: Tensor) -> float:
    return 1.0


@keras.saving.register_keras_serializable(package=PACKAGE)
class Triangular2CyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``Triangular2CyclicalLearningRate``: the amplitude halves
    every cycle (factor ``1 / 2**(x - 1)``). Equal, in float32, to
    ``cyclr.triangular2(...)`` with the default ``scale_mode="cycle"``."""

    __module__ = _PUBLIC

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_mode: ScaleMode = "cycle",
                 name: str = "Triangular2CyclicalLearningRate") -> None:
        self.scale_fn = _halving
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def get_config(self) -> dict[str, Any]:
        return self._tfa_config()


@keras.saving.register_keras_serializable(package=PACKAGE)
class ExponentialCyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``ExponentialCyclicalLearningRate``: factor ``gamma**x``.

    With the default ``scale_mode="iterations"`` it equals ``cyclr.exp_range(...,
    gamma=gamma)`` to within 1 ulp of float32; with ``"cycle"`` the factor is
    ``gamma**cycle`` for TFA's 1-based cycle.
    """

    __module__ = _PUBLIC

    def __init__(self, initial_learning_rate: float, maximal_learning_rate: float,
                 step_size: float, scale_mode: ScaleMode = "iterations", gamma: float = 1.0,
                 name: str = "ExponentialCyclicalLearningRate") -> None:
        g = _tfa_rate("gamma", gamma)
        if not 0.0 < g <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = g
        self.scale_fn = self._power
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def _power(self, x: Tensor) -> Tensor:
        return f64(self.gamma) ** x

    def get_config(self) -> dict[str, Any]:
        return {**self._tfa_config(), "gamma": self.gamma}


# -- Keras' own warm restarts ------------------------------------------------------------

def _in_range(name: str, value: Any, low: float, high: float,
              low_open: bool = False) -> float:
    if isinstance(value, bool) or callable(value):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be a real number, got {value!r:.200}") from None
    if not (low < x if low_open else low <= x) or not x <= high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return x


@keras.saving.register_keras_serializable(package=PACKAGE)
class CosineDecayRestarts(Lookup):
    """Keras' ``CosineDecayRestarts`` (SGDR), same arguments and defaults, computed by
    ``cyclr.cosine_restarts(initial_learning_rate, first_decay_steps,
    min_lr=alpha * initial_learning_rate, cycle_mult=t_mul, amplitude_decay=m_mul)``.

    Cycle ``k`` lasts ``first_decay_steps * t_mul**k`` steps, along which the LR falls
    from ``initial_learning_rate * m_mul**k`` (above the floor) to ``alpha *
    initial_learning_rate`` on a half cosine. The values are the core's float32
    ``s(step)``, at every step: exact where cycles repeat (``t_mul == 1``), within 1
    float32 ulp where they grow (the cosine is then computed in the graph, in float64).

    Where it differs from Keras' class:

    * Precision. Keras computes in float32: the cycle index from float32 logarithms
      (at a restart it can land in the cycle before, a whole amplitude off),
      ``t_mul`` rounded to float32 (1.1 grows its cycles by 1.10000002), and the
      position in a cycle from ``step / first_decay_steps`` (with ``t_mul == 1`` it
      drifts by about ``step * 6e-8`` steps). cyclr finds cycles in exact integer
      arithmetic (whole ``first_decay_steps`` and ``t_mul``) or exactly rounded
      float64, so the two agree within that float32 rounding.
    * Validation. Keras checks only ``first_decay_steps > 0``; here
      ``initial_learning_rate`` must be finite and >= 0, ``alpha`` in ``[0, 1]``,
      ``t_mul >= 1`` (shrinking cycles are refused) and ``m_mul`` in ``(0, 1]`` (a
      growing amplitude is refused), each error naming Keras' argument. With
      ``t_mul == 1`` a fractional ``first_decay_steps`` must be a multiple of
      ``2**-20`` steps (see :func:`schedule`).

    Like Keras' class, it takes integer or float steps (a float step is cut down to a
    whole step; prefer ``optimizer.iterations``, which counts past 2**24).

    Args:
        initial_learning_rate: the LR at step 0 and at each restart (times
            ``m_mul**k``).
        first_decay_steps: steps in the first cycle, > 0.
        t_mul: factor by which each cycle is longer than the one before, >= 1.
        m_mul: factor on each cycle's amplitude, in ``(0, 1]``.
        alpha: the floor, as a fraction of ``initial_learning_rate``, in ``[0, 1]``.
        name: kept in the config.

    Attributes:
        schedule: the ``cyclr.cosine_restarts`` schedule whose float32 values this gives.

    Raises:
        TypeError, ValueError: for invalid arguments, naming the argument and value.

    Examples:
        >>> import keras
        >>> from cyclr.adapters.keras import CosineDecayRestarts
        >>> lr = CosineDecayRestarts(1.0, 2, t_mul=2.0, alpha=0.5)
        >>> values = keras.ops.convert_to_numpy(lr(keras.ops.arange(8)))
        >>> [round(float(v), 4) for v in values]        # restarts at steps 2 and 6
        [1.0, 0.75, 1.0, 0.9268, 0.75, 0.5732, 1.0, 0.981]
    """

    _float_steps = True

    __module__ = _PUBLIC

    def __init__(self, initial_learning_rate: float, first_decay_steps: float,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: str = "SGDRDecay") -> None:
        lr = _tfa_rate("initial_learning_rate", initial_learning_rate)
        alpha = _in_range("alpha", alpha, 0.0, 1.0)
        m_mul = _in_range("m_mul", m_mul, 0.0, 1.0, low_open=True)
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        with renamed_errors(max_lr="initial_learning_rate", first_cycle="first_decay_steps",
                          cycle_mult="t_mul", amplitude_decay="m_mul"):
            self.schedule = cyclr.cosine_restarts(lr, first_decay_steps, min_lr=alpha * lr,
                                                  cycle_mult=t_mul, amplitude_decay=m_mul)
            self._use(tables.plan(self.schedule))
        self.initial_learning_rate = lr
        self.first_decay_steps = self.schedule.params["first_cycle"]
        self.t_mul = self.schedule.params["cycle_mult"]
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CosineDecayRestarts:
        """The schedule a config (of :meth:`get_config`) describes."""
        return cls(**config_dict(config))
