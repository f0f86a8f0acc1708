"""cyclr._files: outputs that replace their targets whole or not at all, and a reader
that takes only a bounded regular file."""

import os
import stat

import pytest

from cyclr import _files


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_outputs_appear_together_when_the_block_ends(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.bin"
    a.write_text("old a\n")
    with _files.Outputs() as out:
        out.write(a, lambda f: f.write("new a\r\n"))
        out.write(b, lambda f: f.write(b"\x00\xff"), binary=True)
        # Nothing is in place until every output is complete.
        assert a.read_text() == "old a\n" and not b.exists()
        assert len(names(tmp_path)) == 3          # a.csv and two temporaries
    assert a.read_bytes() == b"new a\r\n"         # text is UTF-8, newlines untouched
    assert b.read_bytes() == b"\x00\xff"
    assert names(tmp_path) == ["a.csv", "b.bin"]


def test_a_failing_writer_leaves_every_target_as_it_was(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.png"
    a.write_bytes(b"first\n")
    b.write_bytes(b"\x89PNG old")

    def half_then_fail(f):
        f.write(b"\x89PNG new, half written")
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError, match="renderer failed"):
        with _files.Outputs() as out:
            out.write(a, lambda f: f.write("second\n"))
            out.write(b, half_then_fail, binary=True)
    assert a.read_bytes() == b"first\n" and b.read_bytes() == b"\x89PNG old"
    assert names(tmp_path) == ["a.csv", "b.png"]   # no temporary left behind


def test_a_link_at_the_target_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    with _files.Outputs() as out:
        out.write(link, lambda f: f.write("step,lr\n"))
    assert victim.read_bytes() == b"precious"
    assert not link.is_symlink() and link.read_text() == "step,lr\n"


def test_permissions_follow_the_umask_or_the_replaced_file(tmp_path):
    old = os.umask(0o027)
    try:
        with _files.Outputs() as out:
            out.write(tmp_path / "new", lambda f: f.write("x"))
    finally:
        os.umask(old)
    # A plain open() would give 0o640 under this umask; mkstemp alone gives 0o600.
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640
    kept = tmp_path / "kept"
    kept.write_text("x")
    kept.chmod(0o604)
    with _files.Outputs() as out:
        out.write(kept, lambda f: f.write("y"))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() == "y"


def test_a_target_in_a_missing_folder_fails_before_anything_is_written(tmp_path):
    with pytest.raises(FileNotFoundError):
        with _files.Outputs() as out:
            out.write(tmp_path / "missing" / "x.csv", lambda f: f.write("x"))
    assert names(tmp_path) == []
    with pytest.raises(_files.FileProblem, match="'missing' does not exist|does not exist"):
        _files.check_target(tmp_path / "missing" / "x.csv", "--csv")
    (tmp_path / "file").write_text("")
    with pytest.raises(_files.FileProblem, match="is not a folder"):
        _files.check_target(tmp_path / "file" / "x.csv", "--csv")
    with pytest.raises(_files.FileProblem, match="it is a folder"):
        _files.check_target(tmp_path, "--csv")


def test_read_capped_reads_regular_files_up_to_the_cap(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b"x" * 100)
    assert _files.read_capped(path, 100) == b"x" * 100
    with pytest.raises(_files.FileProblem, match="larger than the 99 bytes"):
        _files.read_capped(path, 99)
    link = tmp_path / "link.json"
    link.symlink_to(path)                      # a link to a regular file is read
    assert _files.read_capped(link, 100) == b"x" * 100
    with pytest.raises(_files.FileProblem, match="cannot read .*No such file"):
        _files.read_capped(tmp_path / "nope", 100)


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.mkdir(), "a folder"),
], ids=["fifo", "folder"])
def test_read_capped_refuses_what_is_not_a_regular_file(tmp_path, make, kind):
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(_files.FileProblem, match=f"is not a regular file \\({kind}\\)"):
        _files.read_capped(path, 1 << 20)


def test_read_capped_refuses_a_device():
    with pytest.raises(_files.FileProblem, match="character device"):
        _files.read_capped("/dev/zero", 1 << 20)


def test_same_file_sees_through_links(tmp_path):
    a = tmp_path / "a.json"
    a.write_text("{}")
    (tmp_path / "soft").symlink_to(a)
    os.link(a, tmp_path / "hard")
    assert _files.same_file(a, tmp_path / "soft")
    assert _files.same_file(a, tmp_path / "hard")
    assert _files.same_file(a, tmp_path / "." / "a.json")
    assert not _files.same_file(a, tmp_path / "b.json")
    # Neither exists yet: the same resolved path is the same file.
    assert _files.same_file(tmp_path / "x.png", tmp_path / "sub" / ".." / "x.png")


def test_a_link_to_a_file_is_refused_as_a_target(tmp_path):
    (tmp_path / "real.csv").write_text("x")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    with pytest.raises(_files.FileProblem, match="is a symbolic link"):
        _files.check_target(tmp_path / "link.csv", "--csv")
    (tmp_path / "null").symlink_to("/dev/null")
    _files.check_target(tmp_path / "null", "--csv")    # a link to a device is fine


def test_streams_are_written_into_after_every_output_is_rendered(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(RuntimeError):
        with _files.Outputs(streams=True) as out:
            # Rendered, not yet written: a FIFO without a reader would block here.
            out.write(fifo, lambda f: f.write("rows\n"))
            raise RuntimeError("a later output failed")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with _files.Outputs(streams=True) as out:
        out.write("/dev/null", lambda f: f.write(b"x" * 100), binary=True)
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
