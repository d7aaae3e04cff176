"""How far each shipped model is from the numbers the issues hold it to, cell by cell.

    python benchmarks/paper_gap.py [--method vdsr,cscn]

Ours: mean PSNR from the shipped weights' cards (written by `superres evaluate --write-card`).
References: the issues' targets, i.e. the papers' tables, or for VDSR under `--lr-mode rgb`
what the authors' released weights score under our protocol (issue 5).
"""

from __future__ import annotations

import argparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="vdsr,cscn", help="comma-separated: vdsr, cscn")
    args = parser.parse_args()
    for method in args.method.split(","):
        rows = gap_rows(method)
        reached = sum(ours >= ref - 0.005 for *_, ours, ref in rows)
        close = sum(ours >= ref - 0.05 for *_, ours, ref in rows)
        print(f"\n{method}: of {len(rows)} cells, {reached} at or above the reference (to 0.01 dB), "
              f"{close} within 0.05 dB of it\n")
        print("| lr mode | set | scale | ours | reference | ours - reference |")
        print("|---|---|---|---|---|---|")
        for mode, dataset, scale, ours, ref in rows:
            print(f"| {mode} | {dataset} | x{scale} | {ours:.2f} | {ref:.2f} | {ours - ref:+.2f} |")


if __name__ == "__main__":
    main()
