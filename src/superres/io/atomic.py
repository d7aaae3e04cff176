"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

An interrupted run never leaves a half-written file, and (without
``overwrite``) never replaces an existing one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["atomic_write", "write_bytes_atomic", "write_text_atomic", "is_same_file", "refuse_to_replace_inputs",
           "check_output_path"]


def is_same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether paths ``a`` and ``b`` name one file (through ``.``, ``..``, symlinks or hard links)."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_to_replace_inputs(target: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]], *,
                             what: str = "the output") -> None:
    """Raise ``ImageWriteError`` if ``target`` is one of ``inputs`` (paths): a command never
    writes over what it reads, ``--overwrite`` or not."""
    from superres.errors import ImageWriteError

    for source in inputs:
        if is_same_file(source, target):
            raise ImageWriteError(f"{what} {os.fspath(target)!r} would replace the input {os.fspath(source)!r}; give another name")


def check_output_path(target: Path, *, overwrite: bool, name: str | None = None) -> None:
    """Raise ``ImageWriteError`` unless ``target`` can be written: its folder exists and is one,
    it is not itself a folder, and it does not exist unless ``overwrite``."""
    from superres.errors import ImageWriteError

    name = os.fspath(target) if name is None else name
    parent = target.parent
    if not parent.exists():
        raise ImageWriteError(f"cannot write {name!r}: folder {os.fspath(parent)!r} does not exist")
    if not parent.is_dir():
        raise ImageWriteError(f"cannot write {name!r}: {os.fspath(parent)!r} is not a folder")
    if target.is_dir():
        raise ImageWriteError(f"cannot write {name!r}: is a directory")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise ImageWriteError(f"{name!r} exists (use --overwrite)")


def atomic_write(target: Path, encode: Callable[[IO[bytes]], None], overwrite: bool) -> None:
    """Write ``target`` by calling ``encode(file)`` on a temporary file, then renaming it.

    Raises ``FileExistsError`` if ``target`` exists and ``overwrite`` is false.
    """
    parent = target.parent
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for attempt in range(100):
        # Same folder, so os.replace is a rename; 0o666 lets the umask decide
        # the final permissions as for any new file.
        temp = parent / f".{target.name[:100]}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, flags, 0o666)
            break
        except FileExistsError:
            if attempt == 99:
                raise OSError(f"cannot create a temporary file in {os.fspath(parent)!r}") from None
    try:
        with os.fdopen(fd, "wb") as fp:
            encode(fp)
            fp.flush()
            os.fsync(fp.fileno())
        # Check again just before the rename, narrowing the race with another writer.
        if not overwrite and (target.exists() or target.is_symlink()):
            raise FileExistsError(str(target))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)




def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(Path(path), lambda fp: fp.write(data), overwrite)


def write_text_atomic(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), overwrite=overwrite)
