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


def test_several_runs_are_drawn_side_by_side_into_one_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    _log(tmp_path / "a", [(100, 0.5, 30.0), (200, 0.25, 31.0)])
    _log(tmp_path / "b", [(100, 0.4, 30.5), (200, 0.2, 31.5)])
    out = tmp_path / "both.png"
    assert plots.main([str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), "--label", "A", "--label", "B"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {out}" in capsys.readouterr().out
    assert not (tmp_path / "a" / "plot.png").exists()  # the runs' own plots are left alone
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "name it with -o OUT.png"),
        (["-o", "OUT.png", "--label", "only one"], "1 --label for 2 RUN_DIRs"),
        (["-o", "OUT.png", "--label", "x", "--label", "x"], "the same label"),
        (["-o", "OUT.jpg"], "written as .png"),
        (["-o", "no/such/folder/OUT.png"], "is not a folder"),
    ],
)
def test_a_comparison_that_cannot_be_drawn_says_why_in_one_line(tmp_path, capsys, extra, message):
    _log(tmp_path / "a", [(100, 0.5, 30.0)])
    _log(tmp_path / "b", [(100, 0.4, 30.5)])
    extra = [str(tmp_path / e) if e.startswith(("OUT", "no/")) else e for e in extra]
    assert plots.main([str(tmp_path / "a"), str(tmp_path / "b"), *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_run_without_rows_leaves_no_comparison_behind(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    _log(tmp_path / "a", [(100, 0.5, 30.0)])
    _log(tmp_path / "b", [])
    assert plots.main([str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "c.png")]) == 1
    assert "no rows" in capsys.readouterr().err and not (tmp_path / "c.png").exists()
