"""Copy trained weights into the package: ``python -m superres.weights.ship SRC.safetensors NAME``.

The card travels with the file (its ``name`` and ``file`` updated); the
evaluation is then added by ``superres evaluate ... --write-card``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from superres.cli.common import parse_scales
from superres.errors import SuperresError, WeightsError
from superres.weights.store import SHIPPED_DIR, load_weights, save_weights

__all__ = ["ship"]


def ship(source: Path, name: str, *, note: str = "", scales: list[float] | None = None) -> Path:
    """Copy ``source`` into the package as ``name``; ``scales`` narrows the scales its card serves
    (a multi-scale file whose other scales are served by fine-tuned per-scale files)."""
    entry = load_weights(source)
    card = dict(entry.card, name=name)
    if scales is not None:
        trained = {float(s) for s in card.get("scales", [])}
        if not set(scales) <= trained:
            raise WeightsError(f"{source}: trained for x{sorted(trained)}, cannot serve x{sorted(set(scales) - trained)}")
        card["trained_scales"] = sorted(trained)
        card["scales"] = sorted(set(scales))
    card["evaluation"] = {}
    if note:
        card.setdefault("training", {})["notes"] = note
    return save_weights(SHIPPED_DIR / f"{name}.safetensors", entry.tensors, card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m superres.weights.ship", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("name", help="arch.tag, e.g. litesr-small.291-multiscale")
    parser.add_argument("--note", default="", help="a line for the card's training notes")
    parser.add_argument("--scales", type=parse_scales, help="serve only these of the trained scales (comma-separated)")
    args = parser.parse_args(argv)
    try:
        path = ship(args.source, args.name, note=args.note, scales=args.scales)
    except SuperresError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"shipped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
