"""What a finished or stopped run did, read back from its folder (``log.csv``, ``config.json``).

The docs quote training speeds and validation steps of the committed runs in ``checkpoints/``;
this is the command those figures come from::

    python -m superres.training.summary checkpoints/vdsr-gpu-s13 checkpoints/vdsr-gpu-s13b
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from superres.errors import OneLineParser, SuperresError, one_line_errors
from superres.training.plots import read_log

__all__ = ["RunSummary", "summarize_run", "format_summaries", "main"]


@dataclass(frozen=True)
class RunSummary:
    name: str
    batch_size: int
    steps: int  # the last logged step
    planned_steps: int  # train.steps in config.json (fitted to the time budget where one was given)
    wall_s: float  # the trainer's clock at the last logged step, validations and checkpoints included
    median_steps_per_s: float  # the median of the logged intervals: the training speed, pauses left out
    best_val_psnr: float | None
    best_val_step: int | None

    @property
    def overall_steps_per_s(self) -> float:
        """Steps per second over the whole wall time, pauses included (NaN if no time is logged)."""
        return self.steps / self.wall_s if self.wall_s > 0 else float("nan")


def summarize_run(run_dir: str | Path) -> RunSummary:
    """Summarise ``run_dir``'s ``log.csv`` (one row per logged interval) and ``config.json``."""
    run_dir = Path(run_dir)
    rows = read_log(run_dir / "log.csv")
    if not rows:
        raise ValueError(f"{run_dir / 'log.csv'} has no rows")
    config = json.loads((run_dir / "config.json").read_text())
    batch_size = int(config["train"]["batch_size"])
    # samples_per_s is logged per interval; the first one holds the start-up (data, compilation)
    rates = [float(r["samples_per_s"]) / batch_size for r in rows[1:] if r.get("samples_per_s")]
    validations = [(float(r["val_psnr"]), int(r["step"])) for r in rows if r.get("val_psnr")]
    best = max(validations, key=lambda v: (v[0], -v[1])) if validations else None
    best_card = run_dir / "best.json"
    if best is not None and best_card.is_file():
        # the log rounds to 4 decimals; the best weights' card has the trainer's own pick
        training = json.loads(best_card.read_text()).get("training", {})
        if training.get("best_val_psnr") is not None and training.get("steps") is not None:
            best = (float(training["best_val_psnr"]), int(training["steps"]))
    return RunSummary(
        name=run_dir.name,
        batch_size=batch_size,
        steps=int(rows[-1]["step"]),
        planned_steps=int(config["train"]["steps"]),
        wall_s=float(rows[-1]["wall_s"]),
        median_steps_per_s=statistics.median(rates) if rates else float("nan"),
        best_val_psnr=best[0] if best else None,
        best_val_step=best[1] if best else None,
    )


def format_summaries(summaries: list[RunSummary]) -> str:
    """A markdown table, one row per run."""
    lines = [
        "| run | batch | steps | planned | wall s | steps/s overall | steps/s median | patches/s median | best val PSNR (step) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        best = f"{s.best_val_psnr:.3f} ({s.best_val_step})" if s.best_val_psnr is not None else "-"
        lines.append(
            f"| {s.name} | {s.batch_size} | {s.steps} | {s.planned_steps} | {s.wall_s:.1f} | "
            f"{s.overall_steps_per_s:.1f} | {s.median_steps_per_s:.1f} | "
            f"{s.median_steps_per_s * s.batch_size:.0f} | {best} |"
        )
    return "\n".join(lines)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.training.summary RUN_DIR ...``: print the table; returns the exit status."""
    parser = OneLineParser(prog="python -m superres.training.summary", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="the folder of a training run")
    args = parser.parse_args(argv)
    for run in args.run_dirs:
        if not (run / "log.csv").is_file():
            raise SuperresError(f"{str(run / 'log.csv')!r} does not exist: RUN_DIR is the folder of a training run")
    try:
        print(format_summaries([summarize_run(d) for d in args.run_dirs]))
    except (OSError, ValueError, KeyError) as error:  # a log or config that is not a run's
        raise SuperresError(f"cannot summarise: {error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
