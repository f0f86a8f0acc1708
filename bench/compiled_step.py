"""Section 4: a compiled training step whose optimizer reads its LR from a cyclr schedule,
against the same step with the framework's native schedule.

Keras: ``model.fit`` on scikit-learn's digits with SGD + momentum, timed per step, cyclr
schedules through ``cyclr.adapters.keras.schedule`` against ``CosineDecay``.
Optax: a jitted update (gradient, ``optax.sgd`` with momentum, apply) on the same data,
``cyclr.adapters.optax.schedule`` against ``optax.cosine_onecycle_schedule``.

One row per kind of lookup plan: ``one_cycle`` (a table), ``triangular2`` (one cycle of
heights times ``2**-c``, computed in float64 in the graph) and a warm-up chain ending in
``exp_range`` (two pieces, the second with ``gamma**i``). No ``total_steps``: the
schedules are exact at every step.
"""

from __future__ import annotations

import numpy as np

import cyclr
from _harness import Row, best_of, fmt_time, skipped

TOTAL = 100_000                  # 1cycle length: longer than any run here
TOP = 1e-2


def _cases() -> dict:
    return {
        "one_cycle": cyclr.one_cycle(TOP, TOTAL),
        "triangular2": cyclr.triangular2(TOP / 10, TOP, 2000),
        "warm-up chain, exp_range": cyclr.chain((cyclr.one_cycle(TOP, 50), 50),
                                         cyclr.exp_range(TOP / 10, TOP, 20, gamma=0.9999)),
    }


def _digits(rows: int = 1792):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x[:rows] / 16.0).astype(np.float32), y[:rows].astype(np.int32)


def _adapter(name: str):
    """The cyclr adapter module, or None if it is not written yet."""
    import importlib

    try:
        return importlib.import_module(f"cyclr.adapters.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"cyclr.adapters.{name}":
            raise
        return None


def keras_rows(epochs: int, repeat: int, rows: int = 1792) -> list[Row]:
    import keras

    what, against = "Keras `model.fit` step, cyclr {}", "same with `CosineDecay`"
    adapter = _adapter("keras")
    if adapter is None:
        return [skipped(4, what.format("schedules"), against,
                        "cyclr.adapters.keras not written yet")]
    x, y = _digits(rows)
    batch = 32

    def fitter(lr):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      steps_per_execution=len(x) // batch)
        return lambda: model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0,
                                 shuffle=False)

    cases = _cases()
    t = best_of({**{name: fitter(adapter.schedule(s)) for name, s in cases.items()},
                 "native": fitter(keras.optimizers.schedules.CosineDecay(TOP, TOTAL))},
                number=1, repeat=repeat)
    steps = epochs * len(x) // batch
    return [Row(4, what.format(name), against, fmt_time(t[name] / steps),
                fmt_time(t["native"] / steps), t[name] / t["native"], ("<=", 1.05))
            for name in cases]


def optax_rows(steps: int, repeat: int, rows: int = 1792) -> list[Row]:
    import jax
    import jax.numpy as jnp
    import optax

    what, against = "Optax jitted update, cyclr {}", "same with `cosine_onecycle_schedule`"
    adapter = _adapter("optax")
    if adapter is None:
        return [skipped(4, what.format("schedules"), against,
                        "cyclr.adapters.optax not written yet")]
    x, y = map(jnp.asarray, _digits(rows))
    key1, key2 = jax.random.split(jax.random.PRNGKey(0))
    params = {"w1": jax.random.normal(key1, (64, 64)) * 0.1, "b1": jnp.zeros(64),
              "w2": jax.random.normal(key2, (64, 10)) * 0.1, "b2": jnp.zeros(10)}

    def loss(p):
        logits = jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def trainer(lr):
        opt = optax.sgd(lr, momentum=0.9)

        @jax.jit
        def update(p, state):
            updates, state = opt.update(jax.grad(loss)(p), state, p)
            return optax.apply_updates(p, updates), state

        carry = [params, opt.init(params)]

        def run():
            p, state = carry
            for _ in range(steps):
                p, state = update(p, state)
            jax.block_until_ready(p)
            carry[:] = [p, state]

        return run

    cases = _cases()
    t = best_of({**{name: trainer(adapter.schedule(s)) for name, s in cases.items()},
                 "native": trainer(optax.cosine_onecycle_schedule(TOTAL, TOP))},
                number=1, repeat=repeat)
    return [Row(4, what.format(name), against, fmt_time(t[name] / steps),
                fmt_time(t["native"] / steps), t[name] / t["native"], ("<=", 1.05))
            for name in cases]
