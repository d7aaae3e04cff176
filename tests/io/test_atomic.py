"""atomic_write on its own: a writer that appears while we encode is not overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from superres.io.atomic import atomic_write


def test_a_file_created_during_the_write_is_kept_when_not_overwriting(tmp_path: Path) -> None:
    target = tmp_path / "out.png"

    def encode(fp) -> None:
        target.write_bytes(b"another writer")  # appears after the first existence check
        fp.write(b"ours")

    with pytest.raises(FileExistsError):
        atomic_write(target, encode, overwrite=False)
    assert target.read_bytes() == b"another writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary file left


def test_overwrite_replaces_and_a_failed_encode_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    atomic_write(target, lambda fp: fp.write(b"new"), overwrite=True)
    assert target.read_bytes() == b"new"

    def failing(fp) -> None:
        fp.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, failing, overwrite=True)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_refuse_to_replace_inputs_sees_through_dots_symlinks_and_hard_links(tmp_path: Path) -> None:
    import os

    from superres.errors import ImageWriteError
    from superres.io.atomic import refuse_to_replace_inputs

    source = tmp_path / "in.png"
    source.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(source)
    os.link(source, tmp_path / "hard.png")
    for target in (source, tmp_path / "." / "in.png", tmp_path / "link.png", tmp_path / "hard.png"):
        with pytest.raises(ImageWriteError, match="would replace the input"):
            refuse_to_replace_inputs(target, [tmp_path / "other.png", source])
    refuse_to_replace_inputs(tmp_path / "new.png", [source])  # a new name is fine
