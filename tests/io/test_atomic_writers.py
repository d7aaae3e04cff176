"""atomic_write and the byte/text writers: temporary names, races, defaults, replace by rename."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from superres.io import atomic
from superres.io.atomic import atomic_write


def test_a_dangling_symlink_created_during_the_write_is_kept_when_not_overwriting(tmp_path: Path) -> None:
    target = tmp_path / "out.png"

    def encode(fp) -> None:
        target.symlink_to(tmp_path / "nowhere.png")  # another writer's link, after the first check
        fp.write(b"ours")

    with pytest.raises(FileExistsError):
        atomic_write(target, encode, overwrite=False)
    assert target.is_symlink() and os.readlink(target) == str(tmp_path / "nowhere.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_an_existing_temporary_name_is_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # another writer's temporary file of the same name is left alone: a fresh name is drawn
    tokens = iter(["aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: next(tokens))
    theirs = tmp_path / ".out.bin.aaaaaaaaaaaa.tmp"
    theirs.write_bytes(b"another writer's half-written file")
    atomic_write(tmp_path / "out.bin", lambda fp: fp.write(b"ours"), overwrite=False)
    assert theirs.read_bytes() == b"another writer's half-written file"
    assert (tmp_path / "out.bin").read_bytes() == b"ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.bin.aaaaaaaaaaaa.tmp", "out.bin"]


def test_the_new_file_gets_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "out.bin", lambda fp: fp.write(b"x"), overwrite=False)
    finally:
        os.umask(old)
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o644


def test_the_byte_and_text_writers_replace_by_default_and_write_utf8(tmp_path: Path) -> None:
    # the trainer rewrites last.json and its checkpoints with the defaults
    from superres.io.atomic import write_bytes_atomic, write_text_atomic

    path = tmp_path / "last.json"
    write_text_atomic(path, "first")
    write_text_atomic(path, "zweite Fassung: größer")
    assert path.read_bytes() == "zweite Fassung: größer".encode("utf-8")
    write_bytes_atomic(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    with pytest.raises(FileExistsError):
        write_bytes_atomic(path, b"no", overwrite=False)
    assert path.read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.json"]


def test_the_byte_writer_replaces_by_rename_not_in_place(tmp_path: Path) -> None:
    # a reader holding the old file (here: a hard link to it) never sees a half-written new one
    from superres.io.atomic import write_bytes_atomic

    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"old")
    os.link(path, tmp_path / "reader")
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert (tmp_path / "reader").read_bytes() == b"old"
