"""The Keras 3 range-test runner on scikit-learn's digits: real training, exact restore;
tf.data under the JAX and torch backends in subprocesses (Keras picks its backend once
per process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import keras
import tensorflow as tf
from sklearn.datasets import load_digits

from cyclr.adapters.keras import range_test

from _range_checks import (  # beside this file
    assert_max_lr_where_loss_still_falls, triangular2_against_fixed)

BATCH = 32
ROOT = Path(__file__).parent.parent.parent


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16.0).astype("float32"), y[order].astype("int64")
    return x[:1400], y[:1400], x[1400:], y[1400:]


def mlp(optimizer, seed=0, norm=False, dropout=0.0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((64,)), keras.layers.Dense(32)]
    if norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [keras.layers.Activation("relu"), keras.layers.Dropout(dropout, seed=seed),
               keras.layers.Dense(10)]
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def state(model):
    """Independent copies of every variable of the model and its optimizer."""
    return [np.array(v.numpy(), copy=True)
            for v in list(model.variables) + list(model.optimizer.variables)]


def set_state(model, values):
    for var, value in zip(list(model.variables) + list(model.optimizer.variables), values):
        var.assign(value)


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)


def used_model(digits, optimizer):
    """A model mid-training: optimizer slots filled, iterations > 0, BN statistics."""
    x, y, _, _ = digits
    model = mlp(optimizer, norm=True, dropout=0.2)
    for i in range(3):
        model.train_on_batch(x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH])
    return model


def train_steps(model, x, y, steps=10, lrs=None):
    for i in range(steps):
        if lrs is not None:
            model.optimizer.learning_rate.assign(lrs[i])
        j = (i * BATCH) % (len(x) - BATCH)
        model.train_on_batch(x[j:j + BATCH], y[j:j + BATCH])
    return state(model)


OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(0.003),
    "sgd-nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_variables_come_back_exactly_and_training_continues_identically(digits, name):
    x, y, xv, yv = digits
    model = used_model(digits, OPTIMIZERS[name]())
    before = state(model)
    lr_before = float(model.optimizer.learning_rate.numpy())
    reference = train_steps(model, x, y)  # what training does without a range test
    set_state(model, before)

    result = range_test(model, x, y, start_lr=1e-4, end_lr=1.0, num_steps=30,
                        validation_data=(xv, yv), progress=False)
    assert len(result) == 30
    assert_same(state(model), before)
    assert float(model.optimizer.learning_rate.numpy()) == lr_before
    assert_same(train_steps(model, x, y), reference)


def test_a_fresh_model_trains_as_if_no_test_had_run(digits):
    x, y, _, _ = digits
    tested = mlp(keras.optimizers.Adam(0.003), dropout=0.2)
    assert not tested.optimizer.built
    range_test(tested, x, y, start_lr=1e-3, end_lr=1.0, num_steps=15, progress=False)
    untouched = mlp(keras.optimizers.Adam(0.003), dropout=0.2)
    assert_same(train_steps(tested, x, y), train_steps(untouched, x, y))


def test_each_step_trains_at_the_ramp_lr(digits):
    x, y, _, _ = digits
    model = used_model(digits, keras.optimizers.SGD(0.05, momentum=0.9))
    before = state(model)
    result = range_test(model, x, y, start_lr=1e-4, end_lr=0.5, num_steps=20,
                        shuffle=False, progress=False)
    # The same steps by hand: LR variable set, then train_on_batch on the next batch.
    losses, accs = [], []
    for i, lr in enumerate(result.lrs):
        model.optimizer.learning_rate.assign(lr)
        logs = model.train_on_batch(x[i * BATCH:(i + 1) * BATCH],
                                    y[i * BATCH:(i + 1) * BATCH], return_dict=True)
        losses.append(logs["loss"])
        accs.append(logs["accuracy"])
    set_state(model, before)
    assert result.losses.tolist() == losses
    assert result.accuracies.tolist() == accs


def test_tf_data_gives_the_same_curve_as_arrays(digits):
    x, y, xv, yv = digits
    model = used_model(digits, keras.optimizers.SGD(0.05, momentum=0.9))
    from_arrays = range_test(model, x, y, start_lr=1e-3, end_lr=1.0, num_steps=20,
                             shuffle=False, validation_data=(xv, yv), progress=False)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH, drop_remainder=True)
    from_dataset = range_test(model, dataset, start_lr=1e-3, end_lr=1.0, num_steps=20,
                              validation_data=(xv, yv), progress=False)
    assert from_dataset.losses.tolist() == from_arrays.losses.tolist()
    assert from_dataset.accuracies.tolist() == from_arrays.accuracies.tolist()


def test_validation_metrics_are_those_of_the_model_after_each_step(digits):
    x, y, xv, yv = digits
    model = used_model(digits, keras.optimizers.SGD(0.05))
    before = state(model)
    result = range_test(model, x, y, start_lr=0.01, end_lr=0.3, num_steps=6, mode="linear",
                        shuffle=False, validation_data=(xv, yv), progress=False)
    for i, lr in enumerate(result.lrs):
        model.optimizer.learning_rate.assign(lr)
        model.train_on_batch(x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH])
        logits = model.predict_on_batch(xv)
        assert result.accuracies[i] == pytest.approx(np.mean(logits.argmax(1) == yv))
    set_state(model, before)


def test_an_exception_from_the_data_propagates_and_restores(digits):
    x, y, _, _ = digits
    model = used_model(digits, keras.optimizers.Adam(0.003))
    before = state(model)

    def batches():
        for i in range(5):
            yield x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
        raise RuntimeError("data source failed")

    with pytest.raises(RuntimeError, match="data source failed"):
        range_test(model, batches(), start_lr=1e-3, end_lr=1.0, num_steps=20,
                   progress=False)
    assert_same(state(model), before)


def test_divergence_stops_early_and_restores(digits):
    x, y, _, _ = digits
    model = used_model(digits, keras.optimizers.SGD(0.05, momentum=0.9))
    before = state(model)
    result = range_test(model, x, y, start_lr=1e-2, end_lr=1e5, num_steps=60,
                        progress=False)
    assert result.stop_reason is not None and len(result) < 60
    assert_same(state(model), before)


def test_a_one_shot_generator_that_runs_out_stops_the_test(digits):
    x, y, _, _ = digits
    model = mlp(keras.optimizers.SGD(0.05))
    batches = ((x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, 7 * BATCH, BATCH))
    result = range_test(model, batches, start_lr=1e-3, end_lr=1.0, num_steps=20,
                        progress=False)
    assert len(result) == 7 and "ran out" in result.stop_reason


def test_a_learning_rate_schedule_is_refused(digits):
    x, y, _, _ = digits
    model = mlp(keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(
        0.1, 100, 0.5)))
    with pytest.raises(TypeError, match="learning_rate"):
        range_test(model, x, y, progress=False)


def test_bad_arguments_name_the_parameter(digits):
    x, y, _, _ = digits
    model = mlp(keras.optimizers.SGD(0.05))
    with pytest.raises(TypeError, match="model"):
        range_test("model", x, y)
    with pytest.raises(ValueError, match="batch_size"):
        range_test(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="same length"):
        range_test(model, x, y[:-1])
    with pytest.raises(TypeError, match="validation_data"):
        range_test(model, x, y, validation_data=x)
    uncompiled = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="compiled"):
        range_test(uncompiled, x, y)
    unbuilt = keras.Sequential([keras.layers.Dense(10)])
    unbuilt.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    with pytest.raises(ValueError, match="built"):
        range_test(unbuilt, x, y)
    assert not unbuilt.optimizer.built  # refused before anything was touched


# --- the real use: choose the bounds, then train with them --------------------------

@pytest.fixture(scope="module")
def run(digits):
    x, y, xv, yv = digits
    model = mlp(keras.optimizers.SGD(0.1, momentum=0.9))
    return range_test(model, x, y, start_lr=1e-3, end_lr=10.0, num_steps=200,
                      validation_data=(xv, yv), progress=False)


@pytest.mark.parametrize("rule", ["auto", "accuracy", "steepest", "valley", "minimum"])
def test_suggested_max_lr_is_where_loss_still_falls_before_divergence(run, rule):
    assert_max_lr_where_loss_still_falls(run, rule)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_triangular2_from_the_suggestion_beats_its_base_lr_fixed(run, digits, seed):
    x, y, xv, yv = digits
    base_lr, runs = triangular2_against_fixed(run, len(x), BATCH)
    final = {}
    for name, lrs in runs.items():
        model = mlp(keras.optimizers.SGD(base_lr, momentum=0.9), seed=seed)
        train_steps(model, x, y, len(lrs), lrs)
        final[name] = float(np.mean(model.predict_on_batch(xv).argmax(1) == yv))
    assert final["cyclic"] >= final["fixed"]
    assert final["cyclic"] > 0.9


def test_batch_fn_turns_any_batch_into_train_on_batch_arguments(digits):
    x, y, _, _ = digits
    model = used_model(digits, keras.optimizers.SGD(0.05, momentum=0.9))
    from_arrays = range_test(model, x, y, start_lr=1e-3, end_lr=1.0, num_steps=12,
                             shuffle=False, progress=False)
    dicts = [{"pixels": x[i:i + BATCH], "digit": y[i:i + BATCH]}
             for i in range(0, len(x) - BATCH + 1, BATCH)]
    from_dicts = range_test(model, dicts, batch_fn=lambda b: (b["pixels"], b["digit"]),
                            start_lr=1e-3, end_lr=1.0, num_steps=12, progress=False)
    assert from_dicts.losses.tolist() == from_arrays.losses.tolist()
    with pytest.raises(TypeError, match="batch_fn must return a tuple"):
        range_test(model, dicts, batch_fn=lambda b: [b["pixels"]], progress=False)
    with pytest.raises(TypeError, match="batch_fn must be callable"):
        range_test(model, dicts, batch_fn="pixels", progress=False)


# --- tf.data under the JAX and torch backends, each in its own process ----------------

BACKEND_SCRIPT = r"""
import json, sys, warnings
warnings.simplefilter("error")
import numpy as np
import tensorflow as tf
import keras
from cyclr.adapters.keras import range_test

out = {"backend": keras.backend.backend()}
rng = np.random.default_rng(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).astype("int64")


def model():
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(2)])
    m.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), metrics=["accuracy"],
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


m = model()
# Keras converts torch variables with np.array(variable), which numpy 2 deprecates.
warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy keyword",
                        DeprecationWarning)
value = lambda v: np.array(keras.ops.convert_to_numpy(v.value))
before = [value(v) for v in m.variables]
ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32, drop_remainder=True)
from_ds = range_test(m, ds, start_lr=1e-3, end_lr=10.0, num_steps=30, progress=False)
out["restored"] = all(np.array_equal(a, value(v))
                      for a, v in zip(before, m.variables))
from_arrays = range_test(model(), x, y, batch_size=32, shuffle=False, start_lr=1e-3,
                         end_lr=10.0, num_steps=30, progress=False)
out["ds"] = from_ds.losses.tolist()
out["arrays"] = from_arrays.losses.tolist()
out["accuracies"] = from_ds.accuracies.tolist()
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_tf_data_under_other_keras_backends(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_ENABLE_X64": "0",
           "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", BACKEND_SCRIPT], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["backend"] == backend and out["restored"]
    assert len(out["ds"]) == len(out["arrays"]) >= 10
    # Same batches, same model: the curve does not depend on where the batches came from.
    np.testing.assert_allclose(out["ds"], out["arrays"], rtol=1e-6)
    assert all(0.0 <= a <= 1.0 for a in out["accuracies"])
