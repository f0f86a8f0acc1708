"""What a packager and a new user meet: adapters that name their extra when the framework
is missing, one version, and an sdist that carries what the build needs.

The full path (sdist -> wheel -> fresh venv with numpy only) runs in `.ci/smoke`; it
compiles the extension, so it is not repeated here.
"""

import importlib.metadata
import json
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tomllib

import pytest

import cyclr
from cyclr.adapters import _FRAMEWORKS, _require

ROOT = pathlib.Path(__file__).resolve().parent.parent

# adapter module -> (the framework module made unimportable, the extra that installs it)
ADAPTERS = [("torch", "torch", "torch"), ("keras", "keras", "keras"),
            ("optax", "jax", "jax"), ("optax", "optax", "jax")]


def _import_without(adapter, blocked):
    """Imports cyclr.adapters.<adapter> in a fresh interpreter where ``blocked`` cannot
    be imported (a None entry in sys.modules is how Python marks that); returns what
    was raised."""
    code = f"""if True:
        import json, sys
        sys.modules[{blocked!r}] = None
        try:
            import cyclr.adapters.{adapter}
        except BaseException as error:
            print(json.dumps({{"type": type(error).__name__, "name": error.name,
                              "message": str(error),
                              "cause": type(error.__cause__).__name__}}))
        else:
            print("null")
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    return json.loads(out)


@pytest.mark.parametrize("adapter, blocked, extra", ADAPTERS)
def test_adapter_without_its_framework_names_the_extra(adapter, blocked, extra):
    raised = _import_without(adapter, blocked)
    assert raised is not None, f"cyclr.adapters.{adapter} imported without {blocked}"
    # Still a ModuleNotFoundError for the framework, so importorskip and
    # `except ModuleNotFoundError` keep working; chained to the original.
    assert raised["type"] == "ModuleNotFoundError"
    assert raised["name"] == blocked
    assert raised["cause"] == "ModuleNotFoundError"
    assert raised["message"].startswith(f"cyclr.adapters.{adapter} needs ")
    assert f'install it with: pip install "cyclr[{extra}]"' in raised["message"]
    assert f"import of {blocked} halted" in raised["message"]   # the original reason


def test_adapters_package_imports_no_framework():
    code = ("import sys, cyclr.adapters; print([m for m in ('torch', 'keras', "
            "'tensorflow', 'jax', 'optax') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == "[]"


def test_require_keeps_a_plain_import_error_plain():
    # An installed but too old framework fails with ImportError ("cannot import name"),
    # not ModuleNotFoundError; the extra (with its minimum versions) is still the fix.
    original = ImportError("cannot import name 'LRScheduler'", name="torch.optim")
    with pytest.raises(ImportError) as caught:
        with _require("cyclr.adapters.torch", "torch"):
            raise original
    assert type(caught.value) is ImportError
    assert caught.value.__cause__ is original
    assert caught.value.name == "torch.optim"
    assert str(caught.value) == (
        "cyclr.adapters.torch needs PyTorch, which could not be imported (cannot import "
        "name 'LRScheduler'); install it with: pip install \"cyclr[torch]\"")


def test_require_lets_other_errors_through():
    with pytest.raises(ValueError, match="^not an import problem$"):
        with _require("cyclr.adapters.keras", "keras"):
            raise ValueError("not an import problem")


def test_require_names_only_extras_that_exist():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    assert set(_FRAMEWORKS) <= set(extras)
    assert {extra for _, _, extra in ADAPTERS} <= set(_FRAMEWORKS)


def test_version_is_written_once():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "cyclr.__version__"}
    # The installed metadata came from that attribute.
    assert importlib.metadata.version("cyclr") == cyclr.__version__
    assert "version" not in (ROOT / "setup.py").read_text(encoding="utf-8")


def _source_files():
    """The files of this checkout that git would commit (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True, check=True, cwd=ROOT).stdout.decode().split("\0")
    return sorted(name for name in listed if name and (ROOT / name).is_file())


@pytest.fixture(scope="module")
def sdist_names(tmp_path_factory):
    """Names in an sdist built from a copy of this checkout, and the copy's files after."""
    tree = tmp_path_factory.mktemp("tree")
    for name in _source_files():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation",
                    "--outdir", str(dist), str(tree)], capture_output=True, check=True)
    (sdist,) = dist.glob("cyclr-*.tar.gz")
    assert sdist.name == f"cyclr-{cyclr.__version__}.tar.gz"
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    return names, {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}


def test_sdist_carries_every_package_source_and_the_documents(sdist_names):
    names, _ = sdist_names
    needed = [name for name in _source_files()
              if name.split("/")[0] in ("cyclr", "adapters")]
    assert "cyclr/_core.pyx" in needed and "cyclr/_core.pyi" in needed
    missing = sorted(set(needed) - names)
    assert not missing
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "CHANGELOG.md", "PKG-INFO"):
        assert name in names


def test_sdist_carries_no_generated_or_test_files(sdist_names):
    names, _ = sdist_names
    assert not [name for name in names if name.endswith((".c", ".so", ".pyd", ".pyc"))]
    assert not [name for name in names if name.startswith(("tests/", "bench/", ".ci/"))]


def test_making_the_sdist_does_not_run_cython(sdist_names):
    _, tree_files = sdist_names
    assert "cyclr/_core.c" not in tree_files
