"""Atomic writes: dangling symlinks, interrupts, hidden temporary names, durable renames."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from superres.errors import ImageWriteError
from superres.io import atomic
from superres.io.atomic import atomic_write, check_output_path


def test_a_dangling_symlink_counts_as_an_existing_output(tmp_path: Path) -> None:
    link = tmp_path / "out.png"
    link.symlink_to(tmp_path / "nowhere.png")
    with pytest.raises(ImageWriteError, match="exists"):
        check_output_path(link, overwrite=False)
    check_output_path(link, overwrite=True)


def test_an_interrupt_while_encoding_leaves_no_temporary_file(tmp_path: Path) -> None:
    def interrupted(fp) -> None:
        fp.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "out.bin", interrupted, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_is_hidden_while_it_is_written(tmp_path: Path) -> None:
    seen = []
    atomic_write(tmp_path / "out.bin", lambda fp: seen.extend(p.name for p in tmp_path.iterdir()), overwrite=False)
    assert len(seen) == 1 and seen[0].startswith(".") and seen[0].endswith(".tmp")


def test_the_file_and_then_its_folder_are_synced(tmp_path: Path, monkeypatch) -> None:
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        return real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    atomic_write(tmp_path / "out.bin", lambda fp: fp.write(b"data"), overwrite=False)
    assert synced == ["file", "folder"]
