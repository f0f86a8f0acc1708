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

The TFA-compatible classes and ``CosineDecayRestarts`` live in ``_keras_compat``, what
every class here is built on (the graph evaluation, configs naming functions) in
``_keras_base``, and the range test in ``_range_keras``.
"""

from __future__ import annotations

from typing import Any

from . import _require

with _require(__name__, "keras"):
    import keras

import cyclr
from cyclr import tables

from ._keras_base import (
    PACKAGE,
    UNSAVED,
    Lookup,
    config_dict,
    schedule_from_dict,
    unsaved,
    unsaved_message,
)
from ._keras_compat import (
    CosineDecayRestarts,
    CyclicalLearningRate,
    ExponentialCyclicalLearningRate,
    Triangular2CyclicalLearningRate,
    TriangularCyclicalLearningRate,
)
from ._range_keras import range_test


@keras.saving.register_keras_serializable(package=PACKAGE)
class CyclrSchedule(Lookup):
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

    def __init__(self, schedule: cyclr.Schedule, total_steps: int | None = None,
                 name: str | None = None) -> None:
        if isinstance(schedule, dict) and UNSAVED in schedule:
            raise ValueError(unsaved_message("schedule", schedule))
        if not isinstance(schedule, cyclr.Schedule):
            raise TypeError(f"schedule must be a cyclr schedule, got {schedule!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {name!r}")
        self.schedule = schedule
        self.total_steps = tables.check_total_steps(total_steps)
        self.name = name
        self._use(tables.plan(schedule, self.total_steps))

    def get_config(self) -> dict[str, Any]:
        """The schedule's description (``Schedule.to_dict()``), never its tables."""
        try:
            described = self.schedule.to_dict()
        except ValueError:               # a scale_fn that cannot be saved by import path
            # Raising here would abort model.save after it started writing the file.
            described = unsaved(repr(self.schedule), "its scale_fn")
        return {"schedule": described, "total_steps": self.total_steps, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CyclrSchedule:
        """The schedule a config describes; a ``scale_fn`` in it must be registered with
        Keras (or given in ``custom_objects``).

        Raises:
            TypeError, ValueError: the config is not one :meth:`get_config` gives, or
                names a function not registered with Keras, or one that was not saved.
        """
        config = config_dict(config)
        if "schedule" not in config:
            raise ValueError(f"config has no 'schedule' entry: {sorted(config)}")
        described = config.pop("schedule")
        if isinstance(described, dict) and UNSAVED in described:
            raise ValueError(unsaved_message("schedule", described))
        return cls(schedule_from_dict(described), **config)

    def __repr__(self) -> str:
        return f"CyclrSchedule({self.schedule!r}, total_steps={self.total_steps!r})"


def schedule(s: cyclr.Schedule, total_steps: int | None = None, *,
             name: str | None = None) -> CyclrSchedule:
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


__all__ = ["range_test", "CosineDecayRestarts", "CyclicalLearningRate", "CyclrSchedule",
           "ExponentialCyclicalLearningRate", "Triangular2CyclicalLearningRate",
           "TriangularCyclicalLearningRate", "schedule"]
