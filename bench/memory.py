"""Section 5: peak memory of a whole-run fill, relative to the output array itself.

Each fill runs in a fresh child process that has imported cyclr and numpy and done one
small fill, so nothing else allocates around the measurement. On Linux the peak is the
kernel's resident-set high-water mark (``VmHWM``), which sees every allocation, numpy's
or C's, taken together with ``tracemalloc``'s peak (numpy's and Python's allocations,
even those served from memory already resident); elsewhere ``tracemalloc`` alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

from _harness import Row, fmt_bytes

_LINUX_STATUS = "/proc/self/status"


def _status_bytes(field: str) -> int:
    with open(_LINUX_STATUS) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def _probe(index: int, n: int) -> dict:
    """In the child: fill case ``index`` once and report the peak extra bytes."""
    from cases import cases

    s = cases(n)[index].schedule
    s.array(1000)
    linux = os.path.exists(_LINUX_STATUS)
    if linux:
        try:                                 # reset the high-water mark where allowed
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        before = _status_bytes("VmRSS")
    tracemalloc.start()
    out = s.array(n)
    peak = traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    how = "tracemalloc"
    if linux:
        # Resident growth also sees C allocations; take whichever saw more.
        peak = max(traced, _status_bytes("VmHWM") - before)
        how = "max of VmHWM growth and tracemalloc"
    return {"name": cases(n)[index].name, "output": out.nbytes, "peak": peak, "how": how}


def run(n: int, names=("triangular", "triangular2", "exp_range", "one_cycle",
                        "chain of 3")) -> list[Row]:
    """Section-5 rows: peak / output for the named cases of ``cases(n)``."""
    from cases import cases

    order = [c.name for c in cases(n)]
    rows = []
    for index in map(order.index, names):
        result = subprocess.run([sys.executable, __file__, str(index), str(n)],
                                check=True, capture_output=True, text=True)
        r = json.loads(result.stdout)
        rows.append(Row(5, f"peak memory of `s.array({n:_})` {r['name']}",
                        "its output array", fmt_bytes(r["peak"]), fmt_bytes(r["output"]),
                        r["peak"] / r["output"], ("<=", 1.1), f"by {r['how']}"))
    return rows


if __name__ == "__main__":
    print(json.dumps(_probe(int(sys.argv[1]), int(sys.argv[2]))))
