"""The JAX/Optax range-test runner on scikit-learn's digits: real training, pure inputs."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits

from cyclr.adapters.optax import range_test

from _range_checks import (  # beside this file
    assert_max_lr_where_loss_still_falls, triangular2_against_fixed)

BATCH = 32


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16.0).astype(np.float32), y[order].astype(np.int32)
    return x[:1400], y[:1400], x[1400:], y[1400:]


def init(seed=0):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return {"w1": jax.random.normal(k1, (64, 32)) * 0.125, "b1": jnp.zeros(32),
            "w2": jax.random.normal(k2, (32, 10)) * 0.18, "b2": jnp.zeros(10)}


def logits(params, x):
    return jax.nn.relu(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


def loss_fn(params, batch):
    x, y = batch
    return optax.softmax_cross_entropy_with_integer_labels(logits(params, x), y).mean()


def accuracy_fn(params, batch):
    x, y = batch
    return jnp.mean(jnp.argmax(logits(params, x), axis=1) == y)


def batches(x, y, count=None):
    out = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x) - BATCH + 1, BATCH)]
    return out[:count]


@jax.jit
def sgd_step(params, batch, lr):
    """One step of plain SGD, written out: p - lr * grad."""
    loss, grads = jax.value_and_grad(loss_fn)(params, batch)
    return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), loss


def sgd_loop(params, data, lrs, momentum=0.0):
    """Plain optax training with the LR of update k taken from lrs[k]."""
    table = jnp.asarray(lrs, dtype=jnp.float32)
    tx = optax.sgd(lambda count: table[count], momentum=momentum or None)
    state = tx.init(params)
    losses = []

    @jax.jit
    def step(p, s, batch):
        loss, grads = jax.value_and_grad(loss_fn)(p, batch)
        updates, s = tx.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    for k in range(len(lrs)):
        params, state, loss = step(params, state, data[k % len(data)])
        losses.append(float(loss))
    return params, losses


def test_inputs_are_left_exactly_as_they_were(digits):
    x, y, _, _ = digits
    params = init()
    params["b2"] = np.zeros(10, dtype=np.float32)  # a NumPy leaf: writeable, only read
    copies = jax.tree_util.tree_map(np.array, params)
    data = batches(x, y, 10)
    data_copy = [(bx.copy(), by.copy()) for bx, by in data]
    result = range_test(loss_fn, params, data, optax.adam, start_lr=1e-3, end_lr=10.0,
                        num_steps=40, progress=False)
    assert len(result) >= 10
    for leaf, copy in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(copies)):
        assert not getattr(leaf, "is_deleted", lambda: False)()  # nothing was donated
        assert np.asarray(leaf).dtype == copy.dtype and np.array_equal(np.asarray(leaf), copy)
    for (bx, by), (cx, cy) in zip(data, data_copy):
        assert np.array_equal(bx, cx) and np.array_equal(by, cy)


def test_each_step_uses_the_ramp_lr(digits):
    x, y, _, _ = digits
    seen = []

    def recording_sgd(learning_rate):
        def schedule(count):
            value = learning_rate(count)
            seen.append(float(value))
            return value
        return optax.sgd(schedule)

    start, end, n = 1e-4, 1.0, 8
    result = range_test(loss_fn, init(), batches(x, y), recording_sgd, start_lr=start,
                        end_lr=end, num_steps=n, jit=False, progress=False)
    expected = np.float32([start * (end / start) ** (k / (n - 1)) for k in range(n)])
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    # The losses are those of SGD written out at these LRs.
    params, data = init(), batches(x, y)
    for k in range(n):
        params, loss = sgd_step(params, data[k], expected[k])
        assert result.losses[k] == pytest.approx(float(loss), rel=1e-5)


def test_aux_and_accuracy_agree_with_a_plain_loop(digits):
    x, y, _, _ = digits
    data = batches(x, y, 25)

    def loss_with_aux(params, batch):
        return loss_fn(params, batch), {"logits": logits(params, batch[0])}

    plain = range_test(loss_fn, init(), data, optax.sgd, start_lr=1e-3, end_lr=0.5,
                       num_steps=25, accuracy_fn=accuracy_fn, progress=False)
    aux = range_test(loss_with_aux, init(), data, optax.sgd, start_lr=1e-3, end_lr=0.5,
                     num_steps=25, has_aux=True, accuracy_fn=accuracy_fn, progress=False)
    np.testing.assert_allclose(aux.losses, plain.losses, rtol=1e-5)
    np.testing.assert_allclose(aux.accuracies, plain.accuracies, atol=1e-6)
    # Accuracy of each batch before its update, by hand.
    params = init()
    expected = []
    for k in range(25):
        expected.append(float(accuracy_fn(params, data[k])))
        params, _ = sgd_step(params, data[k], np.float32(plain.lrs[k]))
    np.testing.assert_allclose(plain.accuracies, expected, atol=1e-6)


def test_validation_batch_is_evaluated_after_each_update(digits):
    x, y, xv, yv = digits
    data = batches(x, y, 8)
    result = range_test(loss_fn, init(), data, optax.sgd, start_lr=0.01, end_lr=0.5,
                        num_steps=8, mode="linear", accuracy_fn=accuracy_fn,
                        val_batch=(xv, yv), progress=False)
    params = init()
    for k in range(8):
        params, _ = sgd_step(params, data[k], np.float32(result.lrs[k]))
        assert result.losses[k] == pytest.approx(float(loss_fn(params, (xv, yv))), rel=1e-5)
        assert result.accuracies[k] == pytest.approx(float(accuracy_fn(params, (xv, yv))))


def test_divergence_stops_early(digits):
    x, y, _, _ = digits
    result = range_test(loss_fn, init(), batches(x, y),
                        functools.partial(optax.sgd, momentum=0.9), start_lr=1e-2,
                        end_lr=1e4, num_steps=80, progress=False)
    assert result.stop_reason is not None and len(result) < 80


def test_a_one_shot_iterator_that_runs_out_stops_the_test(digits):
    x, y, _, _ = digits
    result = range_test(loss_fn, init(), iter(batches(x, y, 6)), optax.sgd, start_lr=1e-3,
                        end_lr=1.0, num_steps=30, progress=False)
    assert len(result) == 6 and "ran out" in result.stop_reason


def test_an_exception_propagates_and_ends_the_progress_line(digits, capsys):
    x, y, _, _ = digits

    def failing():
        yield from batches(x, y, 4)
        raise RuntimeError("data source failed")

    with pytest.raises(RuntimeError, match="data source failed"):
        range_test(loss_fn, init(), failing(), optax.sgd, start_lr=1e-3, end_lr=1.0,
                   num_steps=30)
    assert capsys.readouterr().err.endswith("\n")


def test_bad_arguments_name_the_parameter(digits):
    x, y, _, _ = digits
    with pytest.raises(TypeError, match="loss_fn"):
        range_test(None, init(), batches(x, y), optax.sgd)
    with pytest.raises(TypeError, match="optimizer"):
        range_test(loss_fn, init(), batches(x, y), "sgd")
    with pytest.raises(TypeError, match="GradientTransformation"):
        range_test(loss_fn, init(), batches(x, y), lambda lr: lr, progress=False)
    with pytest.raises(ValueError, match="num_steps"):
        range_test(loss_fn, init(), batches(x, y), optax.sgd, num_steps=1)
    with pytest.raises(ValueError, match="batches"):
        range_test(loss_fn, init(), [], optax.sgd, progress=False)


# --- the real use: choose the bounds, then train with them --------------------------

@pytest.fixture(scope="module")
def run(digits):
    x, y, xv, yv = digits
    return range_test(loss_fn, init(), batches(x, y), functools.partial(optax.sgd, momentum=0.9),
                      start_lr=1e-3, end_lr=10.0, num_steps=200, accuracy_fn=accuracy_fn,
                      val_batch=(xv, yv), progress=False)


@pytest.mark.parametrize("rule", ["auto", "accuracy", "steepest", "valley", "minimum"])
def test_suggested_max_lr_is_where_loss_still_falls_before_divergence(run, rule):
    assert_max_lr_where_loss_still_falls(run, rule)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_triangular2_from_the_suggestion_beats_its_base_lr_fixed(run, digits, seed):
    x, y, xv, yv = digits
    _, runs = triangular2_against_fixed(run, len(x), BATCH)
    final = {}
    for name, lrs in runs.items():
        params, _ = sgd_loop(init(seed=seed), batches(x, y), lrs, momentum=0.9)
        final[name] = float(accuracy_fn(params, (xv, yv)))
    assert final["cyclic"] >= final["fixed"]
    assert final["cyclic"] > 0.9
