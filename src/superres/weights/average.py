"""Average the weights of runs of one model: ``python -m superres.weights.average A B -o OUT``.

Two fine-tuning end points of the same network, started from one set of weights, usually
lie in one basin, and their mean often scores higher than either (weight averaging, as in
stochastic weight averaging and "model soups").  The result is a run like any other: its
card keeps the last source's training record and lists every source with its sha256, so
it is shipped with ``python -m superres.weights.ship`` and chosen on the validation set
alone, as every shipped file is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from superres.errors import WeightsError, one_line_errors
from superres.weights.store import load_weights, save_weights

__all__ = ["average_weights"]


def average_weights(sources: list[Path], out: Path) -> Path:
    """Write the element-wise mean of ``sources`` (same architecture and tensors) to ``out``."""
    if len(sources) < 2:
        raise WeightsError("averaging needs at least two weights files")
    entries = [load_weights(path) for path in sources]
    first = entries[0]
    for entry in entries[1:]:
        if entry.card.get("architecture") != first.card.get("architecture") or entry.tensors.keys() != first.tensors.keys():
            raise WeightsError(f"{entry.path} is not the same network as {first.path}")
        for key, value in entry.tensors.items():
            if value.shape != first.tensors[key].shape:
                raise WeightsError(f"{entry.path}: {key} has shape {tuple(value.shape)}, not {tuple(first.tensors[key].shape)}")
    mean = {
        key: torch.stack([e.tensors[key].double() for e in entries]).mean(0).to(first.tensors[key].dtype)
        for key in first.tensors
    }
    card = dict(entries[-1].card)
    training = dict(card.get("training", {}))
    training["averaged_from"] = [{"file": str(e.path), "sha256": e.card.get("sha256"), "steps": e.card.get("training", {}).get("steps")} for e in entries]
    card["training"] = training
    card["evaluation"] = {}
    card["name"] = Path(out).stem
    return save_weights(out, mean, card)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.weights.average``: average weights files into one; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m superres.weights.average", description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="+", help="weights files of one architecture")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output .safetensors (card written beside)")
    args = parser.parse_args(argv)
    path = average_weights(args.sources, args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
