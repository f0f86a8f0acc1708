"""Runs the atheris harness (fuzz_cyclr.py) for a bounded, seeded number of inputs.

CI runs ``CYCLR_FUZZ_RUNS`` inputs (default 20000, under a minute on one core, Keras'
import included), starting from a corpus of valid descriptions, as JSON for
``from_dict`` and as JSON and TOML files for the command line's ``--from`` reader; set
it higher for a longer hunt. A finding
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
TARGETS = 6          # len(fuzz_cyclr.TARGETS)
JSON_TARGET = 1      # fuzz_cyclr.TARGETS[1] reads JSON text
FILE_TARGET = 4      # fuzz_cyclr.TARGETS[4] writes the input to a file for --from


def schedules():
    return [
        cyclr.triangular(0.001, 0.006, 2000), cyclr.triangular2(0.0, 1.0, 2.5, shape="hann"),
        cyclr.exp_range(0.0, 1.0, 4, gamma=0.99, step_size_down=7, scale_mode="cycle"),
        cyclr.one_cycle(0.1, 100, three_phase=True, anneal="linear"),
        cyclr.one_cycle(0.1, 100).momentum_schedule(0.85, 0.95),
        cyclr.chain((cyclr.decay(1.0, 0.1, 10), 10), (cyclr.step_decay(0.1, 0.5, 3), 20),
                    cyclr.exponential(0.01, 0.99)),
        cyclr.constant(0.1),
    ]


def toml(description):
    """A ``to_dict`` description as TOML (a small writer for these seeds: tables,
    arrays of tables, and scalars; a null is left out, as the --from reader allows)."""
    lines = []

    def write(table, prefix):
        nested = []
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, dict):
                nested.append((f"{prefix}{key}", value, False))
            elif isinstance(value, list):
                nested += [(f"{prefix}{key}", item, True) for item in value]
            else:
                lines.append(f"{key} = {json.dumps(value)}")
        for name, value, repeated in nested:
            lines.append(f"[[{name}]]" if repeated else f"[{name}]")
            write(value, f"{name}.")

    write(description, "")
    return "\n".join(lines) + "\n"


def seeds():
    """Inputs that steer the harness to valid descriptions of every schedule type.

    The harness reads its target index from the input's last byte. For JSON text, the
    rest is the text; a leading odd byte makes atheris decode it as ASCII. For the
    ``--from`` reader, a leading even byte picks a ``.json`` file, an odd one ``.toml``,
    and the rest is the file's bytes.
    """
    out = []
    for s in schedules():
        text = json.dumps(s.to_dict()).encode()
        out.append(b"\x01" + text + bytes([JSON_TARGET]))
        out.append(b"\x00" + text + bytes([FILE_TARGET]))
        out.append(b"\x01" + toml(s.to_dict()).encode() + bytes([FILE_TARGET]))
    return out


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


def test_the_seeds_reach_from_dict_and_the_from_reader_with_valid_files(tmp_path):
    from cyclr.cli import load_schedule

    reached = []
    for seed in seeds():
        data = atheris.FuzzedDataProvider(seed)
        target = data.ConsumeIntInRange(0, TARGETS - 1)
        if target == JSON_TARGET:
            text = data.ConsumeUnicodeNoSurrogates(data.remaining_bytes())
            s = cyclr.from_dict(json.loads(text))
        else:
            assert target == FILE_TARGET
            path = tmp_path / ("s.toml" if data.ConsumeBool() else "s.json")
            path.write_bytes(data.ConsumeBytes(data.remaining_bytes()))
            s = load_schedule(path)
        reached.append((target, path.suffix if target == FILE_TARGET else "", s))
    expected = [(target, suffix, s) for s in schedules()
                for target, suffix in ((JSON_TARGET, ""), (FILE_TARGET, ".json"),
                                       (FILE_TARGET, ".toml"))]
    assert reached == expected
