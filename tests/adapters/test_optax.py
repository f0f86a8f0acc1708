"""cyclr.adapters.optax: the LR (and b1) each optax update really uses equals the core's
float32 values; large counts; jit, vmap and grad; training a jax.numpy MLP on digits."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import cyclr
import cyclr.adapters.optax as co
from cyclr.adapters.optax import schedule
from _policies import (  # beside this file
    LARGE_INT32,
    LARGE_INT64,
    POLICIES,
    SMALL,
    expected32,
    multiplies_in_graph,
    ulps,
)


def core32(s, i):
    return s.array(1, start=i, dtype=np.float32)[0]


CASES = {
    "triangular2 endless": (cyclr.triangular2(1e-3, 6e-3, 125), None),
    "exp_range endless": (cyclr.exp_range(1e-4, 1e-2, 100, gamma=0.9995), None),
    "exp_range whole run": (cyclr.exp_range(1e-4, 1e-2, 100, gamma=0.9995), 3000),
    "hann endless": (cyclr.triangular(1e-3, 6e-3, 75, step_size_down=175, shape="hann"),
                     None),
    "chain endless": (cyclr.chain((cyclr.one_cycle(0.05, 400), 400),
                                  (cyclr.triangular2(1e-3, 6e-3, 100), 1000),
                                  cyclr.exp_range(1e-4, 3e-3, 60, gamma=0.999,
                                                  shape="welch")), None),
    "one_cycle": (cyclr.one_cycle(0.1, 3000, anneal="linear"), None),
}
N = 3000


def lrs_used_by_sgd(lr, steps):
    """The LR of each of ``steps`` ``optax.sgd`` updates: with a gradient of ones the
    update is exactly ``-lr``."""
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=lr)
    params = jnp.zeros(())
    ones = jnp.ones(())

    def one(state, _):
        updates, state = opt.update(ones, state, params)
        return state, (-updates, state.hyperparams["learning_rate"])

    _, (used, recorded) = jax.lax.scan(one, opt.init(params), None, length=steps)
    return np.asarray(used), np.asarray(recorded)


@pytest.mark.parametrize("name", CASES)
def test_every_update_uses_the_core_float32_value(name):
    s, total = CASES[name]
    expected = s.array(N, dtype=np.float32)
    used, recorded = lrs_used_by_sgd(schedule(s, total), N)
    assert used.dtype == np.float32
    assert np.array_equal(used, recorded)
    worst = 1 if multiplies_in_graph(s, total) else 0
    assert ulps(used, expected).max() <= worst
    direct = np.asarray(jax.jit(schedule(s, total))(jnp.arange(N)))
    assert ulps(direct, expected).max() <= worst


def test_b1_and_learning_rate_scheduled_in_adam():
    lr = cyclr.triangular(1e-3, 6e-3, 40)
    b1 = lr.momentum_schedule(0.85, 0.95)
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=schedule(lr, None),
                                               b1=schedule(b1, None))
    params = jnp.zeros(())
    grads = jnp.ones(())

    def one(state, _):
        _, state = opt.update(grads, state, params)
        adam_state = state.inner_state[0]
        return state, (state.hyperparams["b1"], state.hyperparams["learning_rate"],
                       adam_state.mu)

    _, (b1_used, lr_used, mu) = jax.lax.scan(one, opt.init(params), None, length=500)
    assert np.array_equal(np.asarray(b1_used), b1.array(500, dtype=np.float32))
    assert np.array_equal(np.asarray(lr_used), lr.array(500, dtype=np.float32))
    # Adam's first moment really follows the scheduled b1: mu_k = b1_k mu_{k-1} + (1 - b1_k)
    b = b1.array(500, dtype=np.float64)
    expected_mu = np.empty(500)
    m = 0.0
    for k in range(500):
        m = b[k] * m + (1 - b[k]) * 1.0
        expected_mu[k] = m
    np.testing.assert_allclose(np.asarray(mu), expected_mu, rtol=1e-5)


def test_sgd_momentum_scheduled():
    lr = cyclr.one_cycle(0.1, 200)
    mom = lr.momentum_schedule(0.85, 0.95)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule(lr, None),
                                              momentum=schedule(mom, None))
    state = opt.init(jnp.zeros(()))
    seen = []
    for _ in range(200):
        _, state = opt.update(jnp.ones(()), state)
        seen.append(float(state.hyperparams["momentum"]))
    assert np.array_equal(np.float32(seen), mom.array(200, dtype=np.float32))


@pytest.mark.parametrize("s, count", [
    (cyclr.triangular(0.0, 1.0, 1), 2**24 + 1),
    (cyclr.triangular(0.0, 1.0, 3, shape="hann"), 2**30 + 1),
    (cyclr.triangular(0.1, 0.7, 2, step_size_down=5), 2**31 - 1),
    (cyclr.exp_range(0.0, 1.0, 3, gamma=1 - 1e-9), 2**30 + 1),
    (cyclr.exp_range(0.0, 1.0, 3, step_size_down=4, gamma=1 - 1e-9, scale_mode="cycle"),
     2**30 + 5),
], ids=repr)
def test_int32_counts_far_past_2_pow_24(s, count):
    # a float32 count would read another step; make sure the check can tell
    assert core32(s, count) != core32(s, int(np.float32(count)))
    fn = jax.jit(schedule(s, None))
    assert ulps(fn(jnp.int32(count)), core32(s, count)) <= 1
    assert ulps(fn(jnp.asarray([count, count - 1], jnp.int32)),
                [core32(s, count), core32(s, count - 1)]).max() <= 1


def test_int64_counts_with_x64():
    s = cyclr.triangular(0.1, 0.7, 2, step_size_down=5, shape="hann")
    with jax.enable_x64(True):
        for count in (2**40 + 3, 2**62 + 1):
            assert core32(s, count) != core32(s, int(np.float32(count)))
            got = jax.jit(schedule(s, None))(jnp.int64(count))
            assert got.dtype == jnp.float32
            assert got == core32(s, count)


def test_one_cycle_holds_its_own_final_value_past_its_end():
    s = cyclr.one_cycle(0.1, 2**20 + 4, anneal="linear")
    fn = jax.jit(schedule(s))
    counts = jnp.asarray([2**20 + 1, 2**20 + 2, 2**20 + 3, 2**20 + 4, 2**31 - 1], jnp.int32)
    expected = expected32(s, [2**20 + 1, 2**20 + 2, 2**20 + 3, 2**20 + 3, 2**20 + 3])
    assert np.array_equal(np.asarray(fn(counts)), expected)


def test_jit_vmap_and_grad():
    s = cyclr.exp_range(1e-3, 1e-2, 50, gamma=0.999, shape="hann")
    for total in (None, 1000):
        fn = schedule(s, total)
        expected = s.array(1200, dtype=np.float32)
        counts = jnp.arange(0, 1200, 7)
        eager = np.asarray(fn(counts))
        assert ulps(eager, expected[::7]).max() <= 1
        assert np.array_equal(np.asarray(jax.jit(fn)(counts)), eager)
        assert np.array_equal(np.asarray(jax.jit(jax.vmap(fn))(counts)), eager)
        # the LR is a constant of the parameters: d/dw (lr * w**2 / 2) = lr * w
        grad = jax.jit(jax.grad(lambda w, c: fn(c) * w ** 2 / 2))
        assert grad(jnp.float32(3.0), jnp.int32(322)) == eager[46] * np.float32(3.0)
        per_example = jax.jit(jax.vmap(jax.grad(lambda w, c: fn(c) * w)))
        assert np.array_equal(np.asarray(per_example(jnp.ones(5), counts[:5])), eager[:5])
    assert jax.config.jax_enable_x64 is False       # the float64 scope stays local


def test_float32_output_with_x64_on_globally():
    s = cyclr.triangular2(1e-3, 6e-3, 10)
    with jax.enable_x64(True):
        got = schedule(s, None)(jnp.arange(500))
        assert got.dtype == jnp.float32
        assert np.array_equal(np.asarray(got), s.array(500, dtype=np.float32))


# -- training on digits -------------------------------------------------------------------

def init_mlp(key, sizes=(64, 32, 10)):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, k = jax.random.split(key)
        params.append((jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros(b)))
    return params


def forward(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def test_sgd_with_triangular2_learns_digits():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        (digits.data / 16.0).astype("float32"), digits.target, test_size=0.25,
        random_state=0, stratify=digits.target)
    batch, epochs = 32, 8
    per_epoch = len(x_train) // batch
    s = cyclr.triangular2(0.01, 0.1, step_size=2 * per_epoch)     # 2 cycles
    opt = optax.sgd(learning_rate=schedule(s, None), momentum=0.9)
    params = init_mlp(jax.random.PRNGKey(0))
    state = opt.init(params)

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()

    @jax.jit
    def step(params, state, x, y):
        grads = jax.grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for k in range(per_epoch):
            idx = order[k * batch:(k + 1) * batch]
            params, state = step(params, state, x_train[idx], y_train[idx])
    assert epochs * per_epoch == 336
    accuracy = float((forward(params, x_test).argmax(axis=1) == y_test).mean())
    assert accuracy >= 0.93      # measured 0.96-0.97 over seeds 0-2


# -- bad arguments -------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda: schedule(0.1, 100), TypeError, "s must be a cyclr schedule"),
    (lambda: schedule(cyclr.triangular(0.1, 1.0, 5), 0), ValueError, "total_steps"),
    (lambda: schedule(cyclr.triangular(0.1, 1.0, 5), 2.5), TypeError, "total_steps"),
    (lambda: schedule(cyclr.triangular(0.1, 1.0, 5), False), TypeError, "total_steps"),
    (lambda: schedule(cyclr.cyclic(0.1, 1.0, 4, scale_fn=abs), None), ValueError,
     "total_steps=None.*scale_fn"),
    (lambda: schedule(cyclr.triangular(0.1, 1.0, 2.3)), ValueError,
     r"step_size=2.3: .*not a multiple of 2\*\*-20"),
    (lambda: schedule(cyclr.triangular(0.1, 1.0, 33554432)), ValueError,
     r"step_size=33554432: .*64 MiB limit"),
    (lambda: schedule(cyclr.one_cycle(0.1, 2**25)), ValueError, "total_steps=33554432"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("total", [None, 100])
def test_float_counts_are_refused_and_negative_counts_read_step_0(total):
    fn = schedule(cyclr.triangular2(0.1, 1.0, 5), total)
    with pytest.raises(TypeError, match="count must be an integer"):
        fn(jnp.float32(3.0))
    with pytest.raises(TypeError, match="count must be an integer"):
        jax.jit(fn)(3.0)
    assert fn(-4) == fn(0)


def test_docstring_examples_hold():
    result = doctest.testmod(co)
    assert result.attempted >= 2 and result.failed == 0
