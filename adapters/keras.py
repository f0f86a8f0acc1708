"""Keras 3 learning-rate schedules that look cyclr's numbers up instead of recomputing
them.

``schedule(s)`` turns any cyclr schedule into a
``keras.optimizers.schedules.LearningRateSchedule``; ``CyclicalLearningRate`` and its
three subclasses take TensorFlow Addons' arguments, for code leaving the archived TFA;
``CosineDecayRestarts`` takes Keras' own arguments.

In the compiled train step each evaluates the :mod:`cyclr.tables` plan of its schedule,
with the step used as an integer (a float32 step counter would stop counting at 2**24):
a gather from a float32 table, or from one cycle of numbers that an envelope factor
(``2**-c``, ``gamma**i``, a TFA ``scale_fn``) multiplies in float64 before a single
rounding to float32. The values are the core's float32 ``s(i)`` at every step, with no
run length: equal for a table or a flat envelope, within 1 ulp where a factor is
multiplied in the graph. (One exception: backends that flush subnormal floats,
TensorFlow and XLA on CPU among them, turn a product below float32's smallest normal,
about 1.2e-38, into 0; only a zero ``base_lr`` after a long decay gets there.) Under
the JAX backend the float64 part runs in a ``jax.enable_x64`` scope, whatever the
global setting. The tables kept are at most ``cyclr.tables.MAX_TABLE_BYTES`` (64 MiB);
a schedule (or a loaded config) that needs more is refused naming the argument.

All classes save with ``model.save`` and load with ``keras.models.load_model`` without
``custom_objects`` (once ``cyclr.adapters.keras`` is imported, which registers them):
their configs hold the schedule's description, never the table. A user ``scale_fn`` is
saved by import path (``"module:qualname"``, module-level functions only) and resolved
at load time only from functions registered with Keras, so loading a file never
imports code. A ``scale_fn`` that cannot be saved that way (a lambda, a closure) never
makes saving fail (which could leave a half-written file in place of a good one): the
config records it as unsaved, and loading that config raises a ValueError that says so.
"""

from __future__ import annotations

import contextlib
import numbers
import re

import numpy as np

from . import _require

with _require(__name__, "keras"):
    import keras
    from keras import ops

import cyclr
from cyclr import tables
from cyclr.serialize import function_path

_PACKAGE = "cyclr"
_SCALE_MODES = ("cycle", "iterations")


def _float64_scope():
    """A scope in which the backend computes float64 (JAX needs x64 switched on)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def _steps(step, floats=False):
    """``step`` as an int64 tensor clipped at 0; integer dtypes only, or (``floats``)
    also float ones, cut down to whole steps."""
    step = ops.convert_to_tensor(step)
    dtype = keras.backend.standardize_dtype(step.dtype)
    if not dtype.startswith(("int", "uint")) and not (floats and dtype.startswith(
            ("float", "bfloat"))):
        raise TypeError(
            f"step must be an integer (such as optimizer.iterations), got dtype {dtype}; "
            f"a float step cannot count past 2**24 exactly")
    return ops.maximum(ops.cast(step, "int64"), 0)


def _gather(table, index):
    """``table[index]`` for int64 indices already within bounds."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # One op; ``ops.take`` adds six for negative indices, which cannot occur here,
        # and outside XLA every op costs the train step time.
        return tf.gather(table, index)
    return ops.take(table, ops.cast(index, "int32"))


def _cos(x):
    """``cos`` of a float64 tensor, in float64."""
    if keras.backend.backend() == "jax":
        import jax.numpy as jnp

        # Keras' ops.cos rounds a float64 argument to float32 under JAX.
        return jnp.cos(x)
    return ops.cos(x)


class _Ops:
    """Keras ops for ``cyclr.tables.evaluate`` (inside ``_float64_scope``)."""

    gather = staticmethod(_gather)
    where = staticmethod(ops.where)
    cos = staticmethod(_cos)
    minimum = staticmethod(ops.minimum)
    maximum = staticmethod(ops.maximum)

    @staticmethod
    def float64(x):
        return ops.cast(x, "float64")

    @staticmethod
    def float32(x):
        return ops.cast(x, "float32")


class _Lookup(keras.optimizers.schedules.LearningRateSchedule):
    """Evaluates a ``cyclr.tables`` plan in the graph. Subclasses call ``_use(plan)``;
    the TFA classes set ``_factor`` to a function of (float64 0-based cycle, int64
    step) giving their ``scale_fn``'s factor in float64."""

    _factor = None
    _float_steps = False

    def _use(self, plan) -> None:
        with _float64_scope():
            # Only the tensors are kept: the numpy plan is dropped here.
            self._plan = tables.convert(plan, lambda a: ops.convert_to_tensor(
                a, dtype=str(a.dtype)))

    def __call__(self, step):
        with _float64_scope():
            return tables.evaluate(self._plan, _steps(step, self._float_steps), _Ops,
                                   self._factor)


def _f64(x):
    return ops.convert_to_tensor(x, dtype="float64")


# -- saving user functions ----------------------------------------------------------------

def _check_path(path, arg: str) -> str:
    if not isinstance(path, str) or path.count(":") != 1:
        raise TypeError(f"{arg} must be a 'module:qualname' string, got {path!r}")
    return path


def _resolve_function(path, arg: str):
    """The function saved as ``path``, if the user vouched for it to Keras: registered
    with ``keras.saving.register_keras_serializable`` or passed in ``custom_objects``.
    A file alone never picks a function to call (``"os:_exit"`` would be one)."""
    module, qualname = _check_path(path, arg).split(":")
    found = keras.saving.get_registered_object(qualname)
    if found is not None and callable(found):
        return found
    for candidate in list(keras.saving.get_custom_objects().values()):
        if callable(candidate) and (getattr(candidate, "__module__", None),
                                    getattr(candidate, "__qualname__", None)) == (
                                        module, qualname):
            return candidate
    raise ValueError(
        f"{arg} {path!r} is not a function registered with Keras; decorate it with "
        f"@keras.saving.register_keras_serializable() (and import its module before "
        f"loading), or pass custom_objects={{{qualname!r}: {qualname}}}: cyclr never "
        f"calls a function only because a saved file names it")


def _schedule_from_dict(data) -> cyclr.Schedule:
    """``cyclr.from_dict``, with each ``scale_fn`` resolved through Keras' registry (see
    ``_resolve_function``) instead of by import."""
    return cyclr.from_dict(
        data, resolve_function=lambda path: _resolve_function(path, "schedule scale_fn"))


_UNSAVED = "unserializable"


def _config_dict(config) -> dict:
    """A copy of a config, which must be a dict with string keys."""
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise TypeError(f"config must be a dict with string keys, got {config!r:.200}")
    return dict(config)


def _unsaved(what: str, subject: str) -> dict:
    """The config entry of a scale_fn that cannot be saved: a marker, never a raise."""
    return {_UNSAVED: what, "reason": f"{subject} is not a module-level function (a "
            f"lambda, a closure or a method), so no import path names it"}


def _unsaved_message(arg: str, entry: dict) -> str:
    return (f"{arg} {entry.get(_UNSAVED)!s} was not saved because {entry.get('reason')}; "
            f"this config cannot rebuild it: define the function at the top level of a "
            f"module, register it with @keras.saving.register_keras_serializable() (or "
            f"pass it in custom_objects), and save again")


# -- any cyclr schedule -------------------------------------------------------------------

@keras.saving.register_keras_serializable(package=_PACKAGE)
class CyclrSchedule(_Lookup):
    """A cyclr schedule as a Keras ``LearningRateSchedule``; build it with
    :func:`schedule`.

    Args:
        schedule: any cyclr schedule.
        total_steps: int >= 1 or None; only a ``scale_fn`` needs it, see
            :func:`schedule`.
        name: optional name, kept in the config.

    Attributes:
        schedule: the cyclr schedule, whose float32 values this gives.
        total_steps: as given.
    """

    def __init__(self, schedule, total_steps=None, name=None):
        if isinstance(schedule, dict) and _UNSAVED in schedule:
            raise ValueError(_unsaved_message("schedule", schedule))
        if not isinstance(schedule, cyclr.Schedule):
            raise TypeError(f"schedule must be a cyclr schedule, got {schedule!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {name!r}")
        self.schedule = schedule
        self.total_steps = tables.check_total_steps(total_steps)
        self.name = name
        self._use(tables.plan(schedule, self.total_steps))

    def get_config(self):
        try:
            described = self.schedule.to_dict()
        except ValueError:               # a scale_fn that cannot be saved by import path
            # Raising here would abort model.save after it started writing the file.
            described = _unsaved(repr(self.schedule), "its scale_fn")
        return {"schedule": described, "total_steps": self.total_steps, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = _config_dict(config)
        if "schedule" not in config:
            raise ValueError(f"config has no 'schedule' entry: {sorted(config)}")
        described = config.pop("schedule")
        if isinstance(described, dict) and _UNSAVED in described:
            raise ValueError(_unsaved_message("schedule", described))
        return cls(_schedule_from_dict(described), **config)

    def __repr__(self):
        return f"CyclrSchedule({self.schedule!r}, total_steps={self.total_steps!r})"


def schedule(s, total_steps=None, *, name=None) -> CyclrSchedule:
    """A Keras learning-rate schedule that gives ``s``'s values, step for step, forever.

    Args:
        s: any cyclr schedule.
        total_steps: only for a cyclic schedule with a Python ``scale_fn``, which
            cannot run in a compiled graph: its values are tabulated for steps
            ``0 .. total_steps - 1`` and the LR holds the last one after (a
            UserWarning says so when the schedule is built). For any other schedule
            it is accepted (and kept in the config) but changes nothing: values are
            exact at every step.
        name: optional name, kept in the config.

    Returns:
        A :class:`CyclrSchedule`, to pass as an optimizer's ``learning_rate``.

    Raises:
        TypeError: if ``s`` is not a cyclr schedule or ``total_steps`` not an integer.
        ValueError: for ``total_steps < 1``; None where a ``scale_fn`` needs it; a
            fractional cycle length that is not a multiple of ``2**-20`` steps (such
            as ``step_size=2.3``; 56.15625 is fine); tables above
            ``cyclr.tables.MAX_TABLE_BYTES`` (e.g. a cycle of 2**25 steps), naming
            the argument.

    Examples:
        >>> import cyclr, keras
        >>> from cyclr.adapters.keras import schedule
        >>> lr = schedule(cyclr.triangular2(0.0, 1.0, 2))
        >>> optimizer = keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
        >>> keras.ops.convert_to_numpy(lr(keras.ops.arange(8))).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25]
    """
    if not isinstance(s, cyclr.Schedule):
        raise TypeError(f"s must be a cyclr schedule, got {s!r}")
    return CyclrSchedule(s, total_steps, name=name)


# -- TensorFlow Addons compatible classes ---------------------------------------------

def _tfa_rate(name, value) -> float:
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


def _tfa_step_size(value):
    """A finite step size > 0, as TFA took it (floats too); whether the cycle can be
    tabulated is for ``cyclr.tables`` to say, naming step_size."""
    x = _tfa_rate("step_size", value)
    if not x > 0.0:
        raise ValueError(f"step_size must be > 0, got {value!r}")
    if isinstance(value, numbers.Integral) or x.is_integer():
        return int(x)
    return x


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CyclicalLearningRate(_Lookup):
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

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size, scale_fn,
                 scale_mode="cycle", name="CyclicalLearningRate"):
        if not callable(scale_fn):
            raise TypeError(f"scale_fn must be callable, got {scale_fn!r}")
        self.scale_fn = scale_fn
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def _setup(self, initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
               name):
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
                                  heights=self._factor is not None))

    _float_steps = True

    def _factor(self, c, j):
        # c: the 0-based cycle, float64; TFA's cycle is 1-based.
        x = c + 1.0 if self.scale_mode == "cycle" else ops.cast(j, "float64")
        return ops.cast(self.scale_fn(x), "float64")

    def get_config(self):
        try:
            scale_fn = function_path(self.scale_fn)
        except ValueError:
            # Raising here would abort model.save after it started writing the file.
            scale_fn = _unsaved(getattr(self.scale_fn, "__qualname__", repr(self.scale_fn)),
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
    def from_config(cls, config):
        config = _config_dict(config)
        if "scale_fn" in config:
            if isinstance(config["scale_fn"], dict) and _UNSAVED in config["scale_fn"]:
                raise ValueError(_unsaved_message("scale_fn", config["scale_fn"]))
            config["scale_fn"] = _resolve_function(config["scale_fn"], "scale_fn")
        return cls(**config)

    def _tfa_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "maximal_learning_rate": self.maximal_learning_rate,
            "step_size": self.step_size,
            "scale_mode": self.scale_mode,
            "name": self.name,
        }


def _halving(x):
    return 1.0 / 2.0 ** (x - 1.0)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TriangularCyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``TriangularCyclicalLearningRate``: constant amplitude.

    Equal, in float32, to ``cyclr.triangular(initial_learning_rate,
    maximal_learning_rate, step_size)`` (``scale_mode`` makes no difference, as in TFA).
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="cycle", name="TriangularCyclicalLearningRate"):
        self.scale_fn = _unit
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    _factor = None         # a factor of 1: the flat cycle of the core's values

    def get_config(self):
        return self._tfa_config()


def _unit(x):
    return 1.0


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Triangular2CyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``Triangular2CyclicalLearningRate``: the amplitude halves
    every cycle (factor ``1 / 2**(x - 1)``). Equal, in float32, to
    ``cyclr.triangular2(...)`` with the default ``scale_mode="cycle"``."""

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="cycle", name="Triangular2CyclicalLearningRate"):
        self.scale_fn = _halving
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def get_config(self):
        return self._tfa_config()


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ExponentialCyclicalLearningRate(CyclicalLearningRate):
    """TensorFlow Addons' ``ExponentialCyclicalLearningRate``: factor ``gamma**x``.

    With the default ``scale_mode="iterations"`` it equals ``cyclr.exp_range(...,
    gamma=gamma)`` to within 1 ulp of float32; with ``"cycle"`` the factor is
    ``gamma**cycle`` for TFA's 1-based cycle.
    """

    def __init__(self, initial_learning_rate, maximal_learning_rate, step_size,
                 scale_mode="iterations", gamma=1.0, name="ExponentialCyclicalLearningRate"):
        g = _tfa_rate("gamma", gamma)
        if not 0.0 < g <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.gamma = g
        self.scale_fn = self._power
        self._setup(initial_learning_rate, maximal_learning_rate, step_size, scale_mode,
                    name)

    def _power(self, x):
        return _f64(self.gamma) ** x

    def get_config(self):
        return {**self._tfa_config(), "gamma": self.gamma}


# -- Keras' own warm restarts ------------------------------------------------------------

@contextlib.contextmanager
def _keras_names(**names):
    """Re-raise the core's argument errors under Keras' argument names."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for core, theirs in names.items():
            message = re.sub(rf"\b{core}\b", theirs, message)
        if message == str(exc) or type(exc) not in (TypeError, ValueError):
            raise
        raise type(exc)(message) from None


def _in_range(name, value, low, high, low_open=False) -> float:
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


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CosineDecayRestarts(_Lookup):
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

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        lr = _tfa_rate("initial_learning_rate", initial_learning_rate)
        alpha = _in_range("alpha", alpha, 0.0, 1.0)
        m_mul = _in_range("m_mul", m_mul, 0.0, 1.0, low_open=True)
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        with _keras_names(max_lr="initial_learning_rate", first_cycle="first_decay_steps",
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

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**_config_dict(config))


from ._range_keras import range_test  # noqa: E402  (the range-test runner, re-exported)

__all__ = ["range_test", "CosineDecayRestarts", "CyclicalLearningRate", "CyclrSchedule",
           "ExponentialCyclicalLearningRate", "Triangular2CyclicalLearningRate",
           "TriangularCyclicalLearningRate", "schedule"]
