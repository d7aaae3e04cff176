"""What ``superres upscale`` writes beside the pixels, and what it refuses before the work:

* an ICC profile of another colour space than the output's (a CMYK photo's) is dropped,
  one of the output's kept; the EXIF image size is the output's;
* a size the output format cannot hold (JPEG 65500, WebP 16383 pixels a side) is refused
  before the upscale, by the CLI, the Python API and ``superres resize``;
* Pillow's warnings about damage it reads past do not reach stderr.

ICC profiles are 132-byte headers made here: the signature ``acsp`` and a colour space.
"""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import superres
from superres.cli.main import main
from superres.errors import SuperresError
from superres.io import read_image

_EXIF_IFD, _WIDTH, _HEIGHT = 0x8769, 0xA002, 0xA003


def _profile(space: bytes) -> bytes:
    header = bytearray(128)
    struct.pack_into(">I", header, 0, 132)
    header[12:16], header[16:20], header[20:24], header[36:40] = b"mntr", space, b"XYZ ", b"acsp"
    return bytes(header) + struct.pack(">I", 0)  # no tags


def _photo(h=20, w=30, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_cmyk_profile_is_dropped_and_an_rgb_one_kept(tmp_path, capsys):
    cmyk = Image.fromarray(_photo()).convert("CMYK")
    cmyk.save(tmp_path / "print.jpg", icc_profile=_profile(b"CMYK"))
    Image.fromarray(_photo(seed=1)).save(tmp_path / "screen.jpg", icc_profile=_profile(b"RGB "))
    assert main(["upscale", str(tmp_path / "print.jpg"), str(tmp_path / "screen.jpg"), "-s", "2", "-m", "bicubic", "-q"]) == 0
    with Image.open(tmp_path / "print_x2.jpg") as out:
        assert out.mode == "RGB" and "icc_profile" not in out.info
    with Image.open(tmp_path / "screen_x2.jpg") as out:
        assert out.info["icc_profile"] == _profile(b"RGB ")
    # the Python API on a PIL image: the same rule for result.info
    result = superres.upscale(cmyk.copy(), 2, model="bicubic")
    assert result.mode == "RGB" and "icc_profile" not in result.info


def test_the_exif_image_size_is_the_outputs(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "camera maker"
    sub = exif.get_ifd(_EXIF_IFD)
    sub[_WIDTH], sub[_HEIGHT] = 30, 20
    Image.fromarray(_photo()).save(tmp_path / "dims.jpg", exif=exif)
    assert main(["upscale", str(tmp_path / "dims.jpg"), "-s", "2", "-m", "bicubic", "-q"]) == 0
    with Image.open(tmp_path / "dims_x2.jpg") as out:
        tags = out.getexif()
        assert out.size == (60, 40) and tags[0x010F] == "camera maker"
        assert (tags.get_ifd(_EXIF_IFD)[_WIDTH], tags.get_ifd(_EXIF_IFD)[_HEIGHT]) == (60, 40)


@pytest.mark.parametrize("name, width, limit", [("wide.webp", 8200, 16383), ("wide.jpg", 33000, 65500)])
def test_a_size_the_format_cannot_hold_is_refused_before_the_upscale(tmp_path, capsys, monkeypatch, name, width, limit):
    Image.fromarray(np.zeros((4, width, 3), np.uint8)).save(tmp_path / name)

    def no_work(*args, **kwargs):
        raise AssertionError("upscaled before the refusal")

    monkeypatch.setattr("superres.inference.upscale_array", no_work)
    assert main(["upscale", str(tmp_path / name), "-s", "2", "-m", "bicubic"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"at most {limit} pixels a side" in err[0] and f"{2 * width}x8" in err[0]
    with pytest.raises(SuperresError, match=f"at most {limit} pixels a side"):
        superres.upscale(tmp_path / name, 2, model="bicubic")
    assert main(["resize", str(tmp_path / name), str(tmp_path / ("big" + name[4:])), "-s", "2"]) == 1
    assert f"at most {limit} pixels a side" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_pillows_warnings_about_a_damaged_file_stay_off_stderr(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "camera maker " * 20
    Image.fromarray(_photo()).save(tmp_path / "a.jpg", exif=exif)
    data = bytearray((tmp_path / "a.jpg").read_bytes())
    at = data.index(b"Exif\x00\x00")
    length = struct.unpack(">H", data[at - 2 : at])[0]
    # the EXIF segment claims its maker string runs past the segment's end
    tiff = at + 6
    order = "<" if data[tiff : tiff + 2] == b"II" else ">"
    ifd0 = tiff + struct.unpack_from(order + "I", data, tiff + 4)[0]
    entry = ifd0 + 2
    struct.pack_into(order + "I", data, entry + 4, 5000)  # count of the first tag
    (tmp_path / "a.jpg").write_bytes(bytes(data))
    assert length > 0
    read_image(tmp_path / "a.jpg")  # still a good image
    # a process of its own: in-process, pytest would catch the warnings before stderr
    done = subprocess.run([sys.executable, "-m", "superres", "upscale", str(tmp_path / "a.jpg"), "-s", "2", "-m",
                           "bicubic", "-q"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
