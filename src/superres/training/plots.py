"""Plots of training logs (loss and validation PSNR against steps)."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["plot_training_log", "read_log"]


def read_log(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def plot_training_log(log_csv: Path, out_png: Path, *, title: str = "") -> Path | None:
    """Write loss (log scale) and validation PSNR against steps; None if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
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


if __name__ == "__main__":
    # python -m superres.training.plots RUN_DIR [TITLE]: redraw RUN_DIR/plot.png from RUN_DIR/log.csv
    import sys

    run = Path(sys.argv[1])
    print(plot_training_log(run / "log.csv", run / "plot.png", title=sys.argv[2] if len(sys.argv) > 2 else run.name))
