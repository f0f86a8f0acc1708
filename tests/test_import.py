"""`import cyclr` stays framework-free."""

import subprocess
import sys


def test_import_cyclr_imports_no_framework():
    code = ("import sys, cyclr, cyclr.adapters; "
            "s = cyclr.triangular(0.1, 1.0, 5); s.array(10); s.to_dict(); "
            "heavy = [m for m in ('torch', 'tensorflow', 'keras', 'jax', 'optax', "
            "'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
