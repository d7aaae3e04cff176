"""Argument parsing shared by the subcommands."""

from __future__ import annotations

import argparse

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
