"""One exception tree for the whole package.

The CLI maps every :class:`SuperresError` to a one-line message and a non-zero
exit code; anything else is a bug and is allowed to show a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
import threading
from typing import Callable


class SuperresError(Exception):
    """Base class of every error superres raises on purpose."""


class ImageReadError(SuperresError):
    """An input file is missing, empty, corrupt, truncated, not an image or too large."""


class ImageWriteError(SuperresError):
    """An output file cannot be written (unwritable folder, unknown format, exists)."""


class UnknownNameError(SuperresError, KeyError):
    """A method, model, dataset or degradation name is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(SuperresError, ValueError):
    """An argument is out of its valid range (scale, size, option value)."""


class DataNotFoundError(SuperresError):
    """A data set or data folder cannot be found."""


class WeightsError(SuperresError):
    """Weights are missing, fail their checksum, or do not match their card."""


class TrainingError(SuperresError):
    """Training cannot continue (NaN loss, bad config, incompatible checkpoint)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler, a deadline) during a command: raised like Ctrl-C, so the
    same clean-up runs (temporary files and half-built folders are removed)."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Raise :class:`Terminated` on SIGTERM while the block runs (main thread only; the previous
    handler is put back). Python's default for SIGTERM ends the process without unwinding."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_status(command: Callable[[], int | None], prog: str = "") -> int:
    """Run a command and return its exit status: a :class:`SuperresError` becomes ``[PROG: ]error:
    MESSAGE`` on stderr and status 1, Ctrl-C status 130 (SIGTERM 143, after the same clean-up),
    a closed output pipe status 1; anything else is a bug and keeps its traceback. The
    ``superres`` CLI and every ``python -m`` command answer through it."""
    lead = f"{prog}: " if prog else ""
    try:
        with _sigterm_as_interrupt():
            return int(command() or 0)
    except SuperresError as exc:
        print(f"{lead}error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"{lead}terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"{lead}interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def one_line_errors(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Decorator for a module command's ``main(argv) -> int`` (``python -m superres....``): its
    errors are answered by :func:`exit_status`, as the ``superres`` CLI's are."""

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        return exit_status(lambda: main(argv))

    return run


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (and status 2), without the usage
    dump: the ``superres`` CLI's and every ``python -m superres....`` command's."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}\n")
