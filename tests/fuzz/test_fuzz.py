"""Runs the atheris harness (fuzz_cyclr.py) for a bounded, seeded number of inputs.

CI runs ``CYCLR_FUZZ_RUNS`` inputs (default 20000, under half a minute on one core),
starting from a corpus of valid descriptions; set it higher for a longer hunt. A finding
fails the test with the harness's traceback and the input in Base64; to replay it, save
the input to a file and run ``python tests/fuzz/fuzz_cyclr.py FILE``.
"""

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import atheris  # the harness needs it: a missing fuzzer fails here, in CI

import cyclr

HARNESS = Path(__file__).with_name("fuzz_cyclr.py")
RUNS = int(os.environ.get("CYCLR_FUZZ_RUNS", "20000"))
JSON_TARGET = 1      # fuzz_cyclr.TARGETS[1] reads JSON text


def seeds():
    """Inputs that steer the harness to valid JSON descriptions of every schedule type.

    The harness reads its target index from the input's last byte and, for JSON, text
    from the rest; a leading odd byte makes atheris decode that text as ASCII.
    """
    schedules = [
        cyclr.triangular(0.001, 0.006, 2000), cyclr.triangular2(0.0, 1.0, 2.5, shape="hann"),
        cyclr.exp_range(0.0, 1.0, 4, gamma=0.99, step_size_down=7, scale_mode="cycle"),
        cyclr.one_cycle(0.1, 100, three_phase=True, anneal="linear"),
        cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95),
        cyclr.chain((cyclr.decay(1.0, 0.1, 10), 10), (cyclr.step_decay(0.1, 0.5, 3), 20),
                    cyclr.exponential(0.01, 0.99)),
        cyclr.constant(0.1),
    ]
    return [b"\x01" + json.dumps(s.to_dict()).encode() + bytes([JSON_TARGET])
            for s in schedules]


def test_fuzz_harness_finds_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for k, seed in enumerate(seeds()):
        (corpus / f"seed{k}").write_bytes(seed)
    # -timeout: one input running 20 s is a hang, reported as a finding.
    # Linux carries a process's peak RSS across fork and exec, and libFuzzer's RSS limit
    # reads that peak: after the framework tests this pytest process is large, so the
    # harness's limit is 2 GiB above what it inherits, not 2 GiB in all.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    command = [sys.executable, str(HARNESS), f"-atheris_runs={RUNS}", "-seed=1",
               "-timeout=20", "-len_control=0", "-max_len=1024",
               f"-rss_limit_mb={inherited_mb + 2048}",
               f"-artifact_prefix={tmp_path}/", str(corpus)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    report = run.stderr[-6000:]
    findings = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(
        ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")))
    assert run.returncode == 0 and not findings, report
    done = re.search(r"^Done (\d+) in", run.stderr, re.MULTILINE)
    assert done and int(done.group(1)) >= RUNS, report
    assert "Instrumenting cyclr.serialize" in run.stderr, "the harness must trace cyclr"


def test_the_seeds_reach_from_dict_with_valid_json():
    for seed in seeds():
        data = atheris.FuzzedDataProvider(seed)
        assert data.ConsumeIntInRange(0, 3) == JSON_TARGET
        text = data.ConsumeUnicodeNoSurrogates(data.remaining_bytes())
        assert isinstance(cyclr.from_dict(json.loads(text)), cyclr.Schedule)
