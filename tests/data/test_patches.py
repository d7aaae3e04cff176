"""Training pairs and patches: prepared pairs are the documented composition of ops, LR and HR
stay aligned under every flip/rotation, and the grid and random crops cover what they claim.

References: the Y channel is MATLAB's ``rgb2ycbcr`` formula written out here, modcrop is a
slice, and the sampler is checked on pair sets whose inputs are an exact function of the
targets (2x2 mean pooling, or the identity), or whose pixel values encode their position.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from superres.data.patches import PairSet, PatchSampler, dihedral, prepare_pairs
from superres.errors import InvalidArgumentError
from superres.ops.resize import imresize_matlab


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _matlab_y(rgb: np.ndarray) -> torch.Tensor:
    """MATLAB ``rgb2ycbcr`` on uint8, Y only, as float64 in [0, 1], shape (1, 1, H, W)."""
    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    y = np.floor(y + 0.5)  # positive values: half away from zero
    return torch.from_numpy(y / 255)[None, None]


def _files(tmp_path, sizes):
    folder = tmp_path / "images"
    folder.mkdir()
    files, pixels = [], []
    for k, (h, w) in enumerate(sizes):
        rgb = _rgb(h, w, k)
        Image.fromarray(rgb).save(folder / f"im{k}.png")
        files.append(folder / f"im{k}.png")
        pixels.append(rgb)
    return files, pixels


@pytest.mark.parametrize("input_mode", ["upsampled", "lr"])
def test_pairs_are_modcrop_then_bicubic_down_of_each_downscaled_copy(tmp_path, input_mode):
    files, pixels = _files(tmp_path, [(53, 61), (64, 50)])
    pairs = prepare_pairs(files, (2, 3), input_mode=input_mode, downscales=(1.0, 0.7), min_size=20, use_cache=False)
    expected_inputs, expected_targets, expected_scales = [], [], []
    for rgb in pixels:  # order: image, then downscaled copy, then scale
        y = _matlab_y(rgb)
        for factor in (1.0, 0.7):
            copy = y if factor == 1.0 else imresize_matlab(y, factor)
            for s in (2, 3):
                h, w = copy.shape[-2:]
                hr = copy[..., : h - h % s, : w - w % s]
                lr = imresize_matlab(hr, 1 / s)
                expected_inputs.append(imresize_matlab(lr, float(s)) if input_mode == "upsampled" else lr)
                expected_targets.append(hr)
                expected_scales.append(s)
    assert pairs.scales == expected_scales
    assert len(pairs) == len(expected_targets) == 8
    for got_in, got_tgt, want_in, want_tgt in zip(pairs.inputs, pairs.targets, expected_inputs, expected_targets):
        assert got_in.dtype == got_tgt.dtype == torch.float16
        assert torch.equal(got_tgt, want_tgt[0].to(torch.float16))
        assert torch.equal(got_in, want_in[0].to(torch.float16))


def test_images_below_min_size_are_left_out(tmp_path):
    files, _ = _files(tmp_path, [(40, 70)])
    pairs = prepare_pairs(files, (2, 3), downscales=(1.0, 0.5), min_size=39, use_cache=False)
    # 40x70 -> x2: 40x70, x3: 39x69; the 0.5 copy (20x35) is too small at every scale
    assert [tuple(t.shape[-2:]) for t in pairs.targets] == [(40, 70), (39, 69)]


def test_cache_is_keyed_by_the_downscaled_copies_and_reloads_the_same_pairs(tmp_path):
    files, _ = _files(tmp_path, [(48, 52)])
    one = prepare_pairs(files, (2,), downscales=(1.0,), min_size=16)
    two = prepare_pairs(files, (2,), downscales=(1.0, 0.5), min_size=16)
    assert len(one) == 1 and len(two) == 2
    again = prepare_pairs(files, (2,), downscales=(1.0, 0.5), min_size=16)  # from the cache
    assert again.scales == two.scales
    for a, b in zip(again.inputs + again.targets, two.inputs + two.targets):
        assert torch.equal(a, b)


def test_cache_is_keyed_by_min_size_and_by_a_file_replaced_in_place(tmp_path):
    import os

    files, _ = _files(tmp_path, [(40, 70), (60, 60)])
    assert len(prepare_pairs(files, (2,), downscales=(1.0,), min_size=48)) == 1
    assert len(prepare_pairs(files, (2,), downscales=(1.0,), min_size=16)) == 2  # not the cached 1
    first = prepare_pairs(files, (2,), downscales=(1.0,), min_size=16).targets[0]
    replaced = Image.fromarray(np.full((40, 70, 3), 200, np.uint8))
    replaced.save(files[0])  # same size on disk is not required: the mtime changes too
    stat = files[0].stat()
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = prepare_pairs(files, (2,), downscales=(1.0,), min_size=16).targets[0]
    assert not torch.equal(first, again)


def test_16_bit_images_are_rounded_to_8_bits_before_the_y_channel(tmp_path):
    from superres.io import write_image

    gray8 = np.random.default_rng(3).integers(0, 256, (32, 36)).astype(np.int64)
    # 100/257 of a step off the exact multiples of 257: rounding recovers gray8, a shift by 8 bits does not
    gray16 = gray8 * 257 + np.where(((gray8 >= 128) & (gray8 < 255)) | (gray8 == 0), 100, -100)
    write_image(tmp_path / "wide.png", gray16.astype(np.uint16))
    pairs = prepare_pairs([tmp_path / "wide.png"], (2,), min_size=16, use_cache=False)
    expect = torch.from_numpy(gray8.astype(np.float64) / 255).to(torch.float16)
    assert torch.equal(pairs.targets[0][0], expect)


def test_dihedral_gives_the_eight_symmetries_of_the_square():
    x = torch.rand(1, 5, 5)
    images = [dihedral(x, op) for op in range(8)]
    assert torch.equal(images[0], x)
    expected = [torch.rot90(t, k, dims=(-2, -1)) for t in (x, x.flip(-1)) for k in range(4)]
    assert all(any(torch.equal(img, e) for e in expected) for img in images)
    assert len({tuple(img.flatten().tolist()) for img in images}) == 8


def _pooled_pairs(scales=(2,), sizes=((16, 20), (24, 18))) -> PairSet:
    """LR = exact 2x2 (or sxs) mean of HR, values on a 1/64 grid so float16 holds them exactly."""
    gen = torch.Generator().manual_seed(0)
    inputs, targets, pair_scales = [], [], []
    for s in scales:
        for h, w in sizes:
            hr = torch.randint(0, 64, (1, h * s, w * s), generator=gen).double() / 64
            inputs.append(F.avg_pool2d(hr[None], s)[0].half())
            targets.append(hr.half())
            pair_scales.append(s)
    return PairSet(inputs, targets, pair_scales, "lr")


def test_random_patches_keep_lr_and_hr_aligned_under_every_augmentation():
    pairs = _pooled_pairs(scales=(2, 4))
    sampler = PatchSampler(pairs, patch_size=6, batch_size=16, augment=True, seed=5)
    seen_scales = set()
    for step in range(6):
        inp, tgt, scale = sampler.batch(step)
        seen_scales.add(scale)
        assert inp.shape == (16, 1, 6, 6) and tgt.shape == (16, 1, 6 * scale, 6 * scale)
        assert torch.equal(F.avg_pool2d(tgt.double(), scale), inp.double())
    assert seen_scales == {2, 4}  # one scale per batch, and both are drawn


def test_augmentation_draws_all_eight_symmetries():
    # one image exactly the patch size: the crop is fixed, only the augmentation varies
    pairs = _pooled_pairs(sizes=((7, 7),))
    sampler = PatchSampler(pairs, patch_size=7, batch_size=32, augment=True, seed=1)
    patches = {tuple(p.flatten().tolist()) for step in range(4) for p in sampler.batch(step)[0]}
    want = {tuple(dihedral(pairs.inputs[0].float(), op).flatten().tolist()) for op in range(8)}
    assert patches == want
    plain = PatchSampler(pairs, patch_size=7, batch_size=8, augment=False)
    assert all(torch.equal(p, pairs.inputs[0].float()) for p in plain.batch(0)[0])


def _position_pairs(h: int, w: int, mode: str = "upsampled") -> PairSet:
    """One image whose pixel value is its index ``y * w + x`` (exact in float16 below 2048)."""
    image = torch.arange(h * w, dtype=torch.float32).reshape(1, h, w)
    return PairSet([image.half()], [image.half().clone()], [1], mode)


def test_label_border_takes_the_centre_of_the_input_window():
    pairs = _position_pairs(20, 23)
    sampler = PatchSampler(pairs, patch_size=11, batch_size=8, label_border=3, augment=True, seed=2)
    inp, tgt, _ = sampler.batch(0)
    assert tgt.shape == (8, 1, 5, 5)
    assert torch.equal(tgt, inp[..., 3:-3, 3:-3])


def test_random_crops_reach_every_offset_including_the_last():
    h, w, p = 12, 10, 8
    sampler = PatchSampler(_position_pairs(h, w), patch_size=p, batch_size=16, augment=False, seed=0)
    corners = {int(v) for step in range(8) for v in sampler.batch(step)[0][:, 0, 0, 0]}
    assert {c // w for c in corners} == set(range(h - p + 1))
    assert {c % w for c in corners} == set(range(w - p + 1))


def test_grid_visits_every_window_once_per_epoch_in_a_fresh_order():
    h, w, p, stride, batch = 14, 11, 5, 3, 4
    sampler = PatchSampler(_position_pairs(h, w), patch_size=p, batch_size=batch, mode="grid", stride=stride,
                           augment=False, seed=0)
    windows = {y * w + x for y in range(0, h - p + 1, stride) for x in range(0, w - p + 1, stride)}
    assert len(windows) == 12 and sampler.steps_per_epoch == 3
    epochs = []
    for epoch in range(2):
        corners = [int(v) for step in range(3 * epoch, 3 * epoch + 3) for v in sampler.batch(step)[0][:, 0, 0, 0]]
        assert sorted(corners) == sorted(windows)
        epochs.append(corners)
    assert epochs[0] != epochs[1]


def test_grid_batches_across_an_epoch_end_keep_every_epoch_whole():
    # 15 windows in batches of 4: batches straddle epoch ends, and the draws, read as one
    # stream, are still whole epochs, each window once per epoch
    h, w, p, stride, batch = 17, 11, 5, 3, 4
    sampler = PatchSampler(_position_pairs(h, w), patch_size=p, batch_size=batch, mode="grid", stride=stride,
                           augment=False, seed=0)
    windows = sorted(y * w + x for y in range(0, h - p + 1, stride) for x in range(0, w - p + 1, stride))
    assert len(windows) == 15
    stream = [int(v) for step in range(15) for v in sampler.batch(step)[0][:, 0, 0, 0]]
    epochs = [stream[i : i + 15] for i in range(0, 60, 15)]
    assert all(sorted(epoch) == windows for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) == 4  # a fresh order each epoch


def test_batch_depends_only_on_seed_and_step_and_ranks_split_it():
    pairs = _pooled_pairs()
    a = PatchSampler(pairs, patch_size=6, batch_size=6, seed=9)
    b = PatchSampler(pairs, patch_size=6, batch_size=6, seed=9)
    b.batch(0), b.batch(1)
    whole_in, whole_tgt, _ = a.batch(2)
    assert torch.equal(b.batch(2)[0], whole_in)
    parts = [a.batch(2, rank=r, world_size=3) for r in range(3)]
    for r, (inp, tgt, _) in enumerate(parts):
        assert torch.equal(inp, whole_in[r::3]) and torch.equal(tgt, whole_tgt[r::3])
    assert not torch.equal(PatchSampler(pairs, patch_size=6, batch_size=6, seed=10).batch(2)[0], whole_in)


def test_nothing_large_enough_names_the_size_that_was_asked(tmp_path):
    # the sampler used to answer with its patch size, a limit these images had passed
    files, _ = _files(tmp_path, [(45, 45)])
    with pytest.raises(InvalidArgumentError, match="no training image is at least 48 pixels on each side"):
        prepare_pairs(files, (3,), use_cache=False)


def test_two_writers_of_one_cache_do_not_collide(tmp_path, monkeypatch):
    # the ranks of a distributed run prepare the same pairs at once: with one shared temporary
    # name, the second rename found the file gone (FileNotFoundError) and that rank died
    import superres.data.patches as patches

    files, _ = _files(tmp_path, [(48, 52)])
    real_save, nested = patches.save_file, []

    def save_then_let_another_rank_finish(tensors, name):
        real_save(tensors, name)
        if not nested:
            nested.append(None)
            nested[0] = prepare_pairs(files, (2,))  # the other rank writes and renames meanwhile
    monkeypatch.setattr(patches, "save_file", save_then_let_another_rank_finish)
    pairs = prepare_pairs(files, (2,))
    assert torch.equal(pairs.targets[0], nested[0].targets[0])
    cached = sorted(p.name for p in (tmp_path / "cache" / "pairs").iterdir())
    assert len(cached) == 1 and cached[0].endswith(".safetensors")  # no temporary file left


def test_a_cache_folder_that_cannot_be_written_is_a_note(tmp_path, monkeypatch, capsys):
    # found after every pair was made: the run goes on without the cache, in one line
    files, _ = _files(tmp_path, [(48, 52)])
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("SUPERRES_CACHE", str(not_a_folder))
    pairs = prepare_pairs(files, (2,))
    assert tuple(pairs.targets[0].shape[-2:]) == (48, 52)
    err = capsys.readouterr().err.strip()
    assert err.startswith("note: the prepared training pairs are not cached") and len(err.splitlines()) == 1
    assert not_a_folder.read_text() == "x"
