"""cyclr benchmarks: one Markdown table of ratios against peers measured in this process.

Usage::

    python bench/run.py            # full sizes (10M-step fills); a few minutes
    python bench/run.py --quick    # small sizes, for CI: checks the suite still runs

Sections (the first column of the table):
    1. ``s(i)`` against the Python call floor and a pure-Python closed form;
    2. ``s.array(n)`` against ``np.full``, the numpy formula and ``jax.jit``;
    3. PyTorch ``scheduler.step()`` against torch's own schedulers;
    4. compiled Keras and Optax training steps against native schedules;
    5. peak memory of a whole-run fill against its output.

Every ratio is cyclr over its peer, both timed best-of and interleaved in the same run.
The ``met`` column compares it with the target of the issue; quick mode prints the same
table but its sizes are too small for the targets to mean anything.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")     # TensorFlow's start-up chatter

import numpy as np  # noqa: E402

import cyclr  # noqa: E402
from _harness import markdown  # noqa: E402

SECTIONS = (1, 2, 3, 4, 5)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    total = os.cpu_count()
    return f"{usable} usable of {total}" if usable and usable != total else f"{total}"


def header(quick: bool) -> str:
    return "\n".join([
        "# cyclr benchmarks" + (" (quick mode: sizes too small for the targets)" if quick
                                else ""),
        "",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {_cpu_model()}, {_cores()} cores, {platform.system()} "
        f"{platform.release()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"cyclr {cyclr.__version__}",
        "",
    ])


def _versions() -> str:
    found = []
    for name in ("torch", "keras", "tensorflow", "jax", "optax"):
        module = sys.modules.get(name)
        if module is not None:
            found.append(f"{name} {getattr(module, '__version__', '?')}")
    return ", ".join(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats (CI); timings not meaningful")
    parser.add_argument("--only", type=int, nargs="+", choices=SECTIONS, default=SECTIONS,
                        metavar="N", help="run only these sections (1-5)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="best-of this many rounds (default 7, quick 2)")
    parser.add_argument("--strict", action="store_true",
                        help="fail when a section is skipped (an adapter missing)")
    args = parser.parse_args(argv)
    quick = args.quick
    repeat = args.repeat or (2 if quick else 7)
    n = 100_000 if quick else 10_000_000
    started = time.perf_counter()
    print(header(quick), flush=True)

    rows = []
    if 1 in args.only:
        import scalar
        rows += scalar.run(number=20_000 if quick else 500_000, repeat=repeat)
    if 2 in args.only:
        import fill
        rows += fill.run(n, repeat=repeat)
    if 3 in args.only:
        import torch_step
        rows += torch_step.run(number=200 if quick else 5_000, repeat=repeat)
    if 4 in args.only:
        import compiled_step
        data = 256 if quick else 1792
        rows += compiled_step.keras_rows(epochs=1 if quick else 4, repeat=repeat, rows=data)
        rows += compiled_step.optax_rows(steps=20 if quick else 400, repeat=repeat, rows=data)
    if 5 in args.only:
        import memory
        rows += memory.run(n)

    print(markdown(rows))
    print(f"\n{_versions()}; {time.perf_counter() - started:.0f} s in all")
    if args.strict and any(r.note.startswith("skipped") for r in rows):
        print("error: some rows were skipped (see the note column)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
