"""Plot the lasso objective gap of ISTA and FISTA per iteration (docs/figures/ista_fista.png).

    python benchmarks/bench_sparse_coding.py --part solver --json docs/figures/ista_fista.json
    python benchmarks/plot_ista_fista.py docs/figures/ista_fista.json -o docs/figures/ista_fista.png

Needs matplotlib (``pip install -e .[plots]``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from superres.training.plots import script_pyplot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record", type=Path, help="JSON written by bench_sparse_coding.py --json")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/figures/ista_fista.png"))
    args = parser.parse_args(argv)
    plt = script_pyplot()  # before the work: a missing matplotlib fails at once

    record = json.loads(args.record.read_text())
    best = record["optimum"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name, label in (("ista", "ISTA"), ("fista", "FISTA")):
        gap = [max(v - best, 1e-12) / best for v in record[name]]
        ax.loglog(range(1, len(gap) + 1), gap, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("relative objective gap  (f - f*) / f*")
    ax.set_title(f"lasso of scsr x{record['scale']}: {record['patches']} Set5 bird features, lambda {record['lambda']}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
