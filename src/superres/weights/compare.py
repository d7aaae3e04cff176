"""Compare two cards' evaluations cell by cell: ``python -m superres.weights.compare BEFORE AFTER``.

Made for the step after shipping over a file (keep a copy of the replaced card first):
``superres evaluate ... --write-card`` fills the new card, and this prints, for every set,
scale and LR mode both cards hold, the mean PSNR before and after and how many cells gained.
BEFORE and AFTER are cards (``.json``) or the weights files they sit beside.
"""

from __future__ import annotations

import sys
from pathlib import Path

from superres.errors import OneLineParser, WeightsError, one_line_errors
from superres.weights.cards import evaluation_changes
from superres.weights.store import read_card

__all__ = ["format_changes"]


def format_changes(changes: list[tuple[str, str, float, float, float]]) -> str:
    """A plain table of :func:`~superres.weights.cards.evaluation_changes` and a summary line."""
    lines = [f"{'lr mode':8} {'set':8} {'scale':>5} {'before':>8} {'after':>8} {'change':>8}"]
    gains, losses = 0, []
    for mode, dataset, scale, before, after in changes:
        at_scale, change = f"x{scale:g}", after - before
        lines.append(f"{mode:8} {dataset:8} {at_scale:>5} {before:8.4f} {after:8.4f} {change:+8.4f}")
        gains += change > 0
        if change < 0:
            losses.append((change, f"{mode} {dataset} {at_scale}"))
    summary = f"{gains} of {len(changes)} cells gained, {len(losses)} lost"
    if losses:
        worst, where = min(losses)
        summary += f" (largest loss {worst:+.4f} dB, {where})"
    return "\n".join(lines + [summary])


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.weights.compare BEFORE AFTER``: print the cards' evaluation changes; returns the exit status."""
    parser = OneLineParser(prog="python -m superres.weights.compare", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the replaced card (or its weights file)")
    parser.add_argument("after", type=Path, help="the new card (or its weights file)")
    args = parser.parse_args(argv)
    cards = {path: read_card(path) for path in (args.before, args.after)}
    for path, card in cards.items():
        if "evaluation" not in card:  # e.g. an evaluate report given for a card
            raise WeightsError(f"{path.name} is not a model card with an evaluation (cards are written "
                               f"by `superres evaluate --write-card`)")
    changes = evaluation_changes(cards[args.before], cards[args.after])
    if not changes:
        raise WeightsError(f"{args.before.name} and {args.after.name} share no evaluated set, scale and mode")
    print(format_changes(changes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
