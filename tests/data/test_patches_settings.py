"""Sampler and pair preparation: mixed scales, steps per epoch, the cache key, grey+alpha."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from superres.data.patches import PairSet, PatchSampler, prepare_pairs


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))


def _image_files(tmp_path, sizes):
    folder = tmp_path / "images"
    folder.mkdir()
    files = []
    for k, (h, w) in enumerate(sizes):
        rgb = np.random.default_rng(k).integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(rgb).save(folder / f"im{k}.png")
        files.append(folder / f"im{k}.png")
    return files


def test_upsampled_batches_mix_the_scales_and_report_scale_zero():
    # VDSR's multi-scale training: input="upsampled" pairs of every scale share one batch.
    # Each pair's pixels hold its scale, so a patch tells which pair it came from.
    inputs = [torch.full((1, 12, 12), float(s)).half() for s in (2, 3, 4)]
    pairs = PairSet(inputs, [t.clone() for t in inputs], [2, 3, 4], "upsampled")
    sampler = PatchSampler(pairs, patch_size=6, batch_size=16, augment=False, seed=0)
    for step in range(3):
        inp, _, scale = sampler.batch(step)
        assert scale == 0
        assert len({int(v) for v in inp[:, 0, 0, 0]}) > 1  # more than one scale in this batch


def test_random_steps_per_epoch_is_the_area_over_patch_area_times_batch():
    inputs = [torch.zeros(1, 30, 40).half(), torch.zeros(1, 20, 20).half(), torch.zeros(1, 5, 5).half()]
    pairs = PairSet(inputs, [t.clone() for t in inputs], [1, 1, 1], "upsampled")
    sampler = PatchSampler(pairs, patch_size=6, batch_size=4)
    # the 5x5 image is smaller than the patch and is not counted: (1200 + 400) // (36 * 4) = 11
    assert sampler.steps_per_epoch == 11


def test_cache_is_keyed_by_the_input_mode_and_by_the_scales(tmp_path):
    files = _image_files(tmp_path, [(48, 60)])
    up = prepare_pairs(files, (2,), input_mode="upsampled", min_size=16)
    lr = prepare_pairs(files, (2,), input_mode="lr", min_size=16)  # not the cached upsampled pairs
    assert tuple(up.inputs[0].shape[-2:]) == (48, 60) and tuple(lr.inputs[0].shape[-2:]) == (24, 30)
    x3 = prepare_pairs(files, (3,), input_mode="lr", min_size=16)  # not the cached x2 pairs
    assert x3.scales == [3] and tuple(x3.inputs[0].shape[-2:]) == (16, 20)


def test_a_gray_image_with_alpha_is_its_gray_channel(tmp_path):
    gray = np.random.default_rng(4).integers(0, 256, (32, 36), dtype=np.uint8)
    alpha = np.random.default_rng(5).integers(0, 256, (32, 36), dtype=np.uint8)
    Image.fromarray(np.stack([gray, alpha], axis=-1), "LA").save(tmp_path / "la.png")
    pairs = prepare_pairs([tmp_path / "la.png"], (2,), min_size=16, use_cache=False)
    expect = torch.from_numpy(gray.astype(np.float64) / 255).to(torch.float16)
    assert torch.equal(pairs.targets[0][0], expect)
