"""VDSR's two claims, reproduced with our trainer, as plots (Kim et al., CVPR 2016, Figs. 4 and 5).

    python benchmarks/ablation_vdsr.py residual  [--steps 600] [--data-dir ../shared/data]
    python benchmarks/ablation_vdsr.py clipping  [--steps 600] [--data-dir ../shared/data]

``residual``: the same 20-layer network trained to predict the residual over
bicubic versus the image itself (same recipe otherwise); plots Set5 x2 PSNR
against steps to ``docs/figures/vdsr_residual.png``.

``clipping``: SGD at the paper's learning rate 0.1 with adjustable clipping
(theta = 0.01) versus no clipping; the unclipped run diverges (its curve stops
where the loss became NaN).  Plot: ``docs/figures/vdsr_clipping.png``.

Each run is an ordinary ``superres train`` of ``recipes/vdsr-fast.toml`` or
``recipes/vdsr-paper.toml`` with overrides, in ``runs/ablation-*``.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

from superres.cli.common import add_data_dir, positive_int
from superres.data.datasets import find_data_dir
from superres.errors import OneLineParser, TrainingError, one_line_errors
from superres.training.config import load_config
from superres.training.plots import script_pyplot
from superres.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent


CLAIMS = {
    "residual": (
        "recipes/vdsr-fast.toml",
        {"residual learning": ["model.args={ depth = 20, width = 64, residual = true }"],
         "image learning": ["model.args={ depth = 20, width = 64, residual = false }"]},
    ),
    "clipping": (
        "recipes/vdsr-paper.toml",
        {"adjustable clipping (theta 0.01)": ['clip.mode="adjustable"', "clip.value=0.01"],
         "no clipping": ['clip.mode="none"']},
    ),
}


def run_curve(
    recipe: str, overrides: list[str], steps: int, tag: str, data_dir: str | None, reuse: bool = False
) -> tuple[list[tuple[int, float]], str]:
    """Set5 x2 PSNR against steps of one run, and a note (``""`` or how it diverged).

    With ``reuse``, a run already finished in ``runs/ablation-<tag>`` with the same
    configuration is read back instead of trained again.
    """
    common = [f"train.steps={steps}", f"train.val_every={max(1, steps // 6)}", "train.val_scales=[2]",
              "train.batch_size=16", "data.patch_size=41", f'name="ablation-{tag}"']
    config = load_config(ROOT / recipe, common + overrides)
    run_dir = ROOT / "runs" / f"ablation-{tag}"
    log = run_dir / "log.csv"
    note = ""
    finished = reuse and log.exists() and (run_dir / "config.json").exists() and \
        json.loads((run_dir / "config.json").read_text()) == json.loads(json.dumps(config.to_dict())) and \
        _last_step(log) == steps
    if not finished:
        try:
            Trainer(config, run_dir, data_dir=data_dir, progress=False).train(restart=True)
        except TrainingError as exc:  # the unclipped run is expected to blow up
            print(f"{tag}: {exc}")
            found = re.search(r"at step (\d+)", str(exc))
            note = f"diverged: loss NaN at step {found.group(1)}" if found else "diverged"
    if not log.exists():  # it blew up before its first log line
        return [], note
    with open(log, newline="") as handle:
        return [(int(r["step"]), float(r["val_psnr"])) for r in csv.DictReader(handle) if r["val_psnr"]], note


def _bicubic_set5_x2(data_dir: str | None) -> float:
    from superres.evaluation.benchmark import evaluate_method
    from superres.methods.registry import get_method

    return evaluate_method(get_method("bicubic"), "Set5", 2.0, data_dir=data_dir).mean_psnr


def _last_step(log: Path) -> int:
    with open(log, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return int(rows[-1]["step"]) if rows else 0


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("claim", choices=sorted(CLAIMS))
    parser.add_argument("--steps", type=positive_int, default=600)
    add_data_dir(parser)
    parser.add_argument("--reuse", action="store_true", help="read back runs already finished with the same settings")
    args = parser.parse_args(argv)
    find_data_dir(args.data_dir)  # before the work
    plt = script_pyplot()  # before the work: a missing matplotlib fails at once

    recipe, variants = CLAIMS[args.claim]
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, overrides in variants.items():
        tag = f"{args.claim}-{label.split()[0]}"
        curve, note = run_curve(recipe, overrides, args.steps, tag, args.data_dir, args.reuse)
        print(label, curve, note)
        if curve:
            ax.plot([c[0] for c in curve], [c[1] for c in curve], "o-", label=label + (f" ({note})" if note else ""))
        else:  # nothing to draw: say so in the legend, with a marker at the bottom of the axis
            ax.plot([], [], "x", color="red", markersize=10, label=f"{label}: {note or 'no validation point'}")
    bicubic = _bicubic_set5_x2(args.data_dir)
    ax.axhline(bicubic, color="gray", linestyle="--", linewidth=1, label=f"bicubic ({bicubic:.2f} dB)")
    ax.set_xlabel("training step")
    ax.set_ylabel("Set5 x2 PSNR (dB)")
    ax.set_title(f"VDSR: {args.claim}")
    ax.legend()
    out = ROOT / "docs" / "figures" / f"vdsr_{args.claim}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
