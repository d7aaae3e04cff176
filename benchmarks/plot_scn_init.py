"""SCN x2 from the sparse-coding start versus a random start (Wang et al., ICCV 2015, Fig. 4), as a plot.

    python benchmarks/plot_scn_init.py --dictionary runs/scn-dict/scsr-dict.T91-128-x2.safetensors \\
        --steps 3000 --val-every 250 [--data-dir ../shared/data] [--set train.threads=2]

Two ordinary trainings of ``recipes/scn-x2.toml`` (its ``model.init_from`` replaced by
SCN weights made here from ``--dictionary`` with
:func:`superres.models.scn.write_dictionary_start`) and ``recipes/scn-x2-random.toml``,
same seed, so the same batches; each in ``<runs-dir>/scn-init-<start>``.  Set5 x2 PSNR is
measured at step 0 (the start itself) and every ``--val-every`` steps by the
trainer's own validation; the training loss comes from the runs' ``log.csv``.
Writes ``docs/figures/scn_init.png`` and the curves as ``scn_init.json`` beside it.
Needs matplotlib.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from superres.cli.common import add_data_dir, positive_int
from superres.data.datasets import find_data_dir
from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors
from superres.models.scn import write_dictionary_start
from superres.training.config import load_config
from superres.training.plots import script_pyplot
from superres.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent


def run_curves(recipe: str, overrides: list[str], steps: int, val_every: int, run_dir: Path, data_dir: str | None) -> dict:
    """Train ``steps`` steps; ``{"psnr": [(step, dB)], "loss": [(step, loss)]}`` with the step-0 PSNR first."""
    common = [f"train.steps={steps}", f"train.val_every={val_every}", "train.val_scales=[2]",
              f"train.log_every={max(1, min(50, val_every // 5))}", f'name="{run_dir.name}"']
    config = load_config(ROOT / recipe, common + overrides)
    trainer = Trainer(config, run_dir, data_dir=data_dir, progress=False)
    start = trainer.validate(trainer.build_model().to(trainer.device), {"step": 0, "wall_time_s": 0.0})
    trainer.train(restart=True)
    with open(run_dir / "log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    psnr = [(0, start)] + [(int(r["step"]), float(r["val_psnr"])) for r in rows if r["val_psnr"]]
    return {"psnr": psnr, "loss": [(int(r["step"]), float(r["loss"])) for r in rows]}


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dictionary", default="runs/scn-dict/scsr-dict.T91-128-x2.safetensors",
                        help="coupled dictionary of the sparse-coding start (its atoms set the SCN's)")
    parser.add_argument("--steps", type=positive_int, default=3000)
    parser.add_argument("--val-every", type=positive_int, default=250)
    parser.add_argument("--stages", type=positive_int, default=1, help="LISTA recurrent stages")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for both runs, e.g. train.batch_size=16 (repeatable)")
    add_data_dir(parser)
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs", help="where the two runs go")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "figures" / "scn_init.png")
    args = parser.parse_args(argv)
    if not Path(args.dictionary).is_file():
        raise InvalidArgumentError(f"--dictionary {args.dictionary!r} does not exist (learn it with "
                                   "python -m superres.methods.sparse_coding.dictionary)")
    find_data_dir(args.data_dir)  # before the work: the data folder, and the overrides on both recipes
    for recipe in ("recipes/scn-x2.toml", "recipes/scn-x2-random.toml"):
        load_config(ROOT / recipe, args.overrides)
    plt = script_pyplot()  # before the work: a missing matplotlib fails at once

    start, _ = write_dictionary_start(args.dictionary, args.runs_dir / "scn-init-dictionary" / "start.safetensors", 2,
                                      stages=args.stages, data_dir=args.data_dir)
    from superres.weights.store import read_card

    atoms = read_card(start)["model_args"]["atoms"]
    model = f"model.args={{ features = 100, atoms = {atoms}, lr_patch = 9, hr_patch = 5, stages = {args.stages} }}"
    runs = {
        "dictionary": ("recipes/scn-x2.toml", [model, f'model.init_from="{start}"']),
        "random": ("recipes/scn-x2-random.toml", [model]),
    }
    curves = {}
    for tag, (recipe, overrides) in runs.items():
        run_dir = args.runs_dir / f"scn-init-{tag}"
        curves[tag] = run_curves(recipe, overrides + args.overrides, args.steps, args.val_every, run_dir, args.data_dir)
        print(tag, "Set5 x2 PSNR:", " ".join(f"{s}:{p:.2f}" for s, p in curves[tag]["psnr"]))

    fig, (ax_psnr, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
    for tag, curve in curves.items():
        label = f"{'sparse-coding' if tag == 'dictionary' else 'random'} start"
        ax_psnr.plot(*zip(*curve["psnr"]), "o-", ms=3, label=label)
        ax_loss.semilogy(*zip(*curve["loss"]), label=label)
    from superres.evaluation.benchmark import evaluate_method
    from superres.methods.registry import get_method

    bicubic = evaluate_method(get_method("bicubic"), "Set5", 2.0, data_dir=args.data_dir).mean_psnr
    ax_psnr.axhline(bicubic, color="gray", ls="--", lw=1, label=f"bicubic ({bicubic:.2f} dB)")
    ax_psnr.set_xlabel("training step")
    ax_psnr.set_ylabel("Set5 x2 PSNR (dB)")
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("training loss (MSE)")
    for ax in (ax_psnr, ax_loss):
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(f"SCN x2, {atoms} atoms, {args.stages} LISTA stage(s): sparse-coding vs random start")
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    record = {"dictionary": str(args.dictionary), "atoms": atoms, "stages": args.stages, "steps": args.steps,
              "overrides": args.overrides, "curves": curves}
    args.output.with_suffix(".json").write_text(json.dumps(record, indent=1))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
