"""The LR range test for Keras 3: ``range_test(model, x, y)`` on a compiled model.

The model's variables (weights, non-trainable state such as batch-norm statistics, and
random-seed state) and the optimizer's variables (iterations, learning rate, slots such
as momentum) come back exactly as they were, whether the test ends, diverges or raises.
Metric accumulators, which ``fit`` and ``evaluate`` reset anyway, are not restored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from cyclr import _validate as v
from cyclr.rangetest import RangeTest, RangeTestResult

from ._range_loop import cycle, run


def range_test(model: keras.Model, x: Any, y: Any = None, *, batch_size: int = 32,
               start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
               mode: str = "exp", validation_data: tuple[Any, Any] | None = None,
               shuffle: bool = True, seed: int = 0,
               batch_fn: Callable[[Any], tuple[Any, ...]] | None = None,
               smoothing: float = 0.8, diverge_factor: float | None = 5.0,
               progress: bool = True) -> RangeTestResult:
    """Run an LR range test on a compiled Keras model and leave it untouched.

    An optimizer that has not trained yet is built first (its slots get the values it
    would start from anyway), so that there is a state to restore. Each step assigns
    the ramp's LR to the optimizer's ``learning_rate`` variable and calls
    ``model.train_on_batch``, recording the loss and, when the model was compiled with
    an accuracy metric, the batch's accuracy. With ``validation_data``, it records the
    validation loss and accuracy after each step instead (one ``test_on_batch`` over all
    of it per step).

    Args:
        model: a ``keras.Model`` compiled with an optimizer whose learning rate is a
            number (not a ``LearningRateSchedule``).
        x: training inputs (arrays, or a dict of arrays for a multi-input model,
            batched by ``batch_size``), or an iterable of batches such as a
            ``tf.data.Dataset`` (under every Keras backend: its tensors are handed to
            the model as NumPy arrays); an iterable is iterated again when it runs
            out, unless it is a one-shot iterator, in which case the test stops there.
        y: training targets, for array ``x``.
        batch_size: examples per step for array input.
        start_lr, end_lr, num_steps, mode, smoothing, diverge_factor, progress: as for
            :class:`cyclr.RangeTest`.
        validation_data: optional ``(x_val, y_val)`` arrays.
        shuffle: draw array batches in a fresh random order each pass.
        seed: seed of that order (numpy's generator; Keras' and numpy's global random
            states are not used).
        batch_fn: ``batch_fn(batch)`` -> the arguments of ``model.train_on_batch``:
            ``(x, y)`` or ``(x, y, sample_weight)``, for iterable ``x``. The default
            takes a tuple or list as those arguments, and anything else (a dict of
            inputs, for a model that computes its own loss) as ``x`` alone.

    Returns:
        A :class:`cyclr.RangeTestResult`.

    Raises:
        ValueError, TypeError: for invalid arguments, naming the argument and value.

    Examples:
        >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])  # doctest: +SKIP
        >>> result = range_test(model, x, y, start_lr=1e-4, end_lr=1.0)  # doctest: +SKIP
        >>> result.schedule("triangular2", step_size=200)  # doctest: +SKIP
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {model!r}")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(model, "compiled", False):
        raise ValueError("model must be compiled (model.compile(optimizer=..., loss=...)) "
                         "before range_test")
    if not model.built:
        raise ValueError("model must be built (start it with keras.Input, or call it on a "
                         "batch) so that range_test has weights to save and restore")
    if not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
        raise TypeError(
            f"model.optimizer must have a number as learning_rate for range_test to set "
            f"it, got {getattr(optimizer, '_learning_rate', None)!r}; compile a model "
            f"with optimizer=keras.optimizers.{type(optimizer).__name__}(learning_rate=...)")
    if batch_fn is not None and not callable(batch_fn):
        raise TypeError(f"batch_fn must be callable or None, got {batch_fn!r}")
    data = _batches(x, y, v.count("batch_size", batch_size, minimum=1), shuffle, seed)
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError(
                f"validation_data must be an (x_val, y_val) pair, got {validation_data!r}")
    rt = RangeTest(start_lr, end_lr, num_steps, mode=mode, smoothing=smoothing,
                   diverge_factor=diverge_factor, progress=progress)
    if not optimizer.built:
        # A fresh optimizer gets its slots now, with the values it would start from.
        optimizer.build(model.trainable_variables)
    saved = _snapshot(model, optimizer)
    to_args = batch_fn or _train_args

    def step(lr, batches):
        batch = next(batches, None)
        if batch is None:
            return None
        args = to_args(batch) if y is None else batch
        if not (isinstance(args, tuple) and 1 <= len(args) <= 3):
            raise TypeError(f"batch_fn must return a tuple (x,), (x, y) or (x, y, "
                            f"sample_weight), got {args!r}")
        optimizer.learning_rate = lr
        logs = model.train_on_batch(*args, return_dict=True)
        if validation_data is not None:
            logs = model.test_on_batch(*validation_data, return_dict=True)
        return logs["loss"], _accuracy(logs)

    return run(rt, data, "x", step, lambda: _restore(saved))


def _accuracy(logs):
    for key, value in logs.items():
        if key == "acc" or key.endswith("accuracy"):
            return value
    return None


def _batches(x, y, batch_size, shuffle, seed):
    """An endless stream of batch tuples (or one that ends with a one-shot iterator)."""
    if y is not None:
        n = len(next(iter(x.values()))) if isinstance(x, dict) and x else len(x)
        if len(y) != n:
            raise ValueError(f"x and y must have the same length, got {n} and {len(y)}")
        if n < batch_size:
            raise ValueError(f"batch_size must be <= len(x) ({n}), got {batch_size}")
        return _array_batches(x, y, n, batch_size, shuffle, seed)
    if isinstance(x, np.ndarray):
        raise TypeError("y is None: pass targets with array inputs, or an iterable of "
                        "(x, y) batches as x")
    if _is_tf_dataset(x):
        return _NumpyDataset(x)
    try:
        iter(x)
    except TypeError:
        raise TypeError(f"x must be arrays with y, or an iterable of batches, got {x!r}") \
            from None
    return x


def _train_args(batch):
    """The default batch_fn: a tuple or list is (x, y[, sample_weight]), anything else x
    alone; TensorFlow tensors become NumPy arrays, which every backend accepts."""
    batch = keras.tree.map_structure(_to_numpy, batch)
    return tuple(batch) if isinstance(batch, (tuple, list)) else (batch,)


def _to_numpy(value):
    if type(value).__module__.startswith("tensorflow"):
        return np.asarray(value)
    return value


def _is_tf_dataset(x) -> bool:
    # Checked by name: TensorFlow is not imported unless the user did.
    return any(c.__module__.startswith("tensorflow") and c.__name__ == "DatasetV2"
               for c in type(x).__mro__)


class _NumpyDataset:
    """A tf.data.Dataset read as NumPy: the JAX and torch backends cannot take its
    tensors (``Cannot interpret 'tf.float32' as a data type``)."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __iter__(self):
        return self.dataset.as_numpy_iterator()


def _array_batches(x, y, n, batch_size, shuffle, seed):
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            xb = {k: a[idx] for k, a in x.items()} if isinstance(x, dict) else x[idx]
            yield xb, y[idx]


def _snapshot(model, optimizer):
    variables = list(model.variables) + list(optimizer.variables)
    # Copies in the backend's own tensors: no trip through NumPy, whose conversion of
    # JAX and torch variables goes through a path numpy 2 deprecates.
    return [(var, keras.ops.copy(var.value)) for var in variables]


def _restore(saved):
    for var, value in saved:
        var.assign(value)


__all__ = ["range_test"]
