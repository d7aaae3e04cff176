"""Write evaluation results into the model cards of the shipped weights.

``superres evaluate ... --write-card`` calls :func:`record_evaluation`: each
run (method, set, scale, lr mode) goes, with the command that produced it,
into the card of the weights file that served that scale; a newer run of the
same set, scale and mode replaces the older one.  Numbers in cards are thus
always written by ``superres evaluate``, never by hand.  :func:`card_psnr` and
:func:`evaluation_changes` read them back (``superres models``, ``python -m
superres.weights.compare``).
"""

from __future__ import annotations

import contextlib
import math
import platform
from pathlib import Path

import torch

from superres.weights.store import SHIPPED_DIR, read_card, write_card

__all__ = ["record_evaluation", "weights_serving", "hardware_description", "evaluation_means", "card_psnr",
           "evaluation_changes"]


def weights_serving(method: str, scale: float) -> str | None:
    """The shipped weights name a method uses at ``scale`` (None if it uses none).

    Asked of the method itself (its ``weights_for_scale``), so that the card a
    result goes into is the one whose weights produced it.
    """
    from superres.errors import SuperresError
    from superres.methods.registry import get_method

    try:
        chooser = getattr(get_method(method), "weights_for_scale", None)
        return chooser(float(scale)) if chooser is not None else None
    except SuperresError:  # no weights shipped, or none for this scale
        return None


def record_evaluation(runs: list[dict], command: str) -> list[str]:
    """Store ``runs`` (the ``results`` of ``superres evaluate --format json``) in their cards.

    A run of ``NAME=FILE`` goes into ``FILE``'s own card (a candidate scored before it is
    shipped, for ``python -m superres.weights.compare``), any other into the shipped card
    of the weights that produced it.  Returns the names of the cards written (a file's
    path); runs of methods without weights (interpolation, classical) are skipped.
    """
    with _cards_locked():
        return _record(runs, command)


@contextlib.contextmanager
def _cards_locked():
    """Hold an exclusive lock on the shipped cards: two ``--write-card`` runs at once
    (e.g. ``--lr-mode rgb`` and ``y-float`` side by side) each read, extend and rewrite
    the same card, and without it the later write drops the earlier one's results."""
    try:
        import fcntl
    except ImportError:  # not POSIX: left unguarded
        yield
        return
    with open(SHIPPED_DIR / ".cards.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _record(runs: list[dict], command: str) -> list[str]:
    from superres.methods.registry import split_method_spec

    cards: dict[str, dict] = {}
    files: dict[str, Path] = {}
    ran_on = f"torch {torch.__version__}, {hardware_description(torch.device('cpu'))}"  # --write-card runs on the CPU
    for run in runs:
        weights_file = split_method_spec(run["method"])[1]
        if weights_file is not None:
            name = weights_file
            files[name] = Path(weights_file)
        else:
            name = weights_serving(run["method"], float(run["scale"]))
            if name is None:
                continue
            files[name] = SHIPPED_DIR / f"{name}.safetensors"
        card = cards.setdefault(name, read_card(files[name]))
        key = (run["dataset"], float(run["scale"]), run.get("lr_mode", "rgb"))
        kept = [
            r
            for r in card.get("evaluation", {}).get("results", [])
            if (r["dataset"], float(r["scale"]), r.get("lr_mode", "rgb")) != key
        ]
        # what ran it: the same command elsewhere may differ in the 5th decimal (another
        # torch's kernels, another thread count's summation order)
        kept.append(dict(run, command=command, ran_on=ran_on))
        kept.sort(key=lambda r: (r.get("lr_mode", "rgb"), float(r["scale"]), r["dataset"]))
        card["evaluation"] = {"results": kept}
    for name, card in cards.items():
        write_card(files[name], card)
    return sorted(cards)


def evaluation_means(card: dict) -> dict[tuple[str, str, float], float]:
    """``{(lr_mode, dataset, scale): mean PSNR}`` of a card's evaluation.

    Entries it cannot read are skipped (cards from before a field existed); a result
    without ``lr_mode`` is rgb, the mode that existed first.
    """
    evaluation = card.get("evaluation") or {}
    results = evaluation.get("results", []) if isinstance(evaluation, dict) else evaluation
    means: dict[tuple[str, str, float], float] = {}
    for r in results if isinstance(results, list) else []:
        if not isinstance(r, dict):
            continue
        try:
            mean = r.get("mean")
            value = float(mean["psnr"] if isinstance(mean, dict) else r["psnr"])
            key = (str(r.get("lr_mode", "rgb")), str(r.get("dataset", "")), float(r.get("scale")))
        except (KeyError, TypeError, ValueError):
            continue
        means[key] = value
    return means


def card_psnr(card: dict, scale: float, lr_mode: str = "rgb") -> dict[str, float]:
    """``{dataset: mean PSNR}`` at ``scale`` from a card's evaluation.

    ``lr_mode="rgb"`` prefers rgb results and falls back to others (cards that
    predate the mode); ``"y-float"`` shows only y-float results.
    """
    found: dict[str, tuple[int, float]] = {}
    for (mode, dataset, at_scale), value in evaluation_means(card).items():
        if not math.isclose(at_scale, float(scale)) or (lr_mode != "rgb" and mode != lr_mode):
            continue
        rank = 0 if mode == lr_mode else 1
        if dataset not in found or rank < found[dataset][0]:
            found[dataset] = (rank, value)
    return {k: v for k, (_, v) in found.items()}


def evaluation_changes(before: dict, after: dict) -> list[tuple[str, str, float, float, float]]:
    """``(lr_mode, dataset, scale, before, after)`` mean PSNR for every set, scale and mode both
    cards evaluated: whether new weights beat the ones they replace, cell by cell."""
    old, new = evaluation_means(before), evaluation_means(after)
    return [(*key, old[key], new[key]) for key in sorted(old.keys() & new.keys())]


def hardware_description(device: torch.device) -> str:
    """A short, honest description of what ran the training."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} threads"
