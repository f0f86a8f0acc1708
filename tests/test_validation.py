"""Bad input raises ValueError or TypeError naming the parameter and the value."""

import math

import numpy as np
import pytest

import cyclr

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("call, exc, match", [
    (lambda: cyclr.triangular(-0.1, 1.0, 10), ValueError, r"base_lr must be >= 0, got -0\.1"),
    (lambda: cyclr.triangular(NAN, 1.0, 10), ValueError, r"base_lr must be finite, got nan"),
    (lambda: cyclr.triangular(0.1, INF, 10), ValueError, r"max_lr must be finite, got inf"),
    (lambda: cyclr.triangular(0.5, 0.1, 10), ValueError,
     r"max_lr must be >= base_lr, got base_lr=0\.5, max_lr=0\.1"),
    (lambda: cyclr.triangular("0.1", 1.0, 10), TypeError, r"base_lr must be a real number"),
    (lambda: cyclr.triangular(True, 1.0, 10), TypeError, r"base_lr must be a real number"),
    (lambda: cyclr.triangular(0.1, 1.0, 0), ValueError, r"step_size must be > 0, got 0"),
    (lambda: cyclr.triangular(0.1, 1.0, -3.5), ValueError, r"step_size must be > 0"),
    (lambda: cyclr.triangular(0.1, 1.0, NAN), ValueError, r"step_size must be finite"),
    (lambda: cyclr.triangular(0.1, 1.0, 10, step_size_down=0), ValueError,
     r"step_size_down must be > 0, got 0"),
    (lambda: cyclr.triangular(0.1, 1.0, 10, shape="cosine"), ValueError,
     r"shape must be one of \['hann', 'linear', 'welch'\], got 'cosine'"),
    (lambda: cyclr.cyclic(0.1, 1.0, 10, policy="tri"), ValueError, r"policy must be one of"),
    (lambda: cyclr.cyclic(0.1, 1.0, 10, scale_fn=3), TypeError, r"scale_fn must be callable"),
    (lambda: cyclr.cyclic(0.1, 1.0, 10, scale_fn=abs, scale_mode="epoch"), ValueError,
     r"scale_mode must be one of \['cycle', 'iterations'\], got 'epoch'"),
    (lambda: cyclr.exp_range(0.1, 1.0, 10, gamma=0.0), ValueError,
     r"gamma must be in \(0, 1\], got 0\.0"),
    (lambda: cyclr.exp_range(0.1, 1.0, 10, gamma=1.5), ValueError, r"gamma must be in"),
    (lambda: cyclr.one_cycle(0.1, 0), ValueError, r"total_steps must be an integer >= 1, got 0"),
    (lambda: cyclr.one_cycle(0.1, 100.0), TypeError, r"total_steps must be an integer"),
    (lambda: cyclr.one_cycle(0.1, 100, pct_start=1.5), ValueError,
     r"pct_start must be in \[0, 1\], got pct_start=1\.5"),
    (lambda: cyclr.one_cycle(0.1, 100, pct_start=-0.1), ValueError, r"pct_start must be in"),
    (lambda: cyclr.one_cycle(0.1, 100, anneal="cosine"), ValueError, r"anneal must be one of"),
    (lambda: cyclr.one_cycle(0.1, 100, div_factor=0), ValueError, r"div_factor must be > 0"),
    (lambda: cyclr.one_cycle(0.1, 100, three_phase="yes"), TypeError, r"three_phase must be a bool"),
    (lambda: cyclr.decay(0.1, 0.5, 10), ValueError, r"max_lr must be >= base_lr"),
    (lambda: cyclr.exponential(0.1, 1.01), ValueError, r"gamma must be in \(0, 1\], got 1\.01"),
    (lambda: cyclr.step_decay(0.1, 0.5, 0), ValueError, r"step_size must be > 0"),
    (lambda: cyclr.constant(-1), ValueError, r"lr must be >= 0, got -1"),
    (lambda: cyclr.chain(), ValueError, r"segments must be a non-empty sequence"),
    (lambda: cyclr.chain(cyclr.constant(0.1), (cyclr.constant(0.2), 3)), ValueError,
     r"only the last segment may be open-ended"),
    (lambda: cyclr.chain((cyclr.constant(0.1), 0)), ValueError,
     r"steps of segment 0 must be an integer >= 1, got 0"),
    (lambda: cyclr.chain((0.1, 5)), TypeError, r"segment 0 must be a schedule"),
    (lambda: cyclr.triangular(0, 1, 2).momentum_schedule(-0.1, 0.9), ValueError,
     r"base_momentum must be >= 0"),
])
def test_constructors_reject_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


S = cyclr.triangular2(0.001, 0.006, 2000)


@pytest.mark.parametrize("step, exc, match", [
    (-1, ValueError, r"step must be an integer >= 0, got -1"),
    (1.0, TypeError, r"step must be an integer >= 0, got 1\.0"),
    (True, TypeError, r"step must be an integer >= 0, got True"),
    ("3", TypeError, r"step must be an integer"),
    (2**63, ValueError, r"step must be an integer in \[0, 2\*\*63 - 1\]"),
    (np.float32(3), TypeError, r"step must be an integer"),
])
def test_bad_steps(step, exc, match):
    with pytest.raises(exc, match=match):
        S(step)


def test_numpy_integer_steps_work():
    assert S(np.int64(2000)) == S(2000) == S(np.uint16(2000)) == 0.006


def test_numpy_strings_work_as_options():
    # Options read from a numpy array (or any str subclass) are plain strings inside.
    s = cyclr.exp_range(1e-3, 1e-2, 7, gamma=0.99, shape=np.str_("hann"))
    assert s == cyclr.exp_range(1e-3, 1e-2, 7, gamma=0.99, shape="hann")
    assert type(s.params["shape"]) is str
    o = cyclr.one_cycle(0.1, 100, anneal=np.str_("linear"))
    assert o.array(100).tolist() == cyclr.one_cycle(0.1, 100, anneal="linear").array(100).tolist()
    c = cyclr.cyclic(0.1, 1.0, 5, policy=np.str_("triangular2"))
    assert c == cyclr.triangular2(0.1, 1.0, 5)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n=-1), ValueError, r"n must be an integer >= 0, got -1"),
    (dict(n=2.0), TypeError, r"n must be an integer"),
    (dict(n=3, start=-2), ValueError, r"start must be an integer >= 0, got -2"),
    (dict(n=3, dtype=np.int64), TypeError, r"dtype must be float64 or float32, got int64"),
    (dict(n=3, dtype="float16"), TypeError, r"dtype must be float64 or float32"),
    (dict(n=3, dtype="nonsense"), TypeError, r"dtype must be float64 or float32"),
    (dict(n=3, out=[0.0, 0.0, 0.0]), TypeError, r"out must be a numpy.ndarray, got list"),
    (dict(n=3, out=np.zeros(4)), ValueError, r"out must have shape \(3,\), got \(4,\)"),
    (dict(n=3, out=np.zeros(3, dtype=np.int32)), TypeError,
     r"out must have dtype float64 or float32, got int32"),
    (dict(n=3, out=np.zeros(3), dtype=np.float32), TypeError, r"out has dtype float64"),
    (dict(n=3, out=np.zeros(6)[::2]), ValueError, r"out must be C-contiguous"),
    (dict(n=3, out=np.zeros(3, dtype=">f8")), ValueError, r"out must be in native byte order"),
    (dict(n=3, start=2**63 - 2), ValueError, r"start \+ n - 1 must be <= 2\*\*63 - 1"),
])
def test_array_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        S.array(**kwargs)


def test_read_only_out_is_rejected():
    out = np.zeros(3)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        S.array(3, out=out)


def test_core_checks_buffers_itself():
    # Kernel._fill is the Cython entry point: it checks what it is handed, too.
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        S._fill(memoryview(bytearray(24)), 0)
    with pytest.raises(ValueError, match="out must be 1-D"):
        S._fill(np.zeros((2, 2)), 0)
    with pytest.raises(TypeError, match="dtype float64 or float32"):
        S._fill(np.zeros(2, dtype=np.complex128), 0)
    with pytest.raises(ValueError, match="start must be an integer >= 0"):
        S._fill(np.zeros(2), -5)


def test_n_zero_gives_empty_array():
    assert S.array(0).shape == (0,)
    assert S.array(0, start=2**63 - 1).shape == (0,)


def test_huge_allocation_raises_memory_error():
    with pytest.raises(MemoryError):
        S.array(2**62)
    with pytest.raises(MemoryError):
        S.array(2**45, dtype=np.float32)   # 128 TiB: more than this machine can map


@pytest.mark.parametrize("value", [1.5, -0.1, math.nan, "x"])
def test_scale_fn_results_are_checked(value):
    s = cyclr.cyclic(0.1, 1.0, 4, scale_fn=lambda x: value)
    with pytest.raises((ValueError, TypeError), match="scale_fn must return"):
        s(3)
    with pytest.raises((ValueError, TypeError), match="scale_fn must return"):
        s.array(10)


def test_tensor_like_hyperparameters_are_copied():
    lr = np.array(0.5)
    s = cyclr.triangular(0.1, lr, 4)
    lr[...] = 100.0
    assert s(4) == 0.5 and type(s.params["max_lr"]) is float
