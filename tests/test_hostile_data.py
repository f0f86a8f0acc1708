"""Untrusted data: schedule descriptions read from JSON, and scheduler checkpoints.

``from_dict`` and ``ScheduleLR.load_state_dict`` get arbitrary JSON and mutated valid
descriptions (a key dropped, added or given any value, at any depth); they return a
schedule or raise ValueError/TypeError, naming what is wrong, and a failed load leaves
the scheduler as it was. Loading never imports a module unless ``allow_imports=True``.

Tests marked ``xfail(strict=True)`` pin bugs found here (see test_hostile.py).
"""

import json
import math
import re
import subprocess
import sys
import textwrap

import keras
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import cyclr
from cyclr.adapters import keras as cyclr_keras
from cyclr.adapters.torch import CyclicLR, OneCycleLR, ScheduleLR
from strategies import any_schedules

FIELD_NAMES = ["version", "type", "base_lr", "max_lr", "step_size", "step_size_down",
               "policy", "gamma", "scale_fn", "scale_mode", "shape", "total_steps",
               "pct_start", "anneal", "div_factor", "final_div_factor", "three_phase",
               "schedule", "base_momentum", "max_momentum", "lr", "steps", "segments"]
TYPE_NAMES = ["cyclic", "one_cycle", "momentum", "constant", "decay", "exponential",
              "step_decay", "chain"]

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats()
                | st.text(max_size=8) | st.sampled_from(TYPE_NAMES + ["math:cos", "os:system"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=6),
    max_leaves=24)


def mentions(message, name):
    """``name`` as a word of ``message`` (``lr`` must not match inside ``base_lr``)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) is not None


def read_json(value):
    """``value`` as ``json.loads`` would hand it over (NaN and Infinity included)."""
    return json.loads(json.dumps(value))


@given(json_values)
def test_any_json_is_a_schedule_or_a_clear_error(value):
    try:
        s = cyclr.from_dict(read_json(value))
    except (ValueError, TypeError):
        return
    assert isinstance(s, cyclr.Schedule) and cyclr.from_dict(s.to_dict()) == s


def _dict_nodes(node):
    """Every dict inside a description, the description itself first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dict_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _dict_nodes(value)


@st.composite
def mutations(draw):
    """A valid description with one change somewhere: (description, change, key)."""
    description = read_json(draw(any_schedules).to_dict())
    node = draw(st.sampled_from(list(_dict_nodes(description))))
    change = draw(st.sampled_from(["drop", "add", "replace"]))
    if change == "add":
        key = draw((st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=6))
                   .filter(lambda k: k not in node))
        node[key] = draw(json_values)
    else:
        key = draw(st.sampled_from(sorted(node)))
        if change == "drop":
            del node[key]
        else:
            node[key] = draw(json_values)
    return description, change, key


@given(mutations())
def test_mutated_descriptions_load_or_name_the_change(mutation):
    description, change, key = mutation
    try:
        s = cyclr.from_dict(description)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if change != "replace" or key in ("version", "type"):
            assert mentions(message, key) or repr(key) in message, message
        return
    assert change == "replace", "a dropped or added key must be refused"
    assert cyclr.from_dict(read_json(s.to_dict())) == s


GOOD = {"version": 1, "type": "constant", "lr": 0.1}


@given(json_values.filter(lambda v: v != 1 or isinstance(v, bool)))
def test_unknown_format_versions_are_refused_by_name(version):
    with pytest.raises(ValueError) as info:
        cyclr.from_dict({**GOOD, "version": version})
    assert mentions(str(info.value), "version") and repr(version) in str(info.value)


@given(json_values.filter(lambda v: v not in TYPE_NAMES))
def test_unknown_types_are_refused_by_name(kind):
    with pytest.raises(ValueError) as info:
        cyclr.from_dict({**GOOD, "type": kind})
    assert mentions(str(info.value), "type") and repr(kind) in str(info.value)


# What each field holds, as DESIGN.md describes the format.
NUMBER, INTEGER, TEXT, FLAG = "number", "integer", "text", "flag"
KINDS = {
    "cyclic": dict(base_lr=NUMBER, max_lr=NUMBER, step_size=NUMBER, policy=TEXT, gamma=NUMBER,
                   scale_mode=TEXT, shape=TEXT),
    "one_cycle": dict(max_lr=NUMBER, total_steps=INTEGER, pct_start=NUMBER, anneal=TEXT,
                      div_factor=NUMBER, final_div_factor=NUMBER, three_phase=FLAG),
    "decay": dict(max_lr=NUMBER, base_lr=NUMBER, steps=NUMBER),
    "exponential": dict(lr=NUMBER, gamma=NUMBER),
    "step_decay": dict(lr=NUMBER, gamma=NUMBER, step_size=NUMBER),
}
EXAMPLES = {"cyclic": cyclr.exp_range(0.1, 1.0, 10, gamma=0.9), "one_cycle": cyclr.one_cycle(1.0, 100),
            "decay": cyclr.decay(1.0, 0.1, 10), "exponential": cyclr.exponential(1.0, 0.9),
            "step_decay": cyclr.step_decay(1.0, 0.5, 10)}
WRONG = {
    NUMBER: st.text(max_size=4) | st.booleans() | st.lists(st.floats(), max_size=2)
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    INTEGER: st.floats() | st.text(max_size=4) | st.booleans() | st.lists(st.integers(), max_size=2),
    TEXT: st.integers() | st.floats() | st.booleans() | st.lists(st.text(max_size=2), max_size=2),
    FLAG: st.integers() | st.floats() | st.text(max_size=4),
}
FIELDS = [(kind, field) for kind, fields in KINDS.items() for field in fields]


@pytest.mark.parametrize("kind, field", FIELDS, ids=[f"{k}.{f}" for k, f in FIELDS])
@given(data=st.data())
def test_wrong_json_types_are_type_errors_naming_the_field(kind, field, data):
    value = data.draw(WRONG[KINDS[kind][field]], label=field)
    with pytest.raises(TypeError) as info:
        cyclr.from_dict({**read_json(EXAMPLES[kind].to_dict()), field: value})
    assert mentions(str(info.value), field)


# -- loading never imports ----------------------------------------------------------------

SENTINEL = """\
import pathlib
pathlib.Path({marker!r}).write_text("imported")
def scale(x):
    return 0.5
"""


@pytest.fixture
def sentinel(tmp_path, monkeypatch):
    """An importable module that leaves a file behind when it is imported."""
    name = f"cyclr_sentinel_{tmp_path.name.replace('-', '_')}"
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(SENTINEL.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, marker
    sys.modules.pop(name, None)


def _wrappings(path):
    """A description naming ``path`` as scale_fn at the top, in a momentum schedule and
    inside a chain."""
    cyclic = {**cyclr.triangular(0.1, 1.0, 4).to_dict(), "scale_fn": path}
    momentum = {"version": 1, "type": "momentum", "schedule": cyclic,
                "base_momentum": 0.8, "max_momentum": 0.9}
    chain = {"version": 1, "type": "chain", "segments": [
        {"schedule": GOOD, "steps": 3}, {"schedule": momentum, "steps": None}]}
    return [cyclic, momentum, chain]


@pytest.mark.parametrize("where", [0, 1, 2], ids=["top", "momentum", "chain"])
def test_loading_imports_nothing_unless_allowed(sentinel, where):
    name, marker = sentinel
    description = read_json(_wrappings(f"{name}:scale")[where])
    with pytest.raises(ValueError) as info:
        cyclr.from_dict(description)
    assert "allow_imports" in str(info.value) and mentions(str(info.value), "scale_fn")
    assert name not in sys.modules and not marker.exists()
    s = cyclr.from_dict(description, allow_imports=True)
    assert name in sys.modules and marker.exists()
    # Half way up the first cycle (w = 0.5), with the module's factor 0.5.
    expected = [0.1 + 0.9 * 0.25, 0.9 - 0.1 * 0.25, 0.9 - 0.1 * 0.25][where]
    assert math.isclose(s(2 + 3 * (where == 2)), expected, rel_tol=1e-15)


KERAS_CONFIGS = {
    "schedule": (cyclr_keras.CyclrSchedule, lambda path: {
        "schedule": {**cyclr.triangular(0.1, 1.0, 4).to_dict(), "scale_fn": path},
        "total_steps": 20, "name": None}),
    "tfa": (cyclr_keras.CyclicalLearningRate, lambda path: {
        **cyclr_keras.CyclicalLearningRate(0.1, 1.0, 4, scale_fn=abs).get_config(),
        "scale_fn": path}),
}


@pytest.mark.parametrize("kind", sorted(KERAS_CONFIGS))
def test_a_keras_config_never_calls_a_function_it_names(kind, capfd):
    # builtins:print stands in for os:_exit, os:close, time:sleep ...: any function of
    # one argument in a module that happens to be imported.
    cls, config = KERAS_CONFIGS[kind]
    try:
        lr = cls.from_config(config("builtins:print"))
        keras.ops.convert_to_numpy(lr(3))
    except (ValueError, TypeError):
        pass
    assert capfd.readouterr().out == "", "loading a config called builtins.print"


# -- nesting --------------------------------------------------------------------------------

def _nested_chain_json(depth):
    text = json.dumps(GOOD)
    for _ in range(depth):
        text = ('{"version": 1, "type": "chain", "segments": [{"schedule": ' + text
                + ', "steps": 5}, {"schedule": ' + json.dumps(GOOD) + ', "steps": null}]}')
    return text


def test_deeply_nested_json_is_a_value_error():
    description = json.loads(_nested_chain_json(150))    # json.loads takes this depth
    with pytest.raises(ValueError, match="nested deeper than"):
        cyclr.from_dict(description)


def test_deeply_nested_chains_never_crash():
    code = textwrap.dedent("""
        import cyclr
        s = cyclr.constant(0.1)
        try:
            for _ in range(100_000):
                s = cyclr.chain((s, 5), cyclr.constant(0.2))
        except ValueError:
            pass
        try:
            assert s(0) == 0.1 and s.array(3).tolist() == [0.1] * 3
        except (ValueError, RecursionError):
            pass
        print("survived")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "survived" in run.stdout, (run.returncode, run.stderr[-500:])


# -- scheduler checkpoints ------------------------------------------------------------------

def _schedulers():
    param = torch.nn.Parameter(torch.zeros(2))
    sgd = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    adam = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    plain = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    return [
        (sgd, CyclicLR(sgd, 0.01, 0.1, step_size_up=5, mode="triangular2")),
        (adam, OneCycleLR(adam, 0.1, total_steps=40)),
        (plain, ScheduleLR(plain, cyclr.chain((cyclr.triangular(0.0, 1.0, 3), 7),
                                              cyclr.constant(0.5)))),
    ]


def _snapshot(opt, sched):
    group = opt.param_groups[0]
    return (sched.last_epoch, sched._step_count, sched.get_last_lr(), group["lr"],
            group.get("momentum"), group.get("betas"))


state_keys = st.sampled_from(["last_epoch", "_step_count", "_last_lr", "base_lrs",
                              "schedules", "momentum_schedules", "_warned_past_end"])
# Except -1 and beyond 2**63 - 1: test_a_checkpoint_step_out_of_range_is_refused_unchanged.
int64_values = (st.integers(-2**63, 2**63 - 1) | st.sampled_from([-2, 0, 1, 2**63 - 1])).filter(
    lambda v: v != -1)


# A loaded step past OneCycleLR's total_steps is valid: it holds the final LR and warns.
@pytest.mark.filterwarnings("ignore:OneCycleLR stepped to step:UserWarning")
@given(st.integers(0, 2), st.integers(0, 30), st.data())
def test_a_mutated_checkpoint_loads_or_leaves_the_scheduler_as_it_was(which, steps, data):
    opt, sched = _schedulers()[which]
    for _ in range(steps):
        opt.step()
        sched.step()
    state = read_json(sched.state_dict())
    key = data.draw(state_keys | st.text(max_size=6), label="key")
    change = data.draw(st.sampled_from(["drop", "replace"]), label="change")
    if change == "drop":
        state.pop(key, None)
    elif key in ("last_epoch", "_step_count"):
        state[key] = data.draw(int64_values | json_values, label="value")
    else:
        state[key] = data.draw(json_values, label="value")
    before = _snapshot(opt, sched)
    try:
        sched.load_state_dict(state)
    except (ValueError, TypeError):
        assert _snapshot(opt, sched) == before
        return
    assert sched.get_last_lr() == [s(sched.last_epoch) for s in sched.schedules]


@pytest.mark.parametrize("last_epoch", [-1, 2**63, 2**70])
def test_a_checkpoint_step_out_of_range_is_refused_unchanged(last_epoch):
    opt, sched = _schedulers()[0]
    state = sched.state_dict()
    before = _snapshot(opt, sched)
    with pytest.raises(ValueError) as info:
        sched.load_state_dict({**state, "last_epoch": last_epoch})
    assert _snapshot(opt, sched) == before and "last_epoch" in str(info.value)


# -- the command line's --from reader ------------------------------------------------------

# Virtual memory allowed to a `cyclr show` child: the interpreter and numpy take about
# 200 MiB, ten million float64 steps 80 MiB each for the values and the cycle ends.
CHILD_MEMORY = 768 << 20


def _cap_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def show_from(path, *extra, timeout=60):
    """``python -m cyclr show --from path`` in a child with CHILD_MEMORY of address
    space; the timeout is there to turn a hang into a failure."""
    env = {**__import__("os").environ, "PYTHONIOENCODING": "utf-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "cyclr", "show", "--from", str(path),
                           *map(str, extra)], capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=_cap_memory)


def assert_refused(run, *words):
    """Exit 2 with one line on stderr that holds every one of ``words``."""
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cyclr show: error: --from"), lines
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert run.stdout == ""


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_from_a_device_is_refused_without_reading_it(device):
    # Reading /dev/zero to the end would fill CHILD_MEMORY and die of MemoryError.
    assert_refused(show_from(device), repr(device), "is not a regular file",
                   "character device")


def test_from_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "schedule.json"
    __import__("os").mkfifo(fifo)
    # No process ever opens the FIFO for writing: a blocking open would wait forever
    # and the child's timeout would fail the test.
    assert_refused(show_from(fifo), "is not a regular file", "a FIFO")


def test_from_a_folder_is_refused(tmp_path):
    assert_refused(show_from(tmp_path), "is not a regular file", "a folder")


def test_from_a_huge_file_names_the_cap_and_reads_no_further(tmp_path):
    from cyclr.cli import MAX_FROM_BYTES

    big = tmp_path / "big.json"
    with open(big, "wb") as f:              # 10 MiB of valid JSON: a long string
        f.write(b'"' + b"x" * (10 << 20) + b'"')
    assert_refused(show_from(big), f"{MAX_FROM_BYTES:,} bytes")
    # A sparse file of 64 GiB: reading it whole would fail on CHILD_MEMORY first.
    sparse = tmp_path / "sparse.json"
    with open(sparse, "wb") as f:
        f.truncate(64 << 30)
    assert_refused(show_from(sparse), f"{MAX_FROM_BYTES:,} bytes")
    # Exactly the cap is still read (and then refused for what it holds).
    edge = tmp_path / "edge.json"
    edge.write_bytes(b" " * (MAX_FROM_BYTES - 2) + b"[]")
    assert_refused(show_from(edge), "schedule description must be a dict")


@pytest.mark.parametrize("suffix, text", [
    (".json", "[" * 200_000),
    (".json", '{"version": 1, "type": "constant", "lr": ' + "[" * 200_000),
    (".toml", "lr = " + "[" * 200_000),
    (".toml", "a = " + "{b = " * 100_000),
], ids=["json-arrays", "json-in-a-field", "toml-arrays", "toml-tables"])
def test_from_deeply_nested_text_is_a_usage_error(tmp_path, suffix, text):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    assert_refused(show_from(path), "nested too deeply")


@pytest.mark.parametrize("suffix, template", [
    (".json", '{{"version": 1, "type": "constant", "lr": {}}}'),
    (".toml", 'version = 1\ntype = "constant"\nlr = {}\n'),
], ids=["json", "toml"])
def test_from_a_5000_digit_number_is_a_usage_error(tmp_path, suffix, template):
    path = tmp_path / f"long{suffix}"
    path.write_text(template.format("7" * 5000))
    run = show_from(path)
    assert_refused(run, "5000 digits", "JSON" if suffix == ".json" else "TOML")
    # Python's advice is for programs, not for someone typing the command.
    assert "set_int_max_str_digits" not in run.stderr


def test_from_bytes_that_are_not_utf8_are_a_usage_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"version": 1, "type": "constant", "lr": 0.1, "\xe9": 1}')
    assert_refused(show_from(path), "is not UTF-8 text")


def test_from_a_tiny_step_size_stays_small(tmp_path):
    # cycle_length 2e-9: once 5e8 float cycle ends for a single step (4 GB).
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(cyclr.triangular(0.0, 1.0, 1e-9).to_dict()))
    run = show_from(path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert re.search(r"^steps\s+0 \.\. 0 \(1 steps\)$", run.stdout, re.M)
    # Every step ends a cycle; ten million of them fit, as int64, in CHILD_MEMORY.
    run = show_from(path, "--steps", 10_000_000)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "... (10000000 in all)" in run.stdout
