"""Tests for superres.io.image. Every fixture file is made in tmp_path."""

from __future__ import annotations

import io
import os
import re
import struct
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile, ImageOps, TiffImagePlugin, TiffTags

import superres.io.image as image_module
from superres.errors import ImageReadError, ImageWriteError, InvalidArgumentError
from superres.io import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_EXTENSIONS,
    LoadedImage,
    image_to_tensor,
    read_image,
    read_image_size,
    tensor_to_image,
    write_image,
)

RNG = np.random.default_rng(1234)
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def random_pixels(h: int, w: int, c: int, dtype: type = np.uint8) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max + 1, (h, w, c), dtype=dtype)


def smooth_pixels(h: int, w: int, c: int, dtype: type = np.uint8) -> np.ndarray:
    """Gradients plus a little noise: exercises every PNG filter, survives JPEG."""
    peak = np.iinfo(dtype).max
    y, x = np.mgrid[0:h, 0:w]
    planes = [(x * (k + 1) + y * (c - k)) / ((w + h) * (c + 1)) for k in range(c)]
    base = np.stack(planes, axis=2) * peak * 0.9
    noise = RNG.normal(0, peak * 0.01, base.shape)
    return np.clip(base + noise, 0, peak).astype(dtype)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# (x0, y0, dx, dy) of the seven Adam7 passes
ADAM7 = [
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)
]  # fmt: skip


def png16_bytes(
    arr: np.ndarray,
    *,
    interlace: bool = False,
    trns: tuple[int, ...] | None = None,
    exif: bytes | None = None,
    header_size: tuple[int, int] | None = None,
) -> bytes:
    """A hand-made 16-bit PNG (filter 0), independent of the code under test."""
    h, w, c = arr.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]

    def scanlines(a: np.ndarray) -> bytes:
        return b"".join(b"\x00" + row.astype(">u2").tobytes() for row in a)

    if interlace:
        passes = [arr[y0::dy, x0::dx] for x0, y0, dx, dy in ADAM7]
        raw = b"".join(scanlines(p) for p in passes if p.size)
    else:
        raw = scanlines(arr)
    width, height = header_size or (w, h)
    out = b"\x89PNG\r\n\x1a\n"
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, int(interlace))
    out += png_chunk(b"IHDR", header)
    if trns is not None:
        out += png_chunk(b"tRNS", struct.pack(">" + "H" * len(trns), *trns))
    if exif is not None:
        out += png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    out += png_chunk(b"IDAT", zlib.compress(raw))
    return out + png_chunk(b"IEND", b"")


def tiff16_bytes(arr: np.ndarray, *, byteorder: bytes = b"II", deflate: bool = False) -> bytes:
    """A hand-made 16-bit RGB(A) TIFF; deflate makes Pillow decode it with libtiff."""
    h, w, c = arr.shape
    data = arr.astype(("<" if byteorder == b"II" else ">") + "u2").tobytes()
    if deflate:
        data = zlib.compress(data)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=byteorder)
    ifd[256], ifd[257], ifd[258], ifd[259] = w, h, (16,) * c, 8 if deflate else 1
    ifd[262], ifd[277], ifd[278], ifd[284] = 2, c, h, 1
    if c == 4:
        ifd[338] = (2,)
    ifd.tagtype[279] = TiffTags.LONG
    ifd[279] = (len(data),)
    ifd.tagtype[273] = TiffTags.LONG
    ifd[273] = (0,)
    buf = io.BytesIO()
    ifd.save(buf)
    buf.write(data)
    return buf.getvalue()


def exif_bytes(orientation: int | None, make: str = "TestCam") -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = make
    return exif.tobytes()


def exif_tags(blob: bytes | None) -> dict[int, object]:
    assert blob is not None
    exif = Image.Exif()
    exif.load(blob)
    return dict(exif)


def assert_read_error(path: Path, *, contains: str | None = None, **kwargs: object) -> str:
    with pytest.raises(ImageReadError) as info:
        read_image(path, **kwargs)
    message = str(info.value)
    assert type(info.value) is ImageReadError
    assert path.name in message
    assert "\n" not in message
    if contains is not None:
        assert contains in message
    return message


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_round_trip_is_exact(tmp_path: Path, channels: int, dtype: type) -> None:
    pixels = random_pixels(9, 13, channels, dtype)
    out = write_image(tmp_path / "a.png", pixels)
    assert out == tmp_path / "a.png"
    loaded = read_image(out)
    assert loaded.pixels.dtype == dtype
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert loaded.format == "PNG"
    assert loaded.path == out
    assert loaded.mode == MODES[channels]
    assert loaded.channels == channels
    assert (loaded.height, loaded.width) == (9, 13)
    assert loaded.bit_depth == (16 if dtype == np.uint16 else 8)
    assert loaded.has_alpha == (channels in (2, 4))
    assert loaded.pixels.flags.writeable and loaded.pixels.flags.c_contiguous


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_our_16bit_png_is_standard_and_uses_filters(tmp_path: Path, channels: int) -> None:
    pixels = smooth_pixels(40, 37, channels, np.uint16)
    path = write_image(tmp_path / "s.png", pixels)
    data = path.read_bytes()
    # Pillow sees a 16-bit PNG of the right type; its high bytes match ours.
    with Image.open(path) as im:
        im.load()
        if channels == 3:
            np.testing.assert_array_equal(np.asarray(im), (pixels >> 8).astype(np.uint8))
    # Undo the filters with an independent reference decoder.
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride, bpp = 37 * channels * 2, channels * 2
    rows = np.frombuffer(raw, np.uint8).reshape(40, stride + 1)
    assert len(set(rows[:, 0].tolist())) > 1  # more than one filter type chosen
    prev = [0] * stride
    out = []
    for row in rows:
        kind, line = row[0], [int(v) for v in row[1:]]
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    decoded = np.array(out, np.uint8).view(">u2").reshape(40, 37, channels)
    np.testing.assert_array_equal(decoded, pixels)


def test_16bit_rgb_png_made_elsewhere_keeps_16_bits(tmp_path: Path) -> None:
    pixels = random_pixels(7, 5, 3, np.uint16)
    path = tmp_path / "ext.png"
    path.write_bytes(png16_bytes(pixels))
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16
    np.testing.assert_array_equal(loaded.pixels, pixels)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_interlaced_16bit_png(tmp_path: Path, channels: int) -> None:
    pixels = random_pixels(13, 11, channels, np.uint16)
    path = tmp_path / "adam7.png"
    path.write_bytes(png16_bytes(pixels, interlace=True))
    np.testing.assert_array_equal(read_image(path).pixels, pixels)


@pytest.mark.parametrize(
    ("channels", "dtype"),
    [(c, np.uint8) for c in (1, 2, 3, 4)] + [(c, np.uint16) for c in (1, 3, 4)],
)
def test_tiff_round_trip_is_exact(tmp_path: Path, channels: int, dtype: type) -> None:
    pixels = random_pixels(6, 10, channels, dtype)
    for name in ("a.tif", "b.tiff"):
        loaded = read_image(write_image(tmp_path / name, pixels))
        assert loaded.format == "TIFF"
        assert loaded.pixels.dtype == dtype
        np.testing.assert_array_equal(loaded.pixels, pixels)


def test_16bit_gray_alpha_tiff_is_stored_as_rgba(tmp_path: Path) -> None:
    pixels = random_pixels(4, 5, 2, np.uint16)
    loaded = read_image(write_image(tmp_path / "la.tif", pixels))
    assert loaded.mode == "RGBA" and loaded.bit_depth == 16
    for k in range(3):
        np.testing.assert_array_equal(loaded.pixels[:, :, k], pixels[:, :, 0])
    np.testing.assert_array_equal(loaded.pixels[:, :, 3], pixels[:, :, 1])


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("byteorder", [b"II", b"MM"])
@pytest.mark.parametrize("deflate", [False, True])
def test_16bit_tiff_made_elsewhere_keeps_16_bits(
    tmp_path: Path, channels: int, byteorder: bytes, deflate: bool
) -> None:
    pixels = random_pixels(5, 9, channels, np.uint16)
    path = tmp_path / "ext.tif"
    path.write_bytes(tiff16_bytes(pixels, byteorder=byteorder, deflate=deflate))
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16
    np.testing.assert_array_equal(loaded.pixels, pixels)


def test_big_endian_16bit_gray_tiff(tmp_path: Path) -> None:
    gray = np.array([[0, 1, 256, 65535]], dtype=">u2")
    Image.fromarray(gray).save(tmp_path / "be.tif")
    loaded = read_image(tmp_path / "be.tif")
    assert loaded.pixels.dtype == np.uint16 and loaded.pixels.dtype.isnative
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], gray)


def test_32bit_integer_tiff(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 60000]], dtype=np.int32)).save(tmp_path / "ok.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "ok.tif").pixels.ravel(), [0, 60000])
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32)).save(tmp_path / "big.tif")
    assert_read_error(tmp_path / "big.tif", contains="not supported")


@pytest.mark.parametrize("channels", [1, 3])
def test_bmp_round_trip_is_exact(tmp_path: Path, channels: int) -> None:
    pixels = random_pixels(7, 9, channels)
    loaded = read_image(write_image(tmp_path / "a.bmp", pixels))
    assert loaded.format == "BMP"
    np.testing.assert_array_equal(loaded.pixels, pixels)


@pytest.mark.parametrize("channels", [3, 4])
def test_webp_lossless_round_trip_is_exact(tmp_path: Path, channels: int) -> None:
    pixels = random_pixels(8, 12, channels)
    pixels[0, 0, -1] = 0  # colour under a fully transparent pixel must survive too
    loaded = read_image(write_image(tmp_path / "a.webp", pixels, quality=100))
    assert loaded.format == "WEBP"
    np.testing.assert_array_equal(loaded.pixels, pixels)


def test_webp_stores_gray_as_rgb(tmp_path: Path) -> None:
    gray = random_pixels(4, 4, 1)
    loaded = read_image(write_image(tmp_path / "g.webp", gray, quality=100))
    assert loaded.mode == "RGB"
    for k in range(3):
        np.testing.assert_array_equal(loaded.pixels[:, :, k], gray[:, :, 0])


def test_16bit_to_8bit_formats_round(tmp_path: Path) -> None:
    values = np.array([0, 128, 129, 257 * 100 + 128, 257 * 100 + 129, 65535], dtype=np.uint16)
    expected = np.array([0, 0, 1, 100, 101, 255], dtype=np.uint8)
    pixels = np.repeat(values[None, :, None], 3, axis=2)
    loaded = read_image(write_image(tmp_path / "r.bmp", pixels))
    assert loaded.pixels.dtype == np.uint8
    np.testing.assert_array_equal(loaded.pixels[0, :, 0], expected)
    webp = read_image(write_image(tmp_path / "r.webp", pixels, quality=100))
    np.testing.assert_array_equal(webp.pixels[0, :, 0], expected)


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_is_dropped_where_the_format_cannot_hold_it(tmp_path: Path, ext: str) -> None:
    rgba = smooth_pixels(16, 16, 4)
    loaded = read_image(write_image(tmp_path / f"a{ext}", rgba))
    assert loaded.mode == "RGB"
    la = smooth_pixels(16, 16, 2)
    assert read_image(write_image(tmp_path / f"b{ext}", la)).mode == "L"


def test_jpeg_read_and_write(tmp_path: Path) -> None:
    pixels = smooth_pixels(32, 48, 3)
    Image.fromarray(pixels).save(tmp_path / "pil.jpg", quality=95)
    loaded = read_image(tmp_path / "pil.jpg")
    assert loaded.format == "JPEG" and loaded.mode == "RGB" and loaded.pixels.dtype == np.uint8
    assert np.abs(loaded.pixels.astype(int) - pixels).mean() < 3
    ours = read_image(write_image(tmp_path / "ours.jpeg", pixels, quality=90))
    assert np.abs(ours.pixels.astype(int) - pixels).mean() < 3
    low = write_image(tmp_path / "low.jpg", pixels, quality=10)
    assert low.stat().st_size < (tmp_path / "ours.jpeg").stat().st_size
    gray = read_image(write_image(tmp_path / "gray.jpg", smooth_pixels(16, 16, 1)))
    assert gray.mode == "L"


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    loaded = read_image(tmp_path / "cmyk.jpg")
    assert loaded.mode == "RGB"
    assert loaded.pixels[0, 0, 0] > 240 and loaded.pixels[0, 0, 1:].max() < 15


# --------------------------------------------------------------------------
# Modes Pillow reads differently


def test_palette_without_transparency_becomes_rgb(tmp_path: Path) -> None:
    im = Image.new("P", (3, 2))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    im.putdata([0, 1, 2, 3, 2, 1])
    im.save(tmp_path / "p.png")
    loaded = read_image(tmp_path / "p.png")
    assert loaded.mode == "RGB"
    np.testing.assert_array_equal(loaded.pixels[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(loaded.pixels[0, 1], [0, 255, 0])
    np.testing.assert_array_equal(loaded.pixels[1, 0], [10, 20, 30])


def test_palette_with_one_transparent_index_becomes_rgba(tmp_path: Path) -> None:
    im = Image.new("P", (2, 2))
    im.putpalette([255, 0, 0, 0, 255, 0])
    im.putdata([0, 1, 1, 0])
    im.save(tmp_path / "p.png", transparency=1)
    loaded = read_image(tmp_path / "p.png")
    assert loaded.mode == "RGBA"
    np.testing.assert_array_equal(loaded.pixels[0, 0], [255, 0, 0, 255])
    assert loaded.pixels[0, 1, 3] == 0 and loaded.pixels[1, 0, 3] == 0


def test_palette_with_alpha_per_entry_becomes_rgba(tmp_path: Path) -> None:
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 0, 0, 255])
    im.putdata([0, 1])
    im.save(tmp_path / "p.png", transparency=bytes([128, 255]))
    loaded = read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(loaded.pixels[0], [[255, 0, 0, 128], [0, 0, 255, 255]])


def test_palette_of_grays_becomes_gray(tmp_path: Path) -> None:
    # a palette says nothing about colour: all-gray pixels are one channel, not three equal ones
    im = Image.new("P", (3, 2))
    im.putpalette([0, 0, 0, 90, 90, 90, 255, 255, 255, 200, 0, 0])  # entry 3 red, unused
    im.putdata([0, 1, 2, 2, 1, 0])
    im.save(tmp_path / "p.png")
    loaded = read_image(tmp_path / "p.png")
    assert loaded.mode == "L"
    np.testing.assert_array_equal(loaded.pixels[..., 0], [[0, 90, 255], [255, 90, 0]])


def test_palette_of_grays_with_transparency_becomes_gray_alpha(tmp_path: Path) -> None:
    im = Image.new("P", (2, 1))
    im.putpalette([40, 40, 40, 250, 250, 250])
    im.putdata([0, 1])
    im.save(tmp_path / "p.png", transparency=bytes([128, 255]))
    loaded = read_image(tmp_path / "p.png")
    assert loaded.mode == "LA"
    np.testing.assert_array_equal(loaded.pixels[0], [[40, 128], [250, 255]])


def test_palette_with_one_coloured_pixel_stays_rgb(tmp_path: Path) -> None:
    im = Image.new("P", (2, 2))
    im.putpalette([10, 10, 10, 10, 10, 11])
    im.putdata([0, 0, 0, 1])
    im.save(tmp_path / "p.png")
    loaded = read_image(tmp_path / "p.png")
    assert loaded.mode == "RGB"
    np.testing.assert_array_equal(loaded.pixels[1, 1], [10, 10, 11])


def test_colour_key_on_rgb_and_gray_becomes_alpha(tmp_path: Path) -> None:
    rgb = random_pixels(3, 3, 3)
    rgb[1, 1] = (7, 8, 9)
    rgb[0, 0] = (7, 8, 10)
    Image.fromarray(rgb).save(tmp_path / "k.png", transparency=(7, 8, 9))
    loaded = read_image(tmp_path / "k.png")
    assert loaded.mode == "RGBA"
    assert loaded.pixels[1, 1, 3] == 0 and loaded.pixels[0, 0, 3] == 255
    np.testing.assert_array_equal(loaded.pixels[:, :, :3], rgb)

    gray = np.array([[5, 6]], dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "g.png", transparency=6)
    np.testing.assert_array_equal(read_image(tmp_path / "g.png").pixels[0], [[5, 255], [6, 0]])

    rgb16 = random_pixels(2, 2, 3, np.uint16)
    rgb16[0, 1] = (1000, 2000, 3000)
    (tmp_path / "k16.png").write_bytes(png16_bytes(rgb16, trns=(1000, 2000, 3000)))
    loaded16 = read_image(tmp_path / "k16.png")
    assert loaded16.mode == "RGBA" and loaded16.bit_depth == 16
    assert loaded16.pixels[0, 1, 3] == 0 and loaded16.pixels[0, 0, 3] == 65535


def test_bilevel_becomes_gray(tmp_path: Path) -> None:
    im = Image.new("1", (2, 1))
    im.putdata([0, 255])
    im.save(tmp_path / "b.png")
    loaded = read_image(tmp_path / "b.png")
    assert loaded.mode == "L"
    np.testing.assert_array_equal(loaded.pixels[0, :, 0], [0, 255])


# --------------------------------------------------------------------------
# EXIF orientation and metadata


def grid(h: int = 2, w: int = 3) -> np.ndarray:
    """RGB image whose red channel numbers the pixels row by row."""
    pixels = np.zeros((h, w, 3), np.uint8)
    pixels[:, :, 0] = np.arange(h * w).reshape(h, w) * 10
    pixels[:, :, 1] = 100
    return pixels


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int) -> None:
    pixels = grid()  # 2 rows, 3 columns; value 0 top-left, 20 top-right, 30 bottom-left
    Image.fromarray(pixels).save(tmp_path / "o.png", exif=exif_bytes(orientation))
    loaded = read_image(tmp_path / "o.png")
    red = loaded.pixels[:, :, 0]
    if orientation == 3:  # 180 degrees
        assert red.shape == (2, 3)
        assert red[1, 2] == 0 and red[0, 0] == 50 and red[1, 0] == 20
    elif orientation == 6:  # shown turned 90 degrees clockwise
        assert red.shape == (3, 2)
        assert red[0, 1] == 0 and red[0, 0] == 30 and red[2, 1] == 20
    else:  # 8: shown turned 90 degrees counter-clockwise
        assert red.shape == (3, 2)
        assert red[2, 0] == 0 and red[0, 0] == 20 and red[2, 1] == 30
    tags = exif_tags(loaded.exif)
    assert tags[0x0112] == 1
    assert tags[0x010F] == "TestCam"
    assert loaded.exif is not None and loaded.exif.startswith(b"Exif\x00\x00")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_orientations_match_pillow(tmp_path: Path, orientation: int) -> None:
    pixels = random_pixels(3, 5, 3)
    Image.fromarray(pixels).save(tmp_path / "o.png", exif=exif_bytes(orientation))
    with Image.open(tmp_path / "o.png") as im:
        expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(read_image(tmp_path / "o.png").pixels, expected)


def test_orientation_stored_as_long_is_reset_too(tmp_path: Path) -> None:
    # Hand-made EXIF whose orientation entry is a LONG rather than the usual SHORT.
    blob = b"Exif\x00\x00II*\x00" + struct.pack("<IH", 8, 1)
    blob += struct.pack("<HHII", 0x0112, 4, 1, 6) + struct.pack("<I", 0)
    pixels = grid()
    Image.fromarray(pixels).save(tmp_path / "long.png", exif=blob)
    loaded = read_image(tmp_path / "long.png")
    np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
    assert exif_tags(loaded.exif)[0x0112] == 1


def test_orientation_on_16bit_rgb(tmp_path: Path) -> None:
    pixels = random_pixels(2, 3, 3, np.uint16)
    (tmp_path / "o16.png").write_bytes(png16_bytes(pixels, exif=exif_bytes(6)))
    loaded = read_image(tmp_path / "o16.png")
    np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
    assert exif_tags(loaded.exif)[0x0112] == 1


def test_orientation_on_16bit_gray_written_by_us(tmp_path: Path) -> None:
    pixels = random_pixels(2, 3, 1, np.uint16)
    write_image(tmp_path / "g.png", pixels, exif=exif_bytes(8))
    np.testing.assert_array_equal(read_image(tmp_path / "g.png").pixels, np.rot90(pixels, 1))


def test_orientation_in_jpeg(tmp_path: Path) -> None:
    Image.fromarray(smooth_pixels(16, 32, 3)).save(tmp_path / "o.jpg", exif=exif_bytes(6))
    loaded = read_image(tmp_path / "o.jpg")
    assert loaded.pixels.shape == (32, 16, 3)
    assert exif_tags(loaded.exif)[0x0112] == 1


@pytest.mark.parametrize("compression", [None, "tiff_deflate"])
def test_orientation_in_tiff_is_applied_once(tmp_path: Path, compression: str | None) -> None:
    pixels = grid()
    Image.fromarray(pixels).save(tmp_path / "o.tif", tiffinfo={0x0112: 6}, compression=compression)
    loaded = read_image(tmp_path / "o.tif")
    np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
    if loaded.exif is not None:
        assert exif_tags(loaded.exif).get(0x0112, 1) == 1


def test_icc_profile_preserved_through_png_and_jpeg(tmp_path: Path) -> None:
    icc = b"fake icc profile " * 20
    pixels = smooth_pixels(8, 8, 3)
    for name in ("a.png", "a.jpg", "a.webp", "a.tif"):
        assert read_image(write_image(tmp_path / name, pixels, icc_profile=icc)).icc_profile == icc
    for name in ("b16.png", "b16.tif"):
        wide = smooth_pixels(8, 8, 3, np.uint16)
        assert read_image(write_image(tmp_path / name, wide, icc_profile=icc)).icc_profile == icc
    assert read_image(write_image(tmp_path / "none.png", pixels)).icc_profile is None


def test_exif_carried_from_read_to_write(tmp_path: Path) -> None:
    source_exif = exif_bytes(6, "CarryCam")
    Image.fromarray(smooth_pixels(8, 12, 3)).save(tmp_path / "in.jpg", exif=source_exif)
    source = read_image(tmp_path / "in.jpg")
    for name in ("o.png", "o.jpg", "o.webp", "o.tif", "o16.png", "o16.tif"):
        pixels = source.pixels.astype(np.uint16) * 257 if "16" in name else source.pixels
        out = read_image(write_image(tmp_path / name, pixels, exif=source.exif))
        assert out.pixels.shape[:2] == (12, 8), name  # not rotated a second time
        tags = exif_tags(out.exif) if out.exif else {}
        assert tags.get(0x010F) == "CarryCam", name
        assert tags.get(0x0112, 1) == 1, name


def test_exif_without_prefix_is_accepted(tmp_path: Path) -> None:
    blob = exif_bytes(1, "Bare")[6:]
    loaded = read_image(write_image(tmp_path / "e.jpg", smooth_pixels(8, 8, 3), exif=blob))
    assert exif_tags(loaded.exif)[0x010F] == "Bare"


def test_no_exif_gives_none(tmp_path: Path) -> None:
    for name in ("n.png", "n.jpg", "n.tif", "n.bmp"):
        assert read_image(write_image(tmp_path / name, smooth_pixels(4, 4, 3))).exif is None


# --------------------------------------------------------------------------
# Bad input files


def test_missing_file(tmp_path: Path) -> None:
    assert_read_error(tmp_path / "missing.png", contains="no such file")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.png").mkdir()
    assert_read_error(tmp_path / "folder.png", contains="directory")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"")
    message = assert_read_error(tmp_path / "x.png", contains="file is empty")
    assert message == f"cannot read {str(tmp_path / 'x.png')!r}: file is empty"


def test_text_file(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("this is not an image\n")
    assert_read_error(tmp_path / "notes.png", contains="not a PNG, JPEG")


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "image.ppm")
    (tmp_path / "image.png").write_bytes((tmp_path / "image.ppm").read_bytes())
    assert_read_error(tmp_path / "image.png")


def test_corrupt_png(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(random_pixels(16, 16, 3)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    idat = data.find(b"IDAT")
    data[idat + 10 : idat + 30] = b"\xff" * 20  # breaks the CRC and the zlib stream
    (tmp_path / "bad.png").write_bytes(bytes(data))
    assert_read_error(tmp_path / "bad.png", contains="corrupt")


def test_corrupt_deflate_stream_with_valid_crc(tmp_path: Path) -> None:
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    data += png_chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 40) + png_chunk(b"IEND", b"")
    (tmp_path / "bad.png").write_bytes(data)
    assert_read_error(tmp_path / "bad.png")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("t.png", lambda: Image.fromarray(random_pixels(64, 64, 3))),
        ("t.jpg", lambda: Image.fromarray(random_pixels(64, 64, 3))),
        ("t.bmp", lambda: Image.fromarray(random_pixels(64, 64, 3))),
        ("t.tif", lambda: Image.fromarray(random_pixels(64, 64, 3))),
        ("t.webp", lambda: Image.fromarray(random_pixels(64, 64, 3))),
        ("t16.png", None),
        ("t16.tif", None),
    ],
)
def test_truncated_file(tmp_path: Path, name: str, make: object) -> None:
    path = tmp_path / name
    if make is None:
        write_image(path, random_pixels(64, 64, 3, np.uint16))
    else:
        make().save(path)  # type: ignore[operator]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    assert_read_error(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is before


def test_truncated_header_only(tmp_path: Path) -> None:
    (tmp_path / "h.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert_read_error(tmp_path / "h.png")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_image(tmp_path / "secret.png", random_pixels(2, 2, 3))
    path.chmod(0)
    try:
        assert_read_error(path, contains="permission denied")
    finally:
        path.chmod(0o644)


def test_permission_error_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Works as root too, unlike chmod: the OS error is simulated.
    path = write_image(tmp_path / "locked.png", random_pixels(2, 2, 3))

    def denied(file: object, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(image_module, "open", denied, raising=False)
    assert_read_error(path, contains="permission denied")


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "JPEG", "WEBP", "GIF", "BMP"])
def test_no_other_exception_type_escapes(tmp_path: Path, fmt: str) -> None:
    # Each format's decoder fails its own way (a damaged TIFF tag raises TypeError), and
    # Pillow warns about damage it reads past: neither may reach the user.
    good = io.BytesIO()
    Image.fromarray(smooth_pixels(32, 32, 3)).save(good, fmt)
    data = good.getvalue()
    rng = np.random.default_rng(7)
    suffix = {"JPEG": ".jpg", "TIFF": ".tif"}.get(fmt, "." + fmt.lower())
    for i in range(150):  # random damage anywhere in the file
        damaged = bytearray(data)
        for pos in rng.integers(0, len(data), 4):
            damaged[pos] ^= 0x5A
        path = tmp_path / f"d{i}{suffix}"
        path.write_bytes(bytes(damaged))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                read_image(path)
            except ImageReadError as e:
                assert path.name in str(e) and "\n" not in str(e)


@pytest.mark.parametrize("error", [TypeError("tag"), ValueError("bad"), KeyError(7), IndexError("x"),
                                   struct.error("unpack"), zlib.error("inflate"), SyntaxError("not a TIFF")])
def test_every_error_type_a_decoder_raises_becomes_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             error: Exception) -> None:
    # The types Pillow's decoders were seen to raise on damaged files (a damaged TIFF tag:
    # TypeError), whatever random damage happens to find.
    path = write_image(tmp_path / "a.tif", random_pixels(8, 8, 3))

    def broken(self: ImageFile.ImageFile) -> None:
        raise error

    monkeypatch.setattr(ImageFile.ImageFile, "load", broken)
    with pytest.raises(ImageReadError, match=r"cannot read '.*a\.tif': corrupt or truncated") as caught:
        read_image(path)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------
# Pixel limit


def test_max_pixels_checked_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_image(tmp_path / "small.png", random_pixels(10, 10, 3))
    calls: list[object] = []
    original = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        calls.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    message = assert_read_error(path, contains="100 pixels", max_pixels=99)
    assert "limit" in message
    assert calls == []
    assert read_image(path, max_pixels=100).pixels.shape == (10, 10, 3)


def test_max_pixels_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_image(tmp_path / "small.png", random_pixels(10, 10, 3))
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "50")
    assert_read_error(path, contains="limit")
    assert read_image(path, max_pixels=100).height == 10  # argument wins
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "lots")
    with pytest.raises(InvalidArgumentError):
        read_image(path)


@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_invalid_max_pixels(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        read_image(tmp_path / "whatever.png", max_pixels=bad)  # type: ignore[arg-type]


def test_header_claiming_huge_size(tmp_path: Path) -> None:
    assert DEFAULT_MAX_PIXELS == 400_000_000
    tiny = np.zeros((1, 1, 3), np.uint16)
    # 30000 x 30000 is above our default and above Pillow's own hard limit.
    (tmp_path / "bomb.png").write_bytes(png16_bytes(tiny, header_size=(30000, 30000)))
    assert_read_error(tmp_path / "bomb.png", contains="above the limit of 400000000 pixels")
    # 12000 x 10000 sits between Pillow's warning and error thresholds: our limit decides,
    # and Pillow's warning does not leak out.
    (tmp_path / "warn.png").write_bytes(png16_bytes(tiny, header_size=(12000, 10000)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_read_error(tmp_path / "warn.png", contains="limit", max_pixels=100_000_000)
    # A header within the limit over too little data is simply corrupt.
    (tmp_path / "short.png").write_bytes(png16_bytes(tiny, header_size=(300, 200)))
    assert_read_error(tmp_path / "short.png", contains="corrupt")


# --------------------------------------------------------------------------
# Writing: atomicity, overwrite guard, errors


def test_failed_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"partial data")  # type: ignore[attr-defined]
        raise OSError("disk on fire")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageWriteError) as info:
        write_image(tmp_path / "out.png", random_pixels(4, 4, 3))
    assert "out.png" in str(info.value) and "\n" not in str(info.value)
    assert files_in(tmp_path) == []


def test_failed_sync_leaves_nothing_for_our_own_encoders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    for name in ("o16.png", "o16.tif"):
        with pytest.raises(ImageWriteError, match="no space left"):
            write_image(tmp_path / name, random_pixels(4, 4, 3, np.uint16))
    assert files_in(tmp_path) == []


def test_interrupted_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    def interrupted(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_image(target, random_pixels(4, 4, 3), overwrite=True)
    assert target.read_bytes() == b"old"
    assert files_in(tmp_path) == ["keep.png"]


def test_temp_file_is_hidden_and_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_image(tmp_path / "out.png", random_pixels(4, 4, 3))
    (src, dst), = seen
    assert src.parent == dst.parent == tmp_path
    assert src.name.startswith(".") and src.name.endswith(".tmp")
    assert files_in(tmp_path) == ["out.png"]


def test_overwrite_guard(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(ImageWriteError) as info:
        write_image(target, random_pixels(4, 4, 3))
    assert str(info.value) == f"{str(target)!r} exists (use --overwrite)"
    assert target.read_bytes() == b"precious"
    write_image(target, random_pixels(4, 4, 3), overwrite=True)
    assert read_image(target).pixels.shape == (4, 4, 3)
    assert files_in(tmp_path) == ["out.png"]


def test_written_file_gets_normal_permissions(tmp_path: Path) -> None:
    path = write_image(tmp_path / "p.png", random_pixels(2, 2, 3))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("name", ["out.ppm", "out", "out.png.bak"])
def test_unknown_extension(tmp_path: Path, name: str) -> None:
    expected = "no extension (use .bmp," if name == "out" else f"unknown image extension '{Path(name).suffix}'"
    with pytest.raises(ImageWriteError, match=re.escape(expected)) as info:
        write_image(tmp_path / name, random_pixels(2, 2, 3))
    assert name in str(info.value)
    assert files_in(tmp_path) == []


def test_format_argument(tmp_path: Path) -> None:
    path = write_image(tmp_path / "out.img", random_pixels(2, 2, 3), format="png")
    assert read_image(path).format == "PNG"
    jpeg = write_image(tmp_path / "j.dat", random_pixels(8, 8, 3), format="JPG")
    assert read_image(jpeg).format == "JPEG"
    with pytest.raises(ImageWriteError, match="unknown image format"):
        write_image(tmp_path / "x.png", random_pixels(2, 2, 3), format="gif")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="does not exist") as info:
        write_image(tmp_path / "nope" / "out.png", random_pixels(2, 2, 3))
    assert "out.png" in str(info.value) and "\n" not in str(info.value)


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(ImageWriteError, match="not a folder"):
        write_image(tmp_path / "file" / "out.png", random_pixels(2, 2, 3))


def test_target_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d.png").mkdir()
    with pytest.raises(ImageWriteError, match="directory"):
        write_image(tmp_path / "d.png", random_pixels(2, 2, 3), overwrite=True)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ImageWriteError, match="permission denied") as info:
            write_image(folder / "out.png", random_pixels(2, 2, 3))
        assert "out.png" in str(info.value)
    finally:
        folder.chmod(0o700)


def test_permission_error_on_create(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def denied(path: str | os.PathLike[str], flags: int, *args: object) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ImageWriteError) as info:
        write_image(tmp_path / "out.png", random_pixels(2, 2, 3))
    assert str(info.value) == f"cannot write {str(tmp_path / 'out.png')!r}: permission denied"


def test_encoder_error_becomes_write_error(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="big.webp"):  # WebP stops at 16383 pixels wide
        write_image(tmp_path / "big.webp", np.zeros((1, 20000, 3), np.uint8))
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((2, 2, 3), np.float32),
        np.zeros((2, 2, 5), np.uint8),
        np.zeros((0, 2, 3), np.uint8),
        np.zeros((2, 2, 2, 3), np.uint8),
        [[1, 2]],
    ],
)
def test_bad_pixels_are_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        write_image(tmp_path / "x.png", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        image_to_tensor(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("quality", [0, 101, 50.0, True])
def test_bad_quality_is_refused(tmp_path: Path, quality: object) -> None:
    with pytest.raises(InvalidArgumentError):
        write_image(tmp_path / "x.jpg", random_pixels(2, 2, 3), quality=quality)  # type: ignore


def test_two_dimensional_input_is_gray(tmp_path: Path) -> None:
    gray = random_pixels(3, 4, 1)[:, :, 0]
    loaded = read_image(write_image(tmp_path / "g.png", gray))
    assert loaded.mode == "L"
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], gray)


def test_loaded_image_validates_and_is_frozen() -> None:
    image = LoadedImage(pixels=np.zeros((2, 3, 4), np.uint16), path=None, format=None)
    assert (image.mode, image.bit_depth, image.has_alpha) == ("RGBA", 16, True)
    with pytest.raises(AttributeError):
        image.format = "PNG"  # type: ignore[misc]
    with pytest.raises(InvalidArgumentError):
        LoadedImage(pixels=np.zeros((2, 3), np.uint8), path=None, format=None)


def test_supported_extensions() -> None:
    expected = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
    assert SUPPORTED_EXTENSIONS == frozenset(expected)


# --------------------------------------------------------------------------
# Tensors


def test_tensor_round_trip_uint8() -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    pixels[:, :, 1] = pixels[:, :, 1][::-1]
    tensor = image_to_tensor(pixels)
    assert tensor.shape == (1, 3, 16, 16) and tensor.dtype == torch.float32
    assert float(tensor.min()) == 0.0 and float(tensor.max()) == 1.0
    assert torch.allclose(tensor[0, 0, 0, 1], torch.tensor(1 / 255))
    back = tensor_to_image(tensor)
    assert back.dtype == np.uint8 and back.flags.c_contiguous
    np.testing.assert_array_equal(back, pixels)


def test_tensor_round_trip_uint16() -> None:
    pixels = np.arange(65536, dtype=np.uint16).reshape(256, 256, 1)
    tensor = image_to_tensor(pixels)
    assert tensor.shape == (1, 1, 256, 256)
    assert float(tensor.max()) == 1.0
    back = tensor_to_image(tensor, bit_depth=16)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, pixels)
    np.testing.assert_array_equal(tensor_to_image(tensor[0], bit_depth=16), pixels)  # (C, H, W)


def test_tensor_to_image_rounds_half_away_from_zero() -> None:
    inf = float("inf")
    values = torch.tensor([-0.3, 0.0, 0.5, 1.0, 1.7, inf, -inf], dtype=torch.float32)
    t = values.reshape(1, 1, 1, -1)
    np.testing.assert_array_equal(tensor_to_image(t)[0, :, 0], [0, 0, 128, 255, 255, 255, 0])
    np.testing.assert_array_equal(
        tensor_to_image(t, bit_depth=16)[0, :, 0], [0, 0, 32768, 65535, 65535, 65535, 0]
    )
    # float64 input whose x*255 lands on k + 0.5: rounds up, never to even.
    halves = torch.tensor([0.5 / 255, 1.5 / 255, 2.5 / 255, 254.5 / 255], dtype=torch.float64)
    assert (halves * 255).tolist() == [0.5, 1.5, 2.5, 254.5]
    got = tensor_to_image(halves.reshape(1, 1, -1))[0, :, 0]
    assert got.tolist() == [1, 2, 3, 255]


def test_tensor_to_image_matches_exact_rounding_of_float32_values() -> None:
    # Values within one float32 step of a half: the exact product decides.
    centres = (np.arange(255) + 0.5) / 255
    near = np.concatenate(
        [np.nextafter(centres.astype(np.float32), np.float32(d)) for d in (0, 2)]
        + [centres.astype(np.float32), RNG.random(500).astype(np.float32)]
    )
    got = tensor_to_image(torch.from_numpy(near).reshape(1, 1, -1))[0, :, 0]
    expected = [int(Fraction(float(v)) * 255 + Fraction(1, 2)) for v in near]
    np.testing.assert_array_equal(got, expected)


def test_tensor_to_image_leaves_its_input_alone() -> None:
    t = torch.tensor([[[[-1.0, 2.0]]]], dtype=torch.float64)
    tensor_to_image(t)
    assert t.tolist() == [[[[-1.0, 2.0]]]]


@pytest.mark.parametrize(
    ("tensor", "kwargs"),
    [
        (torch.zeros(1, 3, 2, 2), {"bit_depth": 12}),
        (torch.zeros(2, 3, 2, 2), {}),
        (torch.zeros(1, 5, 2, 2), {}),
        (torch.zeros(2, 2), {}),
        (torch.zeros(1, 3, 2, 2, dtype=torch.uint8), {}),
        (torch.full((1, 1, 1, 1), float("nan")), {}),
    ],
)
def test_tensor_to_image_refuses_bad_input(tensor: torch.Tensor, kwargs: dict[str, int]) -> None:
    with pytest.raises(InvalidArgumentError):
        tensor_to_image(tensor, **kwargs)


def test_tensor_keeps_gradients_out() -> None:
    t = torch.rand(1, 3, 4, 4, requires_grad=True)
    assert tensor_to_image(t).shape == (4, 4, 3)


def test_our_limit_not_pillows_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 14000 x 14000 is above Pillow's hard limit (about 179 M pixels) and below our default
    # 400 M: the header is read, where Pillow alone refuses it as a decompression bomb.
    tiny = np.zeros((1, 1, 3), np.uint16)
    (tmp_path / "big.png").write_bytes(png16_bytes(tiny, header_size=(14000, 14000)))
    assert read_image_size(tmp_path / "big.png") == (14000, 14000)
    # The same with Pillow's limit made tiny, on a real decode; Pillow's setting is restored after.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20)
    pixels = random_pixels(10, 10, 3)
    path = write_image(tmp_path / "small.png", pixels)
    np.testing.assert_array_equal(read_image(path).pixels, pixels)
    assert Image.MAX_IMAGE_PIXELS == 20
    assert_read_error(path, contains="above the limit of 99 pixels", max_pixels=99)
    assert Image.MAX_IMAGE_PIXELS == 20


def test_extensions_are_checked_whatever_their_case(tmp_path):
    from superres.io import check_extension

    for name in ("o.PNG", "o.Jpg", "o.TIFF", "o.WebP", "o.BMP"):
        check_extension(tmp_path / name)
    write_image(tmp_path / "o.PNG", random_pixels(4, 5, 3))
    assert read_image(tmp_path / "o.PNG").pixels.shape == (4, 5, 3)


def test_check_extension_names_the_path_when_given_no_name(tmp_path):
    from superres.io import check_extension

    target = tmp_path / "out.xyz"
    with pytest.raises(ImageWriteError, match=re.escape(f"cannot write {str(target)!r}: unknown image extension")):
        check_extension(target)


def test_what_a_format_drops_of_a_two_dimensional_gray_array():
    from superres.io import what_the_format_drops

    gray = np.zeros((4, 4), np.uint8)  # 4 columns: not 4 channels
    assert what_the_format_drops("o.jpg", gray) == []
    assert what_the_format_drops("o.jpg", gray.astype(np.uint16)) == ["16-bit samples are rounded to 8 bits"]
    assert what_the_format_drops("o.png", np.zeros((4, 4, 2), np.uint16)) == []
    assert what_the_format_drops("o.bmp", np.zeros((4, 4, 2), np.uint8)) == ["the alpha channel is dropped"]
