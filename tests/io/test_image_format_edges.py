"""superres.io.image edges: low-bit colour keys, format size limits, metadata, 16-bit PNG blocks."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from superres.errors import ImageWriteError
from superres.io import check_output_dimensions, fit_metadata, read_image, write_image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _low_bit_gray_png(bits: int, values: list[int], key: int) -> bytes:
    """A one-row gray PNG of ``bits`` (2 or 4) bits per sample with a tRNS colour key."""
    packed, acc, filled = bytearray(), 0, 0
    for v in values:
        acc, filled = (acc << bits) | v, filled + bits
        if filled == 8:
            packed.append(acc)
            acc, filled = 0, 0
    if filled:
        packed.append(acc << (8 - filled))
    header = struct.pack(">IIBBBBB", len(values), 1, bits, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"tRNS", struct.pack(">H", key))
            + _chunk(b"IDAT", zlib.compress(b"\x00" + bytes(packed))) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("bits, key, peak, step", [(2, 2, 3, 85), (4, 9, 15, 17)])
def test_a_colour_key_on_low_bit_gray_matches_the_scaled_samples(tmp_path: Path, bits, key, peak, step) -> None:
    path = tmp_path / f"g{bits}.png"
    path.write_bytes(_low_bit_gray_png(bits, [0, key, peak, key], key))
    pixels = read_image(path).pixels
    assert pixels.shape == (1, 4, 2)
    np.testing.assert_array_equal(pixels[0, :, 0], [0, key * step, 255, key * step])
    np.testing.assert_array_equal(pixels[0, :, 1], [255, 0, 255, 0])


@pytest.mark.parametrize("name, limit", [("a.jpg", 65500), ("a.webp", 16383)])
def test_the_largest_side_a_format_holds_is_allowed_and_one_more_is_not(name, limit) -> None:
    check_output_dimensions(name, limit, 1)
    check_output_dimensions(name, 1, limit)
    for width, height in ((limit + 1, 1), (1, limit + 1)):
        with pytest.raises(ImageWriteError, match=f"at most {limit} pixels"):
            check_output_dimensions(name, width, height)


def _icc_header(space: bytes) -> bytes:
    """A 128-byte ICC header of colour space ``space`` (enough for the colour-space check)."""
    head = bytearray(128)
    head[0:4] = struct.pack(">I", 128)
    head[16:20] = space
    head[36:40] = b"acsp"
    return bytes(head)


def test_a_gray_profile_stays_with_gray_alpha_pixels(tmp_path: Path) -> None:
    gray_icc = _icc_header(b"GRAY")
    rgb_icc = _icc_header(b"RGB ")
    la = np.zeros((2, 3, 2), dtype=np.uint8)
    assert fit_metadata(la, gray_icc, None)[0] == gray_icc
    assert fit_metadata(la, rgb_icc, None)[0] is None
    assert fit_metadata(la[:, :, :1], gray_icc, None)[0] == gray_icc
    write_image(tmp_path / "la.png", la, icc_profile=gray_icc)
    assert read_image(tmp_path / "la.png").icc_profile == gray_icc


def test_exif_size_too_big_for_its_short_is_rewritten_with_width_and_height_in_order() -> None:
    # PixelXDimension stored as a SHORT cannot hold 70000 in place: Pillow rewrites the EXIF
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0xA002], sub[0xA003] = 7, 5
    blob = b"Exif\x00\x00" + exif.tobytes()
    pixels = np.zeros((3, 70000, 1), dtype=np.uint8)
    _, fitted = fit_metadata(pixels, None, blob)
    out = Image.Exif()
    out.load(fitted)
    assert out.get_ifd(0x8769)[0xA002] == 70000 and out.get_ifd(0x8769)[0xA003] == 3


@pytest.mark.parametrize("name, shape, limit", [("wide.webp", (1, 16384, 3), 16383), ("wide.jpg", (65501, 1, 1), 65500)])
def test_write_image_says_what_the_format_holds_and_writes_nothing(tmp_path: Path, name, shape, limit) -> None:
    with pytest.raises(ImageWriteError, match=f"{name}.*at most {limit} pixels a side"):
        write_image(tmp_path / name, np.zeros(shape, dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_a_16_bit_png_taller_than_one_filter_block_round_trips(tmp_path: Path) -> None:
    # The PNG filter works in blocks of 4 MiB of rows (512 rows of 1024 RGBA16 pixels here);
    # the first row of a block must be filtered against the last row of the block before.
    # Alternating 0xFEFE / 0x7F7F pixels: a row like the one above is best filtered "Up",
    # and one filtered against a row of zeros "Average", which decodes wrongly against the real row.
    row = np.where(np.arange(1024)[:, None] % 2 == 0, 0xFEFE, 0x7F7F).astype(np.uint16)
    pixels = np.ascontiguousarray(np.broadcast_to(row[None, :, :].repeat(4, axis=2)[:, :, :4], (520, 1024, 4)))
    write_image(tmp_path / "tall.png", pixels)
    np.testing.assert_array_equal(read_image(tmp_path / "tall.png").pixels, pixels)


def test_a_big_endian_orientation_stored_as_long_is_reset_too(tmp_path: Path) -> None:
    # Motorola byte order: a LONG's value is in its last two bytes, not its first
    blob = b"Exif\x00\x00MM\x00*" + struct.pack(">IH", 8, 1)
    blob += struct.pack(">HHII", 0x0112, 4, 1, 6) + struct.pack(">I", 0)
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    Image.fromarray(pixels).save(tmp_path / "long.png", exif=blob)
    loaded = read_image(tmp_path / "long.png")
    np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
    tags = Image.Exif()
    tags.load(loaded.exif)
    assert tags[0x0112] == 1


def test_read_image_size_is_height_then_width(tmp_path: Path) -> None:
    from superres.io import read_image_size

    Image.fromarray(np.zeros((3, 5, 3), dtype=np.uint8)).save(tmp_path / "wide.png")
    assert read_image_size(tmp_path / "wide.png") == (3, 5)
    assert read_image_size(tmp_path / "wide.png") == read_image(tmp_path / "wide.png").pixels.shape[:2]


def _png_chunks(data: bytes) -> dict[bytes, bytes]:
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        chunks.setdefault(data[at + 4 : at + 8], data[at + 8 : at + 8 + length])
        at += 12 + length
    return chunks


@pytest.mark.parametrize("channels, dtype", [(1, np.uint8), (3, np.uint8), (2, np.uint16), (3, np.uint16), (4, np.uint16)])
def test_the_png_exif_chunk_is_a_bare_tiff_block(tmp_path: Path, channels, dtype) -> None:
    # PNG's eXIf holds the TIFF header (II/MM) directly, without JPEG's "Exif\0\0"
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    write_image(tmp_path / "e.png", np.zeros((2, 3, channels), dtype=dtype), exif=b"Exif\x00\x00" + exif.tobytes())
    body = _png_chunks((tmp_path / "e.png").read_bytes())[b"eXIf"]
    assert body[:4] in (b"II*\x00", b"MM\x00*")


def test_an_mpo_photo_is_one_jpeg_frame(tmp_path: Path) -> None:
    first = np.full((4, 6, 3), 200, dtype=np.uint8)
    Image.fromarray(first).save(tmp_path / "photo.jpg", format="MPO", save_all=True,
                                append_images=[Image.fromarray(np.zeros((4, 6, 3), dtype=np.uint8))])
    with Image.open(tmp_path / "photo.jpg") as im:
        assert im.format == "MPO" and im.n_frames == 2  # the fixture is what it should be
    loaded = read_image(tmp_path / "photo.jpg")
    assert loaded.format == "JPEG" and loaded.frames == 1
    assert abs(int(loaded.pixels.mean()) - 200) <= 2
