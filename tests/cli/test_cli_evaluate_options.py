"""``superres evaluate``: --write-card guards and record, the report file, --mean-only."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from superres.cli.main import main


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    for i in range(2):
        pixels = np.random.default_rng(i).integers(0, 256, (24, 26, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"im{i}.png")
    return folder


def _not_reached(*args, **kwargs):
    raise AssertionError("the evaluation started although the command should have been refused")


def test_write_card_refuses_if_any_method_would_run_in_bf16(folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark
    from superres.inference import device

    monkeypatch.setattr(device, "native_bf16", lambda _device: True)  # auto: `default` in bf16
    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    assert main(["evaluate", "-m", "vdsr,default", "-d", str(folder), "-s", "2", "--write-card"]) == 1
    assert "fp32" in capsys.readouterr().err


def test_write_card_records_the_runs_with_the_command_as_typed_without_the_option(folder, capsys, monkeypatch):
    from superres.weights import cards

    seen = []
    monkeypatch.setattr(cards, "record_evaluation", lambda runs, command: seen.append((runs, command)) or [])
    assert main(["evaluate", "-m", "bicubic", "-d", str(folder), "-s", "2", "--write-card", "-f", "json"]) == 0
    capsys.readouterr()
    ((runs, command),) = seen
    assert command == f"superres evaluate -m bicubic -d {folder} -s 2 -f json"
    assert [(r["method"], r["dataset"], r["scale"]) for r in runs] == [("bicubic", str(folder), 2.0)]


def test_report_never_replaces_the_card_of_a_weights_file_it_reads(tmp_path, folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark
    from superres.weights.store import SHIPPED_DIR

    weights = tmp_path / "mine.safetensors"
    shutil.copy(SHIPPED_DIR / "scn.291-x2.safetensors", weights)
    shutil.copy(SHIPPED_DIR / "scn.291-x2.json", weights.with_suffix(".json"))
    card = weights.with_suffix(".json").read_bytes()
    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    argv = ["evaluate", "-m", f"scn={weights}", "-d", str(folder), "-s", "2", "-o", str(weights.with_suffix(".json")),
            "--overwrite"]
    assert main(argv) == 1
    assert "would replace the input" in capsys.readouterr().err
    assert weights.with_suffix(".json").read_bytes() == card


def test_a_report_file_that_appears_during_the_evaluation_is_kept(tmp_path, folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    report = tmp_path / "report.csv"
    real_evaluate = benchmark.evaluate

    def evaluate_then_another_writer(*args, **kwargs):
        results = real_evaluate(*args, **kwargs)
        report.write_text("another writer")
        return results

    monkeypatch.setattr(benchmark, "evaluate", evaluate_then_another_writer)
    assert main(["evaluate", "-d", str(folder), "-s", "2", "-f", "csv", "-o", str(report)]) == 1
    assert "exists (use --overwrite)" in capsys.readouterr().err
    assert report.read_text() == "another writer"


def test_table_lists_each_image_unless_mean_only(folder, capsys):
    assert main(["evaluate", "-d", str(folder), "-s", "2"]) == 0
    full = capsys.readouterr().out
    assert main(["evaluate", "-d", str(folder), "-s", "2", "--mean-only"]) == 0
    means = capsys.readouterr().out
    assert "im0" in full and "im1" in full and "mean" in full
    assert "im0" not in means and "im1" not in means and "mean" in means


def test_a_device_that_is_not_here_is_refused_before_any_work(folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert main(["evaluate", "-m", "vdsr", "-d", str(folder), "-s", "2", "--device", "cuda"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no CUDA GPU" in err[0]


def test_write_card_needs_the_cpu(folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert main(["evaluate", "-m", "vdsr", "-d", str(folder), "-s", "2", "--device", "cuda", "--write-card"]) == 1
    assert "CPU evaluations only" in capsys.readouterr().err


def test_the_networks_run_on_the_device_and_the_report_says_so(folder, capsys, monkeypatch):
    import json

    import torch

    from superres.inference import device as policy

    placed = []
    real_configure = policy.configure_method
    monkeypatch.setattr(policy, "resolve_device", lambda device: torch.device("cpu") if device == "cpu" else torch.device("cuda"))

    def configure(method, *, device, precision="fp32", method_name=""):
        placed.append((method.info.name, device.type, precision))
        return real_configure(method, device=torch.device("cpu"), precision=precision)  # no GPU here: run on the CPU

    monkeypatch.setattr(policy, "configure_method", configure)
    assert main(["evaluate", "-m", "vdsr,bicubic", "-d", str(folder), "-s", "2", "--device", "cuda", "-f", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert placed == [("vdsr", "cuda", "fp32")]  # only the network is placed; bicubic stays on the CPU
    assert [(r["method"], r.get("device", "cpu")) for r in report["results"]] == [("vdsr", "cuda"), ("bicubic", "cpu")]


def test_evaluate_runs_the_networks_on_the_cpu_unless_told(folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    monkeypatch.setattr("torch.cuda.is_available", lambda: True)  # a GPU here: `auto` would take it
    seen = []
    monkeypatch.setattr(benchmark, "evaluate", lambda *a, device, **k: seen.append(device) or [])
    main(["evaluate", "-m", "vdsr", "-d", str(folder), "-s", "2"])
    assert seen == [torch.device("cpu")]


def test_write_card_refuses_every_device_but_the_cpu(folder, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    monkeypatch.setattr(benchmark, "evaluate", lambda *a, **k: pytest.fail("evaluation started"))
    monkeypatch.setattr("torch.backends.mps.is_available", lambda: True)
    assert main(["evaluate", "-m", "vdsr", "-d", str(folder), "-s", "2", "--device", "mps", "--write-card"]) == 1
    assert "CPU evaluations only" in capsys.readouterr().err


def test_evaluate_picks_the_precision_and_names_the_device_it_runs_on(folder, monkeypatch):
    from superres.evaluation.benchmark import evaluate, evaluation_precision
    from superres.inference import device as policy

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(policy, "native_bf16", lambda device: device.type == "cuda")  # bf16 on the GPU only
    assert (evaluation_precision("default", "auto", "cuda:1"), evaluation_precision("default", "auto")) == ("bf16", "fp32")
    real = policy.configure_method
    monkeypatch.setattr(policy, "configure_method",
                        lambda m, *, device, precision="fp32", **k: real(m, device=torch.device("cpu"), precision=precision))
    (run,) = evaluate(["default"], [str(folder)], [2.0], device="cuda:1")  # no GPU here: the network runs on the CPU
    assert (run.precision, run.device, run.to_dict()["device"]) == ("bf16", "cuda:1", "cuda:1")


def test_a_scale_a_method_does_not_serve_is_refused_before_any_run(folder, tmp_path, capsys, monkeypatch):
    # bicubic x2, srcnn-915 x2 and bicubic x2.5 would run first, writing their images,
    # then srcnn-915 x2.5 would stop the whole evaluation: refused before the first run now
    import superres.evaluation.benchmark as benchmark

    monkeypatch.setattr(benchmark, "evaluate_method", _not_reached)
    saved = tmp_path / "saved"
    argv = ["evaluate", "-m", "bicubic,srcnn-915", "-d", str(folder), "-s", "2,2.5", "--save-dir", str(saved),
            "-o", str(tmp_path / "r.txt")]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "srcnn-915" in err[0] and "2.5" in err[0]
    assert not (tmp_path / "r.txt").exists() and not any(saved.rglob("*.png"))
    assert main(["evaluate", "-m", "bicubic", "-d", f"{folder},{tmp_path / 'missing'}", "-s", "2"]) == 1
    assert "missing" in capsys.readouterr().err


def test_a_scale_or_method_given_twice_runs_once(folder, capsys):
    assert main(["evaluate", "-m", "bicubic,bicubic", "-d", str(folder), "-s", "2,2", "-f", "json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [(r["method"], r["scale"]) for r in results] == [("bicubic", 2.0)]


def test_save_dir_or_report_inside_the_page_folder_is_refused(folder, tmp_path, capsys, monkeypatch):
    # the page folder is replaced whole at the end: --save-dir images inside it were deleted,
    # and a report named page/index.html replaced the page
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "nearest", "-d", str(folder), "-s", "2", "--html", str(page)]) == 0
    before = (page / "index.html").read_bytes()
    capsys.readouterr()
    monkeypatch.setattr("superres.evaluation.benchmark.evaluate", _not_reached)
    for extra in (["--save-dir", str(page / "sr")], ["--save-dir", str(page)],
                  ["-o", str(page / "index.html")], ["-o", str(tmp_path / "." / "page" / "r.json")]):
        assert main(["evaluate", "-m", "nearest", "-d", str(folder), "-s", "2", "--html", str(page),
                     "--overwrite", *extra]) == 1
        err = capsys.readouterr().err
        assert "lies inside the --html folder" in err and len(err.strip().splitlines()) == 1
    assert (page / "index.html").read_bytes() == before and sorted(p.name for p in page.iterdir()) == ["images", "index.html"]
    monkeypatch.undo()  # beside the page is fine
    assert main(["evaluate", "-m", "nearest", "-d", str(folder), "-s", "2", "--html", str(page), "--overwrite",
                 "--save-dir", str(tmp_path / "sr")]) == 0
    assert (page / "index.html").exists() and any((tmp_path / "sr").rglob("*.png"))
