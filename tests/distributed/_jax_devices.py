"""A data-parallel Optax update over 2 host devices (run by test_distributed.py in a
fresh process: the device count must be set before JAX starts).

Usage: python _jax_devices.py OUT.json

Trains a linear classifier on scikit-learn's digits for 50 steps with the batch sharded
over a 2-device mesh and the parameters replicated, under ``jax.jit``, with
``optax.inject_hyperparams(optax.sgd)`` whose learning rate and momentum are
``cyclr.adapters.optax`` schedules: once from an endless triangular2 (one cycle
tabulated, the halving applied in the graph) and once from a one_cycle tabulated for
the whole run. Per step it records, from every device's copy, the learning rate and
momentum the update used, and the update applied to a probe parameter whose gradient is
exactly 1 and which is zeroed before each step.
"""

import json
import os
import sys

if __name__ == "__main__":
    # Before JAX starts; only when run as a script, so that importing this file (as
    # pytest's doctest collection does) changes nothing in the importing process.
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_force_host_platform_device_count=2").strip()
    os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import cyclr  # noqa: E402
from cyclr.adapters.optax import schedule  # noqa: E402

STEPS, BATCH = 50, 64
RUNS = {
    "triangular2": (cyclr.triangular2(0.01, 0.3, 5), None),
    "one_cycle": (cyclr.one_cycle(0.3, STEPS), STEPS),
}


def loss(params, x, y):
    logits = x @ params["w"] + params["b"]
    data = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return data + params["probe"]


def train(lr_schedule, total_steps, mesh):
    replicated, sharded = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    momentum = lr_schedule.momentum_schedule(0.85, 0.95)
    optimizer = optax.inject_hyperparams(optax.sgd)(
        learning_rate=schedule(lr_schedule, total_steps),
        momentum=schedule(momentum, total_steps))
    params = jax.device_put({"w": jnp.zeros((64, 10)), "b": jnp.zeros(10),
                             "probe": jnp.zeros(())}, replicated)
    state = jax.device_put(optimizer.init(params), replicated)

    @jax.jit
    def step(params, state, x, y):
        params = {**params, "probe": jnp.zeros(())}
        grads = jax.grad(loss)(params, x, y)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss(params, x, y)

    x_all, y_all = load_digits(return_X_y=True)
    x_all = (x_all / 16.0).astype(np.float32)
    record = {"lr": [], "momentum": [], "probe": [], "loss": [], "batch_devices": [],
              "param_devices": []}
    for i in range(STEPS):
        rows = np.arange(i * BATCH, (i + 1) * BATCH) % len(x_all)
        x = jax.device_put(x_all[rows], sharded)
        y = jax.device_put(y_all[rows], sharded)
        params, state, value = step(params, state, x, y)
        hyper = state.hyperparams
        record["lr"].append(_per_device(hyper["learning_rate"]))
        record["momentum"].append(_per_device(hyper["momentum"]))
        record["probe"].append(_per_device(params["probe"]))
        record["loss"].append(float(value))
        record["batch_devices"].append(len({s.device for s in x.addressable_shards}))
        record["param_devices"].append(len({s.device for s in params["w"].addressable_shards}))
    return record


def _per_device(array):
    return [float(np.asarray(s.data)) for s in array.addressable_shards]


def main(out_path):
    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("data",))
    result = {"devices": len(devices)}
    for name, (lr_schedule, total_steps) in RUNS.items():
        result[name] = train(lr_schedule, total_steps, mesh)
    with open(out_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
