"""Declares the Cython extension; all metadata lives in pyproject.toml.

Set CYCLR_DEBUG=1 to build with bounds and initialization checks turned back on.
"""
import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("CYCLR_DEBUG", "0") not in ("", "0")
directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": False,
    "initializedcheck": debug,
    "cdivision": True,
    "binding": True,
    "embedsignature": True,
}
# No FMA contraction: a*b+c must round twice, as in Python and torch, on every CPU.
compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off"]

extension = Extension(
    "cyclr._core",
    ["cyclr/_core.pyx"],
    include_dirs=[np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=compile_args,
)

setup(ext_modules=cythonize([extension], compiler_directives=directives))
