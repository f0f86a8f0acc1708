"""Coverage-guided fuzzing of cyclr's public surface with atheris (libFuzzer for Python).

Targets, chosen by the last byte of each input:

0. constructors with fuzzed arguments, then every built schedule's invariants;
1. ``from_dict`` on arbitrary JSON text;
2. ``from_dict`` on valid descriptions with fuzzed changes at any depth;
3. ``array(n, start=, dtype=, out=)`` with arbitrary buffers, and ``s(step)``;
4. the command line's ``--from`` reader (``cyclr.cli.load_schedule``) on the input's
   bytes, written to a ``.json`` or ``.toml`` file;
5. ``from_config`` of the Keras schedules (``cyclr.adapters.keras``) on saved configs
   with fuzzed changes, or on any JSON value.

A finding is anything but a documented outcome: an exception other than ValueError,
TypeError or MemoryError (for the ``--from`` reader: other than its usage error; for
``from_config``: other than ValueError or TypeError), a failed invariant
(AssertionError), a crash or a hang. Invariants: values are finite and >= 0;
``s(i) == s.array(1, start=i)[0]``; schedules survive ``to_dict``/``from_dict``,
pickling and ``eval(repr(s))``; ``from_dict`` imports no module; a refused ``out``
buffer is left untouched; a loaded Keras schedule gives its cyclr schedule's float32
values and its config loads back to the same config.

Run it directly (libFuzzer flags apply), for example::

    python tests/fuzz/fuzz_cyclr.py -atheris_runs=100000 -timeout=10 CORPUS_DIR

tests/fuzz/test_fuzz.py runs a bounded, seeded number of iterations in CI.
"""

import json
import math
import os
import pickle
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import atheris  # noqa: E402
import keras  # noqa: E402  (imported first: only cyclr's own modules are instrumented)
import numpy as np  # noqa: E402

with atheris.instrument_imports():
    import cyclr
    import cyclr.cli
    from cyclr.adapters import keras as cyclr_keras

DOCUMENTED = (ValueError, TypeError, MemoryError)
INT64_MAX = 2**63 - 1

# Values that sit on edges of some parameter's domain.
EDGES = [0, 1, 2, 3, 7, 10, 2000, -1, 0.0, -0.0, 0.5, 1.0, 0.3, 0.999, 1.0000000000000002,
         5e-324, 1e-300, 1e300, 1.7976931348623157e308, math.inf, -math.inf, math.nan,
         2**24, 2**31, 2**53, 2**53 + 1, 2**62 - 1, 2**62, INT64_MAX, 2**63, 2**64, 10**400,
         True, False, None, "linear", "welch", "hann", "triangular", "triangular2",
         "exp_range", "cycle", "iterations", "cos", "", "nan", b"1", [], {}, (1,),
         np.float32(0.5), np.float64(-1.0), np.int64(7), np.uint64(2**63), np.bool_(True),
         np.array(3), np.array(2.5), np.array([1, 2]), np.float16(0.1), 1j]


def half(x):
    return 0.5


def reciprocal(x):
    return 1.0 / x if x else 1.0


def not_a_number(x):
    return math.nan


def text(x):
    return "x"


SCALE_FNS = [abs, half, reciprocal, math.cos, not_a_number, text, np.float32]


def value(fdp):
    """Any argument a caller might pass."""
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind <= 2:
        return fdp.PickValueInList(EDGES)
    if kind == 3:
        return fdp.ConsumeFloat()
    if kind == 4:
        return fdp.ConsumeRegularFloat()
    if kind == 5:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 9))
    if kind == 6:
        return fdp.ConsumeProbability()
    if kind == 7:
        return fdp.ConsumeIntInRange(1, 5000)
    if kind == 8:
        return fdp.ConsumeUnicodeNoSurrogates(6)
    return fdp.PickValueInList([np.float64, np.float32, np.int64, np.array])(
        fdp.ConsumeIntInRange(0, 100))


def sane_or(fdp, sane):
    """Mostly a valid value, so that fuzzing reaches past the first check."""
    return fdp.PickValueInList(sane) if fdp.ConsumeIntInRange(0, 3) else value(fdp)


def schedule(fdp, depth=0):
    """A constructor call with fuzzed arguments (ValueError/TypeError when invalid)."""
    rate = [0.0, 0.001, 0.1, 1.0]
    top = [0.006, 1.0, 10.0]
    size = [1, 2, 3, 7, 0.5, 2.5, 2000]
    kind = fdp.ConsumeIntInRange(0, 10)
    if kind <= 2:
        name = ["triangular", "triangular2", "exp_range"][kind]
        kwargs = {"step_size_down": sane_or(fdp, [None, 1, 4, 1.5]),
                  "shape": sane_or(fdp, ["linear", "welch", "hann"])}
        if name == "exp_range":
            kwargs["gamma"] = sane_or(fdp, [0.5, 0.99, 1.0])
            kwargs["scale_mode"] = sane_or(fdp, ["iterations", "cycle"])
        return getattr(cyclr, name)(sane_or(fdp, rate), sane_or(fdp, top), sane_or(fdp, size),
                                    **kwargs)
    if kind == 3:
        return cyclr.cyclic(sane_or(fdp, rate), sane_or(fdp, top), sane_or(fdp, size),
                            scale_fn=sane_or(fdp, SCALE_FNS + [None]),
                            scale_mode=sane_or(fdp, ["cycle", "iterations"]),
                            policy=sane_or(fdp, ["triangular", "triangular2", "exp_range"]),
                            gamma=sane_or(fdp, [0.5, 1.0]))
    if kind == 4:
        return cyclr.one_cycle(sane_or(fdp, top), sane_or(fdp, [2, 3, 10, 100, 10**6]),
                               pct_start=sane_or(fdp, [0.3, 0.25, 0.45, 0.9]),
                               anneal=sane_or(fdp, ["cos", "linear"]),
                               div_factor=sane_or(fdp, [25.0, 1.0, 0.5]),
                               final_div_factor=sane_or(fdp, [1e4, 1.0]),
                               three_phase=sane_or(fdp, [False, True]))
    if kind == 5:
        return cyclr.constant(sane_or(fdp, rate))
    if kind == 6:
        return cyclr.decay(sane_or(fdp, top), sane_or(fdp, rate), sane_or(fdp, size))
    if kind == 7:
        return cyclr.exponential(sane_or(fdp, top), sane_or(fdp, [0.5, 0.999, 1.0]))
    if kind == 8:
        return cyclr.step_decay(sane_or(fdp, top), sane_or(fdp, [0.5, 1.0]), sane_or(fdp, size))
    if kind == 9:
        base = schedule(fdp, depth + 1) if depth < 2 else cyclr.triangular(0.0, 1.0, 3)
        return base.momentum_schedule(sane_or(fdp, [0.85, 0.8]), sane_or(fdp, [0.95, 0.9]))
    segments = []
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        inner = schedule(fdp, depth + 1) if depth < 2 else cyclr.constant(0.1)
        segments.append((inner, sane_or(fdp, [1, 5, 40, None, 2**62])))
    return cyclr.chain(*segments)


def check(s, fdp):
    """The invariants every schedule keeps."""
    assert isinstance(s, cyclr.Schedule)
    start = fdp.PickValueInList([0, 1, 2**53 - 3, 2**62, INT64_MAX - 8,
                                 fdp.ConsumeIntInRange(0, INT64_MAX)])
    n = min(fdp.ConsumeIntInRange(0, 64), INT64_MAX - start + 1)
    values = s.array(n, start=start)
    assert values.shape == (n,) and values.dtype == np.float64
    where = f"{s!r}, steps from {start}"
    assert np.all(np.isfinite(values)) and np.all(values >= 0), f"{where}: {values}"
    if n:
        assert s(start) == values[0] and s(start + n - 1) == values[-1], where
        with np.errstate(over="ignore"):     # above float32's range is inf, as numpy's
            single = values.astype(np.float32)
        assert np.array_equal(s.array(n, start=start, dtype=np.float32), single), where
    assert pickle.loads(pickle.dumps(s)) == s, where
    if not _has_scale_fn(s):
        assert cyclr.from_dict(json.loads(json.dumps(s.to_dict()))) == s, where
        assert eval(repr(s), vars(cyclr)) == s, where


def _has_scale_fn(s):
    # A user function reads back only with allow_imports, and its repr is its name.
    return "scale_fn=" in repr(s)


def json_value(fdp, depth=0):
    """A value ``json.loads`` could return, nested a few levels."""
    kind = fdp.ConsumeIntInRange(0, 8 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 9))
    if kind == 3:
        return fdp.ConsumeFloat()
    if kind == 4:
        return fdp.ConsumeUnicodeNoSurrogates(8)
    if kind in (5, 6):
        return fdp.PickValueInList([p for p in EDGES if isinstance(p, (int, float, str))]
                                   + ["math:cos", "os:system", "chain", "momentum", "cyclic"])
    if kind == 7:
        return [json_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {fdp.ConsumeUnicodeNoSurrogates(6): json_value(fdp, depth + 1)
            for _ in range(fdp.ConsumeIntInRange(0, 3))}


TEMPLATES = [s.to_dict() for s in (
    cyclr.triangular2(0.001, 0.006, 2000, shape="welch"),
    cyclr.exp_range(0.0, 1.0, 4, gamma=0.9, step_size_down=2),
    cyclr.one_cycle(0.1, 100, three_phase=True).momentum_schedule(0.85, 0.95),
    cyclr.chain((cyclr.decay(1.0, 0.1, 10), 10), (cyclr.step_decay(0.1, 0.5, 3), 20),
                cyclr.exponential(0.01, 0.99)),
    cyclr.constant(0.1),
)]


def dict_nodes(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from dict_nodes(v)
    elif isinstance(node, list):
        for v in node:
            yield from dict_nodes(v)


def load(data):
    """from_dict, which must not import anything while it reads."""
    modules = set(sys.modules)
    try:
        return cyclr.from_dict(data)
    finally:
        assert set(sys.modules) <= modules, set(sys.modules) - modules


def fuzz_json_text(fdp):
    try:
        data = json.loads(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))
    except (ValueError, RecursionError):       # not JSON: nothing of cyclr's to test
        return
    check(load(data), fdp)


def fuzz_mutated(fdp):
    data = json.loads(json.dumps(fdp.PickValueInList(TEMPLATES)))
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        node = fdp.PickValueInList(list(dict_nodes(data)))
        action = fdp.ConsumeIntInRange(0, 2)
        if action == 0 and node:
            node.pop(fdp.PickValueInList(sorted(node)))
        elif action == 1 and node:
            node[fdp.PickValueInList(sorted(node))] = json_value(fdp)
        else:
            node[fdp.ConsumeUnicodeNoSurrogates(8)] = json_value(fdp)
    check(load(data), fdp)


BUFFER_DTYPES = ["<f8", "<f4", ">f8", ">f4", "f2", "i8", "u1", "?", "c16", "O", "S8"]


def buffer(fdp):
    """Any numpy array: dtype, shape, strides, alignment, writeability."""
    dtype = np.dtype(fdp.PickValueInList(BUFFER_DTYPES))
    length = fdp.ConsumeIntInRange(0, 300)
    stride = fdp.PickValueInList([1, 1, 2, -1])
    if dtype.kind == "O":
        arr = np.empty(length * abs(stride), dtype=dtype)
    else:
        offset = fdp.PickValueInList([0, 1, 3])
        raw = bytearray(fdp.ConsumeBytes(length * abs(stride) * dtype.itemsize + offset).ljust(
            length * abs(stride) * dtype.itemsize + offset, b"\0"))
        arr = np.frombuffer(raw, dtype=dtype, offset=offset, count=length * abs(stride))
    arr = arr[::stride]
    if fdp.ConsumeIntInRange(0, 5) == 0 and length % 2 == 0:
        arr = arr.reshape(2, -1)
    arr.flags.writeable = fdp.ConsumeIntInRange(0, 4) > 0
    return arr


def fuzz_array(fdp):
    try:
        s = schedule(fdp)
    except (ValueError, TypeError):
        s = cyclr.triangular2(0.1, 1.0, 3)
    out = buffer(fdp) if fdp.ConsumeBool() else None
    n = value(fdp) if fdp.ConsumeIntInRange(0, 3) == 0 else (
        len(out) if out is not None else fdp.ConsumeIntInRange(0, 4096))
    if out is None and isinstance(n, (int, np.integer)) and 4096 < n < 2**55:
        n = int(n) % 4096     # a real allocation; sizes from 2**55 up must be MemoryError
    start = value(fdp) if fdp.ConsumeIntInRange(0, 3) == 0 else fdp.ConsumeIntInRange(0, INT64_MAX)
    dtype = fdp.PickValueInList([None, None, np.float64, np.float32, "float32", "f2", int, "x"])
    before = None if out is None else out.copy()
    try:
        got = s.array(n, start=start, dtype=dtype, out=out)
    except DOCUMENTED:
        if out is not None and out.dtype.kind != "O":
            assert out.tobytes() == before.tobytes(), "a refused buffer was written"
        raise
    assert out is None or got is out
    if len(got):
        where = f"{s!r}, {len(got)} steps from {start} as {got.dtype}"
        exact = s.array(len(got), start=start)
        assert np.all(np.isfinite(exact)) and np.all(exact >= 0), f"{where}: {exact}"
        # float32 is the float64 value rounded once (an LR above 3.4e38 rounds to inf).
        with np.errstate(over="ignore"):
            assert np.array_equal(got, exact.astype(got.dtype)), where
        assert exact[0] == s(start), where
    s(value(fdp))


def fuzz_constructors(fdp):
    check(schedule(fdp), fdp)


# -- the command line's --from reader ------------------------------------------------------

_FOLDER = Path(tempfile.mkdtemp(prefix="cyclr-fuzz-"))


def fuzz_from_file(fdp):
    """``cyclr show --from FILE`` on any bytes: a schedule, or its usage error."""
    path = _FOLDER / ("schedule.toml" if fdp.ConsumeBool() else "schedule.json")
    path.write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
    try:
        s = cyclr.cli.load_schedule(path)
    except cyclr.cli.UsageError as error:
        message = str(error)
        assert message.startswith("--from") and "\n" not in message, message
        return
    except Exception as error:            # ValueError included: the CLI must say it
        raise AssertionError(f"load_schedule raised {error!r}") from error
    assert isinstance(s, cyclr.Schedule)


# -- Keras configs --------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="cyclr_fuzz")
def halving(x):
    return 0.5 ** x


KERAS_CLASSES = {cls.__name__: cls for cls in (
    cyclr_keras.CyclrSchedule, cyclr_keras.CyclicalLearningRate,
    cyclr_keras.TriangularCyclicalLearningRate, cyclr_keras.Triangular2CyclicalLearningRate,
    cyclr_keras.ExponentialCyclicalLearningRate)}
KERAS_TEMPLATES = [(type(lr).__name__, lr.get_config()) for lr in (
    cyclr_keras.schedule(cyclr.triangular2(0.001, 0.006, 20, shape="hann")),
    cyclr_keras.schedule(cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95), 50),
    cyclr_keras.schedule(cyclr.chain((cyclr.decay(1.0, 0.1, 10), 10),
                                     cyclr.exp_range(0.0, 1.0, 4, gamma=0.9))),
    cyclr_keras.CyclicalLearningRate(0.0, 1.0, 2.5, scale_fn=halving),
    cyclr_keras.TriangularCyclicalLearningRate(0.01, 0.1, 4),
    cyclr_keras.Triangular2CyclicalLearningRate(0.01, 0.1, 3, scale_mode="iterations"),
    cyclr_keras.ExponentialCyclicalLearningRate(0.01, 0.1, 5, gamma=0.99),
)]
FLUSHED = float(np.finfo(np.float32).tiny)   # backends may flush smaller products to 0


def fuzz_keras_config(fdp):
    """``from_config`` on a saved config with fuzzed changes, or on any JSON value:
    a schedule that gives cyclr's values, or ValueError/TypeError."""
    name, config = fdp.PickValueInList(KERAS_TEMPLATES)
    config = json.loads(json.dumps(config))
    if fdp.ConsumeIntInRange(0, 7) == 0:
        config = json_value(fdp)
    else:
        for _ in range(fdp.ConsumeIntInRange(1, 3)):
            node = fdp.PickValueInList(list(dict_nodes(config)))
            action = fdp.ConsumeIntInRange(0, 2)
            if action == 0 and node:
                node.pop(fdp.PickValueInList(sorted(node)))
            elif action == 1 and node:
                node[fdp.PickValueInList(sorted(node))] = json_value(fdp)
            else:
                node[fdp.ConsumeUnicodeNoSurrogates(8)] = json_value(fdp)
    cls = KERAS_CLASSES[name]
    try:
        lr = cls.from_config(config)
    except (ValueError, TypeError):
        return
    except Exception as error:            # MemoryError included: the budget must refuse
        raise AssertionError(f"{name}.from_config raised {error!r}") from error
    saved = lr.get_config()
    assert type(lr).from_config(saved).get_config() == saved, saved
    steps = np.array([0, 1, 7, fdp.ConsumeIntInRange(0, 2**31 - 1)], dtype=np.int64)
    got = keras.ops.convert_to_numpy(lr(keras.ops.convert_to_tensor(steps)))
    assert got.dtype == np.float32 and np.all(np.isfinite(got)) and np.all(got >= 0), got
    if isinstance(lr, cyclr_keras.CyclrSchedule):
        want = np.array([lr.schedule(int(i)) for i in steps], dtype=np.float32)
        near = np.abs(got.view(np.int32) - want.view(np.int32)) <= 1     # within 1 ulp
        assert np.all(near | ((want < FLUSHED) & (got == 0))), (lr, steps, got, want)


TARGETS = [fuzz_constructors, fuzz_json_text, fuzz_mutated, fuzz_array, fuzz_from_file,
           fuzz_keras_config]


def test_one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    try:
        TARGETS[fdp.ConsumeIntInRange(0, len(TARGETS) - 1)](fdp)
    except DOCUMENTED:
        pass


def main():
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
