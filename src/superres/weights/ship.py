"""Copy trained weights into the package: ``python -m superres.weights.ship SRC.safetensors NAME``.

The card travels with the file (its ``name`` and ``file`` updated); the
evaluation is then added by ``superres evaluate ... --write-card``.  Shipping over a file
clears what its card had recorded, so the commands that record it again are printed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from superres.cli.common import parse_scales
from superres.errors import OneLineParser, WeightsError, one_line_errors
from superres.weights.cards import evaluation_means
from superres.weights.store import SHIPPED_DIR, load_weights, read_card, save_weights

__all__ = ["ship", "evaluations_to_redo"]


def _stages_of(training: dict) -> list[dict]:
    """A card's training record as a flat list of stages, oldest first: a shipped card that
    itself continued earlier runs carries them in ``earlier_stages``."""
    own = {k: v for k, v in training.items() if k not in ("earlier_stages", "total_steps", "total_wall_time_s")}
    return [stage for earlier in training.get("earlier_stages", []) for stage in _stages_of(earlier)] + [own]


#: ``arch.tag``: one file name in the package folder, never a path out of it or a hidden file
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9._-]*")


def _shipped_path(name: str) -> Path:
    if not _NAME.fullmatch(name) or name.endswith(".safetensors"):
        raise WeightsError(f"{name!r} is not a weights name: arch.tag, letters, digits, '-', '.', '_' "
                           "(e.g. litesr-small.291-x2)")
    return SHIPPED_DIR / f"{name}.safetensors"


def _check_no_other_serves(card: dict, name: str) -> None:
    """Refuse a file that would serve a (method, scale) another shipped file serves: the method
    would then refuse every scale (two weights for one), until one of them is removed."""
    method, scales = card.get("method"), {float(s) for s in card.get("scales", [])}
    if method is None:
        return  # served by no method's name
    for other in sorted(SHIPPED_DIR.glob("*.json")):
        if other.stem == name:
            continue  # the file this one replaces
        served = read_card(other)
        overlap = scales & {float(s) for s in served.get("scales", [])}
        if served.get("method") == method and overlap:
            raise WeightsError(
                f"{other.stem} already serves {method} x{', x'.join(f'{s:g}' for s in sorted(overlap))}: ship over it "
                f"(NAME {other.stem}) or serve other scales (--scales)"
            )


def evaluations_to_redo(card: dict) -> list[str]:
    """``superres evaluate`` commands that record again, for new weights, every set, scale and
    LR mode a card's evaluation held (shipping clears it; x2.5 was once silently lost)."""
    runs: dict[str, tuple[set[str], set[float]]] = {}
    for mode, dataset, scale in evaluation_means(card):
        datasets, scales = runs.setdefault(mode, (set(), set()))
        datasets.add(dataset)
        scales.add(scale)
    method = card.get("method", card.get("architecture", "?"))
    return [
        f"superres evaluate -m {method} -d {','.join(sorted(datasets))} -s {','.join(f'{s:g}' for s in sorted(scales))}"
        + ("" if mode == "rgb" else f" --lr-mode {mode}") + " --write-card"
        for mode, (datasets, scales) in sorted(runs.items())
    ]


def ship(
    source: Path, name: str, *, note: str = "", scales: list[float] | None = None, earlier: list[Path] | None = None
) -> Path:
    """Copy ``source`` into the package as ``name``; ``scales`` narrows the scales its card serves
    (a multi-scale file whose other scales are served by fine-tuned per-scale files).

    ``earlier`` are the cards (``.json``) of the runs this one continued, oldest first: their
    training records (with the stages they continued in turn) go into the card, and its
    ``total_steps`` / ``total_wall_time_s`` count every stage, so a fine-tuned model's card
    still says how long it trained in all.
    """
    target = _shipped_path(name)
    entry = load_weights(source)
    card = dict(entry.card, name=name)
    if earlier:
        stages = []
        for path in earlier:
            training = read_card(Path(path)).get("training")
            if not isinstance(training, dict):
                raise WeightsError(f"{path}: not a model card with a training record")
            stages.extend(_stages_of(training))
        training = dict(card.get("training", {}))
        training["earlier_stages"] = stages
        everything = stages + [training]
        training["total_steps"] = sum(int(t.get("steps", 0)) for t in everything)
        training["total_wall_time_s"] = round(sum(float(t.get("wall_time_s", 0.0)) for t in everything), 1)
        card["training"] = training
    if scales is not None:
        trained = {float(s) for s in card.get("scales", [])}
        if not set(scales) <= trained:
            raise WeightsError(f"{source}: trained for x{sorted(trained)}, cannot serve x{sorted(set(scales) - trained)}")
        card["trained_scales"] = sorted(trained)
        card["scales"] = sorted(set(scales))
    card["evaluation"] = {}
    if note:
        card.setdefault("training", {})["notes"] = note
    _check_no_other_serves(card, name)
    return save_weights(target, entry.tensors, card)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.weights.ship SOURCE NAME``: ship a run's weights into the package; returns the exit status."""
    parser = OneLineParser(prog="python -m superres.weights.ship", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("name", help="arch.tag, e.g. litesr-small.291-multiscale")
    parser.add_argument("--note", default="", help="a line for the card's training notes")
    parser.add_argument("--scales", type=parse_scales, help="serve only these of the trained scales (comma-separated)")
    parser.add_argument("--earlier", type=Path, action="append", default=[], metavar="CARD.json",
                        help="card of a run this one continued, oldest first (repeatable)")
    args = parser.parse_args(argv)
    replaced = _shipped_path(args.name)
    redo = evaluations_to_redo(read_card(replaced)) if replaced.is_file() else []
    path = ship(args.source, args.name, note=args.note, scales=args.scales, earlier=args.earlier)
    print(f"shipped {path}")
    if redo:
        print("the replaced card's evaluation is cleared; record it again with:")
        for command in redo:
            print(f"  {command}")
        print(f"then compare, cell by cell: python -m superres.weights.compare <copy of the replaced card> {path}")
        print("and rewrite the docs' model tables from the new card: python docs/sync_tables.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
