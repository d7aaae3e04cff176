"""The docs' model tables are the cards' numbers: docs/sync_tables.py rewrites them, and CI checks it was run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _sync_tables():
    spec = importlib.util.spec_from_file_location("sync_tables", ROOT / "docs" / "sync_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEADER = "| method | scale | params | MACs/px | Set5 | Set14 | BSD100 | default |"
RULE = "|---|---|---|---|---|---|---|---|"
FRESH = {
    "rgb": [HEADER, RULE, "| bicubic | any | 0 | - | - | - | - |  |", "| vdsr | x2 | 666k | 665k | 37.40 | 32.90 | 31.80 |  |",
            "| vdsr | x3 | 666k | 665k | 33.60 | 29.70 | 28.80 |  |", "| cscn | x2 | 82.5k | 41.2k | 36.80 | 32.50 | 31.40 |  |"],
    "y-float": [HEADER, RULE, "| vdsr | x2 | 666k | 665k | 37.45 | 32.95 | 31.85 |  |",
                "| vdsr | x3 | 666k | 665k | 33.65 | 29.75 | 28.85 |  |"],
}


def test_sync_rewrites_the_quoted_tables_and_keeps_their_methods():
    text = "\n".join([
        "Intro. Output of `superres models --format markdown`:", "",
        HEADER, RULE, "| vdsr | x2 | 666k | 665k | 37.00 | 32.00 | 31.00 |  |", "",  # stale, and x3 missing
        "`superres models --format markdown --lr-mode y-float`:", "",
        HEADER, RULE, "| vdsr | x2 | 666k | 665k | 1.00 | 2.00 | 3.00 |  |", "",
        "The short spelling, `superres models -f markdown`:", "",
        HEADER, RULE, "| cscn | x2 | 82.5k | 41.2k | 9.99 | 9.99 | 9.99 |  |",
    ])
    synced, tables = _sync_tables().sync_text(text, FRESH)
    assert tables == 3
    lines = synced.split("\n")
    assert lines[2:6] == [HEADER, RULE, FRESH["rgb"][3], FRESH["rgb"][4]]  # vdsr only: bicubic and cscn not shown
    assert lines[6:11] == ["", "`superres models --format markdown --lr-mode y-float`:", "", HEADER, RULE]
    assert lines[11:13] == FRESH["y-float"][2:4]
    assert lines[-1] == FRESH["rgb"][5]
    assert _sync_tables().sync_text(synced, FRESH) == (synced, 3)  # idempotent


def test_a_models_table_without_its_command_is_refused():
    # its numbers would be typed by hand, and no sync would ever see them go stale
    text = "\n".join(["A table nobody quoted:", "", HEADER, RULE, "| vdsr | x2 | 666k | 665k | 9.99 | 9.99 | 9.99 |  |"])
    with pytest.raises(SystemExit, match="line 3: .* without `superres models --format markdown`"):
        _sync_tables().sync_text(text, FRESH)


def test_sync_replaces_the_table_after_a_quoted_summary_command():
    text = "\n".join([
        "Speeds, by `python -m superres.training.summary checkpoints/a checkpoints/b` (note):", "",
        "| run |", "| old | row |", "",
        "| another table | stays |",
    ])
    asked = []

    def summarize(runs):
        asked.append(runs)
        return "| run | steps |\n|---|---|\n| a | 1 |\n| b | 2 |"

    synced, tables = _sync_tables().sync_summaries(text, summarize)
    assert tables == 1 and asked == [["checkpoints/a", "checkpoints/b"]]
    assert synced.split("\n")[2:] == ["| run | steps |", "|---|---|", "| a | 1 |", "| b | 2 |", "", "| another table | stays |"]


def test_every_quoted_table_in_the_docs_matches_the_shipped_cards_and_runs():
    sync_tables = _sync_tables()
    fresh = sync_tables.fresh_tables()
    stale, tables, summaries = [], 0, 0
    for path in sync_tables.doc_files():
        text = path.read_text()
        synced, count = sync_tables.sync_text(text, fresh)
        synced, summary_count = sync_tables.sync_summaries(synced, sync_tables.summarize_runs)
        tables += count
        summaries += summary_count
        if synced != text:
            stale.append(path.name)
    assert not stale, f"tables out of date in {stale}: run `python docs/sync_tables.py`"
    assert tables >= 4 and summaries >= 1
