"""`python -m superres.training.summary`: the run figures the docs quote, read back from a run folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from superres.training.summary import format_summaries, summarize_run


def _write_run(folder, rows, *, batch_size=8, steps=400):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"train": {"batch_size": batch_size, "steps": steps}}))
    lines = ["step,loss,lr,val_psnr,wall_s,samples_per_s"]
    lines += [",".join(str(v) for v in row) for row in rows]
    (folder / "log.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_summary_reads_speed_and_best_validation(tmp_path):
    run = _write_run(tmp_path / "run", [
        (100, 0.5, 1e-4, "", 10.0, 8.0),  # start-up interval: left out of the median
        (200, 0.4, 1e-4, 30.5, 12.0, 400.0),
        (300, 0.3, 1e-4, "", 14.0, 800.0),
        (350, 0.3, 1e-4, 30.5, 20.0, 160.0),  # the same PSNR later: the earlier step is the best
    ])
    summary = summarize_run(run)
    assert (summary.steps, summary.planned_steps, summary.batch_size, summary.wall_s) == (350, 400, 8, 20.0)
    assert summary.median_steps_per_s == 50.0  # median of 400, 800, 160 samples/s over batch 8
    assert summary.overall_steps_per_s == 17.5
    assert (summary.best_val_psnr, summary.best_val_step) == (30.5, 200)
    assert format_summaries([summary]).split("\n")[2] == "| run | 8 | 350 | 400 | 20.0 | 17.5 | 50.0 | 400 | 30.500 (200) |"


def test_summary_takes_the_best_step_from_the_best_weights_card(tmp_path):
    # two validations equal at the log's 4 decimals: the trainer kept the later, higher one
    run = _write_run(tmp_path / "run", [(100, 0.5, 1e-4, 36.7977, 10.0, 8.0), (200, 0.4, 1e-4, 36.7977, 20.0, 8.0)])
    assert summarize_run(run).best_val_step == 100
    (run / "best.json").write_text(json.dumps({"training": {"steps": 200, "best_val_psnr": 36.79769971}}))
    summary = summarize_run(run)
    assert (summary.best_val_step, summary.best_val_psnr) == (200, 36.79769971)
    assert format_summaries([summary]).endswith("| 36.798 (200) |")


def test_summary_command_fails_in_one_line(tmp_path):
    empty = _write_run(tmp_path / "empty", [])
    for args in ([str(tmp_path / "missing")], [str(empty)], []):
        done = subprocess.run([sys.executable, "-m", "superres.training.summary", *args], capture_output=True, text=True)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_summary_without_validation(tmp_path):
    summary = summarize_run(_write_run(tmp_path / "run", [(10, 0.5, 1e-4, "", 1.0, 80.0)]))
    assert summary.best_val_psnr is None and summary.median_steps_per_s != summary.median_steps_per_s  # nan: no interval after start-up
    with pytest.raises(ValueError):
        summarize_run(_write_run(tmp_path / "none", []))
