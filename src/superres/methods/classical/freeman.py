"""``freeman``: example-based super-resolution (Freeman, Jones, Pasztor 2002).

A database of (mid-frequency, high-frequency) patch pairs is made from the T91
training images (Y channel): each HR image is downscaled by the factor with
MATLAB bicubic and upscaled back (``up``); the *mid band* is ``up`` minus its
Gaussian blur (sigma = ``SIGMA`` = 1 at every scale), the *high band* is ``HR - up``.  A pair is a
``7 x 7`` mid-band patch and the ``5 x 5`` high-band patch at its centre, both
divided by the mid patch's contrast (RMS + 0.01), as in the paper.

Inference on ``up`` = bicubic of the LR input: the ``5 x 5`` HR patches lie on a
grid of step ``step`` (2 by default: three pixels of overlap).  For each, the ``k`` nearest database
entries of its normalised mid patch are found at once (faiss ``IndexFlatL2``,
exact, or chunked ``torch.cdist`` without faiss); then one raster-order pass
chooses, for each patch, the candidate that minimises

    ||mid - mid_k||^2 + alpha * ||overlap of high_k with the chosen top and left neighbours||^2

(the paper's one-pass algorithm).  A patch depends only on its top and left
neighbours, so all patches of one anti-diagonal are chosen together: the loop
runs over the ``rows + cols`` diagonals, not over patches or pixels, and gives
exactly the raster-scan result.  The chosen high bands, rescaled by the
query's contrast, are averaged on the overlaps and added to ``up``; then
iterative back-projection
(:func:`~superres.methods.classical.back_projection.back_project`) makes the
result consistent with the LR input.

The database is built by

    python -m superres.methods.classical.freeman build --scales 2,3,4 [--data-dir DIR]

and cached as ``freeman_x{scale}_v2.safetensors`` in ``$SUPERRES_CACHE`` or
``~/.cache/superres`` (about 9 MB per scale; never committed).  A method that
finds no database builds it on first use.

Paper: W. T. Freeman, T. R. Jones, E. C. Pasztor, "Example-based
super-resolution", IEEE Computer Graphics and Applications 22(2), 2002.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from superres.data.datasets import cache_dir
from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors
from superres.methods.base import MethodInfo, YChannelMethod, each_image
from superres.methods.classical._patches import fold_average, knn_search, unfold_patches
from superres.methods.classical.back_projection import back_project
from superres.ops.filters import gaussian_blur
from superres.ops.resize import imresize_matlab

__all__ = ["Freeman", "freeman", "build_database", "load_database", "database_path", "mid_band", "main"]

VERSION = 2
MID = 7  # mid-band patch side
HIGH = 5  # high-band patch side
EPS = 0.01  # contrast normalisation: divide by RMS + EPS
SIGMA = 1.0  # the mid band is up - Gaussian(up, SIGMA)
FLAT = 0.005  # patches whose mid-band RMS is below this are flat: not in the database, given no detail


def database_path(scale: int) -> Path:
    """Cache file of the x``scale`` patch database (the version is in the name)."""
    return cache_dir() / f"freeman_x{scale}_v{VERSION}.safetensors"


def mid_band(up: torch.Tensor) -> torch.Tensor:
    """The mid-frequency band of a bicubic-upscaled image: ``up - Gaussian(up, sigma=SIGMA)``."""
    return up - gaussian_blur(up, SIGMA)


def _pairs(hr: torch.Tensor, scale: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised (mid 7x7, high 5x5) patch pairs of one ``(1, 1, H, W)`` HR image."""
    h, w = (hr.shape[-2] // scale) * scale, (hr.shape[-1] // scale) * scale
    hr = hr[..., :h, :w]
    up = imresize_matlab(imresize_matlab(hr, 1 / scale), size=(h, w))
    mid = unfold_patches(mid_band(up), MID, stride)
    border = (MID - HIGH) // 2
    high = unfold_patches((hr - up)[..., border : h - border, border : w - border], HIGH, stride)
    norm = mid.pow(2).mean(1, keepdim=True).sqrt() + EPS
    return mid / norm, high / norm


def build_database(
    scale: int,
    *,
    data_dir: str | os.PathLike | None = None,
    max_entries: int = 30_000,
    seed: int = 0,
    path: Path | None = None,
    images: list[Path] | None = None,
) -> Path:
    """Build and save the database for ``scale`` from T91 (Y channel); returns its path.

    Pairs come from every image at stride 3; a seeded random subset of
    ``max_entries`` is kept, drawn among the patches with some structure (mid-band
    RMS above ``FLAT`` = 0.005) so that flat patches do not crowd the database.
    ``images`` replaces T91 by other files (tests use a few).
    """
    from safetensors.torch import save_file

    from superres.data.datasets import training_images
    from superres.evaluation.benchmark import load_uint8
    from superres.ops.color import rgb_to_y_bt601

    mids, highs, structured = [], [], []
    for file in images if images is not None else training_images("T91", data_dir=data_dir):
        rgb = load_uint8(file)
        y = (rgb_to_y_bt601(rgb) if rgb.shape[1] == 3 else rgb).to(torch.float64) / 255
        mid, high = _pairs(y, scale, stride=3)
        # the RMS before normalisation, recovered from the normalised patch: rms / (rms + EPS)
        r = mid.pow(2).mean(1).sqrt()
        rms = EPS * r / (1 - r).clamp_min(1e-9)
        mids.append(mid.float())
        highs.append(high.float())
        structured.append(rms > FLAT)
    mid, high, keep = torch.cat(mids), torch.cat(highs), torch.cat(structured)
    candidates = torch.nonzero(keep)[:, 0]
    g = torch.Generator().manual_seed(seed)
    chosen = candidates[torch.randperm(len(candidates), generator=g)[:max_entries]].sort().values
    path = Path(path) if path is not None else database_path(scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(
        {"mid": mid[chosen].contiguous(), "high": high[chosen].contiguous()},
        str(tmp),
        metadata={"method": "freeman", "version": str(VERSION), "scale": str(scale), "train": "T91",
                  "mid": str(MID), "high": str(HIGH), "eps": str(EPS), "sigma": str(SIGMA), "seed": str(seed),
                  "pairs_total": str(len(mid)), "structured": str(len(candidates))},
    )
    os.replace(tmp, path)
    return path


def load_database(scale: int, *, build: bool = True, data_dir: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mid (M, 49), high (M, 25))`` float32 of the cached database (built when missing and ``build``)."""
    from safetensors.torch import load_file

    path = database_path(scale)
    if not path.exists():
        if not build:
            raise InvalidArgumentError(f"no Freeman database for x{scale} at {path}; run "
                                       f"python -m superres.methods.classical.freeman build --scales {scale}")
        from superres.data.datasets import training_images

        images = training_images("T91", data_dir=data_dir)  # no data: say so before announcing a build
        print(f"freeman: building the x{scale} database from T91 into {path}", file=sys.stderr)
        build_database(scale, images=images)
    tensors = load_file(str(path))
    return tensors["mid"], tensors["high"]


def choose_raster(
    mid_dist: torch.Tensor, cand_high: torch.Tensor, grid: tuple[int, int], alpha: float, overlap: int = 1
) -> torch.Tensor:
    """One-pass raster choice among ``k`` candidates per patch (the paper's algorithm), by diagonals.

    Args:
        mid_dist: ``(R * C, k)`` squared distance of each candidate's mid patch.
        cand_high: ``(R * C, k, 5, 5)`` candidate high patches (already at the query's contrast).
        grid: ``(R, C)``.
        overlap: rows (columns) shared with the patch above (on the left): ``5 - step``.

    Returns ``(R * C,)`` the chosen candidate of each patch.
    """
    rows, cols = grid
    k = mid_dist.shape[1]
    cost = mid_dist.view(rows, cols, k)
    high = cand_high.view(rows, cols, k, HIGH, HIGH)
    choice = torch.zeros(rows, cols, dtype=torch.int64)
    chosen = torch.zeros(rows, cols, HIGH, HIGH, dtype=cand_high.dtype)
    for d in range(rows + cols - 1):
        r = torch.arange(max(0, d - cols + 1), min(rows, d + 1))
        c = d - r
        total = cost[r, c].clone()
        up_ok = r > 0
        if bool(up_ok.any()):
            above = chosen[(r - 1).clamp_min(0), c][:, None, HIGH - overlap :, :]  # bottom rows of the patch above
            total += alpha * up_ok[:, None] * ((high[r, c][:, :, :overlap, :] - above) ** 2).sum((-1, -2))
        left_ok = c > 0
        if bool(left_ok.any()):
            left = chosen[r, (c - 1).clamp_min(0)][:, None, :, HIGH - overlap :]  # right columns of the left patch
            total += alpha * left_ok[:, None] * ((high[r, c][:, :, :, :overlap] - left) ** 2).sum((-1, -2))
        best = total.argmin(1)
        choice[r, c] = best
        chosen[r, c] = high[r, c, best]
    return choice.view(-1)


class Freeman(YChannelMethod):
    """``freeman``: T91 patch database, k-NN + one-pass raster compatibility, then back-projection.

    Options: ``k`` (candidates per patch, 16), ``alpha`` (weight of the overlap
    compatibility, 1.0), ``step`` (of the HR patch grid, 2), ``detail_gain`` (the factor
    on the chosen high bands before they are added, 0.5), ``bp_iterations`` (20),
    ``data_dir`` (where T91 is, for a first-use build).  Scales 2, 3 and 4 (one database each).
    """

    def __init__(
        self,
        *,
        k: int = 16,
        alpha: float = 1.0,
        step: int = 2,
        detail_gain: float = 0.5,
        bp_iterations: int = 20,
        data_dir: str | os.PathLike | None = None,
    ) -> None:
        if not 1 <= int(step) <= HIGH - 1:
            raise InvalidArgumentError(f"step must be 1 to {HIGH - 1}, got {step}")
        self.k = int(k)
        self.step = int(step)
        self.detail_gain = float(detail_gain)
        self.alpha = float(alpha)
        self.bp_iterations = int(bp_iterations)
        self.data_dir = data_dir
        self._databases: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self.info = MethodInfo(
            name="freeman",
            family="example-based",
            summary=f"T91 patch database (k={k}), one-pass raster compatibility, back-projection",
            paper="Freeman, Jones & Pasztor, Example-based super-resolution, IEEE CG&A 2002",
            year=2002,
            channels="y",
            scales=(2.0, 3.0, 4.0),
            receptive_radius=None,
        )

    def database(self, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mid, high)`` patch database for ``scale``, loaded (or built) once and kept."""
        if scale not in self._databases:
            self._databases[scale] = load_database(scale, data_dir=self.data_dir)
        return self._databases[scale]

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Bicubic plus the high band of the best-fitting database patches (raster order), then back-projection."""
        s = int(scale)
        db_mid, db_high = self.database(s)

        def upscale_one(image: torch.Tensor) -> torch.Tensor:
            lr = image.to(torch.float32)
            up = imresize_matlab(lr, scale)
            h, w = up.shape[-2:]
            # pad so that the 5x5 grid of step `step` covers the image, plus the mid patch's border
            step = self.step
            rows = max(1, math.ceil((h - HIGH) / step) + 1)
            cols = max(1, math.ceil((w - HIGH) / step) + 1)
            ph, pw = (rows - 1) * step + HIGH, (cols - 1) * step + HIGH
            border = (MID - HIGH) // 2
            up_pad = F.pad(up, (0, pw - w, 0, ph - h), mode="replicate")
            mid_img = F.pad(mid_band(up_pad), (border,) * 4, mode="replicate")
            mid = unfold_patches(mid_img, MID, step)
            rms = mid.pow(2).mean(1, keepdim=True).sqrt()
            norm = rms + EPS
            # flat patches (no structure, like those left out of the database) get no detail and no search
            active = torch.nonzero(rms[:, 0] > FLAT)[:, 0]
            k = min(self.k, db_mid.shape[0])
            dist = torch.zeros(mid.shape[0], k)
            cand = torch.zeros(mid.shape[0], k, HIGH, HIGH)
            if len(active):
                d_act, idx = knn_search(db_mid, mid[active] / norm[active], k)
                dist[active] = d_act
                cand[active] = db_high[idx].view(-1, k, HIGH, HIGH) * norm[active, :, None, None]
            choice = choose_raster(dist, cand, (rows, cols), self.alpha, HIGH - step)
            high = cand[torch.arange(len(choice)), choice].reshape(len(choice), -1)
            detail = fold_average(high, (ph, pw), HIGH, step)[..., :h, :w]
            return back_project(up + self.detail_gain * detail, lr, scale, iterations=self.bp_iterations)

        return each_image(y, upscale_one).to(y.dtype)


def freeman(**options) -> Freeman:
    """Registry factory for ``freeman``: :class:`Freeman` with ``options``."""
    return Freeman(**options)


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.methods.classical.freeman build --scales 2,3,4``."""
    parser = OneLineParser(prog="python -m superres.methods.classical.freeman",
                                     description="Build the Freeman et al. patch database from T91.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    b = sub.add_parser("build", help="build and cache the database")
    b.add_argument("--scales", default="2,3,4")
    b.add_argument("--data-dir", default=None)
    b.add_argument("--max-entries", type=int, default=30_000)
    b.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for scale in (int(s) for s in args.scales.split(",")):
        path = build_database(scale, data_dir=args.data_dir, max_entries=args.max_entries, seed=args.seed)
        print(f"x{scale}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
