"""The Python API: ``superres.upscale``, ``superres.load_model``, ``superres.list_models``.

These are re-exported lazily from :mod:`superres` (``import superres`` does
not import torch until one of them is used)::

    import superres
    big = superres.upscale("photo.jpg", 4, output="photo_x4.png")     # path -> path
    big = superres.upscale(pil_image, 2)                              # PIL -> PIL
    big = superres.upscale(array_hwc_uint8, 3, model="bicubic")       # numpy -> numpy
    big = superres.upscale(tensor_bchw, 2)                            # tensor -> tensor

All of them run the same pipeline as ``superres upscale`` (tiles within a
memory budget, alpha upscaled with bicubic, 16-bit kept, the same default
model per scale).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from superres.errors import InvalidArgumentError

if TYPE_CHECKING:  # torch-free at import time, as the module docstring says
    from superres.methods.base import MethodInfo, SRMethod

__all__ = ["upscale", "load_model", "list_models"]

ImageLike = TypeVar("ImageLike")


def load_model(name: str = "default", *, scale: float | None = None, device: str = "auto",
               precision: str = "auto") -> SRMethod:
    """The method (an :class:`~superres.methods.base.SRMethod`) registered as ``name``.

    Args:
        name: a name from :func:`list_models` (e.g. ``"bicubic"``, ``"vdsr"``), or
            ``"default"``, the model ``superres upscale`` uses at ``scale``.
        scale: needed for ``"default"``; when given, also checked to be supported.
        device: ``"auto"`` (CUDA if present, else CPU), ``"cpu"``, ``"cuda"``, ...
        precision: ``"auto"`` (for ``"default"``: bf16 where the device does it
            natively, else fp32; named methods: fp32), ``"fp32"`` or ``"bf16"``
            (learned methods' networks).

    Returns:
        An ``SRMethod``: ``method.upscale(lr, scale)`` maps ``(B, C, H, W)``
        float in ``[0, 1]`` (C = 1 or 3) to ``(B, C, ceil(H*scale), ceil(W*scale))``
        float, not tiled and not clipped by the API: a method may overshoot
        ``[0, 1]`` slightly (the interpolation methods' 8-bit path, for input that
        came from 8-bit pixels, gives values on the 8-bit grid within it).
        ``method.info`` describes it; a learned method's network is
        ``method.model_for_scale(scale)[0]`` (an ``nn.Module``).

    Raises:
        UnknownNameError: no such method.  InvalidArgumentError: scale not supported.
    """
    from superres.inference import prepare_method
    from superres.methods.base import checked_scale

    if not isinstance(name, str):
        raise InvalidArgumentError(f"model name must be a string, got {type(name).__name__}")
    if name == "default" and scale is None:
        raise InvalidArgumentError("load_model('default') needs a scale: the default model depends on it")
    if scale is None:
        from superres.inference.device import configure_method, resolve_device
        from superres.methods.registry import get_method

        return configure_method(get_method(name), device=resolve_device(device), precision=precision, method_name=name)
    return prepare_method(name, checked_scale(scale), device=device, precision=precision)


def list_models() -> list[MethodInfo]:
    """:class:`~superres.methods.base.MethodInfo` of every method that can run here, in registry order.

    Each has ``name``, ``family``, ``summary``, ``paper``, ``year``,
    ``channels`` (``"y"`` or ``"rgb"``), ``scales`` (None: any factor above 1, up to 64)
    and ``receptive_radius`` (LR pixels of context a tile needs on each side; None:
    processed whole, not tiled).  A learned method's radius depends on its network and
    the scale; here it is the widest over the scales it accepts (for an any-factor
    network: at a factor just above 1), and :func:`superres.inference.receptive_radius`
    gives it for one scale.  Learned methods appear once their weights are shipped.
    """
    from dataclasses import replace

    from superres.inference import receptive_radius
    from superres.methods.learned import LearnedMethod
    from superres.methods.registry import available_methods

    infos = []
    for method in available_methods():
        info = method.info
        if isinstance(method, LearnedMethod):  # the network decides, once loaded
            radii = [receptive_radius(method, s) for s in (info.scales or (1 + 1e-6, 2.0, 3.0, 4.0))]
            info = replace(info, receptive_radius=None if None in radii else max(radii))
        infos.append(info)
    return infos


def upscale(
    image: Any,
    scale: float,
    model: str | Any = "default",
    *,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
    device: str = "auto",
    precision: str = "auto",
    max_memory: int | str | None = None,
    tile: int | None = None,
) -> Any:
    """Upscale ``image`` by ``scale`` and return the same kind of thing.

    Args:
        image: one of

            * a path (``str`` or ``os.PathLike``) to a PNG/JPEG/BMP/TIFF/WebP/GIF
              file (an animation's first frame): read (EXIF orientation applied),
              upscaled and written to ``output`` (default: beside the input,
              ``photo_x3.jpg`` for ``photo.jpg`` at x3; a GIF's as PNG) with
              its ICC profile and EXIF; returns the output :class:`~pathlib.Path`;
            * a :class:`PIL.Image.Image` in mode L, LA, RGB, RGBA, I;16 (16-bit
              gray), P/PA (become RGB/RGBA), 1 (becomes L), CMYK or YCbCr
              (become RGB); returns a PIL image in that mode (or the one it
              became) with ``info`` (ICC, EXIF) carried.  Pixels are taken as
              stored: no EXIF rotation;
            * a numpy array ``(H, W)`` or ``(H, W, C)``, C in 1..4 (L, LA, RGB,
              RGBA), ``uint8`` (0..255), ``uint16`` (0..65535) or float in
              ``[0, 1]``; returns the same layout and dtype (floats computed
              and returned as floats: not rounded to 8 bits, not clipped);
            * a torch tensor ``(B, C, H, W)`` or ``(C, H, W)``, float in
              ``[0, 1]`` or uint8, C in 1..4 (2 and 4: the last is alpha);
              returns the same shape layout, dtype and device.

            Output size is ``(ceil(H * scale), ceil(W * scale))``.
        scale: factor above 1 (at most 64), fractional allowed (e.g. 2.5) where the
            model allows it.
        model: a method name (see :func:`list_models`), ``"default"`` (the
            model ``superres upscale`` uses at ``scale``), or an ``SRMethod``
            from :func:`load_model`, used as it is: its own device and precision,
            not ``device`` and ``precision``, and never changed by the call.
        output: where to write, for a path ``image`` only (default: beside it).
        overwrite: replace an existing ``output``.
        device, precision: as in :func:`load_model` (for a named ``model``).
        max_memory: bytes (or ``"4G"``) for input, output and tiles (default:
            half the RAM, at most 8 GiB).
        tile: force the LR tile side (normally chosen from ``max_memory``).

    Raises:
        SuperresError subclasses: unreadable image, unknown model, unsupported
        scale, memory budget too small, unwritable output.
    """
    import torch

    from superres.inference import prepare_method
    from superres.methods.base import checked_scale
    from superres.inference.device import parse_memory, resolve_device

    from superres.methods.base import SRMethod

    budget = None if max_memory is None else parse_memory(max_memory)
    if isinstance(model, SRMethod):  # a method object keeps its own device (and precision)
        method = prepare_method(model, checked_scale(scale))
        dev = getattr(method, "device", None)
    else:
        dev = resolve_device(device)
        method = prepare_method(model, checked_scale(scale), device=dev, precision=precision)
    scale = float(scale)
    options = dict(max_memory=budget, tile=tile, device=dev)

    if isinstance(image, (str, os.PathLike)):
        return _upscale_path(Path(image), output, overwrite, method, scale, options)
    if output is not None:
        raise InvalidArgumentError("output= is only for a path input; the result of other inputs is returned")
    if isinstance(image, torch.Tensor):
        return _upscale_tensor_like(image, method, scale, options)
    if isinstance(image, np.ndarray):
        return _upscale_numpy(image, method, scale, options)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        return _upscale_pil(image, method, scale, options)
    raise InvalidArgumentError(
        f"image must be a path, PIL image, numpy array or torch tensor, not {type(image).__name__}"
    )




def _upscale_path(path: Path, output, overwrite: bool, method, scale: float, options: dict) -> Path:
    from superres.inference import upscale_array
    from superres.io import (check_extension, check_output_dimensions, output_extension, read_image,
                             scale_suffix, write_image)
    from superres.ops.resize import output_size_for_scale

    from superres.errors import ImageReadError
    from superres.io.atomic import check_output_path, refuse_to_replace_inputs

    if not path.name or path.is_dir():
        raise ImageReadError(f"{str(path)!r} is not an image file")
    # By default beside the input, as `superres upscale` does: photo.jpg -> photo_x3.jpg (anim.gif -> anim_x3.png).
    target = path.with_name(path.stem + scale_suffix(scale) + output_extension(path)) if output is None else Path(output)
    # Everything that would stop the write is checked before the (possibly long) upscale.
    refuse_to_replace_inputs(target, [path])  # overwrite=True or not: the input is never lost
    check_extension(target)
    check_output_path(target, overwrite=True)  # folder there, target not a folder
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise InvalidArgumentError(f"{str(target)!r} exists (pass overwrite=True)")
    loaded = read_image(path)
    height, width = loaded.pixels.shape[:2]
    check_output_dimensions(target, output_size_for_scale(width, scale), output_size_for_scale(height, scale))
    pixels = upscale_array(loaded.pixels, method, scale, **options)
    return write_image(target, pixels, icc_profile=loaded.icc_profile, exif=loaded.exif, overwrite=overwrite)


def _upscale_numpy(arr: np.ndarray, method, scale: float, options: dict) -> np.ndarray:
    import torch

    from superres.inference import upscale_array, upscale_tensor

    squeeze = arr.ndim == 2
    hwc = arr[:, :, None] if squeeze else arr
    if hwc.ndim != 3 or hwc.shape[2] not in (1, 2, 3, 4):
        raise InvalidArgumentError(f"array must be (H, W) or (H, W, C) with C in 1..4, got shape {arr.shape}")
    if hwc.dtype in (np.uint8, np.uint16):
        out = upscale_array(np.ascontiguousarray(hwc), method, scale, **options)
    elif np.issubdtype(hwc.dtype, np.floating):
        t = torch.from_numpy(np.ascontiguousarray(hwc.transpose(2, 0, 1), dtype=np.float32))[None]
        out = upscale_tensor(t, method, scale, **options)[0].permute(1, 2, 0).numpy().astype(hwc.dtype, copy=False)
    else:
        raise InvalidArgumentError(f"array dtype must be uint8, uint16 or float in [0, 1], not {arr.dtype}")
    return out[:, :, 0] if squeeze else out


def _upscale_tensor_like(t, method, scale: float, options: dict):
    import torch

    from superres.inference import upscale_tensor

    if t.dim() not in (3, 4):
        raise InvalidArgumentError(f"tensor must be (B, C, H, W) or (C, H, W), got shape {tuple(t.shape)}")
    if t.is_meta:
        raise InvalidArgumentError("tensor has no data (it is on the meta device)")
    batched = t.dim() == 4
    x = t if t.dim() == 4 else t[None]
    if x.dtype == torch.uint8:
        out = upscale_tensor(x.float() / 255, method, scale, from_uint8=True, **options)
        out = torch.floor(out.to(torch.float64).clamp(0, 1) * 255 + 0.5).to(torch.uint8)
    elif x.is_floating_point():
        out = upscale_tensor(x, method, scale, **options).to(x.dtype)
    else:
        raise InvalidArgumentError(f"tensor dtype must be float in [0, 1] or uint8, not {x.dtype}")
    out = out.to(t.device)
    return out if batched else out[0]


_PIL_CONVERT = {"P": None, "PA": "RGBA", "1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB", "RGBX": "RGB",
                "La": "LA", "RGBa": "RGBA", "I;16B": "I;16", "I;16L": "I;16", "I;16N": "I;16"}


def _upscale_pil(im, method, scale: float, options: dict):
    from PIL import Image

    from superres.inference import upscale_array

    mode = im.mode
    if mode in _PIL_CONVERT:
        target = _PIL_CONVERT[mode]
        if mode == "P":
            target = "RGBA" if "transparency" in im.info or im.palette.mode == "RGBA" else "RGB"
        if target == "I;16":
            arr = np.asarray(im).astype(np.uint16)
            mode = "I;16"
        else:
            im = im.convert(target)
            mode = target
    if mode in ("L", "LA", "RGB", "RGBA"):
        arr = np.asarray(im)
        if arr.ndim == 2:
            arr = arr[:, :, None]
    elif mode == "I;16":
        if im.mode == "I;16":
            arr = np.asarray(im).astype(np.uint16)
        arr = arr[:, :, None]
    elif mode == "I":
        arr = np.asarray(im)
        if arr.min() < 0 or arr.max() > 65535:
            raise InvalidArgumentError("a mode 'I' image must hold values in 0..65535 (16-bit gray)")
        arr = arr.astype(np.uint16)[:, :, None]
    else:
        raise InvalidArgumentError(f"unsupported PIL image mode {im.mode!r}")
    out = upscale_array(np.ascontiguousarray(arr), method, scale, **options)
    if mode in ("I;16", "I"):  # fromarray infers the mode: uint16 -> I;16, int32 -> I
        result = Image.fromarray(out[:, :, 0].astype(np.uint16 if mode == "I;16" else np.int32))
    else:  # uint8 (H, W) -> L, (H, W, 2/3/4) -> LA/RGB/RGBA
        result = Image.fromarray(out[:, :, 0] if out.shape[2] == 1 else out)
    from superres.io import fit_metadata

    if "dpi" in im.info:
        result.info["dpi"] = im.info["dpi"]
    # the profile only if it is of the result's colour space (a CMYK image's is not), the
    # EXIF with the result's size
    icc, exif = fit_metadata(out, im.info.get("icc_profile"), im.info.get("exif"))
    for key, value in (("icc_profile", icc), ("exif", exif)):
        if value is not None:
            result.info[key] = value
    return result
