"""``cyclr demo`` end to end (shortened with ``--quick``), checked against what the run
recorded: the report's numbers are the measured ones, the bounds come from the range
test, and every LR the optimizer used came from the core's schedule."""

import dataclasses
import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401  (the demo needs it: a missing torch must fail here)

import cyclr
from cyclr import _demo_report, demo
from cyclr.__main__ import main
from cyclr.rangetest import RangeTestResult

CYCLR = Path(sys.executable).parent / "cyclr"
FIGURES = {"range_test.png": (800, 420), "schedules.png": (800, 380),
           "accuracy.png": (1000, 400)}


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One ``cyclr demo --quick`` through the console script."""
    out = tmp_path_factory.mktemp("demo") / "out"
    r = subprocess.run([str(CYCLR), "demo", "--quick", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 0, r.stderr
    results = json.loads((out / "results.json").read_text())
    return out, r, results, (out / "report.md").read_text()


def test_quick_demo_writes_the_report_figures_and_results(quick):
    out, r, results, report = quick
    assert r.stderr == ""                       # --no-progress, and no warnings
    assert r.stdout.startswith(f"wrote {out / 'report.md'} and range_test.png")
    for name, size in FIGURES.items():
        assert png_size(out / name) == size
        assert f"]({name})" in report           # linked from the report
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*FIGURES, "report.md", "results.json", demo.MANIFEST])
    # the record of what the run wrote: every file, by its SHA-256
    manifest = json.loads((out / demo.MANIFEST).read_text())
    assert manifest["files"] == {
        name: hashlib.sha256((out / name).read_bytes()).hexdigest()
        for name in [*FIGURES, "report.md", "results.json"]}
    c = results["config"]
    assert c["quick"] and c["seeds"] == [0, 1] and c["threads"] == 1
    assert c["task"] == "digits" and results["model"] == "MLP 64 -> 32 -> 10 with ReLU"
    assert c["steps"] == 2 * c["cycles"] * results["step_size"]
    # the shorter budget: the last whole cycle in the first half of the run
    assert results["short_steps"] == 2 * results["step_size"] == c["steps"] // 2
    assert results["data"] == {"train": 1149, "val": 288, "test": 360}  # all 1797 digits
    every = results["eval_every"]
    assert f"Test accuracy is measured every {every} iterations" in report
    assert np.all(np.diff(results["runs"]["fixed"][0]["steps"]) == every)


def test_every_lr_the_optimizer_used_came_from_the_schedule(quick):
    _, _, results, _ = quick
    steps = results["config"]["steps"]
    assert set(results["lrs_used"]) == set(demo.SCHEDULES)
    for name, used in results["lrs_used"].items():
        schedule = cyclr.from_dict(results["schedules"][name])
        assert len(used) == steps
        np.testing.assert_array_equal(np.array(used), schedule.array(steps))


def test_the_bounds_are_the_range_tests_suggestion(quick):
    _, _, results, report = quick
    rt, c = results["range_test"], results["config"]
    lrs = np.array(rt["lrs"])
    # the paper's linear ramp, from the configured start to end
    np.testing.assert_allclose(lrs, np.linspace(c["range_start_lr"], c["range_end_lr"],
                                                len(lrs)), rtol=0, atol=1e-12)
    curve = RangeTestResult(lrs, rt["val_loss"], rt["val_accuracy"], mode="linear",
                            smoothing=0.8)
    base_lr, max_lr = curve.suggest()
    assert rt["suggested"] == {"base_lr": base_lr, "max_lr": max_lr}
    assert max_lr == pytest.approx(4 * base_lr)            # base_lr = max_lr / 4
    s = {name: cyclr.from_dict(d) for name, d in results["schedules"].items()}
    assert s["triangular2"] == cyclr.triangular2(base_lr, max_lr, results["step_size"])
    assert s["decay"] == cyclr.decay(max_lr, base_lr, results["step_size"])
    assert s["fixed"] == cyclr.constant((base_lr + max_lr) / 2)
    exp = s["exp"].array(c["steps"])
    assert exp[0] == max_lr and exp[-1] == pytest.approx(base_lr, rel=1e-9)
    assert f"**base_lr = {base_lr:.4g}**" in report and f"**max_lr = {max_lr:.4g}**" in report


def test_the_report_states_the_measured_numbers(quick):
    _, r, results, report = quick
    runs, summary = results["runs"], results["summary"]
    fixed_finals = [run["test_accuracy"][-1] for run in runs["fixed"]]
    target = np.mean(fixed_finals)
    assert results["target_accuracy"] == pytest.approx(target, abs=1e-15)
    steps = results["config"]["steps"]
    for name in demo.SCHEDULES:
        finals = np.array([run["test_accuracy"][-1] for run in runs[name]])
        assert all(run["steps"][-1] == steps for run in runs[name])
        assert all(0.0 <= a <= 1.0 for run in runs[name] for a in run["test_accuracy"])
        # every schedule learned the digits (10 classes: chance is 10%)
        assert finals.min() > 0.75
        s = summary[name]
        assert s["final_mean"] == pytest.approx(finals.mean(), abs=1e-15)
        assert s["final_std"] == pytest.approx(finals.std(ddof=1), abs=1e-15)
        # iterations to the target, recomputed from the recorded curves
        mean_curve = np.mean([run["test_accuracy"] for run in runs[name]], axis=0)
        hits = [st for st, a in zip(runs[name][0]["steps"], mean_curve) if a >= target]
        assert s["reach_mean_curve"] == (hits[0] if hits else None)
        row = (f"| {_demo_report.LABELS[name]} | {100 * finals.mean():.2f}% ± "
               f"{100 * finals.std(ddof=1):.2f}% | "
               f"{hits[0] if hits else 'not reached'} |")
        assert row in report
    assert f"**{100 * target:.2f}%**" in report
    # triangular2's shorter budget: its accuracy at the end of the first cycle
    short = results["short_steps"]
    at = [run["test_accuracy"][run["steps"].index(short)] for run in runs["triangular2"]]
    s = summary["triangular2"]["short"]
    assert s["steps"] == short and s["accuracies"] == at
    assert s["mean"] == pytest.approx(np.mean(at), abs=1e-15)
    assert s["std"] == pytest.approx(np.std(at, ddof=1), abs=1e-15)
    mean_curve = np.mean([run["test_accuracy"] for run in runs["triangular2"]], axis=0)
    hits = [st for st, a in zip(runs["triangular2"][0]["steps"], mean_curve)
            if a >= target and st <= short]
    assert (f"| {_demo_report.LABELS['triangular2']}, stopped at {short} | "
            f"{100 * np.mean(at):.2f}% ± {100 * np.std(at, ddof=1):.2f}% | "
            f"{hits[0] if hits else 'not reached'} |") in report
    # the fixed LR's own mean curve ends at the target, so it reaches it by the end
    assert summary["fixed"]["reach_mean_curve"] <= steps
    findings = _demo_report.findings(results)
    assert r.stdout.splitlines()[1:] == findings
    for line in findings:
        assert f"- {line}" in report


def test_demo_in_process_with_steps_seeds_and_fixed_lr(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cyclr-demo"                    # the default output folder
    # A link planted where the demo writes results.json: --force replaces the link,
    # the file it points to is never written.
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (out / "results.json").symlink_to(victim)
    rc = main(["demo", "--quick", "--steps", "25", "--seeds", "1", "--fixed-lr", "0.05",
               "--no-progress", "--force"])
    assert rc == 0
    assert victim.read_bytes() == b"precious"
    assert not (out / "results.json").is_symlink()
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["steps"] == 25 and results["config"]["seeds"] == [0]
    assert cyclr.from_dict(results["schedules"]["fixed"]) == cyclr.constant(0.05)
    assert all(len(v) == 25 for v in results["lrs_used"].values())
    assert all(s["final_std"] == 0.0 for s in results["summary"].values())
    report = (out / "report.md").read_text()
    assert "`constant(0.05)`: the LR given with `--fixed-lr`" in report
    assert "Reproduce: `cyclr demo --out cyclr-demo --seeds 1 --steps 25 --fixed-lr 0.05 " \
           "--quick`" in report
    assert "wrote cyclr-demo/report.md" in capsys.readouterr().out
    # 25 steps are less than two cycles of 36: no shorter budget
    assert results["short_steps"] is None and "short" not in results["summary"]["triangular2"]
    assert ", stopped at" not in report


# ---------------------------------------------------------------- the output folder

def demo_child(*args, cwd):
    """``cyclr demo ARGS`` in a child process that reports, after the command returns,
    whether torch was imported: the demo imports it to train, so "no torch" means the
    command stopped before any training."""
    code = ("import sys; from cyclr.cli import main; rc = main(sys.argv[1:]); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch'); "
            "sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, "demo", "--quick", "--no-progress",
                           *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def refused_before_training(r, *words):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout.strip() == "no torch", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cyclr demo: error: "), lines
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_out_that_is_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"mine")
    refused_before_training(demo_child("--out", "notes.txt", cwd=tmp_path),
                            "--out 'notes.txt' exists and is not a folder")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    refused_before_training(demo_child("--out", "dangling", cwd=tmp_path),
                            "is not a folder")
    assert (tmp_path / "notes.txt").read_bytes() == b"mine"
    assert not (tmp_path / "nowhere").exists()


def test_out_that_cannot_be_created_is_refused_before_training(tmp_path):
    # The tests run as root, which ignores permission bits: a path under a regular
    # file cannot be created by anyone.
    (tmp_path / "notes.txt").write_bytes(b"mine")
    refused_before_training(demo_child("--out", "notes.txt/report", cwd=tmp_path),
                            "cannot create the folder 'notes.txt/report'")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_out_that_cannot_be_written_is_refused_before_training(tmp_path):
    # /proc exists and is a folder, but no one, root included, can create a file in it.
    refused_before_training(demo_child("--out", "/proc", cwd=tmp_path),
                            "cannot write in '/proc'")


def test_a_link_in_out_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").symlink_to(victim)
    refused_before_training(demo_child("--out", out, cwd=tmp_path),
                            "results.json' is a symbolic link", "--force")
    assert victim.read_bytes() == b"precious" and (out / "results.json").is_symlink()


def test_files_the_demo_did_not_write_are_kept_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("my own report\n")
    refused_before_training(demo_child("--out", out, cwd=tmp_path),
                            "report.md' was not written by an earlier cyclr demo run",
                            "--force")
    assert (out / "report.md").read_text() == "my own report\n"
    # A forged record of the demo's files does not vouch for files it does not match.
    (out / demo.MANIFEST).write_text(json.dumps({"files": {"report.md": "0" * 64}}))
    refused_before_training(demo_child("--out", out, cwd=tmp_path),
                            "report.md' was not written")
    # A folder by one of the demo's names cannot be replaced, even with --force.
    (out / "report.md").unlink()
    (out / "accuracy.png").mkdir()
    refused_before_training(demo_child("--out", out, "--force", cwd=tmp_path),
                            "accuracy.png' is a folder")


def test_threads_are_bounded_by_the_cpus(tmp_path):
    refused = demo_child("--threads", 100_000, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout.strip() == "no torch"
    assert (f"--threads must be at most {os.cpu_count()} (the CPUs here), got 100000"
            in refused.stderr)
    assert not (tmp_path / "cyclr-demo").exists()


def test_a_rerun_replaces_its_own_files_and_a_failed_run_changes_none(tmp_path,
                                                                       monkeypatch):
    from matplotlib.figure import Figure

    out = tmp_path / "out"
    args = ["demo", "--quick", "--steps", "10", "--seeds", "1", "--no-progress",
            "--out", str(out)]
    assert main(args) == 0
    # The folder holds only what the demo wrote: a second run replaces it unforced.
    assert main([*args[:3], "12", *args[4:]]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert json.loads(before["results.json"])["config"]["steps"] == 12

    def broken_savefig(self, *a, **kw):
        raise RuntimeError("the renderer failed half way")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="half way"):
        main([*args[:3], "14", *args[4:]])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.undo()
    # A file edited since the demo wrote it is no longer the demo's to replace.
    (out / "report.md").write_text("annotated by hand\n")
    assert main(args) == 2
    assert (out / "report.md").read_text() == "annotated by hand\n"


# ---------------------------------------------------------------- the pieces

class _Terminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_draws_on_a_terminal_and_runs_are_logged_anywhere(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    bar = demo.Progress(total=4, enabled=True, width=8)
    bar.label = "fixed, seed 0"
    for _ in range(4):
        bar.tick()
    bar.line("fixed seed 0: done")
    bar.close()
    assert "training [########] 100% fixed, seed 0" in term.text
    # the line replaces the bar (blanked out first), then the bar's line ends
    assert term.text.endswith("\rfixed seed 0: done\n\n")
    term.text = ""
    quiet = demo.Progress(total=4, enabled=False)
    quiet.tick()
    quiet.line("fixed seed 0: done")
    quiet.close()
    assert term.text == ""
    # not a terminal: no bar, one line per run
    log = _Terminal()
    log.isatty = lambda: False
    monkeypatch.setattr(sys, "stderr", log)
    plain = demo.Progress(total=2, enabled=True)
    plain.tick()
    plain.line("fixed seed 0: done")
    plain.tick()
    plain.close()
    assert log.text == "fixed seed 0: done\n"


def test_iterations_to_reach():
    steps = [0, 5, 10, 15]
    assert demo.iterations_to_reach(steps, [0.1, 0.5, 0.9, 0.95], 0.9) == 10
    assert demo.iterations_to_reach(steps, [0.1, 0.5, 0.9, 0.95], 0.96) is None
    assert demo.iterations_to_reach(steps, [0.97, 0.5, 0.9, 0.95], 0.96) == 0


def test_summarize_against_hand_computed_values():
    runs = {
        "fixed": [{"steps": [0, 10, 20], "test_accuracy": [0.1, 0.8, 0.9]},
                  {"steps": [0, 10, 20], "test_accuracy": [0.1, 0.7, 0.8]}],
        "triangular2": [{"steps": [0, 10, 20], "test_accuracy": [0.1, 0.9, 0.9]},
                        {"steps": [0, 10, 20], "test_accuracy": [0.1, 0.8, 0.86]}],
    }
    out = demo.summarize(runs, target=0.85)
    assert out["fixed"]["final_mean"] == pytest.approx(0.85)
    assert out["fixed"]["final_std"] == pytest.approx(np.sqrt(0.005))
    assert out["fixed"]["reach_mean_curve"] == 20
    assert out["fixed"]["reach_per_seed"] == [20, None]
    assert out["triangular2"]["reach_mean_curve"] == 10    # mean 0.85 at step 10
    assert out["triangular2"]["reach_per_seed"] == [10, 20]


@pytest.mark.parametrize("clr, fixed, start", [
    ((40, [40, 50]), (90, [90, 80]), "This run is consistent with the paper's claim"),
    ((40, [40, None]), (90, [90, 30]), "Mixed: "),
    ((90, [90, 90]), (90, [90, 90]), "This run does not show the paper's claim"),
    ((None, [None, None]), (90, [90, 90]), "This run does not show the paper's claim"),
])
def test_verdict(clr, fixed, start):
    summary = {"triangular2": {"reach_mean_curve": clr[0], "reach_per_seed": clr[1]},
               "fixed": {"reach_mean_curve": fixed[0], "reach_per_seed": fixed[1]}}
    text = _demo_report.verdict(summary)
    assert text.startswith(start)
    if clr[0] is not None and clr[0] < fixed[0]:
        assert f"{fixed[0] / clr[0]:.1f}x fewer" in text


def test_config_defaults_follow_the_papers_step_size_advice():
    args = type("Args", (), {"quick": False, "seeds": None, "steps": None, "threads": 1,
                             "fixed_lr": None})()
    config = demo.Config.from_args(args, n_train=3500)
    assert config.task == "mnist" and config.channels == (8, 16)
    # 55 iterations per epoch of 3,500 in batches of 64; 2 epochs per half cycle
    assert config.step_size(3500) == 2 * 55 == cyclr.suggest_step_size(3500, 64, 2)
    assert config.steps == 4 * 2 * 110 and config.seeds == (0, 1, 2, 3, 4)
    assert config.eval_every(3500) == 27                  # twice per epoch of 55
    assert config.short_steps(3500) == 2 * 2 * 110        # 2 of the 4 cycles
    args.quick = True
    quick = demo.Config.from_args(args, n_train=1149)
    assert quick.task == "digits" and quick.hidden == (32,)
    assert quick.step_size(1149) == 18 and quick.steps == 2 * 2 * 18
    assert quick.seeds == (0, 1) and quick.short_steps(1149) == 36
    assert dataclasses.replace(quick, steps=71).short_steps(1149) is None


def test_a_run_cut_short_equals_the_shorter_budgets_numbers():
    # The report reads triangular2's shorter budget off the longer run: its LRs, batches
    # and weights up to there are those of a run that stops there.
    config = demo.Config(seeds=(0,), steps=72, **demo.QUICK)
    data = demo.load_data("digits")
    schedule = cyclr.triangular2(0.01, 0.04, 18)
    long = demo.train(config, data, schedule, 0, lambda: None, extra_evals=(36,))
    cut = demo.train(dataclasses.replace(config, steps=36), data, schedule, 0,
                     lambda: None)
    at = long["steps"].index(36)
    assert cut["steps"] == long["steps"][:at + 1]
    assert cut["test_accuracy"] == long["test_accuracy"][:at + 1]
    assert cut["lrs"] == long["lrs"][:36]


def test_mnist_data_and_cnn():
    data = demo.load_data("mnist")
    sizes = {k: len(v[1]) for k, v in data.items()}
    assert sizes == {"train": 3500, "val": 500, "test": 1000}
    for x, y in data.values():
        assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32
        # stratified: every class holds a tenth of each split
        assert torch.bincount(y, minlength=10).tolist() == [len(y) // 10] * 10
    x_train = data["train"][0].double()
    assert x_train.mean().item() == pytest.approx(0.0, abs=1e-6)
    assert x_train.std(correction=0).item() == pytest.approx(1.0, abs=1e-6)
    config = demo.Config(seeds=(0,), steps=1)
    model = demo.make_model(config, seed=0)
    conv = [m for m in model if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in conv] == [
        (1, 8, (5, 5)), (8, 16, (5, 5))]
    assert model[-1].in_features == 16 * 4 * 4 and model[-1].out_features == 10
    assert model(data["test"][0][:3]).shape == (3, 10)
    # a seed fixes the initial weights
    again = demo.make_model(config, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))


def test_a_missing_mlxtend_is_refused_before_training(tmp_path):
    # None in sys.modules is how Python marks a module that cannot be imported.
    code = ("import sys; sys.modules['mlxtend'] = None; from cyclr.cli import main; "
            "rc = main(sys.argv[1:]); "
            "print('torch imported' if 'torch' in sys.modules else 'no torch'); "
            "sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, "demo", "--no-progress"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    refused_before_training(r, "mlxtend, which is not installed",
                            "pip install 'cyclr[demo]'", "--quick")
    assert not (tmp_path / "cyclr-demo").exists()


@pytest.mark.parametrize("clr, fixed, start", [
    ((0.97, 0.002), (0.96, 0.004), "Trained as long as the fixed LR, triangular2 ended "
                                   "1.00 points higher, more than the seed-to-seed spread "
                                   "(0.40): consistent"),
    ((0.962, 0.002), (0.96, 0.004), "Trained as long as the fixed LR, triangular2 ended "
                                    "0.20 points higher, within the seed-to-seed spread"),
    ((0.95, 0.002), (0.96, 0.004), "Trained as long as the fixed LR, triangular2 did not "
                                   "end higher (-1.00 points)"),
])
def test_same_budget_verdict(clr, fixed, start):
    summary = {"triangular2": {"final_mean": clr[0], "final_std": clr[1]},
               "fixed": {"final_mean": fixed[0], "final_std": fixed[1]}}
    assert _demo_report.same_budget_verdict(summary).startswith(start)


# ---------------------------------------------------------------- --frameworks

@pytest.fixture(scope="module")
def frameworks(tmp_path_factory):
    """``cyclr demo --quick --frameworks`` on a short budget, through the console
    script: 40 steps, a cycle and a bit at the quick step size of 18."""
    pytest.importorskip("keras")
    pytest.importorskip("optax")
    out = tmp_path_factory.mktemp("demo") / "out"
    r = subprocess.run([str(CYCLR), "demo", "--quick", "--frameworks", "--steps", "40",
                        "--seeds", "1", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert r.returncode == 0, r.stderr
    results = json.loads((out / "results.json").read_text())
    return r, results, (out / "report.md").read_text()


def test_frameworks_used_the_same_float32_lr_at_every_step(frameworks):
    _, results, _ = frameworks
    fw = results["frameworks"]
    assert fw["steps"] == 40 and fw["seed"] == 0 and set(fw["runs"]) == {
        "torch", "keras", "optax"}
    assert fw["schedule"] == results["schedules"]["triangular2"]
    schedule = cyclr.from_dict(fw["schedule"])
    expected = schedule.array(40)                     # the core, in float64
    torch_lrs = np.array(fw["runs"]["torch"]["lrs"])
    np.testing.assert_array_equal(torch_lrs, expected)
    # the PyTorch run is the main comparison's triangular2 run of seed 0, cut short
    assert fw["runs"]["torch"]["lrs"] == results["lrs_used"]["triangular2"][:40]
    for name in ("keras", "optax"):
        used = np.array(fw["runs"][name]["lrs"])
        assert len(used) == 40
        # float32 numbers, stored exactly in JSON's float64
        np.testing.assert_array_equal(used.astype(np.float32).astype(np.float64), used)
        np.testing.assert_array_equal(used.astype(np.float32),
                                      torch_lrs.astype(np.float32))
        assert fw["differ"][name] == 0
    # most float64 LRs are not float32 numbers: why the comparison rounds first
    assert fw["torch_not_float32"] == int(np.sum(
        torch_lrs.astype(np.float32).astype(np.float64) != torch_lrs))
    assert fw["torch_not_float32"] > 20


def test_frameworks_report_table_is_the_recorded_lrs(frameworks):
    r, results, report = frameworks
    fw = results["frameworks"]
    runs = fw["runs"]
    assert fw["sample_steps"] == [0, 9, 18, 27, 36, 39]  # every half step size, the last
    header = "| step | PyTorch (float64) | PyTorch as float32 | Keras | optax | same |"
    lines = report.splitlines()
    at = lines.index(header)
    table = lines[at + 2:at + 2 + len(fw["sample_steps"])]
    assert lines[at + 2 + len(fw["sample_steps"])] == ""   # nothing more in the table
    for row, step in zip(table, fw["sample_steps"]):
        t = runs["torch"]["lrs"][step]
        k, o = runs["keras"]["lrs"][step], runs["optax"]["lrs"][step]
        assert row == (f"| {step} | {t!r} | {float(np.float32(t))!r} | {k!r} | {o!r} "
                       f"| yes |")
    # the peak of the first cycle is max_lr, in every framework
    max_lr = results["range_test"]["suggested"]["max_lr"]
    assert table[2].startswith(f"| 18 | {max_lr!r} | {float(np.float32(max_lr))!r} |")
    assert "**Keras and optax used exactly PyTorch's LR, rounded to float32, at all 40 " \
           "updates**" in report
    for name, label in (("torch", "PyTorch"), ("keras", "Keras"), ("optax", "JAX/optax")):
        acc = runs[name]["test_accuracy"]
        assert 0.5 < acc <= 1.0                           # each run learned the digits
        assert f"| {label} | {100 * acc:.2f}% | {fw['seconds'][name]:.0f} s |" in report
    finding = ("The same triangular2 schedule in PyTorch, Keras and JAX/optax: Keras and "
               "optax used exactly PyTorch's LR, rounded to float32, at all 40 updates.")
    assert r.stdout.splitlines()[-1] == finding and f"- {finding}" in report
    assert "`cyclr demo --out" in report and "--quick --frameworks`" in report
    # TensorFlow's start-up log is kept back, progress is off: nothing on stderr
    assert r.stderr == ""


@pytest.mark.parametrize("task", ["mnist", "digits"])
def test_copied_weights_give_the_same_network_in_every_framework(task):
    # The Keras and JAX runs start from the PyTorch model's weights; the CNN's layouts
    # differ (channels last, the flattening order), so the three must agree on outputs.
    keras = pytest.importorskip("keras")
    jax = pytest.importorskip("jax")
    from cyclr import _demo_frameworks as fws

    config = demo.Config(seeds=(0,), steps=1, **({} if task == "mnist" else demo.QUICK))
    data = demo.load_data(task)
    x = data["test"][0][:16]
    model = demo.make_model(config, seed=3)
    with torch.no_grad():
        expected = model(x).numpy()
    weights = [p.detach().numpy() for p in model.parameters()]
    k = fws._keras_model(keras, config)
    k.set_weights(fws._keras_weights(config, weights))
    got = np.asarray(k(fws._channels_last(config, x.numpy())))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    params = [jax.numpy.asarray(w) for w in weights]
    got = np.asarray(fws._jax_forward(jax, config, params, x.numpy()))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_batch_indices_are_the_pytorch_runs_batches():
    from cyclr import _demo_frameworks as fws

    n, size = 100, 32
    got = fws.batch_indices(n, size, seed=5, steps=9)      # 4 batches an epoch
    generator = torch.Generator().manual_seed(5)
    expected = []
    for _ in range(3):
        order = torch.randperm(n, generator=generator).numpy()
        expected += [order[i:i + size] for i in range(0, n, size)]
    assert len(got) == 9
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_frameworks_budget_is_two_cycles_or_the_run():
    from cyclr import _demo_frameworks as fws

    config = demo.Config(seeds=(0,), steps=880)
    assert fws.budget(config, 3500) == 2 * 2 * 110
    assert fws.budget(dataclasses.replace(config, steps=100), 3500) == 100


def test_missing_keras_or_jax_is_refused_before_training(tmp_path):
    for blocked in ("keras", "optax"):
        code = (f"import sys; sys.modules[{blocked!r}] = None; "
                "from cyclr.cli import main; rc = main(sys.argv[1:]); "
                "print('torch imported' if 'torch' in sys.modules else 'no torch'); "
                "sys.exit(rc)")
        r = subprocess.run([sys.executable, "-c", code, "demo", "--quick", "--frameworks",
                            "--no-progress"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
        refused_before_training(r, "--frameworks needs Keras 3 with TensorFlow, and JAX "
                                   f"with optax; not installed: {blocked}:",
                                "pip install 'cyclr[keras,jax]'")
    assert not (tmp_path / "cyclr-demo").exists()
