"""cyclr.adapters.optax's cosine_onecycle_schedule, warmup_cosine_decay_schedule and
sgdr_schedule: optax's own functions within float32 rounding at every count, over whole
runs and past their ends; the float32 values of the cyclr chains they stand for exactly;
jit, vmap and inject_hyperparams; refusals naming optax's arguments."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import cyclr
import cyclr.adapters.optax as co
from _policies import LARGE_INT32, LARGE_INT64, ulps  # beside this file

EPS32 = float(np.finfo(np.float32).eps)


def optax_values(fn, counts):
    """optax's schedules take one count at a time (the piecewise one broadcasts its
    boundaries against the count): map them."""
    return np.asarray(jax.jit(jax.vmap(fn))(jnp.asarray(counts)))


def assert_within_float32_rounding(got, theirs, scale):
    # optax evaluates a handful of float32 operations on values up to ``scale`` (the
    # largest of its init, peak and end values): each rounds by at most eps/2 of it.
    assert got.dtype == np.float32
    error = np.abs(got.astype(np.float64) - theirs.astype(np.float64))
    assert error.max() <= 4 * EPS32 * scale, (error.argmax(), error.max() / EPS32 / scale)


# -- cosine_onecycle_schedule ------------------------------------------------------------

def onecycle_chain(total, peak, pct=0.3, div=25.0, final_div=1e4):
    """optax's phases written out: a cosine rise to the peak until int(pct * total),
    a cosine fall to the final value at total, then held."""
    rise = int(pct * total)
    low, top = peak / div, peak / div * div
    final = top * (1.0 / (div * final_div))
    fall = cyclr.cosine(top, final, total - rise)
    return cyclr.chain((cyclr.cosine(low, top, rise), rise), fall) if rise else fall


ONECYCLE = [
    dict(transition_steps=1000, peak_value=0.1),
    dict(transition_steps=777, peak_value=3e-3, pct_start=0.25, div_factor=10.0,
         final_div_factor=100.0),
    dict(transition_steps=10, peak_value=1.0, pct_start=0.45),       # int(4.5) = 4
    dict(transition_steps=3, peak_value=0.5),                        # rise of 0 counts
    dict(transition_steps=1, peak_value=0.5, pct_start=0.9),
    dict(transition_steps=50, peak_value=0.2, pct_start=0.0),
    dict(transition_steps=2000, peak_value=6e-4, pct_start=0.1, div_factor=1.0),
]


@pytest.mark.parametrize("kwargs", ONECYCLE, ids=repr)
def test_cosine_onecycle_is_optax_at_every_count_and_its_chain_exactly(kwargs):
    total = kwargs["transition_steps"]
    counts = np.arange(total + 300)
    got = np.asarray(co.cosine_onecycle_schedule(**kwargs)(counts))
    assert_within_float32_rounding(
        got, optax_values(optax.cosine_onecycle_schedule(**kwargs), counts),
        kwargs["peak_value"])
    chain = onecycle_chain(total, kwargs["peak_value"], kwargs.get("pct_start", 0.3),
                           kwargs.get("div_factor", 25.0),
                           kwargs.get("final_div_factor", 1e4))
    assert np.array_equal(got, chain.array(counts.size, dtype=np.float32))


def test_cosine_onecycle_boundaries_are_optax_not_torch():
    # optax rises until int(0.3 * 10) = 3 and peaks there; torch's OneCycleLR peaks at
    # pct_start * total - 1 = 2
    lr = np.asarray(co.cosine_onecycle_schedule(10, 1.0)(jnp.arange(11)))
    assert lr.argmax() == 3 and lr[3] == np.float32(1.0)
    assert np.asarray(cyclr.one_cycle(1.0, 10).array(10)).argmax() == 2
    assert lr[10] == np.float32(1.0 / 25.0 / 1e4 * 1.0)


def test_cosine_onecycle_with_pct_start_one_falls_from_the_initial_value_as_optax():
    # optax keys its boundaries by count: at pct_start=1 both are transition_steps and
    # the later (the final scale) wins, so the peak is never reached
    counts = np.arange(130)
    got = np.asarray(co.cosine_onecycle_schedule(100, 0.1, pct_start=1.0)(counts))
    theirs = optax_values(optax.cosine_onecycle_schedule(100, 0.1, pct_start=1.0), counts)
    assert_within_float32_rounding(got, theirs, 0.1)
    assert got.max() == np.float32(0.1 / 25.0)


# -- warmup_cosine_decay_schedule ----------------------------------------------------------

WARMUP_COSINE = [
    dict(init_value=0.0, peak_value=0.1, warmup_steps=100, decay_steps=1000),
    dict(init_value=1e-4, peak_value=3e-3, warmup_steps=37, decay_steps=401,
         end_value=1e-5),
    dict(init_value=0.05, peak_value=0.1, warmup_steps=0, decay_steps=500, end_value=0.01),
    dict(init_value=0.0, peak_value=0.1, warmup_steps=1, decay_steps=2),
    dict(init_value=0.3, peak_value=0.1, warmup_steps=10, decay_steps=50),  # warm-down
    dict(init_value=0.0, peak_value=0.1, warmup_steps=10, decay_steps=60, end_value=0.2),
    dict(init_value=0.05, peak_value=0.0, warmup_steps=10, decay_steps=60, end_value=0.2),
    dict(init_value=0.0, peak_value=1.0, warmup_steps=300, decay_steps=301,
         exponent=1.0),
]


def warmup_cosine_chain(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0,
                        exponent=1.0):
    end = end_value if peak_value else 0.0       # optax decays peak_value * (end / peak)
    decay = cyclr.cosine(peak_value, end, decay_steps - warmup_steps)
    if not warmup_steps:
        return decay
    return cyclr.chain((cyclr.linear(init_value, peak_value, warmup_steps), warmup_steps),
                       decay)


@pytest.mark.parametrize("kwargs", WARMUP_COSINE, ids=repr)
def test_warmup_cosine_decay_is_optax_at_every_count_and_its_chain_exactly(kwargs):
    counts = np.arange(kwargs["decay_steps"] + 300)
    got = np.asarray(co.warmup_cosine_decay_schedule(**kwargs)(counts))
    scale = max(kwargs["init_value"], kwargs["peak_value"], kwargs.get("end_value", 0.0))
    assert_within_float32_rounding(
        got, optax_values(optax.warmup_cosine_decay_schedule(**kwargs), counts), scale)
    chain = warmup_cosine_chain(**kwargs)
    assert np.array_equal(got, chain.array(counts.size, dtype=np.float32))


def test_warmup_cosine_decay_counts_its_decay_from_the_warm_up_as_optax():
    lr = co.warmup_cosine_decay_schedule(0.0, 1.0, 10, 30, end_value=0.25)
    values = np.asarray(lr(jnp.arange(40)))
    assert values[10] == 1.0 and values[20] == np.float32(0.625)   # half-way down
    assert np.all(values[30:] == np.float32(0.25)) and values[29] > 0.25


# -- sgdr_schedule ------------------------------------------------------------------------

SGDR = {
    "equal cycles": [dict(init_value=0.0, peak_value=0.1, warmup_steps=10,
                          decay_steps=100)] * 4,
    "growing cycles": [dict(init_value=1e-4, peak_value=0.1 * 0.8**k, warmup_steps=5 * k,
                            decay_steps=50 * 2**k, end_value=1e-4) for k in range(5)],
    "one cycle": [dict(init_value=0.0, peak_value=0.5, warmup_steps=0, decay_steps=77)],
    "mixed": [dict(init_value=0.0, peak_value=0.2, warmup_steps=3, decay_steps=4),
              dict(init_value=0.1, peak_value=0.3, warmup_steps=0, decay_steps=9,
                   end_value=0.05),
              dict(init_value=0.0, peak_value=0.0, warmup_steps=2, decay_steps=5)],
}


@pytest.mark.parametrize("name", SGDR)
def test_sgdr_is_optax_at_every_count_and_its_chain_exactly(name):
    cycles = SGDR[name]
    total = sum(c["decay_steps"] for c in cycles)
    counts = np.arange(total + 300)
    got = np.asarray(co.sgdr_schedule(iter(cycles))(counts))     # any iterable, once
    scale = max(max(c.get("init_value", 0.0), c["peak_value"], c.get("end_value", 0.0))
                for c in cycles)
    assert_within_float32_rounding(got, optax_values(optax.sgdr_schedule(cycles), counts),
                                   scale)
    parts = [(warmup_cosine_chain(**c), c["decay_steps"]) for c in cycles]
    chain = cyclr.chain(*parts[:-1], parts[-1][0]) if len(parts) > 1 else parts[0][0]
    assert np.array_equal(got, chain.array(counts.size, dtype=np.float32))


# -- large counts, x64, jit, vmap, inject_hyperparams ---------------------------------------

BUILT = {
    "cosine_onecycle": (lambda m: m.cosine_onecycle_schedule(5000, 0.1), 0.1),
    "warmup_cosine_decay": (lambda m: m.warmup_cosine_decay_schedule(
        0.0, 0.1, 100, 5000, end_value=1e-3), 0.1),
    "sgdr": (lambda m: m.sgdr_schedule(SGDR["growing cycles"]), 0.1),
}


@pytest.mark.parametrize("name", BUILT)
def test_large_counts_hold_the_end_value_as_optax_with_x64_off_and_on(name):
    build, scale = BUILT[name]
    counts32 = np.concatenate([np.arange(4990, 5010), LARGE_INT32]).astype(np.int32)
    got = np.asarray(build(co)(counts32))
    assert_within_float32_rounding(got, optax_values(build(optax), counts32), scale)
    with jax.enable_x64(True):
        counts64 = np.concatenate([counts32, LARGE_INT64]).astype(np.int64)
        got64 = np.asarray(build(co)(counts64))
        theirs64 = optax_values(build(optax), counts64)
    assert theirs64.dtype == np.float64                  # optax computed in float64
    assert ulps(got64, theirs64.astype(np.float32)).max() <= 1
    assert np.array_equal(got64[:counts32.size], got)


@pytest.mark.parametrize("name", BUILT)
def test_every_update_of_inject_hyperparams_uses_the_value(name):
    build, _ = BUILT[name]
    lr = build(co)
    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=lr)
    params = jnp.zeros(())

    def one(state, _):
        updates, state = opt.update(jnp.ones(()), state, params)
        return state, (-updates, state.hyperparams["learning_rate"])

    _, (used, recorded) = jax.lax.scan(one, opt.init(params), None, length=5300)
    expected = np.asarray(lr(jnp.arange(5300)))
    assert np.array_equal(np.asarray(used), expected)
    assert np.array_equal(np.asarray(recorded), expected)
    batched = jax.jit(jax.vmap(lr))(jnp.arange(5300).reshape(53, 100))
    assert np.array_equal(np.asarray(batched).ravel(), expected)


# -- refusals ----------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, 10, 100, exponent=2.0), ValueError,
     r"exponent must be 1, got 2\.0"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, 10, 10), ValueError,
     r"decay_steps must be > warmup_steps.*warmup_steps=10, decay_steps=10"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, -1, 10), ValueError,
     r"warmup_steps must be >= 0, got -1"),
    (lambda: co.warmup_cosine_decay_schedule(-0.1, 0.1, 1, 10), ValueError,
     r"init_value must be >= 0, got -0\.1"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, float("nan"), 1, 10), ValueError,
     r"peak_value must be finite"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, 1.5, 10), ValueError,
     r"warmup_steps must be a whole number of steps, got 1\.5"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, "1", 10), TypeError,
     r"warmup_steps must be an integer"),
    (lambda: co.warmup_cosine_decay_schedule(0.0, 0.1, 1, 10, end_value="x"), TypeError,
     r"end_value must be a real number"),
    (lambda: co.cosine_onecycle_schedule(0, 0.1), ValueError,
     r"transition_steps must be >= 1, got 0"),
    (lambda: co.cosine_onecycle_schedule(100, 0.1, pct_start=1.5), ValueError,
     r"pct_start must be in \[0, 1\], got 1\.5"),
    (lambda: co.cosine_onecycle_schedule(100, 0.1, div_factor=0.0), ValueError,
     r"div_factor must be > 0, got 0\.0"),
    (lambda: co.cosine_onecycle_schedule(100, 0.1, final_div_factor=-1), ValueError,
     r"final_div_factor must be > 0, got -1"),
    (lambda: co.sgdr_schedule([]), ValueError, r"cosine_kwargs must hold at least one"),
    (lambda: co.sgdr_schedule({"decay_steps": 10}), TypeError,
     r"cosine_kwargs must be an iterable of dicts"),
    (lambda: co.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=1)]),
     TypeError, r"cosine_kwargs\[0\] .*decay_steps"),
    (lambda: co.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=1,
                                    decay_steps=5, power=2)]),
     TypeError, r"cosine_kwargs\[0\]: .*power"),
    (lambda: co.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=1,
                                    decay_steps=5),
                               dict(init_value=0.0, peak_value=0.1, warmup_steps=5,
                                    decay_steps=5)]),
     ValueError, r"decay_steps must be > warmup_steps.*warmup_steps=5, decay_steps=5"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_invalid_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_optax_refuses_what_it_cannot_compute_too():
    with pytest.raises(ValueError, match="decay_steps"):
        optax.warmup_cosine_decay_schedule(0.0, 0.1, 10, 10)
    with pytest.raises(ValueError):
        optax.cosine_onecycle_schedule(0, 0.1)


def test_float_counts_are_refused_by_name():
    with pytest.raises(TypeError, match="count must be an integer"):
        co.warmup_cosine_decay_schedule(0.0, 0.1, 10, 100)(jnp.float32(3.0))


def test_docstring_examples_hold():
    import doctest

    result = doctest.testmod(co)
    assert result.attempted >= 10 and result.failed == 0
