"""The ``cyclr`` command through its real entry points (the console script and
``python -m cyclr``, in subprocesses), against hand-computed values and the core's
own arrays."""

import csv
import io
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pytest

import cyclr
from cyclr import _render
from cyclr.__main__ import main

_BIN = Path(sys.executable).parent
CYCLR = shutil.which("cyclr", path=os.pathsep.join([str(_BIN), os.environ.get("PATH", "")]))
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "80"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args, module=False):
    """Run the command; the console script unless ``module`` (then ``python -m cyclr``)."""
    assert CYCLR is not None, "the cyclr console script is not installed"
    cmd = [sys.executable, "-m", "cyclr"] if module else [CYCLR]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                          env=ENV, timeout=120, encoding="utf-8")


def summary(text):
    """The ``name  value`` lines of show's summary as a dict."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(schedule|steps|cycles|cycle ends|min \w+|max \w+|final \w+|"
                     r"momentum)\s{2,}(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def at(line):
    """``"0.006 at step 2000"`` -> (0.006, 2000)."""
    value, step = re.fullmatch(r"(\S+) at step (\d+)", line).groups()
    return float(value), int(step)


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], np.array([[float(x) for x in row] for row in rows[1:]])


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------- help, version, status

@pytest.mark.parametrize("sub", ["show", "stepsize", "demo"])
def test_every_subcommand_has_help(sub):
    r = run(sub, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: cyclr {sub}")
    assert r.stderr == ""


def test_top_level_help_lists_the_commands_and_module_entry_point_agrees():
    script, module = run("--help"), run("--help", module=True)
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout
    for sub in ("show", "stepsize", "demo"):
        assert sub in script.stdout


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"cyclr {cyclr.__version__}"


def test_main_returns_the_status_instead_of_raising(capsys):
    assert main(["show", "--help"]) == 0
    assert main(["show", "--no-such-flag"]) == 2
    assert main(["stepsize", "--examples", "10", "--batch-size", "3"]) == 0
    captured = capsys.readouterr()
    assert "unrecognized arguments: --no-such-flag" in captured.err


BAD = [
    ([], "the following arguments are required: COMMAND"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["show", "triangular", "--base-lr", "abc"],
     "argument --base-lr: invalid number value: 'abc'"),
    (["show", "zigzag"], "argument POLICY: invalid choice: 'zigzag'"),
    (["show", "triangular", "--base-lr", "0.1", "--max-lr", "1", "--step-size", "4",
      "--shape", "square"], "argument --shape: invalid choice: 'square'"),
    (["show", "triangular", "--unknown"], "unrecognized arguments: --unknown"),
    (["show"], "give a POLICY"),
    (["show", "triangular", "--max-lr", "1"], "triangular needs --base-lr --step-size"),
    (["show", "constant", "--lr", "0.1", "--gamma", "0.5"], "constant does not take --gamma"),
    (["show", "triangular", "--base-lr", "0.5", "--max-lr", "0.1", "--step-size", "4"],
     "max_lr must be >= base_lr, got base_lr=0.5, max_lr=0.1"),
    (["show", "exp_range", "--base-lr", "0", "--max-lr", "1", "--step-size", "4",
      "--gamma", "1.5"], "gamma must be in (0, 1], got 1.5"),
    (["show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "-3"],
     "step_size must be > 0, got -3"),
    (["show", "one_cycle", "--max-lr", "0.1", "--total-steps", "100", "--pct-start", "1.5"],
     "pct_start=1.5"),
    (["show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "4",
      "--steps", "0"], "--steps must be between 1 and"),
    (["show", "constant", "--lr", "0.1", "--momentum", "0.8", "0.9"],
     "--momentum: momentum_schedule is defined for cyclic"),
    (["show", "constant", "--lr", "0.1", "--png", "x.png", "--size", "big"],
     "--size: size must look like WIDTHxHEIGHT"),
    (["show", "constant", "--lr", "0.1", "--png", "x.png", "--size", "20x20"],
     "size width must be between"),
    (["show", "decay", "--max-lr", "1", "--base-lr", "0.1"], "decay needs --decay-steps"),
    (["show", "cosine_restarts", "--max-lr", "0.1"], "cosine_restarts needs --first-cycle"),
    (["show", "cosine", "--start-lr", "1", "--end-lr", "0"],
     "cosine needs --decay-steps (or --steps)"),
    (["show", "linear", "--start-lr", "0", "--end-lr", "1", "--decay-steps", "5",
      "--first-cycle", "3"], "linear does not take --first-cycle"),
    (["show", "cosine_restarts", "--max-lr", "1", "--first-cycle", "4", "--shape", "hann"],
     "cosine_restarts does not take --shape"),
    (["show", "one_cycle", "--max-lr", "1", "--total-steps", "10", "--anneal", "cosine"],
     "argument --anneal: invalid choice: 'cosine'"),
    (["show", "cosine_restarts", "--max-lr", "1", "--first-cycle", "4", "--cycle-mult",
      "0.5"], "cycle_mult must be >= 1, got 0.5"),
    (["show", "cosine_restarts", "--max-lr", "0.1", "--first-cycle", "4", "--min-lr",
      "0.2"], "max_lr must be >= min_lr, got min_lr=0.2, max_lr=0.1"),
    (["show", "linear", "--start-lr", "0", "--end-lr", "1", "--decay-steps", "0"],
     "steps must be > 0, got 0"),
    (["stepsize", "--batch-size", "10"], "the following arguments are required: --examples"),
    (["stepsize", "--examples", "100", "--batch-size", "0"],
     "batch_size must be an integer >= 1, got 0"),
    (["stepsize", "--examples", "100", "--batch-size", "10", "--epochs-per-half-cycle",
      "-1"], "epochs_per_half_cycle must be > 0, got -1"),
    (["demo", "--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["demo", "--threads", "0"], "--threads must be >= 1, got 0"),
    (["demo", "--fixed-lr", "-0.1"], "--fixed-lr must be a finite number > 0, got -0.1"),
    (["demo", "--steps", "many"], "argument --steps: invalid int value: 'many'"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_bad_input_exits_2_with_usage_and_a_message_naming_it(args, message, tmp_path):
    r = subprocess.run([CYCLR, *args], capture_output=True, text=True, env=ENV,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("usage: cyclr")
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []   # nothing written on error


# ---------------------------------------------------------------- show: every policy

def test_show_triangular2_summary_matches_the_paper_example():
    r = run("show", "triangular2", "--base-lr", "0.001", "--max-lr", "0.006",
            "--step-size", "2000")
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    assert s["schedule"] == "triangular2(0.001, 0.006, 2000)"
    assert s["steps"] == "0 .. 15999 (16000 steps)"          # four cycles by default
    assert s["cycles"] == "4 of 4000 steps"
    assert s["cycle ends"].startswith("4000, 8000, 12000, 16000  (")
    assert at(s["min lr"]) == (0.001, 0)
    assert at(s["max lr"]) == (0.006, 2000)


# Each case: arguments, expected (min, argmin), (max, argmax), (final, last step), cycles.
POLICIES = {
    "triangular": (["--base-lr", "0.1", "--max-lr", "1", "--step-size", "5"],
                   (0.1, 0), (1.0, 5), (0.28, 39), "4 of 10 steps"),
    "exp_range": (["--base-lr", "0", "--max-lr", "1", "--step-size", "2", "--gamma", "0.5",
                   "--steps", "5"], (0.0, 0), (0.25, 1), (0.0, 4), "1.25 of 4 steps"),
    "exp_range per cycle": (["--base-lr", "0", "--max-lr", "1", "--step-size", "2",
                             "--gamma", "0.5", "--scale-mode", "cycle", "--steps", "7"],
                            (0.0, 0), (1.0, 2), (0.5, 6), "1.75 of 4 steps"),
    "triangular hann": (["--base-lr", "0", "--max-lr", "1", "--step-size", "2",
                         "--shape", "hann", "--steps", "4"],
                        (0.0, 0), (1.0, 2), (0.5, 3), "1 of 4 steps"),
    "one_cycle": (["--max-lr", "0.1", "--total-steps", "100"],
                  (4e-7, 99), (0.1, 29), (4e-7, 99), "1 complete"),
    "constant": (["--lr", "0.5", "--steps", "7"], (0.5, 0), (0.5, 0), (0.5, 6), None),
    "decay": (["--max-lr", "1", "--base-lr", "0.5", "--decay-steps", "4"],
              (0.5, 4), (1.0, 0), (0.5, 4), None),
    "exponential": (["--lr", "1", "--gamma", "0.5", "--steps", "4"],
                    (0.125, 3), (1.0, 0), (0.125, 3), None),
    # Step decay has no cycles, so by default it shows DEFAULT_OPEN_STEPS like
    # exponential (test_default_lengths); eight steps show three drops.
    "step_decay": (["--lr", "1", "--gamma", "0.5", "--step-size", "2", "--steps", "8"],
                   (0.125, 6), (1.0, 0), (0.125, 7), None),
}


@pytest.mark.parametrize("case", list(POLICIES))
def test_show_every_policy(case):
    args, low, high, final, cycles = POLICIES[case]
    r = run("show", case.split()[0], *args)
    assert r.returncode == 0, r.stderr
    s = summary(r.stdout)
    lo, hi, last = at(s["min lr"]), at(s["max lr"]), at(s["final lr"])
    assert lo[1] == low[1] and hi[1] == high[1] and last[1] == final[1]
    # the summary prints 6 significant digits
    for got, want in ((lo, low), (hi, high), (last, final)):
        assert got[0] == pytest.approx(want[0], rel=1e-5, abs=1e-12)
    if cycles is None:
        assert s["cycles"] == "none (not a cyclical schedule)"
        assert "cycle ends" not in s
    else:
        assert s["cycles"] == cycles


def test_sparkline_has_the_asked_width_and_shows_the_rise_and_fall():
    r = run("show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "50",
            "--steps", "100", "--width", "21")
    assert r.returncode == 0
    blocks = [line for line in r.stdout.splitlines()
              if set(line) <= set(_render.BLOCKS)]
    assert len(blocks) == 1
    line = blocks[0]
    assert len(line) == 21
    assert line[0] == "▁" and line[10] == "█" and line[-1] == "▁"
    assert list(line[:11]) == sorted(line[:11])


def test_sparkline_falls_back_to_ascii_when_the_terminal_cannot_draw_blocks():
    r = subprocess.run([CYCLR, "show", "constant", "--lr", "1", "--width", "5"],
                       capture_output=True, env={**ENV, "PYTHONIOENCODING": "ascii"},
                       timeout=120)
    assert r.returncode == 0
    assert b":::::" in r.stdout.splitlines()


def test_momentum_summary_sparkline_and_csv_column(tmp_path):
    out = tmp_path / "m.csv"
    r = run("show", "triangular", "--base-lr", "0.1", "--max-lr", "1", "--step-size", "4",
            "--momentum", "0.8", "0.9", "--csv", out)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["momentum"] == "0.8 .. 0.9"
    assert r.stdout.count("(momentum)") == 1
    header, data = read_csv(out.read_text())
    assert header == ["step", "lr", "momentum"]
    s = cyclr.triangular(0.1, 1.0, 4)
    np.testing.assert_array_equal(data[:, 2], s.momentum_schedule(0.8, 0.9).array(32))
    # momentum is high where the LR is low
    assert data[0, 2] == 0.9 and data[4, 2] == 0.8


# ---------------------------------------------------------------- warm restarts, warm-up, cosine

def check_summary(stdout, schedule, n, label="lr"):
    """The summary's numbers against the core's: the steps shown, where the minimum,
    maximum and final values are (and the values, to the 6 digits printed), and the
    cycle ends, which must be ``schedule.cycle_ends(n)``."""
    s = summary(stdout)
    assert s["steps"] == f"0 .. {n - 1} ({n} steps)"
    values = schedule.array(n)
    for key, step in (("min", int(np.argmin(values))), ("max", int(np.argmax(values))),
                      ("final", n - 1)):
        assert at(s[f"{key} {label}"]) == (float(f"{values[step]:.6g}"), step), key
    ends = schedule.cycle_ends(n).tolist()
    if schedule.is_cyclical:
        listed = s["cycle ends"].split("  (")[0]
        assert listed == (", ".join(map(str, ends)) or "none within the steps shown")
    else:
        assert "cycle ends" not in s
        assert s["cycles"] == "none (not a cyclical schedule)"
    return s


def test_show_cosine_restarts_against_the_formula():
    r = run("show", "cosine_restarts", "--max-lr", "1", "--first-cycle", "4",
            "--cycle-mult", "2")
    assert r.returncode == 0, r.stderr
    s = check_summary(r.stdout, cyclr.cosine_restarts(1.0, 4, cycle_mult=2), 60)
    assert s["schedule"] == "cosine_restarts(1.0, 4, cycle_mult=2)"
    # Cycles of 4, 8, 16 and 32 steps: four of them by default, restarting at each end.
    assert s["cycles"] == "4 complete"
    assert s["cycle ends"] == ("4, 12, 28, 60  (steps where the LR restarts: stop "
                               "training at one, after its lowest value)")
    assert at(s["max lr"]) == (1.0, 0)
    low = 0.5 * (1 + np.cos(np.pi * 31 / 32))        # the last step of the 32-step cycle
    assert at(s["min lr"]) == (float(f"{low:.6g}"), 59)


def test_show_cosine_restarts_with_a_float_cycle_mult_and_momentum(tmp_path):
    out = tmp_path / "v.csv"
    r = run("show", "cosine_restarts", "--max-lr", "0.1", "--first-cycle", "10",
            "--cycle-mult", "1.5", "--min-lr", "0.001", "--amplitude-decay", "0.5",
            "--momentum", "0.85", "0.95", "--csv", out)
    assert r.returncode == 0, r.stderr
    schedule = cyclr.cosine_restarts(0.1, 10, min_lr=0.001, cycle_mult=1.5,
                                     amplitude_decay=0.5)
    # Cycles start at 10, 25, 47.5 and 81.25: the first whole steps at or after.
    s = check_summary(r.stdout, schedule, 82)
    assert s["cycle ends"].startswith("10, 25, 48, 82  (steps where the LR restarts")
    momentum = schedule.momentum_schedule(0.85, 0.95).array(82)
    assert s["momentum"] == f"0.85 .. {momentum.max():.6g}"   # 0.95 only past the end
    assert r.stdout.count("(momentum)") == 1
    header, data = read_csv(out.read_text())
    assert header == ["step", "lr", "momentum"]
    np.testing.assert_array_equal(data[:, 1], schedule.array(82))
    np.testing.assert_array_equal(data[:, 2], momentum)
    # Momentum is low where the LR restarts high, and the restarts' peaks halve.
    assert data[0, 2] == 0.85 and data[10, 2] > 0.85
    assert data[10, 1] == pytest.approx(0.001 + 0.099 * 0.5)


ANNEALS = {
    "linear warm-up": (["linear", "--start-lr", "0", "--end-lr", "0.1", "--decay-steps",
                        "10"], cyclr.linear(0.0, 0.1, 10), 11),
    "cosine decay": (["cosine", "--start-lr", "0.1", "--end-lr", "0.001", "--decay-steps",
                      "8"], cyclr.cosine(0.1, 0.001, 8), 9),
    "fractional steps": (["cosine", "--start-lr", "1", "--end-lr", "0", "--decay-steps",
                          "7.5"], cyclr.cosine(1.0, 0.0, 7.5), 9),
    "--steps stands in": (["linear", "--start-lr", "1", "--end-lr", "0", "--steps", "5"],
                          cyclr.linear(1.0, 0.0, 5), 5),
}


@pytest.mark.parametrize("case", list(ANNEALS))
def test_show_linear_and_cosine(case, tmp_path):
    args, schedule, n = ANNEALS[case]
    out = tmp_path / "v.csv"
    r = run("show", *args, "--csv", out)
    assert r.returncode == 0, r.stderr
    s = check_summary(r.stdout, schedule, n)
    assert s["schedule"] == repr(schedule)
    _, data = read_csv(out.read_text())
    np.testing.assert_array_equal(data[:, 1], schedule.array(n))


def test_linear_and_cosine_summaries_by_hand():
    warm = summary(run("show", "linear", "--start-lr", "0", "--end-lr", "0.1",
                       "--decay-steps", "10").stdout)
    assert at(warm["min lr"]) == (0.0, 0) and at(warm["max lr"]) == (0.1, 10)
    cos = summary(run("show", "cosine", "--start-lr", "0.1", "--end-lr", "0.001",
                      "--decay-steps", "8").stdout)
    # half way: end + (start - end) * (1 + cos(pi / 2)) / 2
    assert at(cos["max lr"]) == (0.1, 0) and at(cos["final lr"]) == (0.001, 8)
    stand_in = summary(run("show", "linear", "--start-lr", "1", "--end-lr", "0",
                           "--steps", "5").stdout)
    assert at(stand_in["final lr"]) == (0.2, 4)      # 1 - 4/5: shown up to step 4


# The policy, its options, and the steps show draws by default: the whole of a schedule
# that settles, 100 of one that never changes, four cycles, else 1000.
DEFAULT_LENGTHS = [
    (["triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "5"], 40),
    (["triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "2.5",
      "--step-size-down", "1.25"], 15),
    (["one_cycle", "--max-lr", "1", "--total-steps", "100"], 100),
    (["decay", "--max-lr", "1", "--base-lr", "0", "--decay-steps", "4"], 5),
    (["linear", "--start-lr", "0", "--end-lr", "1", "--decay-steps", "10"], 11),
    (["cosine", "--start-lr", "1", "--end-lr", "0", "--decay-steps", "9.5"], 11),
    (["constant", "--lr", "1"], 100),
    (["exponential", "--lr", "1", "--gamma", "0.99"], 1000),
    (["step_decay", "--lr", "1", "--gamma", "0.5", "--step-size", "2"], 1000),
    (["cosine_restarts", "--max-lr", "1", "--first-cycle", "4", "--cycle-mult", "2"], 60),
    (["cosine_restarts", "--max-lr", "1", "--first-cycle", "2.5"], 10),
]


@pytest.mark.parametrize("args, n", DEFAULT_LENGTHS,
                         ids=[" ".join(a[:1] + a[-2:]) for a, _ in DEFAULT_LENGTHS])
def test_default_lengths(args, n):
    r = run("show", *args)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["steps"] == f"0 .. {n - 1} ({n} steps)"


def test_a_restart_plot_marks_every_restart(tmp_path):
    out = tmp_path / "r.svg"
    r = run("show", "cosine_restarts", "--max-lr", "1", "--first-cycle", "4",
            "--cycle-mult", "2", "--plot", out)
    assert r.returncode == 0, r.stderr
    # One dotted line per cycle end (4, 12, 28, 60); the grid is solid.
    assert out.read_text().count("stroke-dasharray") == 4


WARMUP = cyclr.linear(0.0, 0.1, 5)
FROM_FILES = {
    "linear": (cyclr.linear(0.0, 0.1, 10), 11),
    "cosine": (cyclr.cosine(0.1, 0.0, 7.5), 9),
    "cosine_restarts": (cyclr.cosine_restarts(0.1, 10, min_lr=0.001, cycle_mult=1.5), 82),
    "warm-up + cosine": (cyclr.chain((WARMUP, 5), (cyclr.cosine(0.1, 0.0, 20), 20)), 25),
    "warm-up + 1cycle": (cyclr.chain((WARMUP, 5), (cyclr.one_cycle(0.1, 30), 30)), 35),
    # open-ended: the fourth restart of the tail, 5 + 4 * 10 steps in
    "warm-up + restarts": (cyclr.chain((WARMUP, 5), cyclr.cosine_restarts(0.1, 10)), 45),
}


@pytest.mark.parametrize("case", list(FROM_FILES))
def test_from_files_of_the_annealing_and_restart_types(case, tmp_path):
    schedule, n = FROM_FILES[case]
    path, out = tmp_path / "s.json", tmp_path / "v.csv"
    path.write_text(json.dumps(schedule.to_dict()))
    r = run("show", "--from", path, "--csv", out)
    assert r.returncode == 0, r.stderr
    s = check_summary(r.stdout, schedule, n)
    assert s["schedule"] == repr(schedule)
    _, data = read_csv(out.read_text())
    np.testing.assert_array_equal(data[:, 1], schedule.array(n))


def test_from_a_restarts_momentum_file_is_labelled_momentum(tmp_path):
    schedule = cyclr.cosine_restarts(0.1, 4).momentum_schedule(0.85, 0.95)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(schedule.to_dict()))
    r = run("show", "--from", path)
    assert r.returncode == 0, r.stderr
    s = check_summary(r.stdout, schedule, 16, label="momentum")
    # At each restart the momentum drops back to its low, as the LR jumps to its peak.
    assert s["cycle ends"] == ("4, 8, 12, 16  (steps where the momentum restarts: stop "
                               "training at one, after its highest value)")


# ---------------------------------------------------------------- options from signatures

def test_policy_options_are_read_from_the_constructor_signature():
    from cyclr.cli import PolicyOption, policy_options

    assert policy_options("one_cycle", cyclr.one_cycle) == (
        PolicyOption("max_lr", "max_lr", "number"),
        PolicyOption("total_steps", "total_steps", "int"),
        PolicyOption("pct_start", "pct_start", "number", required=False, default=0.3),
        PolicyOption("anneal", "anneal", "choice", ("cos", "linear"), False, "cos"),
        PolicyOption("div_factor", "div_factor", "number", required=False, default=25.0),
        PolicyOption("final_div_factor", "final_div_factor", "number", required=False,
                     default=1e4),
        PolicyOption("three_phase", "three_phase", "flag", required=False, default=False))
    # `steps` is show's display length: the constructors' own is --decay-steps.
    assert [o.flag for o in policy_options("cosine", cyclr.cosine)] == [
        "--start-lr", "--end-lr", "--decay-steps"]
    restarts = policy_options("cosine_restarts", cyclr.cosine_restarts)
    assert [(o.flag, o.required) for o in restarts] == [
        ("--max-lr", True), ("--first-cycle", True), ("--min-lr", False),
        ("--cycle-mult", False), ("--amplitude-decay", False)]


def test_every_registered_policy_is_offered_with_its_required_options(capsys):
    import inspect

    from cyclr.policies import POLICIES

    assert {"linear", "cosine", "cosine_restarts", "triangular", "one_cycle"} <= set(POLICIES)
    assert main(["show", "--help"]) == 0
    help_text = capsys.readouterr().out
    for name, constructor in POLICIES.items():
        assert name in help_text
        required = [p.name for p in inspect.signature(constructor).parameters.values()
                    if p.default is inspect.Parameter.empty]
        assert main(["show", name]) == 2
        err = capsys.readouterr().err
        flags = [("--decay-steps (or --steps)" if p == "steps" else "--" + p.replace("_", "-"))
                 for p in required]
        assert err.splitlines()[-1] == f"cyclr show: error: {name} needs {' '.join(flags)}"


def floored(lr: float, *, floor_lr: float = 0.0,
            mode: Literal["keep", "halve"] = "keep", loud: bool = False) -> cyclr.Schedule:
    """A constant LR no lower than ``floor_lr``.

    Args:
        lr: the LR asked for.
        floor_lr: the lowest LR allowed.
        mode: ``"keep"`` the LR or ``"halve"`` it.
        loud: print nothing more.
    """
    return cyclr.constant(max(lr, floor_lr) / (2 if mode == "halve" else 1))


def test_a_policy_registered_by_name_is_shown_without_touching_the_cli(monkeypatch, capsys):
    from cyclr import policies

    monkeypatch.setitem(policies.POLICIES, "floored", floored)
    assert main(["show", "floored", "--lr", "0.01", "--floor-lr", "0.1", "--mode", "halve",
                 "--loud"]) == 0
    s = summary(capsys.readouterr().out)
    assert s["schedule"] == "constant(0.05)"
    assert s["steps"] == "0 .. 99 (100 steps)"
    assert at(s["final lr"]) == (0.05, 99)
    assert main(["show", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "floored: --lr [--floor-lr] [--mode] [--loud]" in " ".join(help_text.split())
    assert "floored: the lowest LR allowed" in " ".join(help_text.split())
    for argv, message in [
            (["floored"], "floored needs --lr"),
            (["floored", "--lr", "1", "--gamma", "0.5"], "floored does not take --gamma"),
            (["floored", "--lr", "1", "--mode", "double"],
             "argument --mode: invalid choice: 'double'"),
            (["constant", "--lr", "1", "--floor-lr", "0.5"],
             "constant does not take --floor-lr")]:
        assert main(["show", *argv]) == 2
        assert message in capsys.readouterr().err, argv


def test_a_choice_another_policy_allows_is_refused_by_name(monkeypatch, capsys):
    from cyclr import policies

    def squarewave(lr: float, *, shape: Literal["linear", "square"] = "linear"):
        return cyclr.constant(lr)

    monkeypatch.setitem(policies.POLICIES, "squarewave", squarewave)
    assert main(["show", "squarewave", "--lr", "1", "--shape", "square"]) == 0
    capsys.readouterr()
    assert main(["show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size",
                 "2", "--shape", "square"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "cyclr show: error: triangular: --shape must be one of linear, welch, hann, "
        "got 'square'")


def test_a_constructor_the_command_cannot_offer_is_refused_by_name():
    from cyclr.cli import policy_options

    def nested(schedule: cyclr.Schedule, lr: float):
        return schedule

    def wide(lr: float, width: float = 1.0):
        return cyclr.constant(lr)

    def with_fn(lr: float, scale_fn: Callable[[int], float] | None = None):
        return cyclr.constant(lr)

    with pytest.raises(TypeError, match="nested: its parameter 'schedule'"):
        policy_options("nested", nested)
    with pytest.raises(TypeError, match="'width' has the name of show's own option --width"):
        policy_options("wide", wide)
    # An optional parameter the command line cannot give is left to its default.
    assert [o.param for o in policy_options("with_fn", with_fn)] == ["lr"]


def test_the_figures_script_describes_the_chain_its_comment_names():
    script = (Path(__file__).resolve().parents[1] / "docs" / "figures.sh").read_text()
    text = script.split("<<'JSON'\n", 1)[1].split("\nJSON\n", 1)[0]
    assert cyclr.from_dict(json.loads(text)) == cyclr.chain(
        (cyclr.linear(0.0, 0.1, 500), 500), (cyclr.cosine(0.1, 0.0, 4500), 4500))


# ---------------------------------------------------------------- --csv

CSV_CASES = [
    (["triangular2", "--base-lr", "0.001", "--max-lr", "0.006", "--step-size", "7",
      "--step-size-down", "3", "--shape", "welch"],
     cyclr.triangular2(0.001, 0.006, 7, step_size_down=3, shape="welch"), 40),
    (["exp_range", "--base-lr", "0.001", "--max-lr", "0.006", "--step-size", "2.5",
      "--gamma", "0.99"], cyclr.exp_range(0.001, 0.006, 2.5, gamma=0.99), 20),
    (["one_cycle", "--max-lr", "0.3", "--total-steps", "50", "--pct-start", "0.25",
      "--anneal", "linear", "--div-factor", "10", "--final-div-factor", "100",
      "--three-phase"],
     cyclr.one_cycle(0.3, 50, pct_start=0.25, anneal="linear", div_factor=10,
                     final_div_factor=100, three_phase=True), 50),
    (["decay", "--max-lr", "0.1", "--base-lr", "0.01", "--decay-steps", "30",
      "--steps", "45"], cyclr.decay(0.1, 0.01, 30), 45),
    (["exponential", "--lr", "0.1", "--gamma", "0.97", "--steps", "33"],
     cyclr.exponential(0.1, 0.97), 33),
    (["step_decay", "--lr", "0.1", "--gamma", "0.3", "--step-size", "6", "--steps", "24"],
     cyclr.step_decay(0.1, 0.3, 6), 24),
    (["constant", "--lr", "0.01"], cyclr.constant(0.01), 100),
]


@pytest.mark.parametrize("args, schedule, n", CSV_CASES, ids=[c[0][0] for c in CSV_CASES])
def test_csv_values_equal_the_core_array(args, schedule, n, tmp_path):
    out = tmp_path / "values.csv"
    r = run("show", *args, "--csv", out)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out} ({n} rows)" in r.stdout
    header, data = read_csv(out.read_text())
    assert header == ["step", "lr"]
    np.testing.assert_array_equal(data[:, 0], np.arange(n))
    np.testing.assert_array_equal(data[:, 1], schedule.array(n))   # exact, not approx


def test_csv_to_stdout_moves_the_summary_to_stderr():
    r = run("show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "2",
            "--steps", "5", "--csv", "-")
    assert r.returncode == 0
    assert r.stdout == "step,lr\n0,0.0\n1,0.5\n2,1.0\n3,0.5\n4,0.0\n"
    assert "max lr      1 at step 2" in r.stderr


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen([CYCLR, "show", "constant", "--lr", "1", "--steps", "2000000",
                             "--csv", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=ENV)
    assert proc.stdout.readline() == b"step,lr\n"
    proc.stdout.close()                      # like `| head -1`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert b"Traceback" not in err and b"BrokenPipeError" not in err


def test_unwritable_output_is_a_usage_error(tmp_path):
    r = run("show", "constant", "--lr", "1", "--csv", tmp_path / "missing" / "x.csv")
    assert r.returncode == 2
    assert "--csv: cannot write" in r.stderr


# ---------------------------------------------------------------- --png

@pytest.mark.parametrize("size", [None, "333x217"])
def test_png_is_a_valid_image_of_the_asked_size(size, tmp_path):
    import matplotlib.image

    out = tmp_path / "plot.png"
    extra = [] if size is None else ["--size", size]
    r = run("show", "triangular2", "--base-lr", "0.001", "--max-lr", "0.006",
            "--step-size", "100", "--png", out, *extra)
    assert r.returncode == 0, r.stderr
    width, height = (800, 400) if size is None else (333, 217)
    assert png_size(out) == (width, height)
    assert f"wrote {out} ({width}x{height} px)" in r.stdout
    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (height, width)
    # the curve is drawn in matplotlib's default blue, (31, 119, 180)
    rgb = (pixels[..., :3] * 255).round()
    assert np.any(np.all(np.abs(rgb - [31, 119, 180]) <= 2, axis=-1))


# ---------------------------------------------------------------- --from

def _chain():
    return cyclr.chain((cyclr.triangular2(0.001, 0.006, 100), 800),
                       (cyclr.triangular(0.0005, 0.003, 50), 300),
                       cyclr.constant(0.0001))


CHAIN_TOML = """\
version = 1
type = "chain"

[[segments]]
steps = 800
[segments.schedule]
version = 1
type = "cyclic"
base_lr = 0.001
max_lr = 0.006
step_size = 100
policy = "triangular2"
gamma = 1.0
scale_mode = "cycle"
shape = "linear"

[[segments]]
steps = 300
[segments.schedule]
version = 1
type = "cyclic"
base_lr = 0.0005
max_lr = 0.003
step_size = 50
policy = "triangular"
gamma = 1.0
scale_mode = "cycle"
shape = "linear"

[[segments]]   # open-ended: TOML has no null, so "steps" is left out
[segments.schedule]
version = 1
type = "constant"
lr = 0.0001
"""


def test_from_json_and_toml_chain(tmp_path):
    schedule = _chain()
    (tmp_path / "c.json").write_text(json.dumps(schedule.to_dict()))
    (tmp_path / "c.toml").write_text(CHAIN_TOML)
    outputs = []
    for name in ("c.json", "c.toml"):
        r = run("show", "--from", tmp_path / name, "--csv", tmp_path / f"{name}.csv")
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout.replace(name, "FILE"))
        s = summary(r.stdout)
        assert s["schedule"] == repr(schedule)
        # The chain settles at step 1100, where its open-ended constant starts: show
        # draws it up to there, as it draws any schedule that settles.
        n = 1100 + 1
        assert s["steps"] == f"0 .. {n - 1} ({n} steps)"
        ends = [200, 400, 600, 800] + [900, 1000, 1100]
        assert s["cycle ends"].startswith(", ".join(map(str, ends)) + "  (")
        assert at(s["max lr"]) == (0.006, 100)
        _, data = read_csv((tmp_path / f"{name}.csv").read_text())
        np.testing.assert_array_equal(data[:, 1], schedule.array(n))
    assert outputs[0] == outputs[1]


def test_from_file_never_imports_a_stored_scale_fn(tmp_path):
    d = cyclr.triangular(0.1, 1.0, 4).to_dict()
    d.update(policy="custom", scale_fn="antigravity:geohash")
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(d))
    r = run("show", "--from", path)
    assert r.returncode == 2
    assert "allow_imports" in r.stderr
    assert "antigravity" in r.stderr


@pytest.mark.parametrize("text, message", [
    ("{not json", "is not valid JSON"),
    ('{"version": 2, "type": "constant", "lr": 1}', "version must be 1"),
    ('{"version": 1, "type": "constant", "lr": -1}', "lr must be >= 0, got -1"),
    ("[1, 2]", "schedule description must be a dict"),
])
def test_from_bad_files(text, message, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(text)
    r = run("show", "--from", path)
    assert r.returncode == 2
    assert message in r.stderr


def test_from_cannot_be_combined_with_a_policy(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(cyclr.constant(1.0).to_dict()))
    r = run("show", "constant", "--from", path)
    assert r.returncode == 2
    assert "--from FILE cannot be combined" in r.stderr
    missing = run("show", "--from", tmp_path / "nope.json")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


# ---------------------------------------------------------------- stepsize

def test_stepsize_paper_cifar10_setting():
    r = run("stepsize", "--examples", "50000", "--batch-size", "100")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("iterations per epoch  500 ")
    assert lines[1].startswith("step size             2000 ")
    table = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
             for m in re.finditer(r"^\s+(\d+) epochs\s+step size\s+(\d+)\s+cycle\s+(\d+)",
                                  r.stdout, re.M)}
    assert table == {k: (500 * k, 1000 * k) for k in range(2, 11)}


def test_stepsize_partial_batches_and_fractional_epochs():
    r = run("stepsize", "--examples", "1797", "--batch-size", "64",
            "--epochs-per-half-cycle", "2.5")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0].startswith("iterations per epoch  29 ")
    assert r.stdout.splitlines()[1].startswith("step size             72 ")   # 72.5 -> 72
    dropped = run("stepsize", "--examples", "1797", "--batch-size", "64", "--drop-last")
    assert dropped.stdout.splitlines()[0].startswith("iterations per epoch  28 ")
    assert dropped.stdout.splitlines()[1].startswith("step size             112 ")


# ---------------------------------------------------------------- in-process pieces

def test_the_cli_imports_no_framework_and_plots_only_on_request():
    code = ("import sys; from cyclr.__main__ import main; "
            "rc = main(['show', 'triangular', '--base-lr', '0', '--max-lr', '1', "
            "'--step-size', '3']); "
            "heavy = [m for m in ('torch', 'tensorflow', 'keras', 'jax', 'matplotlib', "
            "'sklearn') if m in sys.modules]; print(rc, heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=ENV, timeout=120)
    assert r.stdout.splitlines()[-1] == "0 []", r.stderr


def test_sparkline_unit():
    ramp = np.arange(100.0)
    line = _render.sparkline(ramp, 8)
    assert line == "▁▂▃▄▅▆▇█"
    assert _render.sparkline(ramp[:3], 10) == "▁▅█"          # fewer values than columns
    assert _render.sparkline(np.full(5, 0.3), 5) == "▄▄▄▄▄"  # flat: mid-height
    assert _render.sparkline(ramp, 8, ascii_only=True) == "_.-:=+*#"
    assert _render.sparkline(np.array([]), 8) == ""
    # many short cycles average out instead of aliasing into a fake pattern
    fast = cyclr.triangular(0.0, 1.0, 1).array(1000)
    assert set(_render.sparkline(fast, 7)) <= {"▄", "▅"}


def test_plot_envelope_keeps_every_peak_and_trough():
    values = cyclr.triangular(0.001, 0.006, 997).array(200_000)
    steps, shown = _render.envelope(values, 300)
    assert len(steps) <= 600
    assert np.all(np.diff(steps) > 0)
    np.testing.assert_array_equal(shown, values[steps])
    peaks = np.arange(997, 200_000, 2 * 997)              # every cycle's peak
    troughs = np.arange(0, 200_000, 2 * 997)              # and every cycle's start
    assert set(peaks) | set(troughs) <= set(steps.tolist())
    short = np.arange(10.0)
    assert _render.envelope(short, 5)[0].tolist() == list(range(10))


def test_parse_size_unit():
    assert _render.parse_size("640x480") == (640, 480)
    assert _render.parse_size(" 200 X 300 ") == (200, 300)
    for bad in ("640", "x480", "0x0", "640x99999", "-640x480"):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            _render.parse_size(bad)


def test_docs_figures_are_the_ones_the_documented_command_draws():
    docs = Path(__file__).resolve().parents[1] / "docs"
    script = (docs / "figures.sh").read_text()
    pngs = sorted(docs.glob("*.png"))
    assert {p.stem for p in pngs} == {"triangular", "triangular2", "exp_range",
                                      "shape_linear", "shape_welch", "shape_hann",
                                      "cosine_restarts", "one_cycle", "warmup_cosine"}
    for png in pngs:
        assert png_size(png) == (480, 240)
        assert png.stat().st_size < 60_000
        drawn = f"--plot docs/{png.name}" in script or (
            png.stem.startswith("shape_") and '--plot "docs/shape_$shape.png"' in script
            and "for shape in linear welch hann" in script)
        assert drawn, png.name


# ---------------------------------------------------------------- nothing lost

SHOW = ["show", "triangular", "--base-lr", "0", "--max-lr", "1", "--step-size", "4",
        "--steps", "40"]


def one_line_error(r, *words):
    """Exit 2 and a single ``cyclr show: error:`` line holding every one of ``words``."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cyclr show: error: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_failing_render_leaves_existing_files_byte_for_byte(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    plot, table = tmp_path / "plot.png", tmp_path / "values.csv"
    plot.write_bytes(b"\x89PNG\r\n\x1a\n the user's earlier plot")
    table.write_bytes(b"step,lr\n0,0.5\n")

    def broken_savefig(self, *args, **kwargs):
        raise RuntimeError("the renderer failed half way")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="half way"):
        main([*SHOW, "--csv", str(table), "--png", str(plot)])
    # The CSV rendered fine, but the run failed: it is not put in place either.
    assert plot.read_bytes() == b"\x89PNG\r\n\x1a\n the user's earlier plot"
    assert table.read_bytes() == b"step,lr\n0,0.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png", "values.csv"]


def test_without_matplotlib_an_existing_plot_is_kept(tmp_path):
    plot = tmp_path / "plot.png"
    plot.write_bytes(b"earlier")
    code = ("import sys; sys.modules['matplotlib'] = None; "   # as if not installed
            "from cyclr.cli import main; sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, *SHOW, "--png", str(plot)],
                       capture_output=True, text=True, env=ENV, timeout=120)
    one_line_error(r, "--plot needs matplotlib", "cyclr[plot]")
    assert plot.read_bytes() == b"earlier"


@pytest.mark.parametrize("name", ["plot.gif", "plot", "plot.png.bak"])
def test_an_unknown_plot_format_is_refused_and_the_file_kept(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"earlier")
    r = run(*SHOW, "--png", path)
    assert r.returncode == 2
    assert f"cannot tell the format of {str(path)!r}" in r.stderr
    assert ".png, .svg, .pdf, .jpg" in r.stderr
    assert path.read_bytes() == b"earlier"


def test_the_plot_is_written_in_the_format_its_extension_names(tmp_path):
    from PIL import Image

    outputs = {"p.svg": b"<?xml", "p.pdf": b"%PDF-", "p.jpg": b"\xff\xd8\xff",
               "p.JPEG": b"\xff\xd8\xff", "p.png": PNG_MAGIC}
    for name, magic in outputs.items():
        r = run(*SHOW, "--plot", tmp_path / name, "--size", "320x200")
        assert r.returncode == 0, r.stderr
        assert (tmp_path / name).read_bytes().startswith(magic), name
    with Image.open(tmp_path / "p.jpg") as image:
        assert image.format == "JPEG" and image.size == (320, 200)
    assert "<svg" in (tmp_path / "p.svg").read_text()
    assert png_size(tmp_path / "p.png") == (320, 200)


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    source = tmp_path / "s.json"
    text = json.dumps(cyclr.triangular(0.0, 1.0, 4).to_dict())
    source.write_text(text)
    (tmp_path / "soft.json").symlink_to(source)
    os.link(source, tmp_path / "hard.json")
    (tmp_path / "sub").mkdir()
    for alias in [source, tmp_path / "soft.json", tmp_path / "hard.json",
                  tmp_path / "sub" / ".." / "s.json"]:
        r = run("show", "--from", source, "--csv", alias)
        one_line_error(r, f"--csv {str(alias)!r} is the same file as --from")
        assert source.read_text() == text
    # --from reads any extension as JSON, so a plot could overwrite it too.
    plot_named = tmp_path / "s.png"
    plot_named.write_text(text)
    one_line_error(run("show", "--from", plot_named, "--png", plot_named),
                   "is the same file as --from")
    assert plot_named.read_text() == text


def test_two_outputs_of_one_run_may_not_be_the_same_file(tmp_path):
    target = tmp_path / "x.png"
    target.write_bytes(b"earlier")
    one_line_error(run(*SHOW, "--csv", target, "--png", target),
                   f"--plot {str(target)!r} is the same file as --csv")
    (tmp_path / "link.png").symlink_to(target)
    one_line_error(run(*SHOW, "--csv", target, "--plot", tmp_path / "link.png"),
                   "is the same file as --csv")
    assert target.read_bytes() == b"earlier"


def test_an_output_link_is_refused_and_neither_it_nor_its_file_touched(tmp_path):
    # A link planted where the output goes (a shared folder) must not aim the write at
    # another file; replacing the link instead would surprise whoever made it.
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "values.csv"
    link.symlink_to(victim)
    one_line_error(run(*SHOW, "--csv", link), f"--csv: {str(link)!r} is a symbolic link")
    assert victim.read_bytes() == b"precious" and link.is_symlink()
    dangling = tmp_path / "plot.png"
    dangling.symlink_to(tmp_path / "nowhere.png")
    one_line_error(run(*SHOW, "--png", dangling), "is a symbolic link")
    assert not (tmp_path / "nowhere.png").exists()


def test_devices_and_fifos_are_written_into_not_replaced(tmp_path):
    # Replacing /dev/null with a regular file would break the system for everyone.
    before = os.stat("/dev/null")
    r = run(*SHOW, "--csv", "/dev/null")
    assert r.returncode == 0, r.stderr
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    # /dev/stdout is a link to the process's standard output, here a pipe.
    r = run(*SHOW, "--csv", "/dev/stdout")
    assert r.returncode == 0, r.stderr
    assert "step,lr\n0,0.0\n1,0.25\n" in r.stdout
    assert os.path.islink("/dev/stdout")
    fifo = tmp_path / "values.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    r = run(*SHOW, "--csv", fifo)
    assert r.returncode == 0, r.stderr
    assert reader.communicate(timeout=60)[0].startswith(b"step,lr\n0,0.0\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_an_output_on_a_folder_or_in_a_missing_one_is_refused_up_front(tmp_path):
    one_line_error(run(*SHOW, "--csv", tmp_path), "--csv", "it is a folder")
    one_line_error(run(*SHOW, "--png", tmp_path / "nope" / "p.png"),
                   "--plot", "does not exist")
    (tmp_path / "file").write_text("x")
    one_line_error(run(*SHOW, "--csv", tmp_path / "file" / "v.csv"), "is not a folder")
    assert (tmp_path / "file").read_text() == "x"


def test_stepsize_beyond_float_range_is_a_usage_error():
    r = run("stepsize", "--examples", "50000", "--batch-size", "100",
            "--epochs-per-half-cycle", "1e308")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # The core refuses a step size beyond what a schedule takes, naming the argument.
    assert r.stderr.splitlines()[-1] == (
        "cyclr stepsize: error: epochs_per_half_cycle=1e+308 epochs of 500 iterations is "
        "inf steps, more than a step size can be (2**62)")
    r = run("stepsize", "--examples", 10**400, "--batch-size", "3")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_default_length_too_long_says_to_pass_steps():
    # --steps was never given: the message must not blame it for a value it never had.
    r = run("show", "triangular", "--base-lr", "0", "--max-lr", "1",
            "--step-size", "2000000")
    assert r.returncode == 2
    message = r.stderr.splitlines()[-1]
    assert "--steps must be" not in message
    assert "4 cycles" in message and "16000000 steps" in message
    assert "pass --steps N (1 <= N <= 10000000)" in message
    # Passing it, as told, works.
    r = run("show", "triangular", "--base-lr", "0", "--max-lr", "1",
            "--step-size", "2000000", "--steps", "1000")
    assert r.returncode == 0, r.stderr


def test_a_first_restart_past_the_longest_default_says_to_pass_steps():
    r = run("show", "cosine_restarts", "--max-lr", "0.1", "--first-cycle", "20000000")
    assert r.returncode == 2
    message = r.stderr.splitlines()[-1]
    assert "first cycle is longer than the 10000000 steps" in message
    assert "pass --steps N (1 <= N <= 10000000)" in message
    r = run("show", "cosine_restarts", "--max-lr", "0.1", "--first-cycle", "20000000",
            "--steps", "100")
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["cycle ends"] == "none within the steps shown"


def test_a_core_warning_is_one_line_naming_the_command():
    r = run("show", "one_cycle", "--max-lr", "0.1", "--total-steps", "3")
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line]
    assert len(warnings) == 1 and warnings[0].startswith("cyclr show: warning: one_cycle")


def test_an_open_chain_shows_its_finite_part_then_its_tails_default(tmp_path):
    # The paper's way to append cycles: 16000 steps of one triangular2, then a tighter
    # one that goes on; show draws the first part and four cycles of the second.
    run = cyclr.chain((cyclr.triangular2(0.001, 0.006, 2000), 16000),
                      cyclr.triangular2(0.0001, 0.001, 1000))
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run.to_dict()))
    done = subprocess.run([sys.executable, "-m", "cyclr", "show", "--from", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "0 .. 23999 (24000 steps)" in done.stdout
    assert run.open_tail == (16000, run.params["segments"][1][0])
