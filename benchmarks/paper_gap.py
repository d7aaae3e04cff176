"""How far each shipped model is from the numbers the issues hold it to, cell by cell.

    python benchmarks/paper_gap.py [--method vdsr,cscn]

Ours: mean PSNR from the shipped weights' cards (written by `superres evaluate --write-card`).
References: the issues' targets, i.e. the papers' tables, or what the authors' released
weights score under our protocol (Huang et al.'s evaluation for SRCNN, issue 4; VDSR under
`--lr-mode rgb`, issue 5). SRCNN 9-1-5 is held to the released 9-1-5 (91 images), 9-5-5 to the
released 9-5-5 (ImageNet), whose `--lr-mode y-float` reference is the TPAMI table (Set5, Set14).
"""

from __future__ import annotations

import sys

from superres.cli.common import parse_list
from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors
from superres.weights.cards import card_psnr, weights_serving
from superres.weights.store import read_card, weights_path

# the paper's CSCN table is the target in both LR modes (issue 7)
_CSCN_PAPER = {"Set5": (36.93, 33.10, 30.86), "Set14": (32.56, 29.41, 27.64), "BSD100": (31.40, 28.50, 27.03)}
# (method, lr mode) -> {set: (x2, x3, x4)}
REFERENCES: dict[tuple[str, str], dict[str, tuple[float, float, float]]] = {
    ("vdsr", "rgb"): {"Set5": (37.48, 33.65, 31.34), "Set14": (33.00, 29.75, 27.99), "BSD100": (31.87, 28.81, 27.27)},
    ("vdsr", "y-float"): {"Set5": (37.53, 33.66, 31.35), "Set14": (33.03, 29.77, 28.01), "BSD100": (31.90, 28.82, 27.29)},
    ("cscn", "rgb"): _CSCN_PAPER,
    ("cscn", "y-float"): _CSCN_PAPER,
    ("srcnn-915", "rgb"): {"Set5": (36.28, 32.37, 30.08), "Set14": (32.00, 28.90, 27.13), "BSD100": (31.11, 28.20, 26.70)},
    ("srcnn-955", "rgb"): {"Set5": (36.58, 32.72, 30.47), "Set14": (32.39, 29.26, 27.47), "BSD100": (31.32, 28.39, 26.89)},
    ("srcnn-955", "y-float"): {"Set5": (36.66, 32.75, 30.48), "Set14": (32.45, 29.30, 27.50)},
    # issue 8's targets for Yang et al.'s sparse coding (their paper's setting under our protocol)
    ("scsr", "rgb"): {"Set5": (35.78, 31.34, 29.07), "Set14": (31.64, 28.19, 26.40), "BSD100": (30.77, 27.72, 26.61)},
}


def gap_rows(method: str) -> list[tuple[str, str, int, float, float]]:
    """``(lr_mode, set, scale, ours, reference)`` for every reference cell the card has scored."""
    rows = []
    for (name, mode), sets in REFERENCES.items():
        if name != method:
            continue
        for scale_index, scale in enumerate((2, 3, 4)):
            serving = weights_serving(method, scale)
            if serving is None:
                continue
            ours = card_psnr(read_card(weights_path(serving)), scale, mode)
            for dataset, refs in sets.items():
                if dataset in ours:
                    rows.append((mode, dataset, scale, ours[dataset], refs[scale_index]))
    return rows


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    known = sorted({m for m, _ in REFERENCES})
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", type=parse_list, default=["vdsr", "cscn"], help="comma-separated: " + ", ".join(known))
    args = parser.parse_args(argv)
    unknown = [m for m in args.method if m not in known]
    if unknown:
        raise InvalidArgumentError(f"no references for {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    for method in args.method:
        rows = gap_rows(method)
        reached = sum(ours >= ref - 0.005 for *_, ours, ref in rows)
        close = sum(ours >= ref - 0.05 for *_, ours, ref in rows)
        print(f"\n{method}: of {len(rows)} cells, {reached} at or above the reference (to 0.01 dB), "
              f"{close} within 0.05 dB of it\n")
        print("| lr mode | set | scale | ours | reference | ours - reference |")
        print("|---|---|---|---|---|---|")
        for mode, dataset, scale, ours, ref in rows:
            print(f"| {mode} | {dataset} | x{scale} | {ours:.2f} | {ref:.2f} | {ours - ref:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
