"""Evaluation results in model cards: unreadable results skipped, fractional scales on the right card."""

from __future__ import annotations

import pytest
from superres.methods.registry import get_method
from superres.weights.cards import card_psnr, evaluation_means, weights_serving


# evaluation_means skips card results it cannot read, of any kind.
#
# A result whose scale is missing or null, whose PSNR is not a number or whose
# ``mean`` is not what it should be is left out; the readable ones are kept, so
# ``superres models`` and the compare tool never fail on an old or hand-edited card.

def test_unreadable_results_are_skipped_and_the_rest_kept():
    card = {"evaluation": {"results": [
        {"dataset": "Set5", "scale": 2, "mean": {"psnr": 37.5}},
        {"dataset": "Set14", "scale": None, "mean": {"psnr": 33.0}},      # TypeError
        {"dataset": "Set14", "scale": "x2", "mean": {"psnr": 33.0}},      # ValueError
        {"dataset": "BSD100", "scale": 2, "mean": {"psnr": "n/a"}},       # ValueError
        {"dataset": "BSD100", "scale": 2, "mean": {"psnr": None}},        # TypeError
        {"dataset": "Urban", "scale": 2},                                 # KeyError
        "not a result",
    ]}}
    assert evaluation_means(card) == {("rgb", "Set5", 2.0): 37.5}
    assert card_psnr(card, 2) == {"Set5": 37.5}


# Card results at fractional scales go to, and are read from, the right card and scale.
#
# ``weights_serving`` names the weights the method itself picks at a fractional
# scale (LiteSR's next larger trained scale, never a rounded one), and None for a
# method it cannot ask (unknown, or without shipped weights); ``card_psnr`` reads a
# x2.5 result at x2.5 only.

@pytest.mark.parametrize("scale", [2.5, 3.5, 2.2])
def test_the_card_is_the_one_whose_weights_served_a_fractional_scale(scale):
    try:
        method = get_method("litesr-small")
        want = method.weights_for_scale(scale)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"litesr-small unavailable: {exc}")
    assert weights_serving("litesr-small", scale) == want


@pytest.mark.parametrize("name", ["no-such-method", "srcnn-935", "bicubic"])
def test_a_method_without_weights_to_ask_serves_none(name):
    assert weights_serving(name, 3.0) is None


def test_card_psnr_reads_a_fractional_scale_at_that_scale_only():
    card = {"evaluation": {"results": [
        {"dataset": "Set5", "scale": 2.5, "mean": {"psnr": 35.0}},
        {"dataset": "Set5", "scale": 2, "mean": {"psnr": 37.0}},
    ]}}
    assert card_psnr(card, 2.5) == {"Set5": 35.0}
    assert card_psnr(card, 2) == {"Set5": 37.0}
