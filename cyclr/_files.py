"""Files the command line reads and writes, handled so that nothing is lost or exhausted.

Writing: every output goes to a temporary file in its target's folder, is flushed to
disk, and is renamed over the target (``os.replace``) only when every output of the run
is complete. A failed run leaves existing files byte for byte as they were, and a
symbolic link at a target is replaced by the new file, never written through. Where
asked, a target that is a device, FIFO or socket (``/dev/null``, ``/dev/stdout``) is
written into instead, as a shell redirection would: replacing it would put a regular
file in place of the device.

Reading: :func:`read_capped` opens without blocking, refuses anything but a regular
file (a FIFO or ``/dev/zero`` would hang or never end) and reads at most a fixed number
of bytes.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO


class FileProblem(Exception):
    """A file or folder that cannot be read or written as asked; the message says why
    in one line."""


def _umask() -> int:
    # os.umask can only be read by setting it; /proc says it without a change.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_mode(target: Path) -> int:
    """The permissions a replaced file keeps, or a new file's (0o666 less the umask)."""
    try:
        info = os.lstat(target)
    except OSError:
        return 0o666 & ~_umask()
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode)
    return 0o666 & ~_umask()


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; some file systems cannot open a folder for it.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_stream(path: Path) -> bool:
    """Whether ``path`` is, or links to, something other than a regular file or a
    folder: a device, a FIFO or a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class Outputs:
    """A set of files written together: all of them or none.

    ``write`` renders one file into a temporary beside its target; leaving the
    ``with`` block normally renames every temporary into place, leaving it with an
    exception deletes them and touches no target.

    Args:
        streams: write into a target that is a device, FIFO or socket (after every
            output is rendered) instead of replacing it.

    Examples:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with Outputs() as out:
        ...     out.write(folder / "a.txt", lambda f: f.write("one\\n"))
        >>> (folder / "a.txt").read_text()
        'one\\n'
    """

    def __init__(self, *, streams: bool = False):
        self._streams = streams
        self._pending: list[tuple[str, Path]] = []
        self._piped: list[tuple[IO[bytes], Path]] = []

    def write(self, path, writer, *, binary: bool = False) -> None:
        """Render ``writer(file)`` into a temporary file beside ``path``.

        Args:
            path: the target file.
            writer: called with the open temporary file (text, UTF-8 and untranslated
                newlines, or binary).
            binary: open the temporary in binary mode.

        Raises:
            OSError: when the temporary cannot be created or written; whatever
                ``writer`` raises. Either way the temporary is removed.
        """
        path = Path(path)
        if self._streams and _is_stream(path):
            # Rendered in full first, so a failure still writes nothing.
            buffer = tempfile.TemporaryFile()
            try:
                with (open(buffer.fileno(), "wb", closefd=False) if binary
                      else open(buffer.fileno(), "w", encoding="utf-8", newline="",
                                closefd=False)) as f:
                    writer(f)
            except BaseException:
                buffer.close()
                raise
            self._piped.append((buffer, path))
            return
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                    dir=path.parent if str(path.parent) else ".")
        try:
            os.fchmod(fd, _new_mode(path))
            with (os.fdopen(fd, "wb") if binary
                  else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _remove(temp)
            raise
        self._pending.append((temp, path))

    def commit(self) -> None:
        """Rename every temporary over its target (a link there is replaced, not
        followed)."""
        pending, self._pending = self._pending, []
        piped, self._piped = self._piped, []
        try:
            while pending:
                temp, path = pending[0]
                os.replace(temp, path)
                pending.pop(0)
                _fsync_folder(path.parent)
            for buffer, path in piped:
                buffer.seek(0)
                with open(path, "ab") as stream:    # a device or FIFO: no truncation
                    shutil.copyfileobj(buffer, stream)
        finally:
            for temp, _ in pending:
                _remove(temp)
            for buffer, _ in piped:
                buffer.close()

    def discard(self) -> None:
        """Delete every temporary; no target is touched."""
        pending, self._pending = self._pending, []
        for temp, _ in pending:
            _remove(temp)
        piped, self._piped = self._piped, []
        for buffer, _ in piped:
            buffer.close()

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _remove(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def read_capped(path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, which must hold at most ``limit`` bytes.

    The file is opened without blocking and checked on the open descriptor, so a FIFO,
    a device or a socket is refused at once instead of hanging or reading forever, and
    a file swapped for one of those between a check and the open is caught too.

    Args:
        path: the file to read (a symbolic link to a regular file is followed).
        limit: the most bytes accepted.

    Returns:
        The file's contents.

    Raises:
        FileProblem: naming the path, for a file that cannot be opened, is not a
            regular file, or holds more than ``limit`` bytes.
    """
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise FileProblem(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"{str(path)!r} is not a regular file ({_kind(info.st_mode)})")
        too_big = FileProblem(f"{str(path)!r} is larger than the {limit:,} bytes "
                              f"read at most")
        if info.st_size > limit:
            raise too_big
        chunks, size = [], 0
        # The size can change after fstat (a file still being written): read one byte
        # past the cap to tell.
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise too_big
        return b"".join(chunks)
    except OSError as error:
        raise FileProblem(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name the same file: the same inode when both
    exist (through symbolic and hard links), else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_target(path, option: str) -> None:
    """Refuse, before any work, an output path that cannot be replaced by a file, or
    whose replacement would not be what was meant.

    A symbolic link is refused unless it leads to a device, FIFO or socket: replacing
    the link would leave the file it names as it was (and ``/dev/stdout`` is such a
    link), writing through it would let a link planted in a shared folder aim the
    output at any file.

    Raises:
        FileProblem: when ``path``'s folder is missing or not a folder, ``path`` is a
            folder, or a link to a regular file (or to nothing).
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        why = "does not exist" if not os.path.lexists(parent) else "is not a folder"
        raise FileProblem(f"{option}: cannot write {str(path)!r}: {str(parent)!r} {why}")
    if os.path.isdir(path):                   # a link to a folder too
        raise FileProblem(f"{option}: cannot write {str(path)!r}: it is a folder")
    if os.path.islink(path) and not _is_stream(path):
        raise FileProblem(f"{option}: {str(path)!r} is a symbolic link; name the file "
                          f"to write itself")
