"""Benchmark helpers and evaluate's options: image I/O and folder names, missing LR files, labels, saved outputs, the self-ensemble count."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from superres.errors import DataNotFoundError
from superres.evaluation.benchmark import distinct_folder, evaluate, evaluate_method, folder_name, load_uint8, save_uint8
from superres.methods.registry import get_method


# Benchmark image helpers: load_uint8 drops the alpha channel (not the colour), save_uint8
# rounds as the metrics do, folder_name / distinct_folder give safe, distinct folder names
# (reserved ones included), and evaluate_method with lr_from_files uses the set's LR file and
# records the timing and the label it is given.

def test_load_uint8_drops_the_alpha_channel(tmp_path):
    rng = np.random.default_rng(0)
    for mode, channels in (("LA", 2), ("RGBA", 4)):
        pixels = rng.integers(0, 256, (5, 6, channels), dtype=np.uint8)
        Image.fromarray(pixels, mode).save(tmp_path / f"{mode}.png")
        got = load_uint8(tmp_path / f"{mode}.png")
        assert got.dtype == torch.uint8 and got.shape == (1, channels - 1, 5, 6)
        assert torch.equal(got[0].permute(1, 2, 0), torch.from_numpy(pixels[:, :, :-1]))


def test_save_uint8_rounds_to_the_nearest_level(tmp_path):
    image = torch.tensor([100.6, 100.4, 253.7, -3.0, 300.0]).view(1, 1, 1, 5) / 255
    save_uint8(tmp_path / "x.png", image)
    assert np.asarray(Image.open(tmp_path / "x.png")).ravel().tolist() == [101, 100, 254, 0, 255]


def test_folder_names_are_safe_and_distinct():
    assert folder_name("vdsr=runs/a/best.safetensors") == "vdsr_runs_a_best.safetensors"
    assert folder_name("_hidden.") == "hidden" and folder_name("../..") == "_"
    taken: dict[str, str] = {}
    assert distinct_folder("a/b", taken) == "a_b" and distinct_folder("a_b", taken) == "a_b-2"
    assert distinct_folder("a/b", taken) == "a_b"  # the same label keeps its folder
    assert distinct_folder("web", {}, reserved=frozenset({"web"})) == "web-2"


def test_lr_from_files_uses_the_sets_lr_file_and_records_time_and_label(tmp_path):
    folder = tmp_path / "mine" / "x2"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(folder / "img_001_HR.png")
    lr_pixels = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)  # not the HR's bicubic downscale
    Image.fromarray(lr_pixels).save(folder / "img_001_LR.png")
    seen = []
    run = evaluate_method(get_method("bicubic"), str(tmp_path / "mine"), 2.0, lr_from_files=True, label="my label",
                          on_output=lambda run, output: seen.append(output))
    expected = torch.from_numpy(lr_pixels).permute(2, 0, 1)[None].to(torch.float32) / 255
    assert torch.equal(seen[0].lr, expected)
    assert run.method == "my label"
    assert run.images[0].seconds > 0


# evaluate_method / evaluate on a set of one's own: a missing LR file under --lr-from-files is
# a clear DataNotFoundError, a gray set under metric_channel="rgb" is scored on its one channel,
# outputs are saved under the folders asked for and x<scale:g> (x2.5, not x2), on_output sees
# the LR the method was given, and ``default`` is labelled with the method it resolved to.

def _set(root, *, gray=False, size=(40, 30), lr=False):
    folder = root / "mine" / "x2"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    shape = (size[1], size[0]) if gray else (size[1], size[0], 3)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / "img_001_HR.png")
    if lr:
        lr_shape = (size[1] // 2, size[0] // 2) + (() if gray else (3,))
        Image.fromarray(rng.integers(0, 256, lr_shape, dtype=np.uint8)).save(folder / "img_001_LR.png")
    return root / "mine"


def test_lr_from_files_without_an_lr_file_says_so(tmp_path):
    dataset = _set(tmp_path)
    with pytest.raises(DataNotFoundError, match="no LR file for scale 2"):
        evaluate_method(get_method("bicubic"), str(dataset), 2.0, lr_from_files=True)


def test_a_gray_set_is_scored_on_its_one_channel_whatever_the_metric_channel(tmp_path):
    dataset = _set(tmp_path, gray=True)
    runs = {c: evaluate_method(get_method("bicubic"), str(dataset), 2.0, metric_channel=c) for c in ("y", "rgb")}
    assert runs["rgb"].images[0].psnr == runs["y"].images[0].psnr
    assert runs["rgb"].images[0].ssim == runs["y"].images[0].ssim


def test_outputs_are_saved_under_the_folders_given_and_the_exact_scale(tmp_path):
    dataset = _set(tmp_path)
    out = tmp_path / "out"
    evaluate_method(get_method("bicubic"), str(dataset), 2.5, save_dir=out, save_folders=("meth", "sett"))
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.png")] == ["meth/sett/x2.5/img_001.png"]


def test_on_output_sees_the_lr_the_method_was_given(tmp_path):
    dataset = _set(tmp_path)
    seen = []
    evaluate_method(get_method("bicubic"), str(dataset), 2.0, on_output=lambda run, output: seen.append(output))
    (output,) = seen
    assert output.hr.shape == (1, 3, 30, 40) and output.lr.shape == (1, 3, 15, 20) and output.sr.shape == (1, 3, 30, 40)
    assert output.lr.is_floating_point() and torch.equal(get_method("bicubic").upscale(output.lr, 2), output.sr)


def test_default_is_labelled_with_the_method_it_resolved_to(tmp_path, monkeypatch):
    from superres.evaluation import benchmark

    dataset = _set(tmp_path)
    monkeypatch.setattr(benchmark, "resolve_method_name", lambda name, scale: "lanczos3" if name == "default" else name)
    default, named = evaluate(["default", "bicubic"], [str(dataset)], [2.0])
    assert default.method == "default (lanczos3)" and named.method == "bicubic"


def test_an_unknown_lr_mode_is_refused_before_any_image(tmp_path):
    from superres.errors import InvalidArgumentError

    dataset = _set(tmp_path)
    with pytest.raises(InvalidArgumentError, match="unknown lr mode 'y_float'"):
        evaluate_method(get_method("bicubic"), str(dataset), 2.0, lr_mode="y_float")


# evaluate(self_ensemble=N) runs a learned network with N test-time passes and the run
# records N; without the option the card's own count is used and recorded.

def test_self_ensemble_passes_reach_the_network_and_the_run(tmp_path):
    folder = tmp_path / "mine" / "x2"
    folder.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, (24, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "img_001_HR.png")
    (plain,) = evaluate(["srcnn-955"], [str(tmp_path / "mine")], [2.0], precision="fp32")
    (eight,) = evaluate(["srcnn-955"], [str(tmp_path / "mine")], [2.0], precision="fp32", self_ensemble=8)
    assert plain.self_ensemble == 1 and eight.self_ensemble == 8
    assert eight.images[0].psnr != plain.images[0].psnr  # the eight passes really ran
