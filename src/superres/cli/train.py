"""``superres train RECIPE [--set key=value ...]``: train a model from a recipe file.

Runs under ``torchrun --nproc-per-node N -m superres train ...`` unchanged
(DistributedDataParallel; gloo on CPU, NCCL on GPU).
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from pathlib import Path

from superres.cli.common import add_data_dir
from superres.errors import InvalidArgumentError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a recipe (recipes/*.toml)")
    p.add_argument("recipe", type=Path, help="recipe file (TOML)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe key, e.g. --set optim.lr=1e-4 (repeatable)")
    p.add_argument("--run-dir", type=Path, help="where checkpoints, logs and weights go (default: runs/<name>)")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start from step 0")
    p.add_argument("--allow-changes", action="store_true",
                   help="resume a checkpoint made with other settings (not another model), going on with the "
                        "new ones, e.g. a lower learning rate (default: refuse, so that a resume continues "
                        "the run exactly)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--time-budget", type=float, metavar="SECONDS",
                   help="fit the run to this wall-clock time: measure the speed over the first steps, "
                        "then lower train.steps to what fits (recorded in the card)")
    add_data_dir(p)
    p.set_defaults(run=run)


def _check_run_dir(run_dir: Path) -> None:
    """A run folder that is a file, or lies under one, or cannot be made: one line, before any work."""
    if run_dir.exists() and not run_dir.is_dir():
        raise InvalidArgumentError(f"--run-dir {str(run_dir)!r} is a file, not a folder")
    existing = run_dir
    while not existing.exists():  # the nearest existing folder above: the run folder is made in it
        if existing.parent == existing:
            return
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidArgumentError(f"cannot make run folder {str(run_dir)!r}: {str(existing)!r} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidArgumentError(f"cannot write run folder {str(run_dir)!r}: {str(existing)!r} is not writable")


def run(args: argparse.Namespace) -> int:
    from superres.training.config import load_config
    from superres.training.trainer import Trainer

    if args.time_budget is not None and not (math.isfinite(args.time_budget) and args.time_budget > 0):
        raise InvalidArgumentError(f"--time-budget must be a positive number of seconds, got {args.time_budget}")
    config = load_config(args.recipe, args.overrides)
    run_dir = args.run_dir or Path("runs") / config.name
    _check_run_dir(run_dir)
    # the card records the command as typed, whatever started it (`superres`, `python -m superres`,
    # torchrun, main([...])): --time-budget, --run-dir and --data-dir belong to what the run was
    typed = getattr(args, "argv", None) or sys.argv[1:]
    command = "superres " + shlex.join(typed)
    trainer = Trainer(config, run_dir, data_dir=args.data_dir, progress=not args.quiet, command=command)
    result = trainer.train(restart=args.restart, time_budget_s=args.time_budget, allow_changes=args.allow_changes)
    if trainer.is_main:
        print(f"{config.name}: {result.step} steps, best validation PSNR {result.best_psnr:.3f} dB, "
              f"{result.wall_time_s / 60:.1f} min; weights in {result.run_dir}")
    return 0
