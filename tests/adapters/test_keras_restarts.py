"""cyclr.adapters.keras.CosineDecayRestarts: the core's float32 values at every step
(TensorFlow here, JAX in a subprocess), Keras' own CosineDecayRestarts within the
rounding of its float32 arithmetic over whole runs and far past many restarts, saving
and loading, and refusals naming Keras' arguments."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")   # before keras is first imported

import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import ops  # noqa: E402

import cyclr  # noqa: E402
from _policies import expected32, ulps  # noqa: E402  (beside this file)
from cyclr.adapters.keras import CosineDecayRestarts  # noqa: E402

ROOT = Path(__file__).parent.parent.parent
EPS32 = 2.0**-23

# (initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha)
CONFIGS = [
    (0.1, 10, 2.0, 1.0, 0.0),           # Keras' defaults
    (0.1, 10, 1.5, 0.9, 0.01),
    (1.0, 7, 3.0, 0.5, 0.1),
    (0.1, 1, 2.0, 1.0, 0.0),
    (0.05, 100, 1.1, 1.0, 0.0),
    (0.1, 10, 1.0, 1.0, 0.0),           # equal cycles
    (0.1, 1000, 1.0, 0.99, 0.0),
    (2.0, 5, 4.0, 0.8, 0.5),
    (0.1, 12.5, 2.0, 1.0, 0.0),         # a fractional first cycle
]


def lr_at(lr, steps):
    return ops.convert_to_numpy(lr(ops.convert_to_tensor(np.asarray(steps, np.int64))))


def cyclr_of(lr0, first, t_mul, m_mul, alpha):
    return cyclr.cosine_restarts(lr0, first, min_lr=alpha * lr0, cycle_mult=t_mul,
                                 amplitude_decay=m_mul)


def keras_within_its_float32_rounding(s, config, steps, theirs):
    """Whether Keras' float32 values are cyclr's curve at positions within the error of
    Keras' float32 arithmetic, step by step; and at how many steps only because a
    restart lies within that error (Keras' float32 cycle index can be one off there).

    Keras' position error, in steps, at step i of cycle k (cycle lengths first * t**k):
    ``step / first`` rounds by eps/2 relative (i * eps/2 steps) and the few float32
    operations after it (log, pow, the cycle sum) by a few eps each, the pow growing
    with k * log(t); and Keras grows its cycles by float32(t_mul), off from t_mul by
    ``r`` relative, which moves cycle k by about i * k * r steps. Within a cycle the
    value changes by at most ``span * m**k * pi / (2 * T_k)`` per step."""
    lr0, first, t_mul, m_mul, alpha = config
    starts = s.cycle_starts(int(steps.max()) + 64)
    k = np.searchsorted(starts, steps, side="right") - 1
    r = abs(float(np.float32(t_mul)) / t_mul - 1.0)
    delta = steps * (EPS32 * (4.0 + 4.0 * k * math.log(t_mul)) + k * r) + 1e-3
    span = lr0 - alpha * lr0
    slope = span * m_mul**k * math.pi / (2.0 * first * t_mul**k.astype(np.float64))
    ours = np.array([s(int(i)) for i in steps])
    slack = 4 * EPS32 * lr0
    smooth = np.abs(theirs - ours) <= slope * delta + slack
    near = np.abs(steps - starts[np.clip(k + 1, 0, starts.size - 1)]) <= delta + 1
    near |= np.abs(steps - starts[k]) <= delta + 1
    hull_ok = np.zeros_like(smooth)
    for n in np.nonzero(~smooth & near)[0]:
        # The curve between whole steps: a cycle ends at the floor (alpha's value) and
        # the next starts at its whole steps' values or above.
        w = int(math.ceil(delta[n])) + 1
        around = [alpha * lr0] + [
            s(int(j)) for j in range(max(int(steps[n]) - w, 0), int(steps[n]) + w + 1)]
        hull_ok[n] = min(around) - slack <= theirs[n] <= max(around) + slack
    return bool(np.all(smooth | hull_ok)), int(np.count_nonzero(~smooth))


@pytest.mark.parametrize("config", CONFIGS, ids=repr)
def test_the_core_float32_values_and_keras_within_its_rounding(config):
    lr0, first, t_mul, m_mul, alpha = config
    ours = CosineDecayRestarts(lr0, first, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    s = cyclr_of(*config)
    assert ours.schedule == s
    whole = np.arange(20_000)
    rng = np.random.default_rng(7)
    restarts = s.cycle_starts(2**24)[-12:]
    far = np.unique(np.concatenate([rng.integers(20_000, 2**24, 3000), restarts - 1,
                                    restarts, restarts + 1]))
    far = far[far >= 0]
    for steps in (whole, far):
        got = lr_at(ours, steps)
        worst = 0 if t_mul == 1.0 else 1
        assert ulps(got, s.array(steps.size, dtype=np.float32) if steps is whole
                    else expected32(s, steps)).max() <= worst
        theirs = ops.convert_to_numpy(keras.optimizers.schedules.CosineDecayRestarts(
            lr0, first, t_mul=t_mul, m_mul=m_mul, alpha=alpha)(steps)).astype(np.float64)
        ok, rough = keras_within_its_float32_rounding(s, config, steps, theirs)
        assert ok
        assert rough <= steps.size // 100           # the hull is for restarts only


def test_keras_float32_cycle_index_is_one_off_at_restarts_ours_is_not():
    # cycle 20 starts at step 10 * (2**20 - 1); one step before, Keras' float32
    # arithmetic already puts the step in cycle 20 and restarts at the peak
    s = cyclr_of(0.1, 10, 2.0, 1.0, 0.0)
    at = 10 * (2**20 - 1)
    assert at in s.cycle_starts(at)
    ours = lr_at(CosineDecayRestarts(0.1, 10), [at - 1, at])
    assert ours.tolist() == [np.float32(s(at - 1)), np.float32(0.1)]
    assert ours[0] < 1e-9                      # the end of cycle 19, nearly alpha's
    theirs = ops.convert_to_numpy(keras.optimizers.schedules.CosineDecayRestarts(0.1, 10)(
        np.array([at - 1], np.int64)))
    assert theirs[0] > 0.099


def test_float_steps_as_keras_takes_them():
    lr = CosineDecayRestarts(0.1, 10, t_mul=1.5)
    got = ops.convert_to_numpy(lr(ops.convert_to_tensor(np.arange(100, dtype=np.float32))))
    assert np.array_equal(got, lr_at(lr, np.arange(100)))


def test_config_round_trip_and_serialization():
    lr = CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.9, alpha=0.01, name="warm")
    config = lr.get_config()
    assert config == {"initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 1.5,
                      "m_mul": 0.9, "alpha": 0.01, "name": "warm"}
    assert set(config) == set(keras.optimizers.schedules.CosineDecayRestarts(
        0.1, 10).get_config())
    again = CosineDecayRestarts.from_config(json.loads(json.dumps(config)))
    assert again.schedule == lr.schedule and again.name == "warm"
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(lr))
    assert type(restored) is CosineDecayRestarts
    steps = np.arange(0, 5000, 7)
    assert np.array_equal(lr_at(restored, steps), lr_at(lr, steps))
    defaults = CosineDecayRestarts(0.1, 10)
    assert (defaults.t_mul, defaults.m_mul, defaults.alpha, defaults.name) == (
        2, 1.0, 0.0, "SGDRDecay")


@pytest.mark.filterwarnings(           # Keras saves variables with np.array(variable)
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_a_saved_model_loads_with_its_schedule(tmp_path):
    lr = CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5, alpha=0.1)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=lr), "mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(x, x.sum(axis=1), batch_size=8, epochs=2, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    schedule = loaded.optimizer._learning_rate
    assert type(schedule) is CosineDecayRestarts and schedule.schedule == lr.schedule
    assert int(loaded.optimizer.iterations.numpy()) == 16
    steps = np.arange(0, 10_000, 3)
    assert np.array_equal(lr_at(schedule, steps), lr_at(lr, steps))
    assert float(ops.convert_to_numpy(loaded.optimizer.learning_rate)) == \
        np.float32(lr.schedule(16))


def test_model_fit_uses_the_core_float32_value_at_every_step():
    lr = CosineDecayRestarts(0.1, 8, t_mul=1.5, m_mul=0.9, alpha=0.05)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate=lr), "mse")
    x = np.random.default_rng(0).normal(size=(300, 2)).astype("float32")
    model.fit(x, x.sum(axis=1), batch_size=1, epochs=1, shuffle=False, verbose=0,
              callbacks=[Record()])
    assert np.array_equal(np.float32(seen), lr.schedule.array(300, dtype=np.float32))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(m_mul=1.5), ValueError, r"m_mul must be in \(0, 1\], got 1\.5"),
    (dict(m_mul=0.0), ValueError, r"m_mul must be in \(0, 1\], got 0\.0"),
    (dict(t_mul=0.5), ValueError, r"t_mul must be >= 1, got 0\.5"),
    (dict(alpha=1.5), ValueError, r"alpha must be in \[0, 1\], got 1\.5"),
    (dict(alpha=-0.1), ValueError, r"alpha must be in \[0, 1\], got -0\.1"),
    (dict(first_decay_steps=0), ValueError, r"first_decay_steps must be > 0, got 0"),
    (dict(initial_learning_rate=-1.0), ValueError, r"initial_learning_rate must be"),
    (dict(initial_learning_rate=None), TypeError, r"initial_learning_rate must be a real"),
    (dict(m_mul=float("nan")), ValueError, r"m_mul must be in \(0, 1\], got nan"),
    (dict(t_mul=1.0, first_decay_steps=2.3), ValueError,
     r"first_decay_steps=2\.3: the cycle of 2\.3 steps is not a multiple of 2\*\*-20"),
    (dict(t_mul=1.000001), ValueError, r"t_mul=1\.000001 with first_decay_steps=10 needs"),
    (dict(name=3), TypeError, r"name must be a string"),
], ids=repr)
def test_invalid_arguments_name_keras_arguments(kwargs, error, match):
    args = dict(initial_learning_rate=0.1, first_decay_steps=10)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        CosineDecayRestarts(**args)


JAX_SCRIPT = r"""
import json, sys, warnings
warnings.simplefilter("error")
import numpy as np
import jax
import keras
from keras import ops
from cyclr.adapters.keras import CosineDecayRestarts

configs, steps = json.loads(sys.argv[1])
x64 = jax.config.jax_enable_x64
out = {"backend": keras.backend.backend(), "values": []}
for config in configs:
    lr = CosineDecayRestarts(*config)
    fn = jax.jit(lambda i: lr(i))
    out["values"].append(np.asarray(fn(np.asarray(steps, np.int32))).view(np.int32).tolist())
out["x64_unchanged"] = jax.config.jax_enable_x64 == x64
print(json.dumps(out))
"""


def test_the_jax_backend_gives_the_core_float32_values():
    configs = [c for c in CONFIGS if c[2] != 1.1]
    steps = list(range(3000)) + [2**24 + 1, 10**9 + 7, 2**31 - 1]
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", JAX_SCRIPT, json.dumps([configs, steps])],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["backend"] == "jax" and out["x64_unchanged"]
    for config, bits in zip(configs, out["values"]):
        got = np.array(bits, np.int32).view(np.float32)
        expected = expected32(cyclr_of(*config), steps)
        assert ulps(got, expected).max() <= (0 if config[2] == 1.0 else 1), config
