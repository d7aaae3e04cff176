"""Plot the lasso objective gap of ISTA and FISTA per iteration (docs/figures/ista_fista.png).

    python benchmarks/bench_sparse_coding.py --part solver --json docs/figures/ista_fista.json
    python benchmarks/plot_ista_fista.py docs/figures/ista_fista.json -o docs/figures/ista_fista.png

Needs matplotlib (``pip install -e .[plots]``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors
from superres.training.plots import script_pyplot

KEYS = ("optimum", "ista", "fista", "scale", "patches", "lambda")


def read_record(path: Path) -> dict:
    """The record ``bench_sparse_coding.py --json`` wrote, else :class:`InvalidArgumentError`."""
    if not path.is_file():
        raise InvalidArgumentError(f"record {str(path)!r} does not exist (write it with "
                                   "bench_sparse_coding.py --part solver --json FILE)")
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgumentError(f"record {str(path)!r} cannot be read: {exc}") from None
    missing = [key for key in KEYS if not isinstance(record, dict) or key not in record]
    if missing:
        raise InvalidArgumentError(f"record {str(path)!r} is not one of bench_sparse_coding.py --json "
                                   f"(no {', '.join(missing)})")
    return record


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("record", type=Path, help="JSON written by bench_sparse_coding.py --json")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/figures/ista_fista.png"))
    args = parser.parse_args(argv)
    record = read_record(args.record)
    plt = script_pyplot()  # before the work: a missing matplotlib fails at once

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
