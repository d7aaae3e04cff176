"""Reading and writing image files, and converting pixels to and from tensors.

Everything the rest of the package sees is a ``(H, W, C)`` ``uint8`` or
``uint16`` array with ``C`` in ``{1, 2, 3, 4}`` (L, LA, RGB, RGBA).

Format notes (what is kept and what is not):

* Reading: PNG, JPEG, BMP, TIFF, WebP and GIF only (other Pillow plugins are not
  even tried, so e.g. an EPS file never reaches Ghostscript); of an animation or a
  multi-page file, the first frame. GIF is not written. Palette images
  become RGB, or RGBA when the palette has transparency, and L or LA when every
  colour the image uses is gray (a palette says nothing about colour, so a gray
  GIF would otherwise come back as three equal channels); a single transparent
  colour (PNG ``tRNS``) on L/RGB becomes an alpha channel; CMYK and other
  colour spaces become 8-bit RGB; ``'1'`` becomes L. The EXIF orientation is
  applied, so the array is upright and the returned EXIF says orientation 1.
* 16-bit PNG and TIFF (gray, gray+alpha for PNG, RGB, RGBA) are read at full
  depth. Pillow keeps only the high byte of 16-bit colour samples, so those
  are decoded twice, once for the high and once for the low bytes.
* Writing: PNG and TIFF keep 16 bits. JPEG, WebP and BMP cannot hold 16 bits,
  so 16-bit input is rounded to 8 bits. JPEG and BMP drop the alpha channel
  (JPEG has none; Pillow reads 32-bit BMP back without it); WebP stores gray
  as RGB. 16-bit gray+alpha goes to TIFF as 16-bit RGBA, because Pillow cannot
  read a 16-bit gray+alpha TIFF back. WebP with ``quality=100`` is lossless.
  ICC profile and EXIF go into PNG, JPEG, WebP and TIFF; BMP carries neither.
  A profile of another colour space than the pixels' (a CMYK photo's, now RGB;
  an RGB one on a palette image read as gray) is dropped, not written into a
  file it would make invalid; the EXIF image width and height are set to the
  written image's. JPEG holds at most 65500 pixels a side and WebP 16383:
  :func:`check_output_dimensions` says so before any work.
* Limits: the pixel count in the header is checked against ``max_pixels``
  before decoding. Pillow's own decompression-bomb check (inside
  ``Image.open``, above ``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 million
  pixels by default) would otherwise refuse images that ``max_pixels``
  allows, so while this module opens a file it lifts Pillow's limit, under a
  lock, and restores it after; ``max_pixels`` is checked instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import struct
import sys
import threading
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from PIL import Image, TiffImagePlugin, TiffTags, UnidentifiedImageError

from superres.io.atomic import atomic_write as _atomic_write
from superres.io.atomic import check_output_path
from superres.errors import (
    ImageReadError,
    ImageWriteError,
    InvalidArgumentError,
    SuperresError,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "READ_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "LoadedImage",
    "check_extension",
    "check_output_dimensions",
    "fit_metadata",
    "image_to_tensor",
    "output_extension",
    "read_image",
    "read_image_size",
    "resolve_max_pixels",
    "scale_suffix",
    "tensor_to_image",
    "to_uint8",
    "what_the_format_drops",
    "write_image",
]

DEFAULT_MAX_PIXELS: int = 400_000_000
MAX_PIXELS_ENV = "SUPERRES_MAX_PIXELS"

#: extensions we read and write
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
)
#: extensions we read (GIF is read, its first frame, but not written: 256 colours would undo the upscale)
READ_EXTENSIONS: frozenset[str] = SUPPORTED_EXTENSIONS | {".gif"}


def output_extension(source: str | os.PathLike[str]) -> str:
    """The extension an output made from ``source`` gets when none is asked for: the
    source's own where we write that format, else ``.png`` (lossless; e.g. for a GIF)."""
    suffix = Path(source).suffix
    return suffix if suffix.lower() in _EXTENSION_FORMATS else ".png"


def scale_suffix(scale: float) -> str:
    """What an upscaled file's name gets when no name is given: ``_x3``, ``_x2.5``
    (``photo.jpg`` -> ``photo_x3.jpg``, by ``superres upscale`` and ``superres.upscale``)."""
    return f"_x{scale:g}"


_EXTENSION_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}
_FORMAT_ALIASES = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "JPG": "JPEG",
    "BMP": "BMP",
    "TIFF": "TIFF",
    "TIF": "TIFF",
    "WEBP": "WEBP",
}
_READ_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF")

# Pillow's limit is a module global: one lock keeps our reads from restoring it under each other.
_PILLOW_LIMIT_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_pillow_limit():
    """Let Pillow open images of any size: its hard limit would come first, where ``max_pixels`` is the one that counts."""
    with _PILLOW_LIMIT_LOCK, warnings.catch_warnings():
        # Pillow warns about damage it reads past (a truncated EXIF block, a TIFF tag beyond
        # the file's end): what counts is said in one line, or the image reads fine
        warnings.simplefilter("ignore")
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # _decode checks the header's size against max_pixels itself
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved
_CHANNEL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION = 0x0112

# TIFF tags that describe the pixel layout of the file they came from; they
# would be wrong (or dangerous) if carried as EXIF into another file.
_TIFF_LAYOUT_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280,
        281, 284, 317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347,
        513, 514, 529, 530, 531, 532, 700, 33723, 34377, 34675,
    }
)  # fmt: skip


# --------------------------------------------------------------------------
# LoadedImage


@dataclass(frozen=True, eq=False)  # eq=False: == on arrays is ambiguous
class LoadedImage:
    """Decoded pixels plus the metadata worth carrying to the output file."""

    pixels: np.ndarray
    path: Path | None = None
    format: str | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    #: frames in the file (animated PNG/WebP/GIF, multi-page TIFF); ``pixels`` is the first
    frames: int = 1

    def __post_init__(self) -> None:
        _check_pixels(self.pixels, 3)

    @property
    def channels(self) -> int:
        """Number of channels: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)."""
        return int(self.pixels.shape[2])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.pixels.shape[1])

    @property
    def bit_depth(self) -> int:
        """Bits per channel: 16 for uint16 pixels, else 8."""
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def has_alpha(self) -> bool:
        """Whether the last channel is alpha (2 or 4 channels)."""
        return self.channels in (2, 4)

    @property
    def mode(self) -> str:
        """The PIL mode of the channels: ``L``, ``LA``, ``RGB`` or ``RGBA``."""
        return _CHANNEL_MODES[self.channels]


def _check_pixels(pixels: Any, ndim: int | None = None) -> np.ndarray:
    """Validate an image array; ``ndim=None`` also accepts (H, W) as gray."""
    if not isinstance(pixels, np.ndarray):
        raise InvalidArgumentError(f"pixels must be a numpy array, not {type(pixels).__name__}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise InvalidArgumentError(f"pixels must be uint8 or uint16, not {pixels.dtype}")
    if ndim is None and pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _CHANNEL_MODES:
        raise InvalidArgumentError(
            f"pixels must have shape (H, W, C) with C in 1..4, not {pixels.shape}"
        )
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise InvalidArgumentError(f"pixels must not be empty, got shape {pixels.shape}")
    return pixels


# --------------------------------------------------------------------------
# Reading


class _Unreadable(Exception):
    """Internal: a reason why a file cannot be read; read_image adds the name."""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _os_reason(error: OSError) -> str:
    reason = error.strerror or str(error) or type(error).__name__
    return _one_line(reason[:1].lower() + reason[1:])


def resolve_max_pixels(max_pixels: int | None = None) -> int:
    """The pixel limit of the reader: ``max_pixels``, else ``$SUPERRES_MAX_PIXELS``, else the default."""
    if max_pixels is None:
        env = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not env:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(env)
        except ValueError:
            raise InvalidArgumentError(
                f"{MAX_PIXELS_ENV} must be a positive integer, not {env!r}"
            ) from None
        source = MAX_PIXELS_ENV
    else:
        source = "max_pixels"
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
        raise InvalidArgumentError(f"{source} must be a positive integer, not {max_pixels!r}")
    return max_pixels


def read_image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(height, width)`` of an image file from its header, without decoding the pixels (a
    folder of inputs can be checked before any output is written).  A file the header read
    cannot open is read whole, so that :func:`read_image` names the problem
    (:class:`ImageReadError`).  EXIF orientation is not applied."""
    try:
        with _without_pillow_limit(), Image.open(path, formats=_READ_FORMATS) as im:
            width, height = im.size
    except Exception:
        height, width = read_image(path).pixels.shape[:2]
    return height, width


def read_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> LoadedImage:
    """Read a PNG, JPEG, BMP, TIFF, WebP or GIF file into an upright (H, W, C) array
    (the first frame of an animation or a multi-page file; ``frames`` says how many).

    ``max_pixels`` (default: env ``SUPERRES_MAX_PIXELS`` or
    :data:`DEFAULT_MAX_PIXELS`) bounds width * height, checked on the header
    before any pixel is decoded. Every problem with the file itself raises
    :class:`ImageReadError` with a one-line message naming the file.
    """
    limit = resolve_max_pixels(max_pixels)
    file = Path(path)
    name = os.fspath(path)
    try:
        info = file.stat()
        if stat.S_ISDIR(info.st_mode):
            raise _Unreadable("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise _Unreadable("not a regular file")
        if info.st_size == 0:
            raise _Unreadable("file is empty")
        with open(file, "rb") as fp:
            pixels, fmt, icc, exif, frames = _decode(fp, limit)
    except _Unreadable as e:
        raise ImageReadError(f"cannot read {name!r}: {e}") from None
    except FileNotFoundError:
        raise ImageReadError(f"cannot read {name!r}: no such file") from None
    except UnidentifiedImageError:
        raise ImageReadError(
            f"cannot read {name!r}: not a PNG, JPEG, BMP, TIFF, WebP or GIF image"
        ) from None
    except Image.DecompressionBombError as e:
        raise ImageReadError(f"cannot read {name!r}: image is too large: {_one_line(e)}") from e
    except SuperresError:
        raise
    except MemoryError as e:
        raise ImageReadError(f"cannot read {name!r}: not enough memory to decode it") from e
    except Exception as e:  # Pillow and zlib raise many types for a corrupt file
        if isinstance(e, OSError) and e.filename is not None:
            reason = _os_reason(e)
        else:
            reason = f"corrupt or truncated image ({_one_line(e) or type(e).__name__})"
        raise ImageReadError(f"cannot read {name!r}: {reason}") from e
    return LoadedImage(pixels=pixels, path=file, format=fmt, icc_profile=icc, exif=exif, frames=frames)


def _decode(fp: IO[bytes], limit: int) -> tuple[np.ndarray, str, bytes | None, bytes | None, int]:
    with _without_pillow_limit():
        with Image.open(fp, formats=_READ_FORMATS) as im:
            width, height = im.size
            if width * height > limit:
                raise _Unreadable(
                    f"image is {width}x{height} ({width * height} pixels), above the limit "
                    f"of {limit} pixels (raise it with {MAX_PIXELS_ENV}, or max_pixels in Python)"
                )
            fmt = "JPEG" if im.format == "MPO" else str(im.format)
            # an MPO's further pictures (depth maps, previews) are not frames of the photo
            frames = 1 if im.format == "MPO" else int(getattr(im, "n_frames", 1))
            first_rawmode = _tile_rawmode(im)
            plan = _wide_plan(im, first_rawmode)
            if plan is None:
                im.load()  # full decode now, so truncation is detected here
                pixels = _pillow_to_array(im)
            else:
                pixels = _load_wide(fp, im, plan)
            pixels = _apply_transparency_key(pixels, im.info.get("transparency"), first_rawmode)
            icc = im.info.get("icc_profile") or None
            exif, orientation = _read_exif(im)
    pixels = np.ascontiguousarray(_orient(pixels, orientation))
    if not pixels.flags.writeable:  # arrays over Pillow's buffer are read-only
        pixels = pixels.copy()
    return pixels, fmt, icc, exif, frames


def _tile_rawmode(im: Image.Image) -> str | None:
    """The raw mode of the file's pixel data, if all tiles agree on one."""
    tiles = getattr(im, "tile", None) or []
    modes = set()
    for tile in tiles:
        args = tile[3]
        raw = args[0] if isinstance(args, tuple) and args else args
        modes.add(raw if isinstance(raw, str) else None)
    return modes.pop() if len(modes) == 1 else None


def _with_rawmode(im: Image.Image, rawmode: str) -> None:
    """Point every tile at another unpacker with the same bits per pixel."""
    new_tiles = []
    for tile in im.tile:
        codec, extents, offset, args = tuple(tile)[:4]
        args = (rawmode, *args[1:]) if isinstance(args, tuple) else rawmode
        parts = (codec, extents, offset, args)
        new_tiles.append(type(tile)(*parts) if hasattr(tile, "_fields") else parts)
    im.tile = new_tiles


_WIDE_RAWMODE = re.compile(r"^(RGB|RGBA|RGBX);16([BLN])$")


def _wide_plan(im: Image.Image, rawmode: str | None) -> tuple[str, ...] | None:
    """How to get all 16 bits of a colour image Pillow would cut to 8 bits.

    ``("split", hi, lo)``: decode twice with unpackers that keep the high and
    then the low byte of each sample. ``("la16",)``: 16-bit gray+alpha PNG,
    whose 4 bytes per pixel an 8-bit RGBA unpacker copies as they are.
    """
    if rawmode is None:
        return None
    if rawmode == "LA;16B" and im.mode == "RGBA":
        return ("la16",)
    match = _WIDE_RAWMODE.match(rawmode)
    if match is None or im.mode not in ("RGB", "RGBA"):
        return None
    base, order = match.groups()
    if order == "N":  # libtiff hands over samples in native byte order
        order = "L" if sys.byteorder == "little" else "B"
    # An ";16L" unpacker keeps byte 1 of each sample, ";16B" keeps byte 0.
    other = "B" if order == "L" else "L"
    return ("split", f"{base};16{order}", f"{base};16{other}")


def _load_wide(fp: IO[bytes], im: Image.Image, plan: tuple[str, ...]) -> np.ndarray:
    if plan[0] == "la16":
        _with_rawmode(im, "RGBA")
        im.load()
        raw = np.asarray(im).astype(np.uint16)
        return np.stack([(raw[..., 0] << 8) | raw[..., 1], (raw[..., 2] << 8) | raw[..., 3]], -1)
    _, hi_mode, lo_mode = plan
    _with_rawmode(im, hi_mode)
    im.load()
    high = np.asarray(im).astype(np.uint16)
    fp.seek(0)
    with Image.open(fp, formats=[str(im.format)]) as lo_im:
        if lo_im.size != im.size or lo_im.mode != im.mode:
            raise _Unreadable("file changed while it was being read")
        _with_rawmode(lo_im, lo_mode)
        lo_im.load()
        low = np.asarray(lo_im).astype(np.uint16)
    return (high << 8) | low


def _pillow_to_array(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        arr = np.asarray(im)
    elif mode.startswith("I;16") and mode[4:] in ("", "B", "L", "N"):
        arr = np.asarray(im).astype(np.uint16)  # big-endian variants -> native
    elif mode == "I":
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise _Unreadable("32-bit integer pixels outside 0..65535 are not supported")
        arr = arr.astype(np.uint16)
    elif mode == "1":
        arr = np.asarray(im.convert("L"))
    elif mode == "P":
        arr = _gray_if_neutral(np.asarray(im.convert("RGBA" if "transparency" in im.info else "RGB")))
    elif mode == "PA":
        arr = _gray_if_neutral(np.asarray(im.convert("RGBA")))
    elif mode == "RGBa":
        arr = np.asarray(im.convert("RGBA"))
    elif mode == "La":
        arr = np.asarray(im.convert("LA"))
    elif mode in ("RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        arr = np.asarray(im.convert("RGB"))
    else:
        raise _Unreadable(f"pixel mode {mode!r} is not supported")
    return arr[:, :, None] if arr.ndim == 2 else arr


def _gray_if_neutral(arr: np.ndarray) -> np.ndarray:
    """A palette image's RGB(A) pixels as L(A) when every pixel has R == G == B."""
    red, green, blue = arr[..., 0], arr[..., 1], arr[..., 2]
    if not (np.array_equal(red, green) and np.array_equal(red, blue)):
        return arr
    return np.ascontiguousarray(arr[..., [0, 3]] if arr.shape[-1] == 4 else red)


# Gray PNGs below 8 bits are scaled to 0..255 by Pillow, but their tRNS key is not.
_KEY_SCALE = {"L;2": 85, "L;4": 17}


def _apply_transparency_key(pixels: np.ndarray, key: Any, rawmode: str | None) -> np.ndarray:
    """Turn a PNG tRNS colour key on an L or RGB image into an alpha channel."""
    if key is None or pixels.shape[2] not in (1, 3):
        return pixels
    key_values = (key,) if isinstance(key, int) else tuple(key) if isinstance(key, tuple) else ()
    if len(key_values) != pixels.shape[2]:
        return pixels
    scale = _KEY_SCALE.get(rawmode or "", 1)
    target = np.array([v * scale for v in key_values], dtype=np.int64)
    opaque = np.iinfo(pixels.dtype).max
    alpha = np.where((pixels == target).all(axis=2), 0, opaque).astype(pixels.dtype)
    return np.concatenate([pixels, alpha[:, :, None]], axis=2)


def _read_exif(im: Image.Image) -> tuple[bytes | None, int]:
    """EXIF to carry (orientation reset to 1) and the orientation to apply.

    For TIFF, Pillow applies and drops the orientation itself while loading,
    so the orientation returned there is 1.
    """
    try:
        tags = im.getexif()
        orientation = tags.get(_ORIENTATION, 1)
        if not isinstance(orientation, int) or not 1 <= orientation <= 8:
            orientation = 1
        raw = im.info.get("exif")
        if isinstance(raw, bytes) and raw:
            # Patch the blob in place, so maker notes and thumbnails survive.
            patched = _exif_blob_with_orientation_1(raw)
            if patched is not None:
                return patched, orientation
        for tag in list(tags):
            if tag in _TIFF_LAYOUT_TAGS:
                del tags[tag]
        if _ORIENTATION in tags:
            tags[_ORIENTATION] = 1
        return (tags.tobytes() if len(tags) else None), orientation
    except Exception:  # broken EXIF must not make a good image unreadable
        return None, 1


def _exif_blob_with_orientation_1(blob: bytes) -> bytes | None:
    """``Exif\\0\\0``-prefixed copy of ``blob`` whose IFD0 orientation is 1."""
    body = blob[len(_EXIF_PREFIX) :] if blob.startswith(_EXIF_PREFIX) else blob
    try:
        order = {b"II": "<", b"MM": ">"}[body[:2]]
        (ifd0,) = struct.unpack_from(order + "I", body, 4)
        (count,) = struct.unpack_from(order + "H", body, ifd0)
        for i in range(count):
            entry = ifd0 + 2 + 12 * i
            tag, kind, n = struct.unpack_from(order + "HHI", body, entry)
            if tag == _ORIENTATION:
                if kind != 3 or n != 1:  # not one inline SHORT: let Pillow rewrite it
                    return None
                value = struct.pack(order + "H", 1)
                body = body[: entry + 8] + value + body[entry + 10 :]
                break
    except (KeyError, struct.error):
        return None
    return _EXIF_PREFIX + body


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation the way ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(pixels, -1)
    if orientation == 7:
        return pixels.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(pixels, 1)
    return pixels


# --------------------------------------------------------------------------
# Writing


def _resolve_format(target: Path, name: str, fmt: str | None) -> str:
    if fmt is not None:
        resolved = _FORMAT_ALIASES.get(str(fmt).upper())
        if resolved is None:
            raise ImageWriteError(
                f"cannot write {name!r}: unknown image format {fmt!r} "
                f"(use PNG, JPEG, BMP, TIFF or WEBP)"
            )
        return resolved
    check_extension(target, name)
    return _EXTENSION_FORMATS[target.suffix.lower()]


def check_extension(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Raise :class:`ImageWriteError` unless ``path`` ends in an extension :func:`write_image` writes."""
    target = Path(path)
    if target.suffix.lower() in _EXTENSION_FORMATS:
        return
    known = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    if target.suffix.lower() in READ_EXTENSIONS:
        problem = f"{target.suffix.lstrip('.').upper()} is read but not written"
    else:
        problem = f"unknown image extension {target.suffix!r}" if target.suffix else "no extension"
    raise ImageWriteError(f"cannot write {name or os.fspath(path)!r}: {problem} (use {known})")


#: formats without an alpha channel (Pillow reads a 32-bit BMP back without it)
_NO_ALPHA = frozenset({"JPEG", "BMP"})
#: formats of 8 bits per sample
_EIGHT_BIT = frozenset({"JPEG", "WEBP", "BMP"})
#: the longest side each format's encoder writes (libjpeg's and libwebp's limits)
_MAX_SIDE = {"JPEG": 65500, "WEBP": 16383}


def check_output_dimensions(path: str | os.PathLike[str], width: int, height: int, *, format: str | None = None) -> None:
    """Raise :class:`ImageWriteError` if the format of ``path`` cannot hold a ``width x height``
    image (JPEG: 65500 pixels a side, WebP: 16383), so a caller can say so before the work."""
    name = os.fspath(path)
    fmt = _resolve_format(Path(path), name, format)
    limit = _MAX_SIDE.get(fmt)
    if limit is not None and max(width, height) > limit:
        raise ImageWriteError(
            f"cannot write {name!r}: the output would be {width}x{height}, and {fmt} holds at most "
            f"{limit} pixels a side (write PNG or TIFF)"
        )


def _profile_fits(icc: bytes, channels: int) -> bool:
    """Whether an ICC profile's colour space (header bytes 16..20) is the pixels', gray or RGB;
    a blob without the ICC signature ``acsp`` is passed on as it came, unjudged."""
    if icc[36:40] != b"acsp":
        return True
    return icc[16:20] == (b"GRAY" if channels in (1, 2) else b"RGB ")


_EXIF_IFD = 0x8769
_EXIF_SIZE_TAGS = (0xA002, 0xA003)  # PixelXDimension, PixelYDimension


def _exif_with_size(blob: bytes, width: int, height: int) -> bytes | None:
    """``blob`` (``Exif\\0\\0``-prefixed) whose EXIF image width and height are ``width x height``:
    patched in place where they are inline values that can hold them (maker notes and
    thumbnails keep their offsets), else rewritten by Pillow."""
    body = blob[len(_EXIF_PREFIX) :]
    try:
        order = {b"II": "<", b"MM": ">"}[body[:2]]

        def entries(ifd: int):
            (count,) = struct.unpack_from(order + "H", body, ifd)
            for i in range(count):
                at = ifd + 2 + 12 * i
                yield (at, *struct.unpack_from(order + "HHI", body, at))

        (ifd0,) = struct.unpack_from(order + "I", body, 4)
        pointer = next((at for at, tag, kind, n in entries(ifd0) if tag == _EXIF_IFD), None)
        if pointer is None:
            return blob  # no EXIF sub-IFD: no size recorded
        (exif_ifd,) = struct.unpack_from(order + "I", body, pointer + 8)
        patched = bytearray(body)
        for at, tag, kind, n in entries(exif_ifd):
            if tag in _EXIF_SIZE_TAGS:
                value = width if tag == _EXIF_SIZE_TAGS[0] else height
                if n != 1 or kind not in (3, 4) or (kind == 3 and value > 0xFFFF):
                    raise ValueError("not an inline value that holds the size")
                patched[at + 8 : at + 12] = struct.pack(order + ("HH" if kind == 3 else "I"), *(
                    (value, 0) if kind == 3 else (value,)))
        return _EXIF_PREFIX + bytes(patched)
    except (KeyError, ValueError, struct.error):
        pass
    try:
        tags = Image.Exif()
        tags.load(blob)
        sub = tags.get_ifd(_EXIF_IFD)
        if any(tag in sub for tag in _EXIF_SIZE_TAGS):
            sub[_EXIF_SIZE_TAGS[0]], sub[_EXIF_SIZE_TAGS[1]] = width, height
        return _exif_prefixed(tags.tobytes())
    except Exception:  # unreadable EXIF: better none than one that describes another image
        return None


def fit_metadata(pixels: np.ndarray, icc_profile: bytes | None, exif: bytes | None) -> tuple[bytes | None, bytes | None]:
    """The ICC profile and EXIF to write with ``pixels`` ((H, W, C)): the profile only if its
    colour space is the pixels', the EXIF with their width and height."""
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    icc = icc_profile if icc_profile and _profile_fits(icc_profile, channels) else None
    blob = _exif_prefixed(exif)
    if blob is not None:
        blob = _exif_with_size(blob, pixels.shape[1], pixels.shape[0])
    return icc, blob


def what_the_format_drops(path: str | os.PathLike[str], pixels: np.ndarray, *, format: str | None = None) -> list[str]:
    """What :func:`write_image` of ``pixels`` to ``path`` loses for the format's sake
    (``"the alpha channel is dropped"``, ``"16-bit samples are rounded to 8 bits"``), for a note to the user."""
    fmt = _resolve_format(Path(path), os.fspath(path), format)
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    lost = []
    if fmt in _NO_ALPHA and channels in (2, 4):
        lost.append("the alpha channel is dropped")
    if fmt in _EIGHT_BIT and pixels.dtype == np.uint16:
        lost.append("16-bit samples are rounded to 8 bits")
    return lost


def write_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    overwrite: bool = False,
    format: str | None = None,
    quality: int = 95,
) -> Path:
    """Write ``pixels`` ((H, W, C) or (H, W), uint8 or uint16) atomically.

    The file appears complete or not at all: it is written to a hidden
    ``.*.tmp`` file in the same folder, synced and renamed over ``path``.
    The format comes from ``format`` or the extension; ``quality`` (1..100)
    applies to JPEG and WebP (100 makes WebP lossless). See the module
    docstring for what each format keeps.
    """
    target = Path(path)
    name = os.fspath(path)
    arr = _check_pixels(pixels)
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise InvalidArgumentError(f"quality must be an integer in 1..100, not {quality!r}")
    for label, blob in (("icc_profile", icc_profile), ("exif", exif)):
        if blob is not None and not isinstance(blob, bytes):
            raise InvalidArgumentError(f"{label} must be bytes, not {type(blob).__name__}")
    fmt = _resolve_format(target, name, format)

    check_output_path(target, overwrite=overwrite, name=name)
    check_output_dimensions(target, arr.shape[1], arr.shape[0], format=fmt)

    try:
        encode = _encoder(arr, fmt, *fit_metadata(arr, icc_profile, exif), quality)
        _atomic_write(target, encode, overwrite)
    except FileExistsError:
        raise ImageWriteError(f"{name!r} exists (use --overwrite)") from None
    except OSError as e:
        raise ImageWriteError(f"cannot write {name!r}: {_os_reason(e)}") from e
    except SuperresError:
        raise
    except Exception as e:  # Pillow encoders raise ValueError, KeyError, ...
        raise ImageWriteError(f"cannot write {name!r}: {_one_line(e) or type(e).__name__}") from e
    return target


def _exif_prefixed(exif: bytes | None) -> bytes | None:
    # JPEG needs the "Exif\0\0" header in the blob; PNG, WebP and TIFF strip it.
    if not exif:
        return None
    return exif if exif.startswith(_EXIF_PREFIX) else _EXIF_PREFIX + exif


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint16 (or uint8) pixels as uint8, rounded to nearest: the 8 bits of the protocol and of
    the formats that hold no more."""
    if arr.dtype == np.uint8:
        return arr
    # round(x * 255 / 65535) == round(x / 257); no ties happen for integers
    return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _encoder(
    arr: np.ndarray, fmt: str, icc: bytes | None, exif: bytes | None, quality: int
) -> Callable[[IO[bytes]], None]:
    """Convert ``arr`` to what ``fmt`` can hold; return a function writing it."""
    if fmt in _EIGHT_BIT:
        arr = to_uint8(arr)
    if fmt in _NO_ALPHA and arr.shape[2] in (2, 4):
        arr = arr[:, :, :-1]  # alpha dropped: see module docstring
    if fmt == "WEBP" and arr.shape[2] in (1, 2):
        arr = np.concatenate([arr[:, :, :1].repeat(3, axis=2), arr[:, :, 1:]], axis=2)

    if arr.dtype == np.uint16 and arr.shape[2] > 1:
        if fmt == "PNG":
            return lambda fp: _write_png16(fp, arr, icc, exif)
        if arr.shape[2] == 2:  # Pillow cannot read 16-bit gray+alpha TIFF
            arr = np.concatenate([arr[:, :, :1].repeat(3, axis=2), arr[:, :, 1:]], axis=2)
        return lambda fp: _write_tiff16(fp, arr, icc, exif)

    image = Image.fromarray(np.ascontiguousarray(arr[:, :, 0] if arr.shape[2] == 1 else arr))
    options: dict[str, Any] = {}
    if fmt in ("PNG", "JPEG", "WEBP", "TIFF"):
        if icc is not None:
            options["icc_profile"] = icc
        if exif is not None:
            options["exif"] = exif
    if fmt == "JPEG":
        options["quality"] = quality
    elif fmt == "WEBP":
        if quality == 100:
            # exact: keep the colour of fully transparent pixels
            options.update(lossless=True, quality=100, exact=True)
        else:
            options["quality"] = quality

    def save(fp: IO[bytes]) -> None:
        image.save(fp, format=fmt, **options)

    return save


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_filter(rows: np.ndarray, bpp: int, block_bytes: int = 1 << 22) -> np.ndarray:
    """Filter rows (H, N) of raw bytes; each row gets the PNG filter whose
    output has the smallest sum of absolute signed bytes (libpng's heuristic).

    Encoding only looks at raw bytes, so all five filters vectorise; rows
    are handled in blocks to bound the temporary memory.
    """
    height, width = rows.shape
    out = np.empty((height, width + 1), dtype=np.uint8)
    step = max(1, block_bytes // max(1, width))
    for start in range(0, height, step):
        stop = min(height, start + step)
        cur = rows[start:stop].astype(np.int16)
        up = np.zeros_like(cur)
        up[1:] = cur[:-1]
        if start > 0:
            up[0] = rows[start - 1]
        left = np.zeros_like(cur)
        left[:, bpp:] = cur[:, :-bpp]
        up_left = np.zeros_like(cur)
        up_left[:, bpp:] = up[:, :-bpp]
        guess = left + up - up_left
        dist_left, dist_up, dist_ul = (np.abs(guess - v) for v in (left, up, up_left))
        paeth = np.where(
            (dist_left <= dist_up) & (dist_left <= dist_ul),
            left,
            np.where(dist_up <= dist_ul, up, up_left),
        )
        candidates = np.stack(
            [cur, cur - left, cur - up, cur - ((left + up) >> 1), cur - paeth]
        ).astype(np.uint8)  # wraps modulo 256, as PNG wants
        cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
        best = cost.argmin(axis=0)
        out[start:stop, 0] = best
        out[start:stop, 1:] = candidates[best, np.arange(stop - start)]
    return out


def _write_png16(fp: IO[bytes], arr: np.ndarray, icc: bytes | None, exif: bytes | None) -> None:
    """16-bit gray+alpha / RGB / RGBA PNG, which Pillow cannot write."""
    height, width, channels = arr.shape
    color_type = {2: 4, 3: 2, 4: 6}[channels]
    raw = arr.astype(">u2").reshape(height, width * channels).view(np.uint8)
    filtered = _png_filter(raw, bpp=2 * channels)
    fp.write(b"\x89PNG\r\n\x1a\n")
    fp.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)))
    if icc:
        fp.write(_png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if exif:
        fp.write(_png_chunk(b"eXIf", exif[len(_EXIF_PREFIX) :]))
    # Level 3: a few percent larger than 6 on 16-bit photos, about 4x faster.
    compressor = zlib.compressobj(3)
    for start in range(0, height, 256):  # stream: no second full-size copy
        data = compressor.compress(filtered[start : start + 256].tobytes())
        if data:
            fp.write(_png_chunk(b"IDAT", data))
    fp.write(_png_chunk(b"IDAT", compressor.flush()))
    fp.write(_png_chunk(b"IEND", b""))


def _write_tiff16(fp: IO[bytes], arr: np.ndarray, icc: bytes | None, exif: bytes | None) -> None:
    """Uncompressed 16-bit RGB / RGBA TIFF, which Pillow cannot write.

    Pillow's IFD writer does the tag encoding (EXIF sub-IFDs included); the
    pixel data follows the IFD as one strip, as Pillow's own writer does.
    """
    height, width, channels = arr.shape
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        tags = Image.Exif()
        tags.load(exif)
        for key in tags:
            if key in _TIFF_LAYOUT_TAGS:
                continue
            ifd[key] = tags.get_ifd(key) if key in TiffTags.TAGS_V2_GROUPS else tags.get(key)
            with contextlib.suppress(Exception):
                ifd.tagtype[key] = tags.tagtype[key]
    ifd[256] = width  # ImageWidth
    ifd[257] = height  # ImageLength
    ifd[258] = (16,) * channels  # BitsPerSample
    ifd[259] = 1  # Compression: none
    ifd[262] = 2  # Photometric: RGB
    ifd[277] = channels  # SamplesPerPixel
    ifd[278] = height  # RowsPerStrip
    ifd[284] = 1  # PlanarConfiguration: chunky
    if channels == 4:
        ifd[338] = (2,)  # ExtraSamples: unassociated alpha
    if icc:
        ifd[34675] = icc
    ifd.tagtype[279] = TiffTags.LONG
    ifd[279] = (height * width * channels * 2,)  # StripByteCounts
    ifd.tagtype[273] = TiffTags.LONG
    ifd[273] = (0,)  # StripOffsets, shifted past the IFD by ifd.save
    ifd.save(fp)  # writes the TIFF header too, as fp is at position 0
    fp.write(np.ascontiguousarray(arr, dtype="<u2").tobytes())


# --------------------------------------------------------------------------
# Tensors


def image_to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """(H, W, C) uint8/uint16 -> (1, C, H, W) float32 in [0, 1]."""
    arr = _check_pixels(pixels, 3)
    scale = 255.0 if arr.dtype == np.uint8 else 65535.0
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)
    return torch.from_numpy(chw).div_(scale).unsqueeze(0)


def tensor_to_image(t: torch.Tensor, *, bit_depth: int = 8) -> np.ndarray:
    """(1, C, H, W) or (C, H, W) float in [0, 1] -> (H, W, C) uint8/uint16.

    Values are clipped to [0, 1], scaled and rounded half away from zero
    (MATLAB's ``im2uint8``). The arithmetic is done in float64, where
    ``x * 255`` (or ``* 65535``) of a float32 value is exact, so a value
    just below a half never rounds up by accident.
    """
    if bit_depth not in (8, 16):
        raise InvalidArgumentError(f"bit_depth must be 8 or 16, not {bit_depth!r}")
    if not isinstance(t, torch.Tensor) or not t.is_floating_point():
        raise InvalidArgumentError("tensor_to_image needs a floating-point tensor")
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise InvalidArgumentError(f"expected a batch of one image, got shape {tuple(t.shape)}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] not in _CHANNEL_MODES:
        raise InvalidArgumentError(
            f"expected shape (1, C, H, W) or (C, H, W) with C in 1..4, got {tuple(t.shape)}"
        )
    # .cpu() first: some devices (MPS) have no float64
    values = t.detach().cpu().to(torch.float64)  # may alias t: no in-place ops below
    if torch.isnan(values).any():
        raise InvalidArgumentError("tensor contains NaN values")
    peak = 255.0 if bit_depth == 8 else 65535.0
    rounded = torch.floor(values.clamp(0.0, 1.0) * peak + 0.5)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.ascontiguousarray(rounded.numpy().transpose(1, 2, 0).astype(dtype))
