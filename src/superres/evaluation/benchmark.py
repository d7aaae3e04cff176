"""Run methods on benchmark sets under the SR protocol and collect PSNR/SSIM.

Two ways to feed a method, chosen by ``lr_mode``:

``"rgb"`` (default)
    The LR image is uint8 RGB: MATLAB-bicubic downscale of the modcropped uint8
    HR by the project (or the set's ``*_LR.png`` files with
    ``lr_from_files=True``; both are identical for Set5/Set14/BSD100).  This is
    how Huang et al. (SelfExSR, CVPR 2015) evaluated every method, and what a
    user's image looks like.
``"y-float"``
    The SRCNN and VDSR authors' test code: the uint8-rounded Y of the HR, as
    float, downscaled by MATLAB bicubic without any rounding; the method gets
    that one-channel float image.  Their papers' tables were made this way;
    it gives 0.01 to 0.08 dB more than ``"rgb"`` for those networks.

Scores are always computed on the uint8-rounded Y with ``ceil(scale)``
pixels shaved (see :mod:`superres.evaluation.metrics`).
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

import torch

from superres.data.datasets import BenchmarkImage, benchmark_images
from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale
from superres.errors import DataNotFoundError, InvalidArgumentError
from superres.evaluation.metrics import protocol_metrics, quantize_uint8
from superres.methods.base import SRMethod
from superres.methods.registry import get_method, resolve_method_name
from superres.ops.color import rgb_to_y_bt601

__all__ = ["ImageOutput", "ImageResult", "RunResult", "distinct_folder", "evaluate", "evaluate_method", "folder_name", "load_uint8",
           "save_uint8", "LR_MODES"]

LR_MODES = ("rgb", "y-float")


@dataclass(frozen=True)
class ImageResult:
    name: str
    psnr: float
    ssim: float
    seconds: float


@dataclass(frozen=True)
class ImageOutput:
    """One image of a run as scored: the HR (uint8, what the metrics compare with: RGB, or
    its Y in ``"y-float"`` mode), the LR the method was given and its output (float, 0..1),
    all ``(1, C, H, W)``."""

    name: str
    hr: torch.Tensor
    lr: torch.Tensor
    sr: torch.Tensor


@dataclass
class RunResult:
    """The scores of one method on one data set at one scale."""

    method: str
    dataset: str
    scale: float
    lr_mode: str
    images: list[ImageResult] = field(default_factory=list)
    #: arithmetic of the network ("fp32" or "bf16"); classical methods always run in float
    precision: str = "fp32"
    #: passes of the network's test-time self-ensemble (1: none; see superres.models.ensemble)
    self_ensemble: int = 1
    #: where the network ran ("cpu", "cuda", "cuda:1", ...; everything else runs on the CPU)
    device: str = "cpu"

    @property
    def mean_psnr(self) -> float:
        """Mean PSNR (dB) over the images."""
        return sum(r.psnr for r in self.images) / len(self.images)

    @property
    def mean_ssim(self) -> float:
        """Mean SSIM over the images."""
        return sum(r.ssim for r in self.images) / len(self.images)

    @property
    def mean_seconds(self) -> float:
        """Mean time per image, in seconds."""
        return sum(r.seconds for r in self.images) / len(self.images)

    def to_dict(self) -> dict:
        """A JSON-ready dict: the run's fields, each image's scores and the means."""
        return {
            "method": self.method,
            "dataset": self.dataset,
            "scale": self.scale,
            "lr_mode": self.lr_mode,
            "precision": self.precision,
            **({"self_ensemble": self.self_ensemble} if self.self_ensemble != 1 else {}),
            **({"device": self.device} if self.device != "cpu" else {}),
            "images": [
                {"name": r.name, "psnr": r.psnr, "ssim": r.ssim, "seconds": r.seconds} for r in self.images
            ],
            "mean": {"psnr": self.mean_psnr, "ssim": self.mean_ssim, "seconds": self.mean_seconds},
        }


def load_uint8(path: Path) -> torch.Tensor:
    """Read an image as a ``(1, C, H, W)`` uint8 tensor, C = 1 or 3 (alpha dropped)."""
    from superres.io import read_image

    image = read_image(path)
    pixels = image.pixels
    if pixels.dtype != "uint8":
        raise InvalidArgumentError(f"{path}: benchmark images must be 8-bit, got {pixels.dtype}")
    if pixels.shape[2] in (2, 4):
        pixels = pixels[:, :, :-1]
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None]


def _shave_for(scale: float) -> int:
    return int(math.ceil(scale))


def _prepare(item: BenchmarkImage, scale: float, lr_mode: str, lr_from_files: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(HR uint8 as scored, LR float input for the method)."""
    # always: a no-op on the x<s> folders' cropped files, and a folder of one's own laid
    # out the same way may hold any size
    hr = modcrop_to_scale(load_uint8(item.hr_path), scale)
    if lr_mode == "y-float":
        hr_y = rgb_to_y_bt601(hr)
        lr = bicubic_downscale(hr_y.to(torch.float64) / 255, scale).to(torch.float32)
        return hr_y, lr
    if lr_from_files:
        if item.lr_path is None:
            raise DataNotFoundError(f"{item.hr_path}: no LR file for scale {scale:g} (drop --lr-from-files)")
        lr8 = load_uint8(item.lr_path)
    else:
        lr8 = bicubic_downscale(hr, scale)
    return hr, lr8.to(torch.float32) / 255


def evaluate_method(
    method: SRMethod,
    dataset: str,
    scale: float,
    *,
    data_dir: str | os.PathLike | None = None,
    lr_mode: Literal["rgb", "y-float"] = "rgb",
    lr_from_files: bool = False,
    metric_channel: Literal["y", "y-unrounded", "rgb"] = "y",
    save_dir: Path | None = None,
    on_image: Callable[[RunResult, ImageResult], None] | None = None,
    label: str | None = None,
    on_output: Callable[[RunResult, ImageOutput], None] | None = None,
    save_folders: tuple[str, str] | None = None,
) -> RunResult:
    """Score one method on one set at one scale.

    ``on_image`` sees each image's scores, ``on_output`` its pixels (the comparison page
    keeps them); ``save_dir`` writes each output under ``save_dir/method/dataset/xS/``,
    the two folder names from ``save_folders`` where given (:func:`evaluate` keeps them
    distinct), else :func:`folder_name` of the label and the set.
    """
    if lr_mode not in LR_MODES:
        raise InvalidArgumentError(f"unknown lr mode {lr_mode!r} (choose {' or '.join(LR_MODES)})")
    items = benchmark_images(dataset, scale, data_dir=data_dir)
    result = RunResult(label or method.info.name, dataset, scale, lr_mode)
    for item in items:
        try:
            hr, lr = _prepare(item, scale, lr_mode, lr_from_files)
            start = time.perf_counter()
            with torch.inference_mode():
                sr = method.upscale(lr, scale)
            seconds = time.perf_counter() - start
            channel = metric_channel if hr.shape[1] == 3 else "y"
            p, s = protocol_metrics(sr, hr, shave=_shave_for(scale), channel=channel)
        except InvalidArgumentError as exc:  # e.g. too small to shave: say which image of the set
            raise InvalidArgumentError(f"{dataset} {item.name} at x{scale:g}: {exc}") from None
        image_result = ImageResult(item.name, float(p[0]), float(s[0]), seconds)
        result.images.append(image_result)
        if save_dir is not None:
            method_folder, dataset_folder = save_folders or (folder_name(result.method), folder_name(result.dataset))
            folder = Path(save_dir) / method_folder / dataset_folder / f"x{scale:g}"
            save_uint8(folder / f"{item.name}.png", sr)
        if on_output is not None:
            on_output(result, ImageOutput(item.name, hr, lr, sr))
        if on_image is not None:
            on_image(result, image_result)
    return result


def folder_name(label: str) -> str:
    """``label`` (a method spec such as ``vdsr=runs/a/best.safetensors``, a set given as a
    folder) as one safe path component: no separators, no ``..``."""
    return re.sub(r"(?:[^A-Za-z0-9._+-]|\.\.)+", "_", label).strip("._") or "_"


def distinct_folder(label: str, taken: dict[str, str], reserved: frozenset[str] = frozenset()) -> str:
    """:func:`folder_name` of ``label``, made distinct from the folders already in ``taken``
    (label -> folder, updated) and ``reserved``: two labels that sanitise alike (``a/b`` and
    ``a_b``) get ``a_b`` and ``a_b-2``, so neither overwrites the other's images."""
    if label not in taken:
        base = folder_name(label)
        used = set(taken.values()) | reserved
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        taken[label] = name
    return taken[label]


def save_uint8(path: Path, image: torch.Tensor) -> None:
    """Write a ``(1, C, H, W)`` image (float 0..1, or uint8) as PNG, rounded as the metrics round it."""
    from superres.errors import ImageWriteError
    from superres.io import write_image

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a folder should be, no permission, ...
        raise ImageWriteError(f"cannot create the folder {str(path.parent)!r}: {exc.strerror or exc}") from None
    pixels = quantize_uint8(image)[0].permute(1, 2, 0).numpy()
    write_image(path, pixels, overwrite=True)


def evaluation_precision(method_name: str, precision: str, device: str | torch.device = "cpu") -> str:
    """The arithmetic ``evaluate`` runs ``method_name`` in on ``device`` (``auto``: what
    ``superres upscale`` picks there for ``default``, fp32 for every named method)."""
    from superres.inference.device import resolve_device, resolve_precision

    return resolve_precision(precision, resolve_device(device), method_name)


def evaluate(
    methods: list[str],
    datasets: list[str],
    scales: list[float],
    *,
    data_dir: str | os.PathLike | None = None,
    lr_mode: Literal["rgb", "y-float"] = "rgb",
    lr_from_files: bool = False,
    metric_channel: Literal["y", "y-unrounded", "rgb"] = "y",
    save_dir: Path | None = None,
    on_image: Callable[[RunResult, ImageResult], None] | None = None,
    precision: Literal["auto", "fp32", "bf16"] = "auto",
    self_ensemble: int | None = None,
    on_output: Callable[[RunResult, ImageOutput], None] | None = None,
    device: str | torch.device = "cpu",
) -> list[RunResult]:
    """Every method on every set at every scale (``default`` resolves per scale).

    ``device`` runs the learned methods' networks there (``"cuda"``, ``"auto"``, ...);
    everything else (LR making, colour, bicubic parts, other methods, the metrics) runs on
    the CPU.  The cards' scores are CPU ones: a GPU's convolutions (cuDNN, TF32 on recent
    GPUs) can move the last digits.

    ``precision="bf16"`` runs the learned methods' networks under bf16 autocast
    (as ``superres upscale --precision bf16``); other methods are unaffected.
    ``"auto"`` (the default) evaluates ``default`` exactly as ``superres upscale``
    runs it, in the arithmetic it picks for this CPU, and every named method in
    fp32, the arithmetic of the model cards.

    ``self_ensemble`` sets the passes of the learned networks' test-time
    self-ensemble (default: what each weights card says).
    """
    from superres.inference.device import configure_method, resolve_device

    dev = resolve_device(device)
    # Everything that can be refused is refused before the first run: a method that does
    # not serve a scale, or a set that is not there, found after hours of other runs would
    # lose them (and leave their images half a --save-dir).
    plan = []
    for name in methods:
        arithmetic = evaluation_precision(name, precision, dev)  # also refuses an unknown precision
        for scale in scales:
            method = get_method(resolve_method_name(name, scale))
            method.check_scale(scale)
            plan.append((name, scale, arithmetic, method))
    for dataset in datasets:
        for scale in scales:
            benchmark_images(dataset, scale, data_dir=data_dir)
    results = []
    method_folders: dict[str, str] = {}
    dataset_folders: dict[str, str] = {}
    for name, scale, arithmetic, method in plan:
        learned = hasattr(method, "precision")
        if learned:
            configure_method(method, device=dev, precision=arithmetic)
            if self_ensemble is not None:
                method.self_ensemble = self_ensemble
        label = name if name != "default" else f"default ({method.info.name})"
        for dataset in datasets:
            run = evaluate_method(
                method,
                dataset,
                scale,
                data_dir=data_dir,
                lr_mode=lr_mode,
                lr_from_files=lr_from_files,
                metric_channel=metric_channel,
                save_dir=save_dir,
                label=label,
                on_image=on_image,
                on_output=on_output,
                save_folders=(distinct_folder(label, method_folders), distinct_folder(dataset, dataset_folders)),
            )
            run.precision = arithmetic if learned else "fp32"
            run.self_ensemble = method.ensemble_passes(scale) if learned else 1
            run.device = str(dev) if learned else "cpu"
            results.append(run)
    return results
