"""SCN x2 ablation: LISTA stages x dictionary size, Set5 x2 PSNR after N training steps, as a markdown table.

    python benchmarks/ablation_scn.py --steps 2000 [--stages 1,2,3] [--atoms 64,128,256] \\
        [--init dictionary|random] [--data-dir ../shared/data] [--set train.threads=2] [-o table.md]

Each cell is an ordinary training of ``recipes/scn-x2.toml`` (``--init dictionary``:
started from ``<dictionary-dir>/scsr-dict.T91-<atoms>-x2.safetensors`` through
:func:`superres.models.scn.write_dictionary_start`; a missing dictionary is learned
first with the dictionary command, ``--dict-samples`` / ``--dict-iterations``) or of
``recipes/scn-x2-random.toml`` (``--init random``), with ``model.args`` set to the
cell's atoms and stages, the same seed and so the same batches, in
``<runs-dir>/ablation-scn-<atoms>-<stages>``.  A cell reads ``PSNR after N steps
(PSNR of the start)``, both measured by the trainer's validation.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import positive_int, positive_ints  # noqa: E402

from superres.cli.common import add_data_dir  # noqa: E402
from superres.data.datasets import find_data_dir  # noqa: E402
from superres.errors import OneLineParser, one_line_errors  # noqa: E402
from superres.models.scn import write_dictionary_start  # noqa: E402
from superres.training.config import load_config  # noqa: E402
from superres.training.trainer import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def dictionary_for(atoms: int, args: argparse.Namespace) -> Path:
    """The x2 coupled dictionary with ``atoms`` atoms, learned with the dictionary command if missing."""
    path = args.dictionary_dir / f"scsr-dict.T91-{atoms}-x2.safetensors"
    if not path.is_file():
        from superres.methods.sparse_coding import dictionary

        command = ["--scale", "2", "--atoms", str(atoms), "--samples", str(args.dict_samples),
                   "--iterations", str(args.dict_iterations), "--out", str(args.dictionary_dir), "--method", "scn-init"]
        if args.data_dir:
            command += ["--data-dir", args.data_dir]
        print("learning", path.name, "with: python -m superres.methods.sparse_coding.dictionary", " ".join(command),
              file=sys.stderr)
        dictionary.main(command)
    return path


def run_cell(atoms: int, stages: int, args: argparse.Namespace) -> tuple[float, float]:
    """``(PSNR after --steps, PSNR of the start)`` on Set5 x2 for one cell."""
    run_dir = args.runs_dir / f"ablation-scn-{atoms}-{stages}"
    overrides = [f"model.args={{ features = 100, atoms = {atoms}, lr_patch = 9, hr_patch = 5, stages = {stages} }}",
                 f"train.steps={args.steps}", f"train.val_every={args.steps}", "train.val_scales=[2]",
                 f'name="{run_dir.name}"']
    if args.init == "dictionary":
        start, _ = write_dictionary_start(dictionary_for(atoms, args), run_dir / "start.safetensors", 2,
                                          stages=stages, data_dir=args.data_dir)
        recipe = "recipes/scn-x2.toml"
        overrides.append(f'model.init_from="{start}"')
    else:
        recipe = "recipes/scn-x2-random.toml"
    config = load_config(ROOT / recipe, overrides + args.overrides)
    trainer = Trainer(config, run_dir, data_dir=args.data_dir, progress=False)
    before = trainer.validate(trainer.build_model().to(trainer.device), {"step": 0, "wall_time_s": 0.0})
    trainer.train(restart=True)
    with open(run_dir / "log.csv", newline="") as handle:
        after = [float(r["val_psnr"]) for r in csv.DictReader(handle) if r["val_psnr"]][-1]
    return after, before


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=positive_int, default=2000)
    parser.add_argument("--stages", type=positive_ints, default=[1, 2, 3], help="LISTA recurrent stages (comma-separated)")
    parser.add_argument("--atoms", type=positive_ints, default=[64, 128, 256], help="dictionary sizes (comma-separated)")
    parser.add_argument("--init", choices=["dictionary", "random"], default="dictionary")
    parser.add_argument("--dictionary-dir", type=Path, default=ROOT / "runs" / "scn-dict")
    parser.add_argument("--dict-samples", type=positive_int, default=100_000)
    parser.add_argument("--dict-iterations", type=positive_int, default=20)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override for every cell, e.g. train.batch_size=16 (repeatable)")
    add_data_dir(parser)
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    parser.add_argument("-o", "--output", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    find_data_dir(args.data_dir)  # before the work: the data folder, and the overrides on the recipe
    load_config(ROOT / ("recipes/scn-x2.toml" if args.init == "dictionary" else "recipes/scn-x2-random.toml"),
                args.overrides)

    cells = {(a, k): run_cell(a, k, args) for k in args.stages for a in args.atoms}
    lines = [f"Set5 x2 PSNR (dB) of SCN after {args.steps} steps ({args.init} start; the start's own PSNR in brackets)",
             "", "| LISTA stages | " + " | ".join(f"{a} atoms" for a in args.atoms) + " |",
             "|---|" + "---|" * len(args.atoms)]
    for k in args.stages:
        lines.append(f"| {k} | " + " | ".join(f"{cells[a, k][0]:.2f} ({cells[a, k][1]:.2f})" for a in args.atoms) + " |")
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
