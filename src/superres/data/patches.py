"""Training pairs for Y-channel SR networks, prepared once and cached on disk.

Preparation follows the SRCNN and VDSR training scripts:

1. Y of MATLAB ``rgb2ycbcr`` on the uint8 image (rounded), as float;
2. optional downscaled copies of every image (VDSR: 0.6 .. 0.9);
3. per scale: modcrop, LR = MATLAB bicubic downscale *in float* (no rounding),
   and the network input: the LR bicubic-upscaled back (``input="upsampled"``,
   SRCNN/VDSR/SCN) or the LR itself (``input="lr"``, sub-pixel models).

The prepared images are cached as one safetensors file keyed by a hash of the
inputs, so a second run starts at once.

Sampling is a pure function of ``(seed, step)``: the batch of step ``t`` is
the same whether the run started at 0 or resumed at ``t``, which makes resume
exact without saving any RNG state, and every rank of a distributed run can
take its own shard of the same global batch.

Two sampling modes:

``"random"``
    random crops (VDSR: 41x41), one of the 8 flips/rotations each;
``"grid"``
    SRCNN's sub-images: every ``patch x patch`` window at ``stride``, visited
    in a fresh permutation each epoch.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from superres.data.datasets import cache_dir
from superres.degradation.pipelines import bicubic_upsample, make_lr
from superres.errors import InvalidArgumentError
from superres.ops.color import rgb_to_y_bt601
from superres.ops.resize import imresize_matlab

__all__ = ["PairSet", "prepare_pairs", "PatchSampler", "dihedral"]

_CACHE_VERSION = 1


@dataclass
class PairSet:
    """Prepared (input, target) image pairs; ``inputs[i]`` and ``targets[i]`` are ``(1, H, W)`` float16."""

    inputs: list[torch.Tensor]
    targets: list[torch.Tensor]
    scales: list[int]
    input_mode: Literal["upsampled", "lr"]

    def __len__(self) -> int:
        return len(self.targets)


def _y_of_file(path: Path) -> torch.Tensor:
    from superres.io import read_image, to_uint8

    pixels = to_uint8(read_image(path).pixels)
    if pixels.shape[2] in (2, 4):
        pixels = pixels[:, :, :-1]
    rgb = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]
    return rgb_to_y_bt601(rgb).to(torch.float64) / 255


def _cache_key(files: Sequence[Path], scales: Sequence[int], downscales: Sequence[float], input_mode: str,
               min_size: int) -> str:
    # everything the pairs depend on; a file replaced in place changes its size or mtime
    digest = hashlib.sha256()
    meta = {
        "version": _CACHE_VERSION,
        "scales": list(scales),
        "downscales": list(downscales),
        "input": input_mode,
        "min_size": min_size,
        "files": [(str(Path(f).resolve()), Path(f).stat().st_size, Path(f).stat().st_mtime_ns) for f in files],
    }
    digest.update(json.dumps(meta, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def prepare_pairs(
    files: Sequence[Path],
    scales: Sequence[int],
    *,
    input_mode: Literal["upsampled", "lr"] = "upsampled",
    downscales: Sequence[float] = (1.0,),
    min_size: int = 48,
    use_cache: bool = True,
    log: Callable[[str], None] | None = None,
) -> PairSet:
    """Prepare every (image, downscaled copy, scale) pair; cached under :func:`cache_dir`."""
    if input_mode not in ("upsampled", "lr"):
        raise InvalidArgumentError(f"input mode must be 'upsampled' or 'lr', got {input_mode!r}")
    key = _cache_key(files, scales, downscales, input_mode, min_size)
    path = cache_dir() / "pairs" / f"{key}.safetensors"
    if use_cache and path.is_file():
        tensors = load_file(str(path))
        n = len([k for k in tensors if k.endswith(".target")])
        meta_scales = tensors["scales"].tolist()
        return PairSet(
            [tensors[f"{i}.input"] for i in range(n)], [tensors[f"{i}.target"] for i in range(n)], meta_scales, input_mode
        )
    inputs, targets, pair_scales = [], [], []
    for index, file in enumerate(files):
        y = _y_of_file(Path(file))
        for factor in downscales:
            y_copy = y if factor == 1.0 else imresize_matlab(y, float(factor))
            for s in scales:
                hr, lr = make_lr(y_copy, int(s))  # the protocol's pair: modcrop, MATLAB bicubic 1/s
                if min(hr.shape[-2:]) < min_size:
                    continue
                net_in = bicubic_upsample(lr, int(s)) if input_mode == "upsampled" else lr
                inputs.append(net_in[0].to(torch.float16))
                targets.append(hr[0].to(torch.float16))
                pair_scales.append(int(s))
        if log is not None and (index + 1) % 20 == 0:
            log(f"prepared {index + 1}/{len(files)} images")
    if not targets:
        raise InvalidArgumentError(f"no training image is at least {min_size} pixels on each side "
                                   f"(after cropping to a multiple of the scale)")
    if use_cache:
        tensors = {f"{i}.input": t.contiguous() for i, t in enumerate(inputs)}
        tensors.update({f"{i}.target": t.contiguous() for i, t in enumerate(targets)})
        tensors["scales"] = torch.tensor(pair_scales)
        _save_cache(tensors, path)
    return PairSet(inputs, targets, pair_scales, input_mode)


def _save_cache(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write the cache atomically, through a temporary file of this writer's own (the ranks of a
    distributed run prepare the same pairs at once); a cache that cannot be written is a note,
    not a failure: the pairs are made, training goes on without it."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        save_file(tensors, str(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        print(f"note: the prepared training pairs are not cached ({path.parent}: {exc.strerror or exc})",
              file=sys.stderr)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def dihedral(x: torch.Tensor, op: int) -> torch.Tensor:
    """One of the 8 flips/rotations of the last two dimensions (op in 0..7)."""
    if op & 4:
        x = x.flip(-1)
    return torch.rot90(x, op & 3, dims=(-2, -1))


class PatchSampler:
    """Deterministic batches of training patches: ``batch(step)`` depends only on ``(seed, step)``.

    Args:
        pairs: the prepared pairs.
        patch_size: input patch side (pixels of the network input).
        batch_size: global batch size.
        mode: ``"random"`` crops or SRCNN ``"grid"`` sub-images.
        stride: grid stride (``"grid"`` mode).
        label_border: pixels cropped from each side of the target (SRCNN's
            'valid' training: ``(f1 + f2 + f3 - 3) / 2``).
        augment: apply a random flip/rotation per patch.
        seed: base seed.
        one_scale_per_batch: draw one scale per step (needed when targets of
            different scales have different sizes, i.e. ``input="lr"``).
    """

    def __init__(
        self,
        pairs: PairSet,
        *,
        patch_size: int,
        batch_size: int,
        mode: Literal["random", "grid"] = "random",
        stride: int = 14,
        label_border: int = 0,
        augment: bool = True,
        seed: int = 0,
        one_scale_per_batch: bool | None = None,
    ) -> None:
        self.pairs = pairs
        self.patch = int(patch_size)
        self.batch_size = int(batch_size)
        self.mode = mode
        self.stride = int(stride)
        self.border = int(label_border)
        self.augment = augment
        self.seed = int(seed)
        self.one_scale = pairs.input_mode == "lr" if one_scale_per_batch is None else one_scale_per_batch
        self.usable = [i for i, t in enumerate(pairs.inputs) if min(t.shape[-2:]) >= self.patch]
        if not self.usable:
            raise InvalidArgumentError(f"no training image is at least {self.patch} pixels on each side")
        self.by_scale: dict[int, list[int]] = {}
        for i in self.usable:
            self.by_scale.setdefault(pairs.scales[i], []).append(i)
        if mode == "grid":
            if self.pairs.input_mode != "upsampled":
                raise InvalidArgumentError("grid sub-images need input='upsampled'")
            grid = []
            for i in self.usable:
                h, w = pairs.inputs[i].shape[-2:]
                for y in range(0, h - self.patch + 1, self.stride):
                    for x in range(0, w - self.patch + 1, self.stride):
                        grid.append((i, y, x))
            self.grid = torch.tensor(grid, dtype=torch.int64)
        elif mode != "random":
            raise InvalidArgumentError(f"patch mode must be 'random' or 'grid', got {mode!r}")

    @property
    def steps_per_epoch(self) -> int:
        """Steps for one pass over the grid (grid mode) or over the images' area (random mode)."""
        if self.mode == "grid":
            return max(1, len(self.grid) // self.batch_size)
        area = sum(self.pairs.inputs[i].shape[-1] * self.pairs.inputs[i].shape[-2] for i in self.usable)
        return max(1, area // (self.patch * self.patch * self.batch_size))

    def _generator(self, step: int, salt: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed((self.seed * 1_000_003 + step * 7919 + salt) % (2**63))

    def batch(self, step: int, *, rank: int = 0, world_size: int = 1) -> tuple[torch.Tensor, torch.Tensor, int]:
        """``(inputs (b, 1, p, p), targets (b, 1, q, q), scale)`` of ``step`` for ``rank``.

        ``scale`` is the batch's scale when it has one, else 0 (mixed scales).
        """
        gen = self._generator(step)
        scale = 0
        if self.mode == "grid":
            # draw k of the step is item step * b + k of one endless stream of epochs, each a
            # fresh order of every window, so a batch across an epoch's end takes the next
            # epoch's first windows (and every window comes once per epoch)
            n = len(self.grid)
            picks = []
            for item in range(step * self.batch_size, (step + 1) * self.batch_size):
                epoch, offset = divmod(item, n)
                if not picks or offset == 0:
                    order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed * 7 + epoch))
                picks.append(tuple(self.grid[order[offset]].tolist()))
        else:
            if self.one_scale:
                scales = sorted(self.by_scale)
                scale = scales[int(torch.randint(len(scales), (1,), generator=gen))]
                pool = self.by_scale[scale]
            else:
                pool = self.usable
            chosen = torch.randint(len(pool), (self.batch_size,), generator=gen).tolist()
            picks = []
            for c in chosen:
                i = pool[c]
                h, w = self.pairs.inputs[i].shape[-2:]
                y = int(torch.randint(h - self.patch + 1, (1,), generator=gen))
                x = int(torch.randint(w - self.patch + 1, (1,), generator=gen))
                picks.append((i, y, x))
        ops = torch.randint(8, (self.batch_size,), generator=gen).tolist() if self.augment else [0] * self.batch_size
        ins, tgts = [], []
        for k in range(rank, self.batch_size, world_size):
            i, y, x = picks[k]
            s = 1 if self.pairs.input_mode == "upsampled" else self.pairs.scales[i]
            p = self.patch
            inp = self.pairs.inputs[i][:, y : y + p, x : x + p]
            tgt = self.pairs.targets[i][:, y * s : (y + p) * s, x * s : (x + p) * s]
            if self.border:
                tgt = tgt[:, self.border : -self.border, self.border : -self.border]
            ins.append(dihedral(inp, ops[k]))
            tgts.append(dihedral(tgt, ops[k]))
        return torch.stack(ins).float(), torch.stack(tgts).float(), scale
