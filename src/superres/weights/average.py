"""Average the weights of runs of one model: ``python -m superres.weights.average A B -o OUT``.

Two fine-tuning end points of the same network, started from one set of weights, usually
lie in one basin, and their mean often scores higher than either (weight averaging, as in
stochastic weight averaging and "model soups").  The result is a run like any other: its
card keeps the last source's training record and lists every source with its sha256, so
it is shipped with ``python -m superres.weights.ship`` and chosen on the validation set
alone, as every shipped file is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from superres.errors import OneLineParser, WeightsError, one_line_errors
from superres.io.atomic import check_output_path, refuse_to_replace_inputs
from superres.weights.store import load_weights, save_weights

__all__ = ["average_weights"]


#: what must agree for a mean of weights to be one network doing one job
_SAME = ("architecture", "model_args", "method", "scales", "input")


def average_weights(sources: list[Path], out: Path, *, overwrite: bool = False) -> Path:
    """Write the element-wise mean of ``sources`` (same network for the same scales) to ``out``
    (a ``.safetensors`` path, its card beside it), which may be neither a source nor, unless
    ``overwrite``, an existing file."""
    if len(sources) < 2:
        raise WeightsError("averaging needs at least two weights files")
    out = Path(out)
    if out.suffix != ".safetensors":
        raise WeightsError(f"the output must end in .safetensors, got {str(out)!r}")
    for target in (out, out.with_suffix(".json")):  # checked before any work, as every command does
        refuse_to_replace_inputs(target, [*sources, *(Path(s).with_suffix(".json") for s in sources)])
        check_output_path(target, overwrite=overwrite)
    entries = [load_weights(path) for path in sources]
    first = entries[0]
    for entry in entries[1:]:
        differ = [key for key in _SAME if entry.card.get(key) != first.card.get(key)]
        if differ or entry.tensors.keys() != first.tensors.keys():
            why = f" (their cards differ in {', '.join(differ)})" if differ else ""
            raise WeightsError(f"{entry.path} is not the same network as {first.path}{why}")
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
    parser = OneLineParser(prog="python -m superres.weights.average", description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="+", help="weights files of one architecture")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output .safetensors (card written beside)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output (never a source)")
    args = parser.parse_args(argv)
    path = average_weights(args.sources, args.out, overwrite=args.overwrite)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
