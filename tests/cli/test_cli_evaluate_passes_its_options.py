"""``superres evaluate``: the defaults it documents and every protocol option reach the
evaluation as given, and the report is in the format asked for (table by default)."""

from __future__ import annotations

import torch

from superres.cli.main import main
from superres.evaluation.benchmark import ImageResult, RunResult
from superres.evaluation.report import format_results

_RESULTS = [RunResult("bicubic", "Set5", 2.0, "rgb", [ImageResult("a", 30.0, 0.9, 0.1)])]


def _recording(monkeypatch):
    import superres.evaluation.benchmark as benchmark

    calls = []

    def evaluate(methods, datasets, scales, **kwargs):
        calls.append((methods, datasets, scales, kwargs))
        return _RESULTS

    monkeypatch.setattr(benchmark, "evaluate", evaluate)
    return calls


def test_the_defaults_are_bicubic_set5_x2_x3_x4_rgb_y_cpu_and_a_table(monkeypatch, capsys):
    calls = _recording(monkeypatch)
    assert main(["evaluate"]) == 0
    ((methods, datasets, scales, kwargs),) = calls
    assert (methods, datasets, scales) == (["bicubic"], ["Set5"], [2.0, 3.0, 4.0])
    assert {k: kwargs[k] for k in ("data_dir", "lr_mode", "lr_from_files", "metric_channel", "save_dir",
                                   "precision", "self_ensemble")} == {
        "data_dir": None, "lr_mode": "rgb", "lr_from_files": False, "metric_channel": "y", "save_dir": None,
        "precision": "auto", "self_ensemble": None}
    assert kwargs["device"] == torch.device("cpu")
    assert capsys.readouterr().out == format_results(_RESULTS, "table")


def test_every_protocol_option_reaches_the_evaluation(monkeypatch, capsys, tmp_path):
    calls = _recording(monkeypatch)
    argv = ["evaluate", "-m", "nearest,vdsr", "-d", "Set14,BSD100", "-s", "3,2.5", "--data-dir", str(tmp_path / "data"),
            "--lr-mode", "y-float", "--lr-from-files", "--metric-channel", "rgb", "--save-dir", str(tmp_path / "sr"),
            "--precision", "fp32", "--self-ensemble", "2", "-f", "csv"]
    assert main(argv) == 0
    ((methods, datasets, scales, kwargs),) = calls
    assert (methods, datasets, scales) == (["nearest", "vdsr"], ["Set14", "BSD100"], [3.0, 2.5])
    assert {k: kwargs[k] for k in ("data_dir", "lr_mode", "lr_from_files", "metric_channel", "save_dir",
                                   "precision", "self_ensemble")} == {
        "data_dir": str(tmp_path / "data"), "lr_mode": "y-float", "lr_from_files": True, "metric_channel": "rgb",
        "save_dir": tmp_path / "sr", "precision": "fp32", "self_ensemble": 2}
    assert capsys.readouterr().out == format_results(_RESULTS, "csv")


def test_write_card_with_self_ensemble_is_refused_before_any_work(monkeypatch, capsys):
    calls = _recording(monkeypatch)
    assert main(["evaluate", "-m", "vdsr", "-s", "2", "--write-card", "--self-ensemble", "2"]) == 1
    assert "drop --self-ensemble" in capsys.readouterr().err and calls == []


def test_write_card_records_every_run_but_the_defaults(monkeypatch, capsys):
    import superres.evaluation.benchmark as benchmark
    from superres.weights import cards

    results = [RunResult("default (litesr-small)", "Set5", 2.0, "rgb", [ImageResult("a", 33.0, 0.95, 0.1)]),
               RunResult("vdsr", "Set5", 2.0, "rgb", [ImageResult("a", 32.0, 0.94, 0.1)])]
    monkeypatch.setattr(benchmark, "evaluate", lambda *a, **k: results)
    seen = []
    monkeypatch.setattr(cards, "record_evaluation", lambda runs, command: seen.append(runs) or [])
    assert main(["evaluate", "-m", "default,vdsr", "-s", "2", "--precision", "fp32", "--write-card"]) == 0
    assert [[r["method"] for r in runs] for runs in seen] == [["vdsr"]]


def test_self_ensemble_takes_only_1_2_4_or_8(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--self-ensemble", "3"])
    assert exc.value.code == 2 and "--self-ensemble" in capsys.readouterr().err
