"""Argument parsing shared by the subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from pathlib import Path

from superres.errors import InvalidArgumentError


def parse_scale(text: str) -> float:
    """A scale factor such as ``3`` or ``2.5`` (argparse type; the range of :func:`checked_scale`)."""
    from superres.methods.base import MAX_SCALE, checked_scale

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: not a number") from None
    try:
        return checked_scale(value)
    except InvalidArgumentError:
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: must be above 1 and at most {MAX_SCALE}") from None


def parse_scales(text: str) -> list[float]:
    """A non-empty comma-separated list of scales (argparse type), each once: ``2,2`` would
    run everything twice and print the cell twice in some formats and once in others."""
    scales = [parse_scale(part) for part in text.split(",") if part.strip()]
    if not scales:
        raise argparse.ArgumentTypeError(f"invalid scale {text!r}: give at least one, e.g. 2 or 2,3,4")
    return list(dict.fromkeys(scales))


def parse_list(text: str) -> list[str]:
    """A comma-separated list of names (argparse type), each once."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise argparse.ArgumentTypeError("empty list")
    return list(dict.fromkeys(items))


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """Add the ``--data-dir`` option (the folder with benchmark/ and train/) to ``parser``."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder with benchmark/ and train/ (default: $SUPERRES_DATA, ./data or ../shared/data)",
    )


def memory_size(text: str) -> int:
    """A memory budget such as ``4G`` or ``512M``, in bytes (argparse type)."""
    from superres.inference.device import parse_memory

    try:
        return parse_memory(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def require(condition: bool, message: str) -> None:
    """Raise ``InvalidArgumentError(message)`` unless ``condition``."""
    if not condition:
        raise InvalidArgumentError(message)


def check_output_file(target: Path, inputs: Iterable[Path], *, overwrite: bool, what: str = "the output") -> None:
    """Refuse, before any work, an output file that cannot or may not be written: one of
    ``inputs`` (``--overwrite`` or not), a folder, a missing or non-folder parent, a parent we
    may not write in, or an existing file without ``overwrite``.  Raises ``ImageWriteError``."""
    from superres.errors import ImageWriteError
    from superres.io.atomic import check_output_path, refuse_to_replace_inputs

    refuse_to_replace_inputs(target, inputs, what=what)
    check_output_path(target, overwrite=overwrite)
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise ImageWriteError(f"cannot write {os.fspath(target)!r}: permission denied")


def check_image_output(target: Path, inputs: Iterable[Path], *, overwrite: bool, what: str = "the output") -> None:
    """:func:`check_output_file` for an image, whose extension must also be one we write."""
    from superres.io import check_extension

    check_extension(target)
    check_output_file(target, inputs, overwrite=overwrite, what=what)
