"""imresize_matlab against MATLAB's own output and against a dense reference."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from superres.errors import InvalidArgumentError
from superres.ops.resize import imresize_matlab, output_size_for_scale, resize_plan


def _load(path) -> torch.Tensor:
    a = torch.from_numpy(np.array(Image.open(path)))
    return a[None, None] if a.ndim == 2 else a.permute(2, 0, 1)[None]


def _lr_pairs(data_dir):
    pairs = sorted((data_dir / "benchmark").glob("*/x*/img_*_HR.png"))
    assert len(pairs) == 357, "expected Set5+Set14+BSD100 at x2/x3/x4"
    return pairs


def test_reproduces_every_matlab_lr_file(data_dir):
    """Reference: the LR files made by MATLAB imresize (shared/data/README.md)."""
    differing = []
    for hr_path in _lr_pairs(data_dir):
        scale = int(hr_path.parent.name[1:])
        lr = imresize_matlab(_load(hr_path), 1 / scale)
        expected = _load(hr_path.with_name(hr_path.name.replace("_HR", "_LR")))
        if not torch.equal(lr, expected):
            differing.append(hr_path)
    assert differing == []


def test_mirror_border_and_skipping_rounding_do_not_reproduce(data_dir):
    """The issue's measured facts: only replicate + rounding between passes is exact."""
    hr_path = data_dir / "benchmark" / "Set5" / "x3" / "img_001_HR.png"
    hr, lr = _load(hr_path), _load(hr_path.with_name("img_001_LR.png"))
    assert torch.equal(imresize_matlab(hr, 1 / 3), lr)
    mirrored = imresize_matlab(hr, 1 / 3, border="symmetric")
    diff = (mirrored.int() - lr.int()).abs()
    interior = diff[..., 3:-3, 3:-3]
    assert diff.max() > 0 and interior.max() == 0  # differences only at the borders
    unrounded = imresize_matlab(hr, 1 / 3, round_between_passes=False)
    assert not torch.equal(unrounded, lr)


# The kernels in closed form, written here independently of superres.ops.resize (MATLAB
# imresize.m's cubic, box, triangle and lanczos; np.sinc(x) = sin(pi x) / (pi x)), with widths.
_REFERENCE_KERNELS = {
    # |x|^3 as a product, as the implementation computes imresize.m's absx.^3 (with it the
    # 357 MATLAB files match): pow() can differ in the last bit, which flips a .5 tie of uint8
    "bicubic": (lambda x: np.where(np.abs(x) <= 1, 1.5 * (x * x * np.abs(x)) - 2.5 * (x * x) + 1,
                                   np.where(np.abs(x) <= 2, -0.5 * (x * x * np.abs(x)) + 2.5 * (x * x) - 4 * np.abs(x) + 2, 0.0)), 4),
    "box": (lambda x: np.where((x >= -0.5) & (x < 0.5), 1.0, 0.0), 1),
    "triangle": (lambda x: np.maximum(0.0, 1 - np.abs(x)), 2),
    "lanczos2": (lambda x: np.sinc(x) * np.sinc(x / 2) * (np.abs(x) < 2), 4),
    "lanczos3": (lambda x: np.sinc(x) * np.sinc(x / 3) * (np.abs(x) < 3), 6),
}


def _reference_taps(n_in: int, n_out: int, scale: float, kernel: str, border: str) -> list[list[tuple[int, float]]]:
    """MATLAB imresize's ``contributions``, transcribed sample by sample: for each output
    sample, its (0-based input index, weight) pairs in MATLAB's order."""
    f, width = _REFERENCE_KERNELS[kernel]
    if scale < 1:  # antialiasing: the kernel stretched by 1/scale
        h, width = (lambda x: scale * f(scale * x)), width / scale
    else:
        h = f
    samples = []
    for j in range(1, n_out + 1):  # MATLAB's 1-based output coordinate
        u = j / scale + 0.5 * (1 - 1 / scale)
        left = int(np.floor(u - width / 2))
        taps = [left + t for t in range(int(np.ceil(width)) + 2)]
        w = np.array([h(u - i) for i in taps], dtype=float)
        w /= w.sum()
        pairs = []
        for i, weight in zip(taps, w):
            k = i - 1  # 0-based, may lie outside the image
            if border == "replicate":
                k = min(max(k, 0), n_in - 1)
            else:  # symmetric: ... 1 0 | 0 1 ... n-1 | n-1 n-2 ...
                k %= 2 * n_in
                k = k if k < n_in else 2 * n_in - 1 - k
            pairs.append((k, float(weight)))
        samples.append(pairs)
    return samples


def _reference_matrix(n_in: int, n_out: int, scale: float, kernel: str, border: str) -> np.ndarray:
    """The (n_out, n_in) matrix of :func:`_reference_taps`."""
    m = np.zeros((n_out, n_in))
    for j, pairs in enumerate(_reference_taps(n_in, n_out, scale, kernel, border)):
        for k, weight in pairs:
            m[j, k] += weight
    return m


def test_reference_kernels_against_hand_values():
    # the references above at points worked out by hand
    cubic, box, tri = (_REFERENCE_KERNELS[k][0] for k in ("bicubic", "box", "triangle"))
    np.testing.assert_allclose(cubic(np.array([0.0, 0.5, 1.0, 1.5, 2.0])), [1.0, 0.5625, 0.0, -0.0625, 0.0])
    np.testing.assert_allclose(tri(np.array([-1.0, -0.25, 0.5])), [0.0, 0.75, 0.5])
    assert box(np.array([-0.5, 0.49, 0.5])).tolist() == [1.0, 1.0, 0.0]
    np.testing.assert_allclose(_REFERENCE_KERNELS["lanczos3"][0](np.array([0.5])), [3 * np.sin(np.pi / 2) * np.sin(np.pi / 6) / (np.pi**2 / 4)])


def test_antialias_widens_the_kernel_when_shrinking_and_borders_fold():
    # shrinking by 0.75 stretches the 4-wide cubic to 16/3 samples: ceil(16/3) + 2 taps
    assert resize_plan(20, 15, 0.75).taps == 8
    assert resize_plan(20, 15, 0.75, antialias=False).taps == 6
    plan = resize_plan(4, 4, 1.0, border="symmetric")
    assert plan.map_indices(np.array([-3, -2, -1, 0, 3, 4, 5, 8])).tolist() == [2, 1, 0, 0, 3, 3, 2, 0]
    assert resize_plan(4, 4, 1.0).map_indices(np.array([-2, -1, 4, 5])).tolist() == [0, 0, 3, 3]


def _dense_reference(x: np.ndarray, out_h: int, out_w: int, sh: float, sw: float, kernel: str, border: str) -> np.ndarray:
    """Resize by explicit (out x in) weight matrices of the transcription above: W_h @ X @ W_w^T."""

    def matrix(n_in, n_out, s):
        return _reference_matrix(n_in, n_out, s, kernel, border)

    mh, mw = matrix(x.shape[0], out_h, sh), matrix(x.shape[1], out_w, sw)
    if sw < sh:  # MATLAB order: the smaller factor first (no rounding in float, so order is moot)
        return mh @ (x @ mw.T)
    return (mh @ x) @ mw.T


@pytest.mark.parametrize("kernel", ["bicubic", "triangle", "box", "lanczos2", "lanczos3"])
@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 0.37, 0.5, 0.75, 1.7, 2, 2.5, 3, 4])
@pytest.mark.parametrize("border", ["replicate", "symmetric"])
def test_float_path_equals_dense_weight_matrices(kernel, scale, border):
    rng = np.random.default_rng(0)
    x = rng.random((23, 31))
    out = imresize_matlab(torch.from_numpy(x)[None, None], scale, kernel=kernel, border=border)[0, 0].numpy()
    oh, ow = output_size_for_scale(23, scale), output_size_for_scale(31, scale)
    ref = _dense_reference(x, oh, ow, scale, scale, kernel, border)
    assert out.shape == (oh, ow)
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_separate_factors_and_output_size():
    x = torch.rand(2, 3, 20, 30, dtype=torch.float64)
    y = imresize_matlab(x, (0.5, 2.0))
    assert y.shape == (2, 3, 10, 60)
    z = imresize_matlab(x, size=(7, 45))
    assert z.shape == (2, 3, 7, 45)
    ref = _dense_reference(x[0, 0].numpy(), 7, 45, 7 / 20, 45 / 30, "bicubic", "replicate")
    np.testing.assert_allclose(z[0, 0].numpy(), ref, atol=1e-12)


def test_constant_image_stays_constant_and_weights_sum_to_one():
    x = torch.full((1, 1, 17, 13), 0.3, dtype=torch.float64)
    for s in (0.25, 0.6, 3.3):
        assert torch.allclose(imresize_matlab(x, s), torch.tensor(0.3, dtype=torch.float64), atol=1e-14)
        plan = resize_plan(17, output_size_for_scale(17, s), s)
        np.testing.assert_allclose(plan.weights.sum(axis=1), 1.0, atol=1e-14)


def test_uint8_output_is_rounded_and_saturated():
    x = torch.zeros(1, 1, 8, 8, dtype=torch.uint8)
    x[..., 4:, :] = 255
    y = imresize_matlab(x, 2)
    assert y.dtype == torch.uint8
    f = imresize_matlab(x.double(), 2)
    assert f.max() > 255 and f.min() < 0  # bicubic overshoots in float...
    expected = torch.clamp(torch.floor(f + 0.5), 0, 255)  # ...and uint8 saturates (no negative .5 here)
    assert torch.equal(y.double(), expected)


def _reference_uint8_resize(a: np.ndarray, scale: float, kernel: str) -> np.ndarray:
    """uint8 ``imresize`` as MATLAB's loop runs it: per output sample, its own weights times
    its taps summed in order in double, stored to uint8 (half away from zero) after each
    pass; rows first at equal factors."""
    def one_pass(x: np.ndarray) -> np.ndarray:  # along axis 0 of (n, m)
        taps = _reference_taps(x.shape[0], output_size_for_scale(x.shape[0], scale), scale, kernel, "replicate")
        out = np.empty((len(taps), x.shape[1]))
        for j, pairs in enumerate(taps):
            acc = x[pairs[0][0]] * pairs[0][1]
            for k, weight in pairs[1:]:
                acc = acc + x[k] * weight
            out[j] = acc
        return np.clip(np.floor(out + 0.5), 0, 255)  # no negative .5 remains after the clip
    return one_pass(one_pass(a.astype(np.float64)).T).T.astype(np.uint8)


@pytest.mark.parametrize("kernel, scale", [("bicubic", 2), ("bicubic", 3), ("bicubic", 1 / 3), ("triangle", 4), ("bicubic", 0.25)])
def test_uint8_equals_matlabs_sample_by_sample_sum_at_whole_factors(kernel, scale):
    a = np.random.default_rng(3).integers(0, 256, (24, 31)).astype(np.uint8)
    out = imresize_matlab(torch.from_numpy(a)[None, None], scale, kernel=kernel)[0, 0].numpy()
    expected = _reference_uint8_resize(a, scale, kernel)
    assert out.shape == expected.shape
    assert np.array_equal(out, expected), f"{int((out != expected).sum())} of {out.size} values differ"


@pytest.mark.parametrize("kernel, scale", [("triangle", 1.5), ("bicubic", 1.5), ("bicubic", 2.5), ("triangle", 0.7)])
def test_uint8_at_other_factors_parts_from_matlab_only_at_exact_ties(kernel, scale):
    # One pass (rows of one pixel): MATLAB's sum of each sample, unrounded, is the reference.
    # At 1.5 a third of a random row's samples are exact .5 ties ((v0 + 5 v1) / 6); the
    # phases' shared weights may store the other integer there, and nowhere else.
    a = np.random.default_rng(4).integers(0, 256, (1, 400)).astype(np.uint8)
    out = imresize_matlab(torch.from_numpy(a)[None, None], (1, scale), kernel=kernel)[0, 0, 0].numpy().astype(int)
    taps = _reference_taps(400, out.size, scale, kernel, "replicate")
    exact = np.array([sum(float(a[0, k]) * w for k, w in pairs) for pairs in taps])
    tie = np.abs(exact - np.floor(exact) - 0.5) < 1e-9
    assert np.array_equal(out[~tie], np.clip(np.floor(exact[~tie] + 0.5), 0, 255))
    assert np.allclose(np.abs(out[tie] - exact[tie]), 0.5, rtol=0, atol=1e-9)  # one of the two neighbours
    if kernel == "triangle" and scale == 1.5:
        assert tie.sum() > 50


def test_uint8_results_do_not_depend_on_the_cpus_vector_instructions(tmp_path):
    # A fused multiply-add (AVX2) rounds once where the plain code rounds twice, which
    # moves .5 ties: the same resize, forced onto torch's plain kernels, gives the same bytes.
    script = tmp_path / "resize.py"
    script.write_text(
        "import sys, numpy as np, torch\n"
        "from superres.ops.resize import imresize_matlab\n"
        "a = torch.from_numpy(np.random.default_rng(5).integers(0, 256, (3, 40, 52)).astype(np.uint8))[None]\n"
        "outs = [imresize_matlab(a, s, kernel=k) for k, s in [('triangle', 1.5), ('bicubic', 2.5), ('bicubic', 0.4)]]\n"
        "sys.stdout.write(''.join(o.numpy().tobytes().hex() for o in outs))\n")
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    native = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert plain.returncode == native.returncode == 0, plain.stderr + native.stderr
    assert plain.stdout == native.stdout


def test_output_size_rule_matches_matlab():
    assert output_size_for_scale(255, 1 / 3) == 85
    assert output_size_for_scale(256, 1 / 3) == 86  # ceil
    assert output_size_for_scale(10, 2.5) == 25
    # floating-point noise above a whole number adds no sample (plain ceil would give 56)
    assert 50 * 1.1 > 55 and output_size_for_scale(50, 1.1) == 55
    assert 25 * 2.2 > 55 and output_size_for_scale(25, 2.2) == 55


def test_bad_arguments():
    x = torch.rand(1, 1, 8, 8)
    with pytest.raises(InvalidArgumentError):
        imresize_matlab(x, 0)
    with pytest.raises(InvalidArgumentError):
        imresize_matlab(x, 2, size=(4, 4))
    with pytest.raises(InvalidArgumentError):
        imresize_matlab(x, 2, kernel="spline")
    with pytest.raises(InvalidArgumentError):
        imresize_matlab(x, 2, border="wrap")


def test_batched_equals_one_by_one_and_float32_close_to_float64():
    x = torch.rand(3, 2, 19, 21, dtype=torch.float64)
    batched = imresize_matlab(x, 1 / 3)
    for i in range(3):
        assert torch.equal(batched[i : i + 1], imresize_matlab(x[i : i + 1], 1 / 3))
    assert torch.allclose(imresize_matlab(x.float(), 2.5).double(), imresize_matlab(x, 2.5), atol=1e-5)


def test_nearest_shrink_keeps_pixels_without_antialiasing():
    # MATLAB switches antialiasing off for 'nearest': a shrink picks pixels, never averages
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert imresize_matlab(x, 0.5, kernel="nearest").flatten().tolist() == [5.0, 7.0, 13.0, 15.0]
