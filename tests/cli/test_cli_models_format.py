"""``superres models``: count formatting, markdown escaping and stream, the default marker of a non-learned method."""

from __future__ import annotations

from superres.cli import models as models_cli
from superres.cli.main import main


def test_counts_switch_unit_at_exactly_a_thousand():
    assert [models_cli._fmt_count(n) for n in (0, 999, 1000, 1_000_000, 2_500_000_000, None)] == [
        "0", "999", "1k", "1M", "2.5G", "-"]


def _row(**changes):
    row = {"method": "m", "scale": 2.0, "family": "cnn", "params": 1000, "macs_per_pixel": 2000.0,
           "psnr": {"Set5": 30.0}, "default_for": [], "note": ""}
    row.update(changes)
    return row


def test_markdown_cells_cannot_add_columns():
    lines = models_cli.markdown_table([_row(note="needs a | b")])
    assert lines[2].count("|") == lines[0].count("|") and "needs a / b" in lines[2]


def test_markdown_goes_to_stdout_alone(monkeypatch, capsys):
    monkeypatch.setattr(models_cli, "collect_rows", lambda lr_mode="rgb": [_row()])
    assert main(["models", "--format", "markdown"]) == 0
    captured = capsys.readouterr()
    assert all(line.startswith("|") for line in captured.out.strip().splitlines())
    assert "MACs/px" in captured.err


def test_a_non_learned_default_is_marked(monkeypatch):
    from superres.methods import registry
    from superres.weights import defaults

    monkeypatch.setattr(registry, "METHODS", {"bicubic": registry.METHODS["bicubic"]})
    monkeypatch.setattr(defaults, "DEFAULT_METHOD_BY_SCALE", {2: "bicubic", 3: "other"})
    (row,) = models_cli.collect_rows()
    assert row["method"] == "bicubic" and row["default_for"] == [2.0]
    assert models_cli._table([row])[1][-1] == "* x2"
