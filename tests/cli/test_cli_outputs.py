"""Outputs of resize, compare, degrade and evaluate: never over an input, refused up front, in one line.

Every refusal is a one-line ``superres: error:`` with exit code 1 (2 for usage
errors), leaves the inputs byte for byte as they were and writes nothing.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from superres.cli.main import main


def _image(path, height=24, width=26, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path.read_bytes()


def _refused(argv, capsys, needle=""):
    """Run ``argv``: exit 1 and one line on stderr containing ``needle``."""
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("superres: error:") and "\n" not in err and "Traceback" not in err, err
    assert needle in err, err
    return err


def _usage_error(argv, capsys, needle=""):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and needle in err, err


def _not_reached(*args, **kwargs):
    raise AssertionError("the work started before the output was checked")


# --------------------------------------------------------------------------
# Output is an input


def test_resize_never_replaces_its_input(tmp_path, capsys):
    src = tmp_path / "rs" / "in.png"
    original = _image(src)
    _refused(["resize", src, src, "-s", "2", "--overwrite"], capsys, "would replace the input")
    _refused(["resize", src, tmp_path / "rs" / ".." / "rs" / "in.png", "-s", "2", "--overwrite"], capsys,
             "would replace the input")
    assert src.read_bytes() == original
    assert sorted(p.name for p in src.parent.iterdir()) == ["in.png"]  # no temporary file left


def test_compare_never_replaces_the_original(tmp_path, capsys):
    src = tmp_path / "nat.png"
    original = _image(src, 48, 48)
    _refused(["compare", src, "-m", "bicubic", "-s", "2", "-o", src, "--overwrite"], capsys,
             "would replace the input")
    assert src.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nat.png"]


def test_degrade_never_writes_into_the_hr_folder(tmp_path, capsys):
    hr = tmp_path / "hr"
    originals = {name: _image(hr / name, seed=i) for i, name in enumerate(["im0.png", "im1.png"])}
    _refused(["degrade", hr, hr, "-s", "2", "--overwrite"], capsys, "is the HR folder")
    _refused(["degrade", hr, f"{hr}/.", "-s", "2", "--overwrite"], capsys, "is the HR folder")
    _refused(["degrade", hr, tmp_path / "lr", "-s", "2", "--hr-out", hr, "--overwrite"], capsys, "is the HR folder")
    _refused(["degrade", hr, tmp_path / "lr", "-s", "2", "--hr-out", tmp_path / "lr", "--overwrite"], capsys,
             "is the LR folder")
    assert {p.name: p.read_bytes() for p in hr.iterdir()} == originals
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hr"]


def test_evaluate_report_never_replaces_a_dataset_image(tmp_path, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    folder = tmp_path / "small"
    original = _image(folder / "im0.png")
    _image(folder / "im1.png", seed=1)
    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    for extra in ([], ["--overwrite"]):
        _refused(["evaluate", "-d", folder, "-s", "2", "-m", "bicubic", "-o", folder / "im0.png", *extra], capsys,
                 "would replace the input")
    assert (folder / "im0.png").read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == ["im0.png", "im1.png"]


# --------------------------------------------------------------------------
# evaluate -o / --save-dir


def test_evaluate_checks_its_outputs_before_evaluating(tmp_path, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    folder = tmp_path / "small"
    _image(folder / "im0.png")
    report = tmp_path / "r.txt"
    report.write_text("keep me")
    (tmp_path / "afolder").mkdir()
    (tmp_path / "file.png").write_bytes(b"not a folder")
    base = ["evaluate", "-d", folder, "-s", "2", "-m", "bicubic"]
    monkeypatch.setattr(benchmark, "evaluate", _not_reached)
    _refused(base + ["-o", report], capsys, "exists (use --overwrite)")
    _refused(base + ["-o", tmp_path / "nodir" / "r.txt"], capsys, "does not exist")
    _refused(base + ["-o", tmp_path / "afolder"], capsys, "is a directory")
    _refused(base + ["-o", tmp_path / "file.png" / "r.txt"], capsys, "is not a folder")
    _refused(base + ["--save-dir", tmp_path / "file.png"], capsys, "is not a folder")
    assert report.read_text() == "keep me"
    assert not (tmp_path / "nodir").exists() and list((tmp_path / "afolder").iterdir()) == []
    assert (tmp_path / "file.png").read_bytes() == b"not a folder"
    monkeypatch.undo()
    # --overwrite replaces an existing report (the convention of resize, compare and degrade)
    assert main([str(a) for a in base + ["-o", report, "--overwrite", "-f", "csv"]]) == 0
    assert report.read_text() == capsys.readouterr().out and report.read_text().startswith("method,")


def test_evaluate_save_dir_that_cannot_be_made_is_one_line(tmp_path, capsys):
    folder = tmp_path / "small"
    _image(folder / "im0.png")
    save = tmp_path / "save"
    save.mkdir()
    (save / "bicubic").write_bytes(b"a file where a folder goes")
    _refused(["evaluate", "-d", folder, "-s", "2", "-m", "bicubic", "--save-dir", save, "--overwrite"], capsys,
             "cannot create the folder")
    assert (save / "bicubic").read_bytes() == b"a file where a folder goes"


def test_evaluate_save_dir_replaces_earlier_images_only_with_overwrite(tmp_path, capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    folder = tmp_path / "small"
    _image(folder / "im0.png")
    save = tmp_path / "save"
    argv = ["evaluate", "-d", folder, "-s", "2", "-m", "bicubic", "--save-dir", save]
    assert main([str(a) for a in argv]) == 0
    (written,) = save.rglob("im0.png")
    made = written.read_bytes()
    written.write_bytes(b"the user's edit")
    with monkeypatch.context() as patched:
        patched.setattr(benchmark, "evaluate", _not_reached)
        _refused(argv, capsys, "is not empty (use --overwrite")
    assert written.read_bytes() == b"the user's edit"
    assert main([str(a) for a in argv + ["--overwrite"]]) == 0
    assert written.read_bytes() == made


# --------------------------------------------------------------------------
# degrade: everything checked before the first file is written


def test_degrade_too_small_image_writes_nothing(tmp_path, capsys):
    hr = tmp_path / "hr"
    _image(hr / "a_big.png", 64, 64)
    _image(hr / "b_small.png", 24, 26)
    _refused(["degrade", hr, tmp_path / "lr", "-s", "30", "--hr-out", tmp_path / "hrm"], capsys,
             "b_small.png' is 26x24: too small for x30")
    assert not (tmp_path / "lr").exists() and not (tmp_path / "hrm").exists()


def test_degrade_output_folder_that_is_a_file(tmp_path, capsys):
    hr = tmp_path / "hr"
    _image(hr / "im0.png")
    blocker = tmp_path / "file.png"
    blocker.write_bytes(b"keep me")
    _refused(["degrade", hr, blocker, "-s", "2"], capsys, "is not a folder")
    _refused(["degrade", hr, tmp_path / "lr", "-s", "2", "--hr-out", blocker], capsys, "is not a folder")
    assert blocker.read_bytes() == b"keep me" and not (tmp_path / "lr").exists()


def test_degrade_two_inputs_with_one_output_name(tmp_path, capsys):
    hr = tmp_path / "hr"
    _image(hr / "a.png")
    Image.open(hr / "a.png").save(hr / "a.jpg")
    _refused(["degrade", hr, tmp_path / "lr", "-s", "2", "--overwrite"], capsys, "would both be written as 'a.png'")
    assert not (tmp_path / "lr").exists()


def test_degrade_existing_output_is_refused_before_any_write(tmp_path, capsys):
    hr = tmp_path / "hr"
    _image(hr / "im0.png")
    _image(hr / "im1.png", seed=1)
    lr = tmp_path / "lr"
    lr.mkdir()
    (lr / "im1.png").write_bytes(b"keep me")
    _refused(["degrade", hr, lr, "-s", "2"], capsys, "exists (use --overwrite)")
    assert sorted(p.name for p in lr.iterdir()) == ["im1.png"] and (lr / "im1.png").read_bytes() == b"keep me"
    assert main(["degrade", str(hr), str(lr), "-s", "2", "--overwrite"]) == 0
    capsys.readouterr()
    assert Image.open(lr / "im1.png").size == (13, 12)


# --------------------------------------------------------------------------
# resize: the output size is bounded as the reader bounds its input


def test_resize_output_size_is_bounded(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.png"
    original = _image(src)
    out = tmp_path / "o.png"
    _refused(["resize", src, out, "--size", "100000x100000"], capsys, "above the limit")
    _refused(["resize", src, out, "-s", "1e6"], capsys, "above the limit")
    _refused(["resize", src, out, "-s", "40", "--max-memory", "1M"], capsys, "more than the memory budget")
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "1000")
    _refused(["resize", src, out, "-s", "2"], capsys, "SUPERRES_MAX_PIXELS")
    monkeypatch.delenv("SUPERRES_MAX_PIXELS")
    assert src.read_bytes() == original and not out.exists()
    assert main(["resize", str(src), str(out), "-s", "2"]) == 0
    assert Image.open(out).size == (52, 48)


# --------------------------------------------------------------------------
# Minor: usage errors, and a bad output name refused before any work


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["compare", "x.png", "-o", "g.png", "--zoom", "0"], "--zoom"),
        (["compare", "x.png", "-o", "g.png", "--columns", "0"], "--columns"),
        (["compare", "x.png", "-o", "g.png", "--columns", "-1"], "--columns"),
        (["evaluate", "-s", ""], "--scale"),
        (["evaluate", "-s", ","], "--scale"),
        (["resize", "x.png", "o.png", "-s", "0"], "--scale"),
        (["resize", "x.png", "o.png", "-s", "nan"], "--scale"),
    ],
)
def test_out_of_range_values_are_usage_errors(argv, needle, capsys):
    _usage_error(argv, capsys, needle)


def test_bad_output_name_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import superres.inference
    import superres.io

    src = tmp_path / "in.png"
    original = _image(src, 48, 48)
    monkeypatch.setattr(superres.inference, "prepare_method", _not_reached)
    monkeypatch.setattr(superres.io, "read_image", _not_reached)
    _refused(["compare", src, "-s", "2", "-o", tmp_path / "g.xyz"], capsys, "unknown image extension")
    _refused(["compare", src, "-s", "2", "-o", tmp_path / "nodir" / "g.png"], capsys, "does not exist")
    _refused(["resize", src, tmp_path / "o.xyz", "-s", "2"], capsys, "unknown image extension")
    _refused(["resize", src, tmp_path / "nodir" / "o.png", "-s", "2"], capsys, "does not exist")
    assert src.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def test_refusals_have_no_traceback_from_the_command_line(tmp_path):
    hr = tmp_path / "hr"
    original = _image(hr / "im0.png")
    (tmp_path / "folder").mkdir()
    for argv in (["degrade", hr, hr, "-s", "2", "--overwrite"],
                 ["evaluate", "-d", hr, "-s", "2", "-m", "bicubic", "-o", tmp_path / "folder"]):
        proc = subprocess.run([sys.executable, "-m", "superres", *map(str, argv)], capture_output=True, text=True)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert (hr / "im0.png").read_bytes() == original and list((tmp_path / "folder").iterdir()) == []


def test_degrade_says_that_16_bit_hr_becomes_8_bit(tmp_path, capsys):
    from superres.degradation.pipelines import bicubic_downscale
    from superres.io import read_image, to_uint8, write_image

    hr16 = np.random.default_rng(3).integers(0, 65536, (24, 30, 3)).astype(np.uint16)
    (tmp_path / "hr").mkdir()
    write_image(tmp_path / "hr" / "a.png", hr16)
    assert main(["degrade", str(tmp_path / "hr"), str(tmp_path / "lr"), "-s", "3"]) == 0
    assert "is 16-bit: reduced to 8 bits first" in capsys.readouterr().err
    expected = bicubic_downscale(torch.from_numpy(to_uint8(hr16)).permute(2, 0, 1)[None], 3.0)
    np.testing.assert_array_equal(read_image(tmp_path / "lr" / "a.png").pixels, expected[0].permute(1, 2, 0).numpy())
    # to_uint8 rounds to nearest: 257 k -> k, and the midpoint 257 k + 128.5 splits k from k + 1
    levels = np.arange(256, dtype=np.uint32) * 257
    assert np.array_equal(to_uint8(levels.astype(np.uint16)), np.arange(256))
    assert np.array_equal(to_uint8((levels[:-1] + 128).astype(np.uint16)), np.arange(255))
    assert np.array_equal(to_uint8((levels[:-1] + 129).astype(np.uint16)), np.arange(1, 256))
