"""What every Keras schedule of ``cyclr.adapters.keras`` is built on.

- :class:`Lookup`: a ``LearningRateSchedule`` that evaluates a :mod:`cyclr.tables` plan
  in the graph, with the step as an int64 tensor and the envelope in float64 (under
  the JAX backend in a ``jax.enable_x64`` scope);
- configs that name a user function: :func:`resolve_function` finds it only among the
  functions registered with Keras, and :func:`unsaved` marks one that has no import
  path, so that saving never fails half-way through a file.

Imported by the Keras adapter's modules only, once Keras is known to import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, ClassVar

import keras
from keras import ops

import cyclr
from cyclr import tables

#: The package the schedules are registered under with Keras (``"cyclr>ClassName"``).
PACKAGE = "cyclr"

#: A step as the schedules take it: an integer tensor (``optimizer.iterations``), an
#: int, or an array of them. Typed as Any: its class depends on the Keras backend.
Step = Any
#: A backend tensor of float32 learning rates, of the step's shape.
Tensor = Any


def float64_scope() -> contextlib.AbstractContextManager[Any]:
    """A scope in which the backend computes float64 (JAX needs x64 switched on)."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def _steps(step: Step, floats: bool = False) -> Tensor:
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


def _gather(table: Tensor, index: Tensor) -> Tensor:
    """``table[index]`` for int64 indices already within bounds."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # One op; ``ops.take`` adds six for negative indices, which cannot occur here,
        # and outside XLA every op costs the train step time.
        return tf.gather(table, index)
    return ops.take(table, ops.cast(index, "int32"))


def _cos(x: Tensor) -> Tensor:
    """``cos`` of a float64 tensor, in float64."""
    if keras.backend.backend() == "jax":
        import jax.numpy as jnp

        # Keras' ops.cos rounds a float64 argument to float32 under JAX.
        return jnp.cos(x)
    return ops.cos(x)


class _Ops:
    """Keras ops for ``cyclr.tables.evaluate`` (inside ``float64_scope``)."""

    gather = staticmethod(_gather)
    where = staticmethod(ops.where)
    cos = staticmethod(_cos)
    minimum = staticmethod(ops.minimum)
    maximum = staticmethod(ops.maximum)

    @staticmethod
    def float64(x: Tensor) -> Tensor:
        return ops.cast(x, "float64")

    @staticmethod
    def float32(x: Tensor) -> Tensor:
        return ops.cast(x, "float32")


class Lookup(keras.optimizers.schedules.LearningRateSchedule):
    """Evaluates a ``cyclr.tables`` plan in the graph. Subclasses call ``_use(plan)``,
    and those whose plan has a per-cycle factor (the TFA classes' ``scale_fn``) give it
    by :meth:`_envelope`."""

    # Whether a float step is taken (cut down to a whole step), as TFA's and Keras'
    # own classes take one.
    _float_steps: ClassVar[bool] = False

    def _envelope(self) -> Callable[[Tensor, Tensor], Tensor] | None:
        """The factor a periodic plan's heights are multiplied by, as a function of
        (float64 0-based cycle, int64 step) giving float64; None for none."""
        return None

    def _use(self, plan: tables.Plan) -> None:
        with float64_scope():
            # Only the tensors are kept: the numpy plan is dropped here.
            self._plan = tables.convert(plan, lambda a: ops.convert_to_tensor(
                a, dtype=str(a.dtype)))

    def __call__(self, step: Step) -> Tensor:
        """The float32 learning rate at ``step`` (an integer tensor, or an int or array;
        steps below 0 read step 0), of ``step``'s shape.

        Raises:
            TypeError: ``step`` is not of an integer dtype (the TFA classes and
                ``CosineDecayRestarts`` also take a float one).
        """
        with float64_scope():
            return tables.evaluate(self._plan, _steps(step, self._float_steps), _Ops,
                                   self._envelope())


def f64(x: Any) -> Tensor:
    return ops.convert_to_tensor(x, dtype="float64")


# -- configs that name user functions -----------------------------------------------------

def _check_path(path: Any, arg: str) -> str:
    if not isinstance(path, str) or path.count(":") != 1:
        raise TypeError(f"{arg} must be a 'module:qualname' string, got {path!r}")
    return path


def resolve_function(path: Any, arg: str) -> Callable[..., Any]:
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


def schedule_from_dict(data: Any) -> cyclr.Schedule:
    """``cyclr.from_dict``, with each ``scale_fn`` resolved through Keras' registry (see
    :func:`resolve_function`) instead of by import."""
    return cyclr.from_dict(
        data, resolve_function=lambda path: resolve_function(path, "schedule scale_fn"))


#: The key that marks a config entry as a function that was not saved.
UNSAVED = "unserializable"


def config_dict(config: Any) -> dict[str, Any]:
    """A copy of a config, which must be a dict with string keys."""
    if not isinstance(config, dict) or not all(isinstance(k, str) for k in config):
        raise TypeError(f"config must be a dict with string keys, got {config!r:.200}")
    return dict(config)


def unsaved(what: str, subject: str) -> dict[str, str]:
    """The config entry of a scale_fn that cannot be saved: a marker, never a raise."""
    return {UNSAVED: what, "reason": f"{subject} is not a module-level function (a "
            f"lambda, a closure or a method), so no import path names it"}


def unsaved_message(arg: str, entry: dict[str, Any]) -> str:
    return (f"{arg} {entry.get(UNSAVED)!s} was not saved because {entry.get('reason')}; "
            f"this config cannot rebuild it: define the function at the top level of a "
            f"module, register it with @keras.saving.register_keras_serializable() (or "
            f"pass it in custom_objects), and save again")
