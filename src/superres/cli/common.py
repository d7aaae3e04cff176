"""Argument parsing shared by the subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from superres.errors import InvalidArgumentError


def parse_scale(text: str) -> float:
    """A scale factor such as ``3`` or ``2.5`` (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: not a number") from None
    if not (1 <= value <= 64):
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: must be between 1 and 64")
    return value


def parse_scales(text: str) -> list[float]:
    """A comma-separated list of scales (argparse type)."""
    return [parse_scale(part) for part in text.split(",") if part.strip()]


def parse_list(text: str) -> list[str]:
    """A comma-separated list of names (argparse type)."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise argparse.ArgumentTypeError("empty list")
    return items


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder with benchmark/ and train/ (default: $SUPERRES_DATA, ./data or ../shared/data)",
    )


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidArgumentError(message)


def check_output_file(target: Path, inputs: Iterable[Path], *, overwrite: bool, what: str = "the output") -> None:
    """Refuse, before any work, an output file that cannot or may not be written: one of
    ``inputs`` (``--overwrite`` or not), a folder, a missing or non-folder parent, a parent we
    may not write in, or an existing file without ``overwrite``.  Raises ``ImageWriteError``."""
    from superres.errors import ImageWriteError
    from superres.io.atomic import refuse_to_replace_inputs

    name = os.fspath(target)
    refuse_to_replace_inputs(target, inputs, what=what)
    parent = target.parent
    if not parent.exists():
        raise ImageWriteError(f"cannot write {name!r}: folder {os.fspath(parent)!r} does not exist")
    if not parent.is_dir():
        raise ImageWriteError(f"cannot write {name!r}: {os.fspath(parent)!r} is not a folder")
    if target.is_dir():
        raise ImageWriteError(f"cannot write {name!r}: is a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ImageWriteError(f"cannot write {name!r}: permission denied")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise ImageWriteError(f"{name!r} exists (use --overwrite)")


def check_image_output(target: Path, inputs: Iterable[Path], *, overwrite: bool, what: str = "the output") -> None:
    """:func:`check_output_file` for an image, whose extension must also be one we write."""
    from superres.errors import ImageWriteError
    from superres.io import SUPPORTED_EXTENSIONS

    if target.suffix.lower() not in SUPPORTED_EXTENSIONS:
        shown = repr(target.suffix) if target.suffix else "no extension"
        raise ImageWriteError(f"cannot write {os.fspath(target)!r}: unknown image extension {shown} "
                              f"(use {', '.join(sorted(SUPPORTED_EXTENSIONS))})")
    check_output_file(target, inputs, overwrite=overwrite, what=what)
