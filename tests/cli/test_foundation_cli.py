"""The foundation subcommands end to end: evaluate, methods, resize, degrade, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from superres.cli.main import main


def test_evaluate_json_format(data_dir, capsys):
    assert main(["evaluate", "-m", "bicubic,nearest", "-d", "Set5", "-s", "3", "--format", "json", "--data-dir", str(data_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in out["results"]] == ["bicubic", "nearest"]
    first = out["results"][0]
    assert set(first) >= {"method", "dataset", "scale", "images", "mean"}
    assert len(first["images"]) == 5 and set(first["images"][0]) == {"name", "psnr", "ssim", "seconds"}
    assert round(first["mean"]["psnr"], 2) == 30.39


def test_evaluate_csv_markdown_and_save_dir(data_dir, capsys, tmp_path):
    assert main(["evaluate", "-d", "Set5", "-s", "2", "-f", "csv", "--data-dir", str(data_dir), "--save-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("method,dataset,scale") and len(lines) == 1 + 5 + 1
    saved = sorted((tmp_path / "bicubic" / "Set5" / "x2").glob("*.png"))
    assert len(saved) == 5
    assert main(["evaluate", "-d", "Set5", "-s", "2", "-f", "markdown", "--data-dir", str(data_dir)]) == 0
    assert "| bicubic | 33.64 / 0.9292 |" in capsys.readouterr().out


def test_save_dir_keeps_labels_that_sanitise_alike_apart(tmp_path, capsys):
    """``a/b`` and ``a_b`` (weights files, data folders) make the same folder name; each
    run's outputs still land in a folder of their own instead of overwriting the other's."""
    import shutil

    from superres.weights.store import SHIPPED_DIR

    for folder, seed in ((tmp_path / "sets" / "a" / "b", 0), (tmp_path / "sets" / "a_b", 1)):
        folder.mkdir(parents=True)
        pixels = np.random.default_rng(seed).integers(0, 256, (24, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "im.png")
    weights = SHIPPED_DIR / "srcnn-915.291-x2.safetensors"
    for target in (tmp_path / "w" / "a" / "b.safetensors", tmp_path / "w" / "a_b.safetensors"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(weights, target)
        shutil.copy(weights.with_suffix(".json"), target.with_suffix(".json"))
    specs = [f"srcnn-915={tmp_path / 'w' / 'a' / 'b.safetensors'}", f"srcnn-915={tmp_path / 'w' / 'a_b.safetensors'}"]
    sets = [str(tmp_path / "sets" / "a" / "b"), str(tmp_path / "sets" / "a_b")]
    out = tmp_path / "out"
    argv = ["evaluate", "-m", ",".join(specs), "-d", ",".join(sets), "-s", "2", "-f", "json", "--save-dir", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    saved = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(saved) == 4, saved
    method_folders = sorted({p.split("/")[0] for p in saved})
    dataset_folders = sorted({p.split("/")[1] for p in saved})
    assert len(method_folders) == 2 and method_folders[1] == method_folders[0] + "-2"
    assert len(dataset_folders) == 2 and dataset_folders[1] == dataset_folders[0] + "-2"


def test_evaluate_folder_dataset(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (50, 61, 3), dtype=np.uint8)).save(tmp_path / f"im{i}.png")
    assert main(["evaluate", "-d", str(tmp_path), "-s", "2", "-f", "json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert [i["name"] for i in result["images"]] == ["im0", "im1"]


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["evaluate", "-m", "nosuchmethod", "-d", "Set5", "-s", "2"], "unknown method"),
        (["evaluate", "-d", "/nonexistent/folder/x", "-s", "2"], "not found"),
    ],
)
def test_evaluate_errors_are_one_line(argv, needle, capsys, data_dir):
    assert main(argv + ["--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and err.startswith("superres: error:")


def test_bad_scale_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "-s", "zero"])
    assert exc.value.code == 2
    assert "invalid scale" in capsys.readouterr().err


def test_methods_lists_interpolation(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in ("nearest", "bilinear", "bicubic", "lanczos3", "ibp"):
        assert f"\n{name} " in out


def test_methods_names_every_registered_method_and_why_one_cannot_run(capsys, monkeypatch):
    from superres.methods import registry

    assert main(["methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = {line.split()[0] for line in lines[1:] if not line.startswith("not available")}
    missing = {line.split(": ")[1] for line in lines if line.startswith("not available here: ")}
    assert listed | missing == set(registry.METHODS) and not listed & missing
    # a method whose weights are missing is named with the reason, not dropped
    real_get_method = registry.get_method

    def get_method(name, **options):
        if name == "vdsr":
            raise registry.SuperresError("no weights here")
        return real_get_method(name, **options)

    monkeypatch.setattr(registry, "get_method", get_method)
    assert main(["methods"]) == 0
    assert "not available here: vdsr: no weights here" in capsys.readouterr().out


def test_resize_and_degrade(tmp_path, data_dir):
    hr_dir = data_dir / "benchmark" / "Set5" / "x4"
    out = tmp_path / "lr"
    assert main(["degrade", str(hr_dir), str(out), "--scale", "4"]) == 0
    made = np.array(Image.open(out / "img_003_HR.png"))
    assert np.array_equal(made, np.array(Image.open(hr_dir / "img_003_LR.png")))
    # resize one file back up, and refuse to overwrite
    up = tmp_path / "up.png"
    assert main(["resize", str(out / "img_003_HR.png"), str(up), "--scale", "4"]) == 0
    assert Image.open(up).size == Image.open(hr_dir / "img_003_HR.png").size
    assert main(["resize", str(out / "img_003_HR.png"), str(up), "--scale", "4"]) == 1


def test_cli_subprocess_error_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    proc = subprocess.run([sys.executable, "-m", "superres", "resize", str(bad), str(tmp_path / "o.png"), "-s", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "bad.png" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.png").exists()
