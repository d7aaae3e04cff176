"""MATLAB rgb2ycbcr / ycbcr2rgb."""

from __future__ import annotations

import torch

from superres.ops.color import rgb_to_y_bt601, rgb_to_ycbcr_bt601, round_half_away, ycbcr_bt601_to_rgb


def _px(r, g, b) -> torch.Tensor:
    return torch.tensor([r, g, b], dtype=torch.uint8).view(1, 3, 1, 1)


def test_known_uint8_values():
    # Values of MATLAB rgb2ycbcr(uint8(...)) from its documented matrix (BT.601, 16-235).
    assert rgb_to_ycbcr_bt601(_px(0, 0, 0)).flatten().tolist() == [16, 128, 128]
    assert rgb_to_ycbcr_bt601(_px(255, 255, 255)).flatten().tolist() == [235, 128, 128]
    # red: Y = 16 + 65.481 = 81.481 -> 81; Cb = 128 - 37.797 = 90.2 -> 90; Cr = 128 + 112 = 240
    assert rgb_to_ycbcr_bt601(_px(255, 0, 0)).flatten().tolist() == [81, 90, 240]
    # blue: Y = 16 + 24.966 = 40.97 -> 41; Cb = 240; Cr = 128 - 18.214 = 109.8 -> 110
    assert rgb_to_ycbcr_bt601(_px(0, 0, 255)).flatten().tolist() == [41, 240, 110]


def test_uint8_rounding_matches_float_formula():
    rgb = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    y8 = rgb_to_ycbcr_bt601(rgb)
    yf = rgb_to_ycbcr_bt601(rgb.double() / 255) * 255
    assert torch.equal(y8.double(), torch.clamp(round_half_away(yf), 0, 255))


def test_float_round_trip_is_exact():
    rgb = torch.rand(2, 3, 9, 7, dtype=torch.float64)
    assert torch.allclose(ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(rgb)), rgb, atol=1e-12)


def test_uint8_round_trip_within_quantisation():
    rgb = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    back = ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(rgb))
    assert (back.int() - rgb.int()).abs().max() <= 2
    # gray levels survive exactly
    gray = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).expand(1, 3, 16, 16)
    assert (ycbcr_bt601_to_rgb(rgb_to_ycbcr_bt601(gray)).int() - gray.int()).abs().max() <= 1


def test_y_of_gray_is_itself_and_half_rounds_away_from_zero():
    gray = torch.randint(0, 256, (1, 1, 4, 4), dtype=torch.uint8)
    assert torch.equal(rgb_to_y_bt601(gray), gray) and rgb_to_y_bt601(gray) is not gray  # a copy, never an alias
    assert round_half_away(torch.tensor([0.5, 1.5, 2.5, -0.5])).tolist() == [1.0, 2.0, 3.0, -1.0]


def test_uint8_y_ties_round_up():
    # (5, 65, 25): Y = 16 + (65.481 * 5 + 128.553 * 65 + 24.966 * 25) / 255 = 16 + 9307.5 / 255 = 52.5
    # in the uint8 path's arithmetic; random pixels almost never land on such a tie
    assert rgb_to_ycbcr_bt601(_px(5, 65, 25)).flatten().tolist()[0] == 53
