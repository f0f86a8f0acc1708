"""``cyclr demo --frameworks``: one cyclr schedule driving PyTorch, Keras 3 and JAX/optax.

The demo's triangular2 schedule trains the demo's model three times, from the same
initial weights (those of the PyTorch model of the first seed, copied) on the same
batches: with ``cyclr.adapters.torch.ScheduleLR``; in Keras 3 (TensorFlow backend)
with ``cyclr.adapters.keras.schedule(s)`` as SGD's ``learning_rate``; in JAX with
``optax.sgd(learning_rate=cyclr.adapters.optax.schedule(s), momentum=...)``. Each run
records the LR of every update as the framework used it:

- PyTorch: ``optimizer.param_groups[0]["lr"]`` before each step, a Python float
  (float64), as :func:`cyclr.demo.train` records it;
- Keras: the ``learning_rate`` that SGD's ``update_step`` received, kept in a variable
  by a subclass of ``keras.optimizers.SGD`` (float32);
- optax: the ``learning_rate`` that ``optax.inject_hyperparams`` put in the optimizer
  state for the update it made (float32); ``inject_hyperparams(optax.sgd)`` is
  ``optax.sgd`` with its hyperparameters kept in the state.

The compiled frameworks compute the LR in float32, so the PyTorch LR is compared with
them after rounding it to float32, exactly.

Weight decay is PyTorch's coupled kind everywhere (``wd * w`` added to the gradient):
``optax.add_decayed_weights`` before ``sgd``; in Keras an L2 penalty ``wd / 2 * w**2``
on every weight, whose gradient is the same. Keras' SGD keeps ``v = m * v - lr * g``
where PyTorch and optax keep ``v = m * v + g`` and step by ``lr * v``: with a changing
LR the updates differ slightly, so the accuracies need not be equal even where the LRs
are.

Keras, TensorFlow, JAX and optax are imported only when a run starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np

# The import names the part needs, and the cyclr extras that install them.
PACKAGES = ("keras", "tensorflow", "jax", "optax")
EXTRAS = "cyclr[keras,jax]"
FRAMEWORKS = ("torch", "keras", "optax")
CYCLES = 2                 # the part's budget, in triangular2 cycles


def check_dependencies() -> str | None:
    """What ``--frameworks`` needs and cannot find, or None (looked up, not imported)."""
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (f"--frameworks needs Keras 3 with TensorFlow, and JAX with optax; not "
            f"installed: {', '.join(missing)}: pip install '{EXTRAS}'")


def budget(config, n_train: int) -> int:
    """The part's run length: :data:`CYCLES` triangular2 cycles, or the demo's own
    ``config.steps`` when that is shorter."""
    return min(config.steps, CYCLES * 2 * config.step_size(n_train))


def sample_steps(steps: int, step_size: int) -> list[int]:
    """The steps the report's LR table shows: every half step size (the cycles' starts,
    peaks and the points between), and the last step.

    Examples:
        >>> sample_steps(72, 18)
        [0, 9, 18, 27, 36, 45, 54, 63, 71]
        >>> sample_steps(3, 18)
        [0, 2]
    """
    return sorted({*range(0, steps, max(1, step_size // 2)), steps - 1})


def batch_indices(n: int, batch_size: int, seed: int, steps: int) -> list[np.ndarray]:
    """The indices of the training images in each of the first ``steps`` batches, in
    the order :class:`cyclr.demo.Batches` draws them for ``seed``: the PyTorch run's
    batches, for the other frameworks."""
    import torch

    from ._demo_data import Batches

    index = torch.arange(n)
    generator = torch.Generator().manual_seed(seed)
    out: list[np.ndarray] = []
    while len(out) < steps:
        for batch, _ in Batches(index, index, batch_size, generator):
            out.append(batch.numpy())
            if len(out) == steps:
                break
    return out


def run(config, data, schedule, steps: int, step_size: int, progress, train) -> dict:
    """Train the demo's model for ``steps`` updates in each framework with
    ``schedule``, from the first seed's initial weights and batches.

    Args:
        config: the demo's :class:`cyclr.demo.Config`.
        data: :func:`cyclr.demo.load_data`'s splits.
        schedule: the cyclr schedule every framework follows.
        steps: updates per run.
        step_size: the schedule's step size, which spaces the report's samples.
        progress: a :class:`cyclr.demo.Progress`: a tick per update, a line per run.
        train: :func:`cyclr.demo.train`, the PyTorch run.

    Returns:
        What the report needs: per framework, the LR of every update and the final test
        accuracy, with versions, the backend and wall times.
    """
    from ._demo_data import make_model

    seed = config.seeds[0]
    started = time.monotonic()
    runs: dict = {}
    seconds: dict = {}

    def finish(name, lrs, acc, begun):
        runs[name] = {"lrs": [float(x) for x in lrs], "test_accuracy": float(acc)}
        seconds[name] = round(time.monotonic() - begun, 1)
        progress.line(f"triangular2 in {name:<5} seed {seed}: test accuracy "
                      f"{100 * acc:.2f}% after {steps} iterations ({seconds[name]:.0f} s)")

    progress.label = f"torch, seed {seed}"
    begun = time.monotonic()
    result = train(dataclasses.replace(config, steps=steps), data, schedule, seed,
                   progress.tick)
    finish("torch", result["lrs"], result["test_accuracy"][-1], begun)

    weights = [p.detach().numpy() for p in make_model(config, seed).parameters()]
    batches = batch_indices(len(data["train"][1]), config.batch_size, seed, steps)
    arrays = {split: (x.numpy(), y.numpy()) for split, (x, y) in data.items()}
    versions: dict = {}
    for name, trainer in (("keras", _keras_run), ("optax", _optax_run)):
        progress.label = f"{name}, seed {seed}"
        begun = time.monotonic()
        lrs, acc, used = trainer(config, arrays, weights, batches, schedule,
                                 progress.tick)
        versions.update(used)
        finish(name, lrs, acc, begun)

    torch32 = np.float32(runs["torch"]["lrs"])
    return {
        "steps": steps,
        "seed": seed,
        "schedule": schedule.to_dict(),
        "versions": versions,
        "runs": runs,
        # Steps where a compiled framework's LR is not PyTorch's rounded to float32.
        "differ": {name: int(np.sum(np.float32(runs[name]["lrs"]) != torch32))
                   for name in ("keras", "optax")},
        # Steps where PyTorch's float64 LR is not a float32 number: why the
        # comparison rounds it first.
        "torch_not_float32": int(np.sum(torch32.astype(np.float64)
                                        != np.float64(runs["torch"]["lrs"]))),
        "sample_steps": sample_steps(steps, step_size),
        "seconds": {**seconds, "total": round(time.monotonic() - started, 1)},
    }


# ---------------------------------------------------------------- Keras

@contextlib.contextmanager
def _start_up_log_kept_back():
    """What C code writes to standard error in the block goes to a temporary file, and
    is written out only if the block raises.

    TensorFlow's native libraries log their start-up (oneDNN, CUDA stubs, a missing
    GPU driver) straight to file descriptor 2 while they load, before any setting of
    theirs applies; none of it is about the run.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as log:
            os.dup2(log.fileno(), 2)
            try:
                yield
            except BaseException:
                os.dup2(saved, 2)
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace"))
                raise
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _keras_run(config, arrays, weights, batches, schedule, tick):
    # Log lines after start-up, below errors, say nothing about the run either; a user
    # who wants them sets the variable.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _start_up_log_kept_back():
        import keras
        import tensorflow as tf

        from .adapters.keras import schedule as keras_schedule

        tf.config.list_logical_devices()     # starts the runtime, which logs too

    class RecordingSGD(keras.optimizers.SGD):
        """SGD that keeps the learning rate its last update used."""

        def build(self, variables):
            super().build(variables)
            self.used_lr = self.add_variable((), dtype="float32",
                                             name="used_learning_rate")

        def update_step(self, gradient, variable, learning_rate):
            self.used_lr.assign(keras.ops.cast(learning_rate, "float32"))
            super().update_step(gradient, variable, learning_rate)

    model = _keras_model(keras, config)
    model.set_weights(_keras_weights(config, weights))
    optimizer = RecordingSGD(learning_rate=keras_schedule(schedule),
                             momentum=config.momentum)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train, y_train = arrays["train"]
    x_train = _channels_last(config, x_train)
    lrs = []
    for idx in batches:
        model.train_on_batch(x_train[idx], y_train[idx])
        lrs.append(optimizer.used_lr.numpy())
        tick()
    x_test, y_test = arrays["test"]
    logits = model.predict_on_batch(_channels_last(config, x_test))
    acc = float(np.mean(np.argmax(logits, axis=1) == y_test))
    return lrs, acc, {"keras": keras.__version__, "tensorflow": tf.__version__,
                      "keras_backend": keras.backend.backend()}


def _channels_last(config, x):
    return x.transpose(0, 2, 3, 1) if config.task == "mnist" else x


def _keras_model(keras, config):
    """:func:`cyclr.demo.make_model`'s network in Keras (channels last), each weight
    with the L2 penalty whose gradient is PyTorch's weight decay."""
    layers = keras.layers
    penalty = (keras.regularizers.L2(config.weight_decay / 2)
               if config.weight_decay else None)
    dense = dict(kernel_regularizer=penalty, bias_regularizer=penalty)
    if config.task == "mnist":
        stack = [keras.Input((28, 28, 1))]
        for channels in config.channels:
            stack += [layers.Conv2D(channels, 5, activation="relu", **dense),
                      layers.MaxPooling2D(2)]
        stack += [layers.Flatten(), layers.Dense(10, **dense)]
    else:
        stack = [keras.Input((64,))]
        stack += [layers.Dense(h, activation="relu", **dense) for h in config.hidden]
        stack.append(layers.Dense(10, **dense))
    return keras.Sequential(stack)


def _keras_weights(config, weights):
    """PyTorch's parameters in Keras' layouts: a convolution's (out, in, h, w) as
    (h, w, in, out), a linear layer's (out, in) as (in, out). The CNN's last layer also
    reorders its inputs: PyTorch flattens (channels, rows, columns), Keras (rows,
    columns, channels)."""
    out = []
    for w in weights:
        if w.ndim == 4:
            w = w.transpose(2, 3, 1, 0)
        elif w.ndim == 2:
            w = w.T
        out.append(w)
    if config.task == "mnist":
        channels = config.channels[-1] if config.channels else 1
        last = weights[-2]
        side = int(round((last.shape[1] / channels) ** 0.5))
        out[-2] = (last.reshape(10, channels, side, side).transpose(2, 3, 1, 0)
                   .reshape(-1, 10))
    return [np.ascontiguousarray(w) for w in out]


# ---------------------------------------------------------------- JAX and optax

def _optax_run(config, arrays, weights, batches, schedule, tick):
    import jax
    import jax.numpy as jnp
    import optax

    from .adapters.optax import schedule as optax_schedule

    sgd = optax.inject_hyperparams(optax.sgd)(learning_rate=optax_schedule(schedule),
                                              momentum=config.momentum)
    optimizer = (optax.chain(optax.add_decayed_weights(config.weight_decay), sgd)
                 if config.weight_decay else sgd)

    def forward(params, x):
        return _jax_forward(jax, config, params, x)

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(params, x),
                                                               y).mean()

    @jax.jit
    def update(params, state, x, y):
        grads = jax.grad(loss)(params, x, y)
        updates, state = optimizer.update(grads, state, params)
        hyper = state[-1] if config.weight_decay else state
        return (optax.apply_updates(params, updates), state,
                hyper.hyperparams["learning_rate"])

    params = [jnp.asarray(w) for w in weights]
    state = optimizer.init(params)
    x_train, y_train = arrays["train"]
    used = []
    for idx in batches:
        params, state, lr = update(params, state, x_train[idx], y_train[idx])
        used.append(lr)
        tick()
    x_test, y_test = arrays["test"]
    logits = np.asarray(jax.jit(forward)(params, x_test))
    acc = float(np.mean(np.argmax(logits, axis=1) == y_test))
    lrs = np.asarray(jnp.stack(used)) if used else np.zeros(0, np.float32)
    return lrs, acc, {"jax": jax.__version__, "optax": optax.__version__}


def _jax_forward(jax, config, params, x):
    """:func:`cyclr.demo.make_model`'s network on PyTorch's layouts (NCHW images,
    (out, in) weights), so its parameters are PyTorch's as they are."""
    lax = jax.lax
    if config.task == "mnist":
        for i in range(len(config.channels)):
            w, b = params[2 * i], params[2 * i + 1]
            x = lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
            x = jax.nn.relu(x + b[None, :, None, None])
            x = lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                  "VALID")
        x = x.reshape(x.shape[0], -1)
    else:
        for i in range(len(config.hidden)):
            x = jax.nn.relu(x @ params[2 * i].T + params[2 * i + 1])
    return x @ params[-2].T + params[-1]
