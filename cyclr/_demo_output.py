"""The demo's output folder: checked before any training, written all at once.

The folder must be one that can be created and written, and the demo replaces only
files it wrote itself (it records their SHA-256 in ``.cyclr-demo.json``), others only
with ``--force``. Every file is written beside its target and renamed into place once
all of them are ready, so a failed run leaves the folder as it was, and a symbolic link
in the folder is replaced, never written through.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from . import __version__, _files

FIGURES = {"range_test": "range_test.png", "schedules": "schedules.png",
           "accuracy": "accuracy.png"}
OUTPUT_FILES = ("report.md", "results.json", *FIGURES.values())
# What the last run wrote, and each file's SHA-256: the files a new run may replace.
MANIFEST = ".cyclr-demo.json"
_MAX_OWN_FILE = 64 << 20     # far above any file the demo writes


class OutputError(Exception):
    """The output folder cannot take the demo's files; the message says why."""


def check_output(out, *, force: bool = False) -> str | None:
    """Why the folder ``out`` cannot take the demo's files, or None; it is created if
    missing. Run before any training.

    Refused: a path that is not a folder, a folder that cannot be created or written,
    and, unless ``force``, a file at one of the demo's names that the demo did not
    write there (or that changed since), a symbolic link included. A folder at one of
    those names is refused even with ``force``.
    """
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        return f"--out {str(out)!r} exists and is not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"--out: cannot create the folder {str(out)!r}: {error.strerror or error}"
    # Permission bits say little (root ignores them, a read-only mount keeps them):
    # creating a file is the test.
    try:
        fd, probe = tempfile.mkstemp(prefix=".cyclr-demo-probe.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        return f"--out: cannot write in {str(out)!r}: {error.strerror or error}"
    return _foreign_file(out, force)


def _foreign_file(out: Path, force: bool) -> str | None:
    written = _read_manifest(out)
    for name in (*OUTPUT_FILES, MANIFEST):
        path = out / name
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"--out: cannot check {str(path)!r}: {error.strerror or error}"
        if stat.S_ISDIR(mode):
            return f"--out: {str(path)!r} is a folder; the demo writes a file by that name"
        if force:
            continue
        if stat.S_ISLNK(mode):
            why = "is a symbolic link"
        elif name == MANIFEST:
            if written is not None:
                continue
            why = "is not a record the demo wrote"
        elif written is not None and written.get(name) == _sha256(path):
            continue
        else:
            why = "was not written by an earlier cyclr demo run (or has changed since)"
        return (f"--out: {str(path)!r} {why}; move it away or pass --force to replace it")
    return None


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        data = json.loads(_files.read_capped(path, 1 << 16))
    except (OSError, _files.FileProblem, ValueError, RecursionError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return files


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(_files.read_capped(path, _MAX_OWN_FILE)).hexdigest()
    except _files.FileProblem:
        return None


def write_outputs(out: Path, contents: dict, force: bool) -> None:
    """Write ``{name: bytes}`` into ``out``, all or none, then the manifest.

    Raises:
        OutputError: when a file appeared meanwhile that may not be replaced, or a
            file cannot be written.
    """
    # Training takes minutes: check again what the files in the folder are now.
    problem = _foreign_file(out, force)
    if problem:
        raise OutputError(problem)
    manifest = {"written_by": f"cyclr demo {__version__}",
                "files": {name: hashlib.sha256(data).hexdigest()
                          for name, data in contents.items()}}
    record = (json.dumps(manifest, indent=1) + "\n").encode()
    try:
        with _files.Outputs() as files:
            for name, data in [*contents.items(), (MANIFEST, record)]:
                files.write(out / name, lambda f, data=data: f.write(data), binary=True)
    except OSError as error:
        raise OutputError(f"--out: cannot write in {str(out)!r}: "
                          f"{error.strerror or error}") from None
