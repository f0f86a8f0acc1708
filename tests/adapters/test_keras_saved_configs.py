"""Schedules saved by earlier versions of ``cyclr.adapters.keras`` load into the same
classes, with the same values, and save again to the same configs."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")   # before keras is first imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cyclr  # noqa: E402
import cyclr.adapters.keras as ck  # noqa: E402


def _saved(class_name, config):
    return {"module": "cyclr.adapters.keras", "class_name": class_name, "config": config,
            "registered_name": f"cyclr>{class_name}"}


_TRIANGULAR = {"initial_learning_rate": 0.001, "maximal_learning_rate": 0.01,
               "step_size": 4, "scale_mode": "cycle"}

# Each as ``model.save`` wrote it into a model's config.json (the optimizer's
# learning_rate) before the TensorFlow Addons-compatible classes and
# CosineDecayRestarts moved out of keras.py, beside the cyclr schedule it follows.
SAVED = [
    (_saved("CyclrSchedule", {
        "schedule": {"version": 1, "type": "cyclic", "base_lr": 0.001, "max_lr": 0.01,
                     "step_size": 5, "step_size_down": None, "policy": "triangular2",
                     "gamma": 1.0, "scale_fn": None, "scale_mode": "cycle",
                     "shape": "linear"},
        "total_steps": None, "name": None}),
     cyclr.triangular2(0.001, 0.01, 5)),
    (_saved("TriangularCyclicalLearningRate",
            {**_TRIANGULAR, "name": "TriangularCyclicalLearningRate"}),
     cyclr.triangular(0.001, 0.01, 4)),
    (_saved("Triangular2CyclicalLearningRate",
            {**_TRIANGULAR, "name": "Triangular2CyclicalLearningRate"}),
     cyclr.triangular2(0.001, 0.01, 4)),
    (_saved("ExponentialCyclicalLearningRate",
            {**_TRIANGULAR, "scale_mode": "iterations",
             "name": "ExponentialCyclicalLearningRate", "gamma": 0.99}),
     cyclr.exp_range(0.001, 0.01, 4, gamma=0.99)),
    (_saved("CosineDecayRestarts", {"initial_learning_rate": 0.01, "first_decay_steps": 5,
                                    "t_mul": 2, "m_mul": 0.9, "alpha": 0.1,
                                    "name": "SGDRDecay"}),
     cyclr.cosine_restarts(0.01, 5, min_lr=0.001, cycle_mult=2, amplitude_decay=0.9)),
]


@pytest.mark.parametrize("saved, expected", SAVED, ids=[s["class_name"] for s, _ in SAVED])
def test_a_config_saved_before_loads_and_saves_the_same(saved, expected):
    lr = keras.saving.deserialize_keras_object(saved)
    assert type(lr) is getattr(ck, saved["class_name"])
    steps = np.arange(60)
    got = keras.ops.convert_to_numpy(lr(keras.ops.convert_to_tensor(steps)))
    # The core's float32 values, within the 1 ulp of a factor multiplied in the graph.
    np.testing.assert_array_max_ulp(got, expected.array(len(steps), dtype=np.float32),
                                    maxulp=1)
    assert keras.saving.serialize_keras_object(lr) == saved


def test_the_public_classes_are_named_by_the_public_module():
    for name in ck.__all__:
        obj = getattr(ck, name)
        if isinstance(obj, type):
            assert obj.__module__ == "cyclr.adapters.keras", name
