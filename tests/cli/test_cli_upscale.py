"""``superres upscale``: formats round-trip, batches, skip/overwrite, and bad inputs.

Expected outputs are derived in the test from the input (size = ceil(size *
scale), mode kept, alpha = MATLAB bicubic of the input alpha computed with
:func:`superres.ops.resize.imresize_matlab`).
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from superres.cli.main import main
from superres.weights.defaults import default_method_for_scale
from superres.io import read_image, write_image
from superres.ops.resize import imresize_matlab


def _rng_pixels(h, w, c, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    top = 255 if dtype == np.uint8 else 65535
    smooth = rng.random((h // 4 + 2, w // 4 + 2, c))
    big = np.kron(smooth, np.ones((4, 4, 1)))[:h, :w]  # blocky, so resizing changes something
    return np.clip(big * top + rng.normal(0, top / 50, big.shape), 0, top).astype(dtype)


def _exit_code(argv) -> int:
    """main(argv)'s exit code; argparse usage errors leave main by SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# --------------------------------------------------------------------------
# Modes, depths and orientation


@pytest.mark.parametrize(
    "channels, dtype, pil_mode",
    [(3, np.uint8, "RGB"), (3, np.uint16, None), (1, np.uint8, "L"), (1, np.uint16, "I;16"),
     (4, np.uint8, "RGBA"), (2, np.uint8, "LA"), (4, np.uint16, None)],
)
def test_modes_and_depths_round_trip(tmp_path, channels, dtype, pil_mode):
    src = tmp_path / "in.png"
    pixels = _rng_pixels(19, 26, channels, dtype)
    write_image(src, pixels)
    out = tmp_path / "out.png"
    assert main(["upscale", str(src), "-o", str(out), "-s", "2", "-q"]) == 0
    got = read_image(out).pixels
    assert got.shape == (38, 52, channels) and got.dtype == dtype
    if pil_mode is not None:
        with Image.open(out) as im:
            assert im.mode == pil_mode
    if dtype == np.uint16:  # processed in float: real 16-bit values, not 8-bit ones widened
        assert np.any(got % 257 != 0)
    if channels in (2, 4):  # alpha: MATLAB bicubic of the input alpha, re-attached
        alpha = torch.from_numpy(pixels[:, :, -1].astype(np.float64) / (255 if dtype == np.uint8 else 65535))
        if dtype == np.uint8:
            expect = imresize_matlab(torch.from_numpy(pixels[:, :, -1].copy())[None], 2.0)[0].numpy()
        else:
            expect = np.floor(imresize_matlab(alpha[None].float(), 2.0)[0].double().clamp(0, 1).numpy() * 65535 + 0.5)
        assert np.abs(got[:, :, -1].astype(int) - expect.astype(int)).max() <= 1


def test_palette_becomes_rgb_and_rgba(tmp_path):
    rgb = Image.fromarray(_rng_pixels(20, 24, 3)).quantize(16)
    rgb.save(tmp_path / "p.png")
    rgb.save(tmp_path / "pt.png", transparency=0)
    for name, mode in (("p.png", "RGB"), ("pt.png", "RGBA")):
        out = tmp_path / f"out-{name}"
        assert main(["upscale", str(tmp_path / name), "-o", str(out), "-s", "3", "-q"]) == 0
        with Image.open(out) as im:
            assert im.mode == mode and im.size == (72, 60)


def test_exif_orientation_applied_and_metadata_carried(tmp_path):
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :10] = 255  # white band on the left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed turned 90 degrees clockwise
    exif[0x010F] = "TestCam"
    icc = b"\0" * 128 + b"not a real profile but carried as is"
    Image.fromarray(pixels).save(tmp_path / "r.png", exif=exif.tobytes(), icc_profile=icc)
    out = tmp_path / "r-x2.png"
    assert main(["upscale", str(tmp_path / "r.png"), "-o", str(out), "-s", "2", "-q"]) == 0
    with Image.open(out) as im:
        assert im.size == (40, 60)  # upright: width and height swapped
        got = np.asarray(im)
        assert got[:10, :, 0].mean() > 200 and got[-10:, :, 0].mean() < 50  # the band is now on top
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "TestCam"
        assert im.getexif().get(0x0112, 1) == 1


def test_fractional_scale_and_format_from_the_output_name(tmp_path):
    src = tmp_path / "in.png"
    write_image(src, _rng_pixels(21, 17, 3))
    out = tmp_path / "out.jpg"
    assert main(["upscale", str(src), "-o", str(out), "-s", "2.5", "-q"]) == 0
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (math.ceil(17 * 2.5), math.ceil(21 * 2.5))


def test_out_dir_keeps_the_input_format_or_takes_format(tmp_path):
    write_image(tmp_path / "a.png", _rng_pixels(10, 12, 3))
    write_image(tmp_path / "b.bmp", _rng_pixels(10, 12, 3, seed=1))
    out = tmp_path / "out"
    assert main(["upscale", str(tmp_path / "a.png"), str(tmp_path / "b.bmp"), "--out-dir", str(out), "-q"]) == 0
    assert _files(out) == {"a.png", "b.bmp"}
    assert main(["upscale", str(tmp_path / "a.png"), "--out-dir", str(out), "--format", "webp", "--suffix", "_x2",
                 "-q"]) == 0
    assert "a_x2.webp" in _files(out)


# --------------------------------------------------------------------------
# Batches: folders, globs, skip, overwrite, partial failure


def test_folder_and_glob_batch_skips_done_files_and_overwrites_on_request(tmp_path, capsys):
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    for i in range(3):
        write_image(src / f"p{i}.png", _rng_pixels(12, 10, 3, seed=i))
    write_image(src / "sub" / "deep.png", _rng_pixels(12, 10, 3, seed=9))
    (src / "notes.txt").write_text("not an image, and not picked from a folder")
    out = tmp_path / "out"
    assert main(["upscale", str(src), "--out-dir", str(out), "-s", "2"]) == 0
    assert _files(out) == {"p0.png", "p1.png", "p2.png"}
    summary = capsys.readouterr().out.strip().splitlines()
    assert len(summary) == 1 and "upscaled 3 files" in summary[0]

    stamp = (out / "p0.png").stat().st_mtime_ns
    (out / "p2.png").unlink()  # as if the run had been interrupted before p2
    assert main(["upscale", str(src / "p*.png"), "--out-dir", str(out), "-s", "2"]) == 0
    default = default_method_for_scale(2)
    assert f"upscaled 1 file x2 with {default}, 2 skipped" in capsys.readouterr().out
    assert (out / "p0.png").stat().st_mtime_ns == stamp and (out / "p2.png").exists()

    assert main(["upscale", str(src / "p0.png"), "--out-dir", str(out), "-s", "2", "--overwrite"]) == 0
    assert (out / "p0.png").stat().st_mtime_ns != stamp

    assert main(["upscale", str(src), "-r", "--out-dir", str(tmp_path / "tree"), "-s", "2", "-q"]) == 0
    assert (tmp_path / "tree" / "sub" / "deep.png").exists()


def test_one_bad_file_in_a_batch_fails_alone(tmp_path, capsys):
    write_image(tmp_path / "good1.png", _rng_pixels(8, 8, 3))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    write_image(tmp_path / "good2.png", _rng_pixels(8, 8, 3, seed=2))
    out = tmp_path / "out"
    code = main(["upscale", str(tmp_path / "good1.png"), str(tmp_path / "bad.png"), str(tmp_path / "good2.png"),
                 str(tmp_path / "missing.png"), "--out-dir", str(out), "-q"])
    captured = capsys.readouterr()
    assert code == 1
    assert _files(out) == {"good1.png", "good2.png"}
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2 and any("bad.png" in e for e in errors) and any("missing.png" in e for e in errors)
    assert "upscaled 2 files" in captured.out and "2 failed" in captured.out


def test_a_file_named_as_an_input_is_never_written_even_with_overwrite(tmp_path, capsys):
    # `a_x2.png` is named like a.png's output, but the user named it: it is an input,
    # so a.png's job is refused and the named file keeps its bytes.
    write_image(tmp_path / "a.png", _rng_pixels(10, 10, 3))
    write_image(tmp_path / "a_x2.png", _rng_pixels(7, 7, 3, seed=1))
    before = _digest(tmp_path / "a_x2.png")
    argv = ["upscale", str(tmp_path / "a.png"), str(tmp_path / "a_x2.png"), "-s", "2", "-m", "bicubic", "--overwrite"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "is another input of this command" in captured.err
    assert "upscaled 1 file x2" in captured.out and "1 failed" in captured.out
    assert _digest(tmp_path / "a_x2.png") == before
    assert _files(tmp_path) == {"a.png", "a_x2.png", "a_x2_x2.png"}


def test_without_an_output_option_each_output_goes_beside_its_input(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "a.png", _rng_pixels(12, 10, 3))
    write_image(photos / "b.jpg", _rng_pixels(12, 10, 3, seed=1))
    assert main(["upscale", str(photos / "a.png"), "-s", "3", "-q"]) == 0
    with Image.open(photos / "a_x3.png") as im:
        assert im.size == (30, 36)
    reference = _digest(photos / "a_x3.png")

    # The folder again: a_x3.png is this command's own output, not a new input (no
    # a_x3_x3.png), a is done already, only b is new and keeps its format.
    assert main(["upscale", str(photos), "-s", "3", "-q"]) == 0
    out = capsys.readouterr().out
    assert "upscaled 1 file x3" in out and "1 skipped (output exists" in out and "1 skipped (outputs of this" in out
    assert _files(photos) == {"a.png", "b.jpg", "a_x3.png", "b_x3.jpg"}
    assert _digest(photos / "a_x3.png") == reference

    assert main(["upscale", str(photos / "a.png"), "-s", "2.5", "--suffix", "_big", "--format", "webp", "-q"]) == 0
    assert "a_big.webp" in _files(photos)
    # An empty suffix would name the input itself: refused, the input kept.
    before = _digest(photos / "a.png")
    assert main(["upscale", str(photos / "a.png"), "--suffix", "", "--overwrite", "-q"]) == 1
    assert "replace the input" in capsys.readouterr().err and _digest(photos / "a.png") == before


def test_output_never_replaces_the_input(tmp_path, capsys):
    src = tmp_path / "a.png"
    write_image(src, _rng_pixels(8, 8, 3))
    before = _digest(src)
    assert main(["upscale", str(src), "--out-dir", str(tmp_path), "--overwrite", "-q"]) == 1
    assert "replace the input" in capsys.readouterr().err
    assert _digest(src) == before


# --------------------------------------------------------------------------
# Bad inputs: one line, non-zero exit, no traceback, no output, input untouched


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.png"
    write_image(good, _rng_pixels(16, 16, 3))
    data = good.read_bytes()
    cases = {
        "corrupt": data[:40] + bytes(range(256)) * 4,
        "truncated": data[: len(data) // 2],
        "empty": b"",
        "not-an-image": b"hello, this is text\n" * 10,
    }
    paths = {}
    for name, blob in cases.items():
        path = tmp_path / f"{name}.png"
        path.write_bytes(blob)
        paths[name] = path
    paths["good"] = good
    return paths


@pytest.mark.parametrize("case", ["corrupt", "truncated", "empty", "not-an-image"])
def test_bad_input_files(tmp_path, capsys, case):
    path = _bad_inputs(tmp_path)[case]
    before = _digest(path)
    out = tmp_path / "out.png"
    assert main(["upscale", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("superres: error:") and path.name in err[0]
    assert "Traceback" not in err[0]
    assert not out.exists() and _digest(path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize(
    "extra, code, needle",
    [
        (["-m", "no-such-model"], 1, "unknown method"),
        (["-s", "0.5"], 2, "scale"),
        (["-s", "1"], 2, "above 1"),
        (["-s", "100"], 2, "scale"),
        (["-s", "abc"], 2, "scale"),
        (["--max-memory", "lots"], 2, "memory"),
        (["--device", "warp-drive"], 1, "device"),
        (["-s", "64", "--max-memory", "8M"], 1, "--max-memory"),  # output too big for the budget
    ],
)
def test_bad_options(tmp_path, capsys, extra, code, needle):
    good = _bad_inputs(tmp_path)["good"]
    before = _digest(good)
    out = tmp_path / "out.png"
    assert _exit_code(["upscale", str(good), "-o", str(out), *extra]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not out.exists() and _digest(good) == before


def test_scale_the_model_cannot_do(tmp_path, capsys, monkeypatch):
    # a method with fixed scales (like a learned one) asked for another
    from superres.methods import registry
    from superres.methods.interpolation import InterpolationMethod

    class OnlyX3(InterpolationMethod):
        def __init__(self):
            super().__init__("bicubic")
            from dataclasses import replace

            self.info = replace(self.info, name="only-x3", scales=(3.0,))

    monkeypatch.setattr(registry, "_factory", lambda name: OnlyX3)
    good = _bad_inputs(tmp_path)["good"]
    assert main(["upscale", str(good), "-o", str(tmp_path / "o.png"), "-m", "only-x3", "-s", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "supports scale 3, not 2" in err[0]
    assert main(["upscale", str(good), "-o", str(tmp_path / "o.png"), "-m", "only-x3", "-s", "3.0000001"]) == 1
    assert "not 3.0000001" in capsys.readouterr().err  # not "supports scale 3, not 3"


@pytest.mark.parametrize("where", ["missing-folder", "parent-is-file", "bad-extension", "is-directory"])
def test_unwritable_output(tmp_path, capsys, where):
    good = _bad_inputs(tmp_path)["good"]
    before = _digest(good)
    target = {
        "missing-folder": tmp_path / "no" / "such" / "out.png",
        "parent-is-file": good / "out.png",
        "bad-extension": tmp_path / "out.xyz",
        "is-directory": tmp_path,
    }[where]
    assert main(["upscale", str(good), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("superres: error:")
    if where == "is-directory":
        assert "is a folder" in err[0] and "--out-dir" in err[0]
    assert _digest(good) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["good.png", "corrupt.png", "truncated.png", "empty.png", "not-an-image.png"])


def test_subprocess_bad_input_one_line_no_traceback(tmp_path):
    path = _bad_inputs(tmp_path)["truncated"]
    out = tmp_path / "o.png"
    proc = subprocess.run([sys.executable, "-m", "superres", "upscale", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "truncated.png" in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()


def test_the_shipped_sample_upscales_with_the_default_model(tmp_path):
    from superres.assets import sample_path

    out = tmp_path / "sample_x2.png"
    assert main(["upscale", str(sample_path()), "-o", str(out), "-q"]) == 0
    with Image.open(sample_path()) as a, Image.open(out) as b:
        assert b.size == (2 * a.size[0], 2 * a.size[1]) and b.mode == a.mode


def test_the_sample_is_made_by_the_committed_script(tmp_path):
    out = tmp_path / "s.png"
    proc = subprocess.run([sys.executable, "-m", "superres.assets", str(out), "--size", "64x48"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    made = read_image(out).pixels
    assert made.shape == (48, 64, 3) and made.dtype == np.uint8 and made.std() > 20
    from superres.assets import sample_path

    shipped = read_image(sample_path())
    assert shipped.pixels.shape == (192, 256, 3)


def test_an_animation_upscales_its_first_frame_and_says_so(tmp_path, capsys):
    frames = [Image.fromarray(_rng_pixels(10, 12, 3, seed=s)) for s in range(3)]
    anim = tmp_path / "anim.png"
    frames[0].save(anim, save_all=True, append_images=frames[1:])
    assert read_image(anim).frames == 3
    still = tmp_path / "still.png"
    frames[0].save(still)
    assert read_image(still).frames == 1
    assert main(["upscale", str(anim), "-o", str(tmp_path / "a.png"), "-s", "2", "-m", "bicubic"]) == 0
    assert "has 3 frames; only the first is upscaled" in capsys.readouterr().err
    assert main(["upscale", str(still), "-o", str(tmp_path / "s.png"), "-s", "2", "-m", "bicubic"]) == 0
    assert "frames" not in capsys.readouterr().err
    assert np.array_equal(read_image(tmp_path / "a.png").pixels, read_image(tmp_path / "s.png").pixels)


def test_an_unreadable_input_is_blamed_not_its_output_name(tmp_path, capsys):
    Image.fromarray(_rng_pixels(8, 8, 3)).save(tmp_path / "image.ppm")
    (tmp_path / "notes.txt").write_text("hello")
    for name in ("image.ppm", "notes.txt"):
        assert main(["upscale", str(tmp_path / name)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"superres: error: cannot read {str(tmp_path / name)!r}"), err
        assert "not a PNG, JPEG, BMP, TIFF, WebP or GIF image" in err[0]
    # an image under another extension is read by its content, and written as PNG
    Image.fromarray(_rng_pixels(8, 8, 3)).save(tmp_path / "photo.dat", format="PNG")
    assert main(["upscale", str(tmp_path / "photo.dat"), "-m", "bicubic"]) == 0
    assert read_image(tmp_path / "photo_x2.png").pixels.shape == (16, 16, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.ppm", "notes.txt", "photo.dat", "photo_x2.png"]


@pytest.mark.parametrize(
    "channels, dtype, out, said",
    [(4, np.uint8, "o.jpg", ["alpha channel is dropped"]), (2, np.uint8, "o.bmp", ["alpha channel is dropped"]),
     (3, np.uint16, "o.webp", ["rounded to 8 bits"]),
     (4, np.uint16, "o.jpg", ["alpha channel is dropped", "rounded to 8 bits"]),
     (4, np.uint16, "o.png", []), (4, np.uint8, "o.webp", []), (3, np.uint16, "o.tif", [])],
)
def test_what_the_output_format_cannot_hold_is_said(tmp_path, capsys, channels, dtype, out, said):
    source = tmp_path / "in.png"
    write_image(source, _rng_pixels(8, 9, channels, dtype=dtype))
    assert main(["upscale", str(source), "-o", str(tmp_path / out), "-m", "bicubic"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert all(any(s in line for line in notes) for s in said) and len(notes) == (1 if said else 0)
    kept = read_image(tmp_path / out).pixels
    assert (kept.shape[2] in (2, 4)) == (channels in (2, 4) and not said)
