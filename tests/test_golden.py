"""Every policy's values against a fixture saved before the core was reorganised: the
same bits, for short runs (hex values at steps 0, about 10**6, 2**40 and 2**62) and for
long fills (a digest of 20,000 values per dtype, long enough for every block fill)."""

import json
import os

import numpy as np
import pytest

import cyclr
from make_golden import LONG, N, digest

with open(os.path.join(os.path.dirname(__file__), "data", "golden.json")) as f:
    GOLDEN = json.load(f)


@pytest.mark.parametrize("text", sorted(GOLDEN))
def test_values_are_bit_for_bit_those_saved(text):
    s = eval(text, {"cyclr": cyclr})
    for start, expected in GOLDEN[text].items():
        if start == "long":
            for dtype, wanted in expected.items():
                assert digest(s.array(LONG, start=7, dtype=np.dtype(dtype))) == wanted, dtype
            continue
        values = s.array(N, start=int(start))
        assert [float(x).hex() for x in values] == expected, start
        assert [float(s(int(start) + k)).hex() for k in range(N)] == expected, start
