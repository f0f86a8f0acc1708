"""Schedules under real distributed engines on this machine: every worker applies the
core's LR at every step, and a job killed after a checkpoint resumes exactly.

Each engine runs in fresh processes (the helper scripts beside this file): torchrun
with 2 gloo ranks, TensorFlow with 2 logical CPU devices, JAX with 2 host devices. The
expected values are computed here, in this process, by the core.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cyclr

HERE = Path(__file__).parent
STEPS = 50


def run(args, cwd, expect_success=True):
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          timeout=420, cwd=cwd)
    if expect_success:
        assert done.returncode == 0, done.stderr[-4000:]
    return done


# gloo on this 2-core machine now and then aborts a rank at start-up or tear-down with
# "terminate called without an active exception" (about one torchrun in ten, whatever
# the schedule): a launch that died that way, and only that way, is run again afresh.
GLOO_ABORT = "terminate called without an active exception"


def torchrun(out, *options, cwd, expect_success=True):
    for attempt in range(3):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        done = run(["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                    HERE / "_ddp_worker.py", out, *options], cwd, expect_success=False)
        if not (done.returncode != 0 and GLOO_ABORT in done.stderr and attempt < 2):
            break
    if expect_success:
        assert done.returncode == 0, done.stderr[-4000:]
    return done


def ranks(out):
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def hyper_params(records, steps):
    """Per step, the LRs and momenta every group used, without the rank's own loss."""
    return [{k: v for k, v in records[str(i)].items() if k != "loss"} for i in steps]


# -- PyTorch DDP ----------------------------------------------------------------------

@pytest.mark.slow
def test_ddp_ranks_apply_the_core_schedule_and_a_killed_job_resumes_exactly(tmp_path):
    full = tmp_path / "full"
    torchrun(full, cwd=tmp_path)
    crashed = tmp_path / "crashed"
    killed = torchrun(crashed, "--checkpoint-at", 20, "--die-at", 27, cwd=tmp_path,
                      expect_success=False)
    assert killed.returncode != 0 and "SIGKILL" in killed.stderr, killed.stderr[-2000:]
    assert not list(crashed.glob("rank*.json"))       # it died before finishing
    resumed = tmp_path / "resumed"
    torchrun(resumed, "--resume", crashed / "checkpoint.pt", cwd=tmp_path)

    whole, again = ranks(full), ranks(resumed)
    # Every rank, every step: the core's values (float64, exactly).
    groups = [cyclr.triangular2(0.01, 0.2, 4), cyclr.triangular2(0.005, 0.1, 4)]
    one_cycle = cyclr.one_cycle(0.01, STEPS)
    expected = [{"sgd_lr": [g(i) for g in groups],
                 "sgd_momentum": [g.momentum_schedule(0.8, 0.9)(i) for g in groups],
                 "adam_lr": [one_cycle(i)],
                 "adam_beta1": [one_cycle.momentum_schedule(0.85, 0.95)(i)]}
                for i in range(STEPS)]
    for rank in whole:
        assert hyper_params(rank["records"], range(STEPS)) == expected
        assert rank["last_epoch"] == [STEPS, STEPS]
    assert whole[0]["params"] == whole[1]["params"]
    losses = [whole[0]["records"][str(i)]["loss"] for i in range(STEPS)]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])     # it learns

    # The restarted job: from step 20 on, the same LRs, momenta and bit-identical weights.
    for rank, reference in zip(again, whole):
        assert sorted(map(int, rank["records"])) == list(range(20, STEPS))
        assert hyper_params(rank["records"], range(20, STEPS)) == expected[20:]
        assert [rank["records"][str(i)]["loss"] for i in range(20, STEPS)] == [
            reference["records"][str(i)]["loss"] for i in range(20, STEPS)]
        assert rank["params"] == reference["params"]
        assert rank["last_epoch"] == [STEPS, STEPS]


# -- Keras under MirroredStrategy ---------------------------------------------------------

@pytest.mark.slow
def test_keras_mirrored_replicas_use_the_core_lr_and_a_saved_model_reloads_intact(tmp_path):
    run([HERE / "_keras_mirrored.py", tmp_path / "out.json", tmp_path], tmp_path)
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["replicas"] == 2
    schedule = cyclr.triangular2(0.01, 0.3, 5, shape="hann")
    core = schedule.array(STEPS, dtype=np.float32)
    # SGD with momentum 0.9 moves the probe (gradient 1, zeroed each step) by its
    # velocity m_i = 0.9 * m_{i-1} - lr_i, in float32.
    velocity, moves = np.float32(0.0), []
    for lr in core:
        velocity = np.float32(-lr) + velocity * np.float32(0.9)
        moves.append(velocity)
    moves = np.array(moves)

    whole, first, loaded = result["whole"], result["first"], result["loaded"]
    assert whole["iterations"] == list(range(STEPS))
    assert np.array_equal(np.float32(whole["scheduled"]), np.repeat(core[:, None], 2, 1))
    assert np.array_equal(np.float32(whole["applied"]), np.repeat(moves[:, None], 2, 1))
    assert whole["loss"][1] < whole["loss"][0]
    assert first["iterations"] == list(range(25))
    assert np.array_equal(np.float32(first["scheduled"]), np.repeat(core[:25, None], 2, 1))

    assert loaded["class"] == "CyclrSchedule"
    assert cyclr.from_dict(loaded["config"]["schedule"]) == schedule
    assert set(loaded["distributed"]) == {"MirroredVariable"}
    assert loaded["iterations_after_load"] == 25
    assert np.array_equal(np.float32(loaded["scheduled"]), np.repeat(core[25:, None], 2, 1))
    assert np.array_equal(np.float32(loaded["applied"]), np.repeat(moves[25:, None], 2, 1))
    assert loaded["weights"] == whole["weights"]


# -- JAX over two host devices ------------------------------------------------------------

@pytest.mark.slow
def test_jax_sharded_optax_update_uses_the_core_lr_on_every_device(tmp_path):
    run([HERE / "_jax_devices.py", tmp_path / "out.json"], tmp_path)
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["devices"] == 2
    for name, schedule in [("triangular2", cyclr.triangular2(0.01, 0.3, 5)),
                           ("one_cycle", cyclr.one_cycle(0.3, STEPS))]:
        record = result[name]
        assert set(record["batch_devices"]) == {2} and set(record["param_devices"]) == {2}
        core = schedule.array(STEPS, dtype=np.float32)
        momentum = schedule.momentum_schedule(0.85, 0.95).array(STEPS, dtype=np.float32)
        assert np.array_equal(np.float32(record["lr"]), np.repeat(core[:, None], 2, 1))
        assert np.array_equal(np.float32(record["momentum"]), np.repeat(momentum[:, None], 2, 1))
        # The probe (gradient 1, zeroed each step) ends step i at -lr_i * trace_i with
        # optax's trace_i = 1 + momentum_i * trace_{i-1}; XLA may fuse that multiply-add,
        # hence a few float32 ulps.
        trace, moves = np.float32(0.0), []
        for lr, m in zip(core, momentum):
            trace = np.float32(1.0) + m * trace
            moves.append(-lr * trace)
        probe = np.float32(record["probe"])
        assert np.array_equal(probe[:, 0], probe[:, 1])
        np.testing.assert_allclose(probe[:, 0], moves, rtol=1e-6)
        assert record["loss"][-1] < 0.5 * record["loss"][0]
