"""Rewrite the tables the docs quote from commands, so that no number in them is typed by hand.

    python docs/sync_tables.py          # rewrite README.md and docs/*.md in place
    python docs/sync_tables.py --check  # only say which tables differ (exit 1), as the tests do

Two commands are synced (both cheap: they read the weights cards and the runs' logs):

* ``superres models --format markdown`` (with ``--lr-mode y-float`` for the authors' test-code
  mode, otherwise the default rgb): a table is synced when a line above it, after the previous
  table, quotes the command.  The table keeps its methods (a doc may show a few of them) and
  takes every row of those methods, in the command's order, from the command's output now.
* ``python -m superres.training.summary RUN_DIR ...`` quoted in backticks: the next table
  becomes the command's whole output for those run folders.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

COMMAND = "superres models --format markdown"
#: the command however it is spelt (``-f markdown`` too), so no quoted table escapes the sync
COMMAND_PATTERN = re.compile(r"superres models\b[^`\n]*?(?:--format|-f)[ =]markdown")
HEADER = "| method | scale | params"
SUMMARY_COMMAND = "python -m superres.training.summary "
ROOT = Path(__file__).resolve().parent.parent


def _method_of(row: str) -> str:
    return row.split("|")[1].strip()


def sync_text(text: str, fresh: dict[str, list[str]]) -> tuple[str, int]:
    """``text`` with each quoted table replaced from ``fresh`` (lr mode -> markdown lines); and how many tables."""
    lines = text.split("\n")
    mode: str | None = None
    tables = 0
    i = 0
    while i < len(lines):
        if COMMAND_PATTERN.search(lines[i]):
            mode = "y-float" if "--lr-mode y-float" in lines[i] else "rgb"
        elif lines[i].startswith(HEADER) and mode is None:
            # a models table whose numbers no quoted command makes: typed by hand
            raise SystemExit(f"line {i + 1}: a '{HEADER} ...' table without `{COMMAND}` quoted above it")
        elif mode is not None and lines[i].startswith(HEADER):
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            shown = {_method_of(row) for row in lines[i + 2 : end]}
            header, rule, *rows = fresh[mode]
            kept = [row for row in rows if _method_of(row) in shown]
            lines[i:end] = [header, rule, *kept]
            tables += 1
            i += 2 + len(kept)
            mode = None
            continue
        i += 1
    return "\n".join(lines), tables


def _summary_runs(line: str) -> list[str] | None:
    """The run folders of a backticked summary command on ``line``, or None."""
    start = line.find("`" + SUMMARY_COMMAND)
    if start < 0:
        return None
    end = line.find("`", start + 1)
    return line[start + 1 + len(SUMMARY_COMMAND) : end if end > 0 else None].split()


def sync_summaries(text: str, summarize) -> tuple[str, int]:
    """``text`` with the table after each quoted summary command replaced by ``summarize(run_dirs)``."""
    lines = text.split("\n")
    runs: list[str] | None = None
    tables = 0
    i = 0
    while i < len(lines):
        quoted = _summary_runs(lines[i])
        if quoted is not None:
            runs = quoted
        elif runs is not None and lines[i].startswith("|"):
            end = i
            while end < len(lines) and lines[end].startswith("|"):
                end += 1
            table = summarize(runs).split("\n")
            lines[i:end] = table
            tables += 1
            i += len(table)
            runs = None
            continue
        i += 1
    return "\n".join(lines), tables


def summarize_runs(run_dirs: list[str]) -> str:
    """What ``python -m superres.training.summary RUN_DIR ...`` prints, from the repository root."""
    from superres.training.summary import format_summaries, summarize_run

    return format_summaries([summarize_run(ROOT / d) for d in run_dirs])


def fresh_tables() -> dict[str, list[str]]:
    """What ``superres models --format markdown`` prints now, per LR mode."""
    from superres.cli.models import collect_rows, markdown_table

    return {mode: markdown_table(collect_rows(mode)) for mode in ("rgb", "y-float")}


def doc_files(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a table is out of date")
    args = parser.parse_args(argv)
    fresh = fresh_tables()
    stale = []
    for path in doc_files():
        text = path.read_text()
        synced, tables = sync_text(text, fresh)
        synced, summaries = sync_summaries(synced, summarize_runs)
        tables += summaries
        changed = synced != text
        if changed:
            stale.append(path)
            if not args.check:
                path.write_text(synced)
        print(f"{path.relative_to(ROOT)}: {tables} table(s), {'out of date' if changed else 'up to date'}"
              + (", rewritten" if changed and not args.check else ""))
    if args.check and stale:
        print(f"run `python docs/sync_tables.py` to rewrite {len(stale)} file(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
