"""cyclr.adapters.keras under the JAX backend, in a subprocess (Keras picks its backend
once per process): model.fit uses the core's float32 values step for step, large
steps, TFA classes, save and load; JAX's global x64 setting is left alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import cyclr
from _policies import (  # beside this file
    LARGE_INT32,
    POLICIES,
    SMALL,
    expected32,
    multiplies_in_graph,
    ulps,
)

ROOT = Path(__file__).parent.parent.parent

SCRIPT = r"""
import json, sys, tempfile, warnings
warnings.simplefilter("error")
# Keras saves variables with np.array(variable), which numpy 2 deprecates.
warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy keyword",
                        DeprecationWarning)
import numpy as np
import jax
import keras
from keras import ops
import cyclr
from cyclr.adapters.keras import (ExponentialCyclicalLearningRate,
                                  Triangular2CyclicalLearningRate, schedule)

cases = json.loads(sys.argv[1])
out = {"backend": keras.backend.backend()}


class RecordingSGD(keras.optimizers.SGD):
    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self._size = size

    def build(self, variables):
        super().build(variables)
        self.used = self.add_variable((self._size,), initializer="zeros", dtype="float32",
                                      name="used_lr")

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        at = ops.mod(self.iterations, self._size)
        self.assign(self.used, ops.scatter_update(
            self.used, ops.reshape(at, (1, 1)),
            ops.reshape(ops.cast(learning_rate, "float32"), (1,))))


def value(variable):
    return ops.convert_to_numpy(variable.value)


def tiny_model(optimizer, steps_per_execution=1):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer, "mse", steps_per_execution=steps_per_execution)
    return model


def build(case):
    s = cyclr.from_dict(case["schedule"])
    return s, schedule(s, case["total_steps"])


steps = 1500
x = np.random.default_rng(0).normal(size=(steps, 2)).astype("float32")
out["fit"] = {}
for name, case in cases["fit"].items():
    s, lr = build(case)
    optimizer = RecordingSGD(steps, learning_rate=lr)
    model = tiny_model(optimizer, steps_per_execution=250)
    model.fit(x, x.sum(axis=1), batch_size=1, epochs=1, shuffle=False, verbose=0)
    out["fit"][name] = {"iterations": int(value(optimizer.iterations)),
                        "used": value(optimizer.used).tolist()}

out["large"] = {}
for name, case in cases["large"].items():
    s, lr = build(case)
    optimizer = RecordingSGD(1, learning_rate=lr)
    model = tiny_model(optimizer)
    ones = np.ones((1, 2), "float32")
    model.train_on_batch(ones, ones.sum(axis=1))
    optimizer.iterations.assign(case["step"])
    model.train_on_batch(ones, ones.sum(axis=1))
    out["large"][name] = float(value(optimizer.used)[0])

out["policies"] = {}
steps = np.asarray(cases["steps"], np.int32)
for name, described in cases["policies"].items():
    lr = schedule(cyclr.from_dict(described))
    out["policies"][name] = {
        "eager": ops.convert_to_numpy(lr(steps)).tolist(),
        "jit": np.asarray(jax.jit(lr)(steps)).tolist(),
        "hinted": ops.convert_to_numpy(schedule(cyclr.from_dict(described), 50)(steps)).tolist(),
    }

probe = np.arange(3000, dtype=np.int32)
out["tfa_fractional"] = ops.convert_to_numpy(Triangular2CyclicalLearningRate(
    1e-3, 6e-3, 2 * 1797 / 64)(probe.astype("float32"))).tolist()
out["tfa"] = {
    "triangular2": ops.convert_to_numpy(
        Triangular2CyclicalLearningRate(1e-3, 6e-3, 50)(probe)).tolist(),
    "exponential": ops.convert_to_numpy(
        ExponentialCyclicalLearningRate(1e-4, 1e-2, 40, gamma=0.999)(probe)).tolist(),
}

path = tempfile.mkdtemp() + "/m.keras"
s, lr = build(cases["fit"]["exp_range endless"])
model = tiny_model(keras.optimizers.SGD(learning_rate=lr, momentum=0.9))
model.fit(x[:3], x[:3].sum(axis=1), batch_size=1, verbose=0)
model.save(path)
loaded = keras.models.load_model(path).optimizer
out["loaded"] = {"iterations": int(value(loaded.iterations)),
                 "lr_now": float(loaded.learning_rate)}
out["x64_after"] = bool(jax.config.jax_enable_x64)
print("RESULT" + json.dumps(out))
"""

FIT = {
    "triangular2 endless": (cyclr.triangular2(1e-3, 6e-3, 60), None),
    "exp_range endless": (cyclr.exp_range(1e-4, 1e-2, 45, gamma=0.999, shape="hann"), None),
    "chain with a total_steps hint": (cyclr.chain((cyclr.one_cycle(0.05, 300), 300),
                                                  cyclr.triangular2(1e-3, 6e-3, 50)), 1200),
    "momentum endless": (cyclr.triangular(0.1, 1.0, 33).momentum_schedule(0.85, 0.95), None),
}
LARGE = {
    "triangular at 2**24+1": (cyclr.triangular(0.0, 1.0, 1), 2**24 + 1),
    "hann at 2**30+1": (cyclr.triangular(0.0, 1.0, 3, shape="hann"), 2**30 + 1),
    "exp_range at 2**31-1": (cyclr.exp_range(0.0, 1.0, 3, gamma=1 - 1e-9), 2**31 - 1),
}


def test_keras_jax_backend_in_a_subprocess():
    cases = {
        "fit": {name: {"schedule": s.to_dict(), "total_steps": n}
                for name, (s, n) in FIT.items()},
        "large": {name: {"schedule": s.to_dict(), "total_steps": None, "step": step}
                  for name, (s, step) in LARGE.items()},
        "policies": {name: s.to_dict() for name, s in POLICIES.items()},
        "steps": np.concatenate([SMALL, LARGE_INT32]).tolist(),
    }
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(cases)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads([ln for ln in done.stdout.splitlines()
                      if ln.startswith("RESULT")][-1][len("RESULT"):])
    assert out["backend"] == "jax"

    for name, (s, total) in FIT.items():
        got = out["fit"][name]
        assert got["iterations"] == 1500
        expected = s.array(1500, dtype=np.float32)       # total_steps holds nothing
        assert ulps(got["used"], expected).max() <= (
            1 if name.startswith("exp_range") else 0), name

    for name, (s, step) in LARGE.items():
        assert s.array(1, start=step, dtype=np.float32)[0] != s(int(np.float32(step)))
        assert ulps(out["large"][name], s.array(1, start=step, dtype=np.float32)) <= 1, name

    steps = np.concatenate([SMALL, LARGE_INT32])
    for name, s in POLICIES.items():
        expected = expected32(s, steps)
        worst = 1 if multiplies_in_graph(s) else 0
        got = out["policies"][name]
        for how in ("eager", "jit", "hinted"):
            assert ulps(got[how], expected).max() <= worst, (name, how)

    fractional = cyclr.triangular2(1e-3, 6e-3, 2 * 1797 / 64).array(3000, dtype=np.float32)
    assert np.array_equal(np.float32(out["tfa_fractional"]), fractional)

    t2 = cyclr.triangular2(1e-3, 6e-3, 50).array(3000, dtype=np.float32)
    assert np.array_equal(np.float32(out["tfa"]["triangular2"]), t2)
    ex = cyclr.exp_range(1e-4, 1e-2, 40, gamma=0.999).array(3000, dtype=np.float32)
    assert ulps(out["tfa"]["exponential"], ex).max() <= 1

    s = FIT["exp_range endless"][0]
    assert out["loaded"]["iterations"] == 3
    assert ulps(out["loaded"]["lr_now"], s.array(1, start=3, dtype=np.float32)) <= 1
    # the float64 scope is local: JAX's global setting is untouched
    assert out["x64_after"] is False
