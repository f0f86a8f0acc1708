"""Keras under tf.distribute.MirroredStrategy over 2 logical CPU devices (run by
test_distributed.py in a fresh process: logical devices must be set up before
TensorFlow starts).

Usage: python _keras_mirrored.py OUT.json WORKDIR

Trains a small classifier on scikit-learn's digits with ``model.fit`` and SGD (momentum
0.9) driven by ``cyclr.adapters.keras.schedule``: 25 steps, ``model.save``, then
``keras.models.load_model`` inside the strategy and 25 more steps; and the same 50 steps
uninterrupted. Per step and per replica it records the LR the schedule gives at the
optimizer's iterations, and the update the optimizer applied to a probe weight whose
gradient is exactly 1 and which is zeroed before each step: its velocity ``m``, which
SGD sets to ``momentum * m - lr * 1``. Writes those, the iterations and the final
weights as JSON.
"""

import json
import os
import sys

STEPS_PER_EPOCH, BATCH = 25, 64


def start_tensorflow():
    """Two logical CPU devices, set before TensorFlow starts; deterministic kernels.
    (Done here, not at import, so that importing this file changes nothing.)"""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    tf.config.experimental.enable_op_determinism()
    return tf


def main(out_path, workdir):
    tf = start_tensorflow()
    import keras
    from sklearn.datasets import load_digits

    import cyclr
    from cyclr.adapters import keras as cyclr_keras

    schedule = cyclr.triangular2(0.01, 0.3, 5, shape="hann")

    @keras.saving.register_keras_serializable(package="cyclr_tests")
    class Probe(keras.layers.Layer):
        """Adds its weight to the loss: its gradient is 1."""

        def build(self, input_shape):
            self.value = self.add_weight(shape=(), initializer="zeros", name="probe")

        def call(self, x):
            self.add_loss(self.value * 1.0)
            return x

    class Record(keras.callbacks.Callback):
        """Per replica: the schedule's LR before each step, the probe's move after it."""

        def __init__(self):
            super().__init__()
            self.scheduled, self.applied, self.iterations = [], [], []

        def on_train_begin(self, logs=None):
            optimizer = self.model.optimizer
            self.learning_rate = tf.function(lambda: optimizer.learning_rate)
            self.probe = next(w for w in self.model.weights if w.path.endswith("probe"))

        def on_train_batch_begin(self, batch, logs=None):
            self.probe.assign(0.0)
            self.iterations.append(int(self.model.optimizer.iterations.numpy()))
            per_replica = strategy.run(self.learning_rate)
            self.scheduled.append(
                [float(v) for v in strategy.experimental_local_results(per_replica)])

        def on_train_batch_end(self, batch, logs=None):
            local = strategy.experimental_local_results(self.probe.value)
            self.applied.append([float(v.numpy()) for v in local])

    def build():
        model = keras.Sequential([keras.Input((64,)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(10), Probe()])
        model.compile(
            optimizer=keras.optimizers.SGD(cyclr_keras.schedule(schedule, total_steps=None),
                                           momentum=0.9),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    x, y = load_digits(return_X_y=True)
    x, y = x[:STEPS_PER_EPOCH * BATCH] / 16.0, y[:STEPS_PER_EPOCH * BATCH]

    def fit(model, epochs, initial_epoch=0):
        record = Record()
        history = model.fit(x, y, batch_size=BATCH, epochs=epochs, initial_epoch=initial_epoch,
                            shuffle=False, verbose=0, callbacks=[record])
        return record, history.history["loss"]

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    keras.utils.set_random_seed(0)
    with strategy.scope():
        whole = build()
    initial = [w.numpy() for w in whole.weights]
    whole_record, whole_loss = fit(whole, epochs=2)

    with strategy.scope():
        first = build()
    for w, v in zip(first.weights, initial):
        w.assign(v)
    first_record, _ = fit(first, epochs=1)
    path = os.path.join(workdir, "model.keras")
    first.save(path)
    with strategy.scope():
        loaded = keras.models.load_model(path)
    loaded_schedule = loaded.optimizer._learning_rate
    resumed_record, _ = fit(loaded, epochs=2, initial_epoch=1)

    result = {
        "replicas": strategy.num_replicas_in_sync,
        "whole": {"scheduled": whole_record.scheduled, "applied": whole_record.applied,
                  "iterations": whole_record.iterations, "loss": whole_loss,
                  "weights": [w.numpy().tolist() for w in whole.weights]},
        "first": {"scheduled": first_record.scheduled, "applied": first_record.applied,
                  "iterations": first_record.iterations},
        "loaded": {"class": type(loaded_schedule).__name__,
                   "config": loaded_schedule.get_config(),
                   "iterations_after_load": resumed_record.iterations[0],
                   "scheduled": resumed_record.scheduled, "applied": resumed_record.applied,
                   "weights": [w.numpy().tolist() for w in loaded.weights],
                   "distributed": [type(w.value).__name__ for w in loaded.weights]},
    }
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
