"""PSNR/SSIM against hand-computed cases and a direct transcription of ssim_index.m."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.evaluation.metrics import gaussian_window, protocol_metrics, psnr, quantize_uint8, ssim


def test_psnr_hand_computed():
    a = torch.zeros(1, 1, 10, 10)
    b = torch.ones(1, 1, 10, 10)  # MSE 1 on the 0..255 scale
    assert psnr(a, b, data_range=255.0).item() == pytest.approx(20 * math.log10(255), abs=1e-12)
    b[0, 0, 0, 0] = 11  # MSE = (99 + 121) / 100 = 2.2
    assert psnr(a, b, data_range=255.0).item() == pytest.approx(10 * math.log10(255**2 / 2.2), abs=1e-12)
    assert math.isinf(psnr(a, a, data_range=255.0).item())


def _ssim_index_m(img1: np.ndarray, img2: np.ndarray) -> float:
    """ssim_index.m line by line: filter2(window, x, 'valid') is a 2-D correlation."""
    # fspecial('gaussian', 11, 1.5), written out here rather than taken from the code under test
    r = np.arange(11) - 5.0
    window = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 1.5**2))
    window /= window.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def filter2(x):
        h, w = x.shape
        out = np.zeros((h - 10, w - 10))
        for i in range(h - 10):
            for j in range(w - 10):
                out[i, j] = (window * x[i : i + 11, j : j + 11]).sum()
        return out

    mu1, mu2 = filter2(img1), filter2(img2)
    s1 = filter2(img1 * img1) - mu1 * mu1
    s2 = filter2(img2 * img2) - mu2 * mu2
    s12 = filter2(img1 * img2) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
    return float(m.mean())


def test_ssim_matches_ssim_index_m():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (30, 27)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255).round()
    ours = ssim(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None], data_range=255.0).item()
    assert ours == pytest.approx(_ssim_index_m(a, b), abs=1e-12)


def test_ssim_identical_is_one_and_window_is_normalised():
    a = torch.rand(2, 1, 20, 20) * 255
    assert torch.allclose(ssim(a, a, data_range=255.0), torch.ones(2, dtype=torch.float64))
    assert gaussian_window().sum().item() == pytest.approx(1.0, abs=1e-15)
    # fspecial's centre and corner values: exp(-r^2 / (2 sigma^2)) over the sum of all 121
    g = gaussian_window(11, 1.5)
    total = sum(math.exp(-(i * i + j * j) / 4.5) for i in range(-5, 6) for j in range(-5, 6))
    assert g[5, 5].item() == pytest.approx(1 / total, rel=1e-12)
    assert g[0, 0].item() == pytest.approx(math.exp(-50 / 4.5) / total, rel=1e-12)


def test_ssim_too_small_and_shape_mismatch():
    with pytest.raises(InvalidArgumentError):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), data_range=255.0)
    with pytest.raises(InvalidArgumentError):
        psnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9), data_range=255.0)


def test_protocol_quantises_takes_y_and_shaves():
    hr = torch.randint(0, 256, (1, 3, 40, 40), dtype=torch.uint8)
    sr = hr.float() / 255
    sr[..., :3, :] = 0  # damage only the border that a shave of 3 removes
    p, s = protocol_metrics(sr, hr, shave=3)
    assert math.isinf(p.item()) and s.item() == pytest.approx(1.0)
    p2, _ = protocol_metrics(sr, hr, shave=2)
    assert math.isfinite(p2.item())
    assert quantize_uint8(torch.tensor([0.5 / 255, 1.49 / 255, -1.0, 2.0])).tolist() == [1, 1, 0, 255]

    # The PSNR is that of Y = round(16 + (65.481 R + 128.553 G + 24.966 B) / 255) (MATLAB
    # rgb2ycbcr of uint8), written out here in numpy
    noisy = torch.clamp(hr.float() / 255 + torch.randn(1, 3, 40, 40, generator=torch.Generator().manual_seed(4)) * 0.05, 0, 1)

    def y_of(rgb8):
        r, g, b = rgb8[0].astype(np.float64)
        return np.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255)

    y_hr = y_of(hr.numpy())[3:-3, 3:-3]
    y_sr = y_of(quantize_uint8(noisy).numpy())[3:-3, 3:-3]
    expected = 10 * np.log10(255**2 / np.mean((y_hr - y_sr) ** 2))
    assert protocol_metrics(noisy, hr, shave=3)[0].item() == pytest.approx(expected, abs=1e-9)


def test_rgb_and_unrounded_y_variants_differ_from_default():
    hr = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    sr = torch.clamp(hr.float() / 255 + torch.randn(1, 3, 32, 32) * 0.02, 0, 1)
    y = protocol_metrics(sr, hr, shave=2)[0].item()
    y_unrounded = protocol_metrics(sr, hr, shave=2, channel="y-unrounded")[0].item()
    rgb = protocol_metrics(sr, hr, shave=2, channel="rgb")[0].item()
    assert y != y_unrounded and y != rgb
    assert abs(y - y_unrounded) < 0.5


def test_ssim_is_per_image_for_batched_colour_input():
    # one score per image, also for B > 1 and C > 1 (the tests had only one of them above 1)
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 16, 16, generator=g) * 255
    b = (a + torch.randn(2, 3, 16, 16, generator=g) * torch.tensor([5.0, 40.0]).view(2, 1, 1, 1)).clamp(0, 255)
    batched = ssim(a, b, data_range=255.0)
    single = torch.cat([ssim(a[i : i + 1], b[i : i + 1], data_range=255.0) for i in range(2)])
    assert torch.allclose(batched, single, rtol=0, atol=1e-12)


def test_quantize_rounds_exact_float64_ties_away_from_zero():
    # MATLAB's uint8() rounds half away from zero; torch.round rounds half to even
    x = torch.tensor([0.5, 2.5, 254.5], dtype=torch.float64) / 255
    assert quantize_uint8(x).tolist() == [1, 3, 255]


def test_quantize_multiplies_in_double():
    x = torch.tensor([0.50392157], dtype=torch.float32)  # x * 255 = 128.49999994 exactly; 128.5 in float32
    assert float(x.double() * 255) < 128.5 and float(x * 255) == 128.5
    assert quantize_uint8(x).tolist() == [128]


def test_ssim_accepts_an_image_of_exactly_one_window():
    # ssim_index.m's 'valid' filtering gives one window on an 11x11 image
    a = torch.rand(1, 1, 11, 11) * 255
    assert ssim(a, a, data_range=255.0).item() == pytest.approx(1.0)


def test_even_gaussian_window_is_fspecials():
    # fspecial's window is centred also for even sizes
    g = gaussian_window(4, 1.0)
    r = torch.tensor([-1.5, -0.5, 0.5, 1.5], dtype=torch.float64)
    ref = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 2)
    assert torch.allclose(g, ref / ref.sum(), rtol=0, atol=1e-15)
