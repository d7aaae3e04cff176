"""``superres models``: the default mark ("* x2") follows superres.weights.defaults for every kind of row.

The learned rows are covered elsewhere; here a classical method with learned data per scale
(scsr) and a plain classical method (bicubic) are made the default at some scales and must
carry the mark at exactly those scales."""

from __future__ import annotations

import json

from superres.cli.main import main


def test_scsr_rows_are_marked_at_the_scales_it_is_the_default(capsys, monkeypatch):
    from superres.weights import defaults

    monkeypatch.setitem(defaults.DEFAULT_METHOD_BY_SCALE, 2, "scsr")
    assert main(["models", "--format", "json"]) == 0
    rows = {r["scale"]: r for r in json.loads(capsys.readouterr().out) if r["method"] == "scsr"}
    assert rows[2.0]["default_for"] == [2.0]
    assert rows[3.0]["default_for"] == [] and rows[4.0]["default_for"] == []
    assert main(["models"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("scsr ")]
    assert [("* x2" in line) for line in lines] == [True, False, False], lines


def test_a_classical_method_lists_every_scale_it_is_the_default_for(capsys, monkeypatch):
    from superres.weights import defaults

    monkeypatch.setitem(defaults.DEFAULT_METHOD_BY_SCALE, 4, "bicubic")
    monkeypatch.setitem(defaults.DEFAULT_METHOD_BY_SCALE, 2, "bicubic")
    assert main(["models", "--format", "json"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["method"] == "bicubic"]
    assert row["default_for"] == [2.0, 4.0]
    assert main(["models"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("bicubic ")]
    assert line.rstrip().endswith("* x2,x4"), line
