"""``python -m superres.training.plots``: a plot or a one-line error, never a silent success."""

from __future__ import annotations

import sys

import pytest

from superres.errors import SuperresError
from superres.training import plots


def _log(run_dir, rows):
    run_dir.mkdir()
    lines = ["step,loss,val_psnr"] + [f"{step},{loss},{val}" for step, loss, val in rows]
    (run_dir / "log.csv").write_text("\n".join(lines) + "\n")


def test_without_matplotlib_it_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    _log(tmp_path / "run", [(100, 0.5, ""), (200, 0.25, 30.0)])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(SuperresError, match=r"\[plots\]"):
        plots.pyplot()
    assert plots.main([str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "matplotlib" in err and err.count("\n") == 1
    with pytest.raises(SystemExit, match="matplotlib"):
        plots.script_pyplot()
    assert not (tmp_path / "run" / "plot.png").exists()


def test_a_folder_without_a_log_is_an_error(tmp_path, capsys):
    assert plots.main([str(tmp_path / "missing")]) == 1
    assert "log.csv" in capsys.readouterr().err
    _log(tmp_path / "empty", [])
    assert plots.main([str(tmp_path / "empty")]) == 1
    assert "no rows" in capsys.readouterr().err


def test_a_log_is_drawn(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    _log(tmp_path / "run", [(100, 0.5, ""), (200, 0.25, 30.0)])
    assert plots.main([str(tmp_path / "run"), "--title", "t"]) == 0
    assert (tmp_path / "run" / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "wrote" in capsys.readouterr().out


def test_a_training_run_does_not_fail_for_its_plot(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from superres.training.trainer import Trainer

    _log(tmp_path / "run", [(100, 0.5, "")])
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    trainer = SimpleNamespace(run_dir=tmp_path / "run", config=SimpleNamespace(name="r"))
    assert Trainer.plot(trainer) is None
