"""Declares the Cython extension; all metadata lives in pyproject.toml.

The sdist ships ``cyclr/_core.pyx`` (and any ``.pxd``/``.h`` it uses), not generated C:
Cython is a build requirement and runs when the extension is built, so making an sdist
neither needs a compiler nor touches generated files in the tree.

Set CYCLR_DEBUG=1 to build with bounds and initialization checks turned back on (and
with debug symbols kept).
"""
import glob
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

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
gcc_like = sys.platform != "win32"  # GCC or Clang; MSVC takes other flags

# No FMA contraction: a*b+c must round twice, as in Python and torch, on every CPU.
compile_args = ["-O3", "-ffp-contract=off"] if gcc_like else []
if gcc_like and not debug:
    # Python's CFLAGS carry -g (the last -g flag wins): debug info is 5/6 of the
    # extension (2.0 MB -> 0.36 MB on x86-64 Linux). The symbol table stays, for perf
    # and backtraces; stripping it too would save only another 0.03 MB.
    compile_args.append("-g0")


class CythonBuildExt(build_ext):
    """Cythonizes (and finds numpy's headers) only when the extension is built: making
    an sdist finalizes this command too, to list the sources, but never runs it."""

    def run(self):
        from Cython.Build import cythonize
        import numpy as np

        # Sources swapped in place: finalize_options already set private attributes on
        # these Extension objects that the copies cythonize returns would lack.
        for ext, cythonized in zip(
                self.extensions, cythonize(self.extensions, compiler_directives=directives)):
            ext.sources = cythonized.sources
            ext.include_dirs.append(np.get_include())
        super().run()


extension = Extension(
    "cyclr._core",
    ["cyclr/_core.pyx"],
    # Listed so that a changed include rebuilds the extension and sdists carry them.
    depends=sorted(glob.glob("cyclr/*.pxd") + glob.glob("cyclr/*.pxi")
                   + glob.glob("cyclr/src/*.h")),
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=compile_args,
)

setup(ext_modules=[extension], cmdclass={"build_ext": CythonBuildExt})
