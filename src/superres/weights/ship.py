"""Copy trained weights into the package: ``python -m superres.weights.ship SRC.safetensors NAME``.

The card travels with the file (its ``name`` and ``file`` updated); the
evaluation is then added by ``superres evaluate ... --write-card``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from superres.weights.store import SHIPPED_DIR, load_weights, save_weights

__all__ = ["ship"]


def ship(source: Path, name: str, *, note: str = "") -> Path:
    entry = load_weights(source)
    card = dict(entry.card, name=name)
    card["evaluation"] = {}
    if note:
        card.setdefault("training", {})["notes"] = note
    return save_weights(SHIPPED_DIR / f"{name}.safetensors", entry.tensors, card)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m superres.weights.ship", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("name", help="arch.tag, e.g. litesr-small.291-multiscale")
    parser.add_argument("--note", default="", help="a line for the card's training notes")
    args = parser.parse_args(argv)
    path = ship(args.source, args.name, note=args.note)
    print(f"shipped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
