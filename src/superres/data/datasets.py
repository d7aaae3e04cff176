"""Benchmark and training image sets, found by name or folder.

The data folder is ``--data-dir`` when given, else the ``SUPERRES_DATA``
environment variable, else ``./data`` or ``../shared/data`` if one exists.
What the project derives from it (prepared training pairs, Freeman's patch database) is
cached in ``SUPERRES_CACHE`` (default ``~/.cache/superres``).
Its layout is the one of ``shared/data``::

    benchmark/<Set>/x<s>/img_NNN_HR.png   modcropped ground truth
    benchmark/<Set>/x<s>/img_NNN_LR.png   MATLAB-made LR input
    train/<Set>/*.png|jpg                  training images

A benchmark set may also be a plain folder of HR images
(``benchmark/<Set>/*.png`` or any path given instead of a name); then HR is
modcropped here and the LR made by the project's resize.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from superres.errors import DataNotFoundError, InvalidArgumentError
from superres.io.image import READ_EXTENSIONS

__all__ = [
    "BENCHMARK_SETS",
    "TRAINING_SETS",
    "BenchmarkImage",
    "cache_dir",
    "find_data_dir",
    "benchmark_images",
    "training_images",
    "list_image_files",
    "modcrop_multiple",
]

BENCHMARK_SETS = ("Set5", "Set14", "BSD100", "Urban100", "Manga109")
#: named training sets; "291" is T91 + BSD200 as in VDSR and SCN
TRAINING_SETS: dict[str, tuple[str, ...]] = {
    "T91": ("T91",),
    "BSD200": ("BSD200",),
    "General100": ("General100",),
    "291": ("T91", "BSD200"),
}
#: what a folder of images may hold: every format superres reads
IMAGE_SUFFIXES = READ_EXTENSIONS


@dataclass(frozen=True)
class BenchmarkImage:
    """One test image: its name, HR file and (if the set ships one) MATLAB LR file."""

    name: str
    hr_path: Path
    lr_path: Path | None


def cache_dir() -> Path:
    """``$SUPERRES_CACHE`` or ``~/.cache/superres``: files derived from the data, safe to delete."""
    return Path(os.environ.get("SUPERRES_CACHE", Path.home() / ".cache" / "superres"))


def find_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Locate the data folder (see the module docstring for the search order)."""
    if data_dir is not None:
        path = Path(data_dir)
        if not path.is_dir():
            raise DataNotFoundError(f"data folder {str(path)!r} does not exist")
        return path
    env = os.environ.get("SUPERRES_DATA")
    if env:
        path = Path(env)
        if not path.is_dir():
            raise DataNotFoundError(f"SUPERRES_DATA points to {env!r}, which is not a folder")
        return path
    for candidate in (Path("data"), Path("..") / "shared" / "data"):
        if (candidate / "benchmark").is_dir() or (candidate / "train").is_dir():
            return candidate
    raise DataNotFoundError("no data folder: pass --data-dir or set SUPERRES_DATA")


def list_image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def modcrop_multiple(scale: float) -> int:
    """The HR side multiple that makes ``HR / scale`` a whole number of pixels.

    2 for x2; 5 for x2.5 (HR 5k -> LR 2k); the integer part for integer scales.
    """
    ratio = Fraction(scale).limit_denominator(100)
    if abs(float(ratio) - scale) > 1e-9:
        raise InvalidArgumentError(f"scale {scale} is not a simple fraction; use e.g. 2.5 or 1.5")
    return ratio.numerator


def _scale_folder(scale: float) -> str | None:
    return f"x{int(scale)}" if float(scale).is_integer() else None


def benchmark_images(dataset: str, scale: float, *, data_dir: str | os.PathLike | None = None) -> list[BenchmarkImage]:
    """The images of a benchmark set (a name of :data:`BENCHMARK_SETS` or a folder) at ``scale``."""
    as_path = Path(dataset)
    if as_path.is_dir() and not re.fullmatch(r"[A-Za-z0-9]+", dataset):
        root = as_path
    else:
        base = find_data_dir(data_dir) / "benchmark"
        matches = [p for p in base.iterdir() if p.name.lower() == dataset.lower()] if base.is_dir() else []
        if not matches:
            if as_path.is_dir():
                root = as_path
            else:
                raise DataNotFoundError(f"benchmark set {dataset!r} not found in {str(base)!r}")
        else:
            root = matches[0]
    folder = _scale_folder(scale)
    if folder and (root / folder).is_dir():
        hrs = sorted((root / folder).glob("*_HR.*"))
        images = []
        for hr in hrs:
            lr = hr.with_name(hr.name.replace("_HR.", "_LR."))
            images.append(BenchmarkImage(hr.name.split("_HR.")[0], hr, lr if lr.exists() else None))
        if images:
            return _named_once(images, root / folder)
    # No folder for this scale (e.g. x2.5, or a plain HR folder): use the HR images as they are,
    # taking them from the first x<s> folder when the set has that layout.
    scale_dirs = sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"x\d+", p.name)) if root.is_dir() else []
    if scale_dirs:
        hrs = sorted(scale_dirs[0].glob("*_HR.*"))
        return _named_once([BenchmarkImage(p.name.split("_HR.")[0], p, None) for p in hrs], scale_dirs[0])
    files = list_image_files(root) if root.is_dir() else []
    if not files:
        raise DataNotFoundError(f"no images in {str(root)!r}")
    return _named_once([BenchmarkImage(p.stem, p, None) for p in files], root)


def _named_once(images: list[BenchmarkImage], folder: Path) -> list[BenchmarkImage]:
    """``images``, refused if two share a name (``a.png`` and ``a.bmp``): reports, saved outputs
    and the web page key each image by its name, and would mix the two up."""
    seen: dict[str, Path] = {}
    for item in images:
        if item.name in seen:
            raise InvalidArgumentError(f"{seen[item.name].name!r} and {item.hr_path.name!r} in {str(folder)!r} "
                                       f"are both named {item.name!r}: rename one")
        seen[item.name] = item.hr_path
    return images


def training_images(sets: str | list[str], *, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Image files of training sets: names of :data:`TRAINING_SETS` (e.g. ``"291"``) or folders."""
    names = [s for part in ([sets] if isinstance(sets, str) else sets) for s in part.split(",") if s]
    files: list[Path] = []
    for name in names:
        if name in TRAINING_SETS:
            train = find_data_dir(data_dir) / "train"
            for sub in TRAINING_SETS[name]:
                folder = train / sub
                if not folder.is_dir():
                    raise DataNotFoundError(f"training set {sub!r} not found in {str(train)!r}")
                files.extend(list_image_files(folder))
        elif Path(name).is_dir():
            files.extend(list_image_files(Path(name)))
        else:
            known = ", ".join(TRAINING_SETS)
            raise DataNotFoundError(f"training set {name!r} is neither a known set ({known}) nor a folder")
    if not files:
        raise DataNotFoundError(f"no training images in {names}")
    return files
