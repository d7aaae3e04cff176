"""``superres`` command line: ``main(argv) -> int``, one module per subcommand.

Every expected failure is a :class:`~superres.errors.SuperresError`; this is
the one place that turns it into a one-line message on stderr and exit code 1
(2 for usage errors, from argparse; 130 on Ctrl-C; 143 on SIGTERM, after the same clean-up).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from superres import __version__
from superres.errors import OneLineParser, exit_status

# name -> module; each module has add_parser(subparsers) and run(args) -> int
SUBCOMMANDS: dict[str, str] = {
    "upscale": "superres.cli.upscale",
    "evaluate": "superres.cli.evaluate",
    "methods": "superres.cli.methods",
    "models": "superres.cli.models",
    "resize": "superres.cli.resize",
    "degrade": "superres.cli.degrade",
    "train": "superres.cli.train",
    "export": "superres.cli.export",
    "compare": "superres.cli.compare",
}





def build_parser() -> argparse.ArgumentParser:
    """The ``superres`` parser, with a subcommand for each module of :data:`SUBCOMMANDS` that exists."""
    parser = OneLineParser(prog="superres", description="Single-image super-resolution toolkit.")
    parser.add_argument("--version", action="version", version=f"superres {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # subcommand not written yet
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``superres`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status (errors as one line on stderr)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the command as typed, for records such as model cards
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return exit_status(lambda: args.run(args), prog="superres")


def entry_point() -> None:
    """Console-script entry: exit with the status of :func:`main`."""
    sys.exit(main())
