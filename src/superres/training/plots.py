"""Plots of training logs (loss and validation PSNR against steps)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from superres.errors import OneLineParser, SuperresError, one_line_errors

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["plot_compared_logs", "plot_training_log", "pyplot", "read_log", "script_pyplot"]


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the file-only Agg backend; a one-line error naming the
    ``plots`` extra when matplotlib is not installed (it is optional: only figures need it).
    Scripts call it before their long work, so a missing matplotlib fails in the first second."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SuperresError("plotting needs matplotlib: pip install -e '.[plots]' (or pip install matplotlib)") from None
    return plt


def script_pyplot() -> ModuleType:
    """:func:`pyplot` for a script's ``main``: a missing matplotlib exits with its one-line message."""
    try:
        return pyplot()
    except SuperresError as exc:
        raise SystemExit(f"error: {exc}") from None


def read_log(path: Path) -> list[dict]:
    """The rows of a training ``log.csv``, as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def plot_training_log(log_csv: Path, out_png: Path, *, title: str = "") -> Path | None:
    """Write loss (log scale) and validation PSNR against steps; None if the log has no row.

    Raises :class:`SuperresError` if matplotlib is missing (the trainer, for which the plot
    is a by-product, catches it)."""
    plt = pyplot()
    rows = read_log(log_csv)
    if not rows:
        return None
    steps = [int(r["step"]) for r in rows]
    loss = [float(r["loss"]) for r in rows]
    val = [(int(r["step"]), float(r["val_psnr"])) for r in rows if r["val_psnr"]]
    fig, ax1 = plt.subplots(figsize=(7, 4))
    ax1.plot(steps, loss, color="tab:blue", linewidth=0.8)
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("training loss", color="tab:blue")
    if val:
        ax2 = ax1.twinx()
        ax2.plot([v[0] for v in val], [v[1] for v in val], "o-", color="tab:red", markersize=3)
        ax2.set_ylabel("validation PSNR (dB)", color="tab:red")
    ax1.set_title(title)
    return _save(plt, fig, Path(out_png))


def plot_compared_logs(logs: dict[str, Path], out_png: Path, *, title: str = "") -> Path:
    """Validation PSNR (left) and training loss (right, log scale) of several runs against steps,
    one line per run, labelled by the keys of ``logs`` (label -> ``log.csv``); a one-line
    :class:`SuperresError` for a log without rows."""
    plt = pyplot()
    runs = {label: read_log(log_csv) for label, log_csv in logs.items()}
    for label, rows in runs.items():
        if not rows:
            raise SuperresError(f"{str(logs[label])!r} has no rows yet: nothing to plot")
    fig, (ax_psnr, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rows in runs.items():
        val = [(int(r["step"]), float(r["val_psnr"])) for r in rows if r["val_psnr"]]
        if val:
            ax_psnr.plot(*zip(*val), "o-", markersize=3, label=label)
        ax_loss.plot([int(r["step"]) for r in rows], [float(r["loss"]) for r in rows], linewidth=0.8, label=label)
    ax_psnr.set_ylabel("validation PSNR (dB)")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("training loss")
    for ax in (ax_psnr, ax_loss):
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return _save(plt, fig, Path(out_png))


def _save(plt: ModuleType, fig, out_png: Path) -> Path:
    """Write ``fig`` whole or not at all (a temporary file renamed into place), and close it."""
    fig.tight_layout()
    tmp = out_png.with_name(f".{out_png.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=110)
        tmp.replace(out_png)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return out_png


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.training.plots RUN_DIR [RUN_DIR ...] [-o OUT.png] [--title T]``: redraw
    RUN_DIR/plot.png from RUN_DIR/log.csv; with several runs, draw them side by side into OUT.png."""
    parser = OneLineParser(prog="python -m superres.training.plots",
                           description=main.__doc__.split(": ", 1)[1].replace("\n    ", " "))
    parser.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="a `superres train --run-dir` folder")
    parser.add_argument("-o", "--output", type=Path,
                        help="the figure comparing several runs (.png; needed with more than one RUN_DIR)")
    parser.add_argument("--label", action="append", default=[], metavar="TEXT",
                        help="a run's name in the legend, in RUN_DIR order (default: the folder's name)")
    parser.add_argument("--title", help="the plot's title (default: the folder's name)")
    args = parser.parse_args(argv)
    logs = [run_dir / "log.csv" for run_dir in args.run_dirs]
    for log in logs:
        if not log.is_file():
            raise SuperresError(f"{str(log)!r} does not exist: RUN_DIR is the folder of a training run")
    if args.label and len(args.label) != len(logs):
        raise SuperresError(f"{len(args.label)} --label for {len(logs)} RUN_DIRs: give one per run or none")
    labels = args.label or [run_dir.resolve().name for run_dir in args.run_dirs]
    if len(set(labels)) != len(labels):
        raise SuperresError("two runs have the same label: give each a --label")
    if len(logs) == 1 and args.output is None:
        written = plot_training_log(logs[0], args.run_dirs[0] / "plot.png", title=args.title or labels[0])
        if written is None:
            raise SuperresError(f"{str(logs[0])!r} has no rows yet: nothing to plot")
    else:
        if args.output is None:
            raise SuperresError("several runs go into one figure: name it with -o OUT.png")
        if args.output.suffix.lower() != ".png":
            raise SuperresError(f"{str(args.output)!r}: the figure is written as .png")
        if not args.output.parent.is_dir():
            raise SuperresError(f"{str(args.output.parent)!r} is not a folder")
        written = plot_compared_logs(dict(zip(labels, logs)), args.output, title=args.title or "")
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
