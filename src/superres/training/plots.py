"""Plots of training logs (loss and validation PSNR against steps)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from superres.errors import SuperresError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["plot_training_log", "pyplot", "read_log", "script_pyplot"]


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
    fig.tight_layout()
    out_png = Path(out_png)
    tmp = out_png.with_name(f".{out_png.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out_png)
    return out_png


def main(argv: list[str] | None = None) -> int:
    """``python -m superres.training.plots RUN_DIR [--title T]``: redraw RUN_DIR/plot.png from RUN_DIR/log.csv."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m superres.training.plots", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a `superres train --run-dir` folder")
    parser.add_argument("--title", help="the plot's title (default: the folder's name)")
    args = parser.parse_args(argv)
    log = args.run_dir / "log.csv"
    try:
        if not log.is_file():
            raise SuperresError(f"{str(log)!r} does not exist: RUN_DIR is the folder of a training run")
        written = plot_training_log(log, args.run_dir / "plot.png", title=args.title or args.run_dir.resolve().name)
        if written is None:
            raise SuperresError(f"{str(log)!r} has no rows yet: nothing to plot")
    except SuperresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
