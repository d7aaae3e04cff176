"""``superres evaluate --format``: every format shows exactly the numbers of the results.

Reference values: hand-written tables for a fixed set of results (two methods, three
set/scale cells, one cell missing for each method), with means worked out by hand.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from superres.errors import InvalidArgumentError
from superres.evaluation.benchmark import ImageResult, RunResult
from superres.evaluation.report import format_results


def _results() -> list[RunResult]:
    def run(method, dataset, scale, images, lr_mode="rgb"):
        return RunResult(method, dataset, scale, lr_mode, [ImageResult(*i) for i in images])

    return [
        run("bicubic", "Set5", 2.0, [("a", 30.0, 0.875, 0.5), ("b", 34.0, 0.75, 1.5)]),  # mean 32, 0.8125, 1
        run("bicubic", "Set14", 3.0, [("c", 25.25, 0.7, 2.0)]),
        run("vdsr", "Set5", 2.0, [("a", 33.0, 0.9375, 0.25), ("b", 35.5, 0.8999, 0.75)]),  # mean 34.25, 0.9187, 0.5
        run("vdsr", "Set5", 4.0, [("a", 28.5, 0.8, 0.125), ("b", 27.0, 0.7, 0.375)], lr_mode="y-float"),
    ]


def test_markdown_puts_each_run_in_its_method_row_and_cell():
    assert format_results(_results(), "markdown") == (
        "| method | Set5 x2 | Set14 x3 | Set5 x4 |\n"
        "|---|---|---|---|\n"
        "| bicubic | 32.00 / 0.8125 | 25.25 / 0.7000 |  |\n"
        "| vdsr | 34.25 / 0.9187 |  | 27.75 / 0.7500 |\n"
    )


def test_csv_rows_are_the_images_then_the_mean():
    rows = list(csv.reader(io.StringIO(format_results(_results(), "csv"))))
    assert rows[0] == ["method", "dataset", "scale", "lr_mode", "image", "psnr", "ssim", "seconds"]
    assert rows[1:] == [
        ["bicubic", "Set5", "2", "rgb", "a", "30.000000", "0.875000", "0.500000"],
        ["bicubic", "Set5", "2", "rgb", "b", "34.000000", "0.750000", "1.500000"],
        ["bicubic", "Set5", "2", "rgb", "mean", "32.000000", "0.812500", "1.000000"],
        ["bicubic", "Set14", "3", "rgb", "c", "25.250000", "0.700000", "2.000000"],
        ["bicubic", "Set14", "3", "rgb", "mean", "25.250000", "0.700000", "2.000000"],
        ["vdsr", "Set5", "2", "rgb", "a", "33.000000", "0.937500", "0.250000"],
        ["vdsr", "Set5", "2", "rgb", "b", "35.500000", "0.899900", "0.750000"],
        ["vdsr", "Set5", "2", "rgb", "mean", "34.250000", "0.918700", "0.500000"],
        ["vdsr", "Set5", "4", "y-float", "a", "28.500000", "0.800000", "0.125000"],
        ["vdsr", "Set5", "4", "y-float", "b", "27.000000", "0.700000", "0.375000"],
        ["vdsr", "Set5", "4", "y-float", "mean", "27.750000", "0.750000", "0.250000"],
    ]


def test_table_with_and_without_the_images():
    one = _results()[2:3]
    assert format_results(one, "table").splitlines() == [
        "vdsr  Set5  x2  (lr-mode rgb)",
        f"  {'image':<24} {'PSNR':>8} {'SSIM':>8} {'seconds':>8}",
        f"  {'a':<24}  33.0000   0.9375    0.250",
        f"  {'b':<24}  35.5000   0.8999    0.750",
        f"  {'mean':<24}  34.2500   0.9187    0.500",
    ]
    assert format_results(_results(), "table", per_image=False).splitlines() == [
        "bicubic  Set5  x2  (lr-mode rgb)", f"  {'mean':<24}  32.0000   0.8125    1.000", "",
        "bicubic  Set14  x3  (lr-mode rgb)", f"  {'mean':<24}  25.2500   0.7000    2.000", "",
        "vdsr  Set5  x2  (lr-mode rgb)", f"  {'mean':<24}  34.2500   0.9187    0.500", "",
        "vdsr  Set5  x4  (lr-mode y-float)", f"  {'mean':<24}  27.7500   0.7500    0.250",
    ]


def test_json_holds_every_image_and_the_means():
    data = json.loads(format_results(_results(), "json"))
    runs = data["results"]
    assert [(r["method"], r["dataset"], r["scale"], r["lr_mode"]) for r in runs] == [
        ("bicubic", "Set5", 2.0, "rgb"), ("bicubic", "Set14", 3.0, "rgb"),
        ("vdsr", "Set5", 2.0, "rgb"), ("vdsr", "Set5", 4.0, "y-float")]
    assert runs[2]["images"] == [{"name": "a", "psnr": 33.0, "ssim": 0.9375, "seconds": 0.25},
                                 {"name": "b", "psnr": 35.5, "ssim": 0.8999, "seconds": 0.75}]
    assert [r["mean"] for r in runs] == [
        {"psnr": 32.0, "ssim": 0.8125, "seconds": 1.0}, {"psnr": 25.25, "ssim": 0.7, "seconds": 2.0},
        {"psnr": 34.25, "ssim": pytest.approx(0.9187), "seconds": 0.5},
        {"psnr": 27.75, "ssim": pytest.approx(0.75), "seconds": 0.25}]


def _strict_json(text: str):
    """Parse as JSON.parse and jq do: no Infinity or NaN."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_a_perfect_score_is_still_json():
    # A flat image upscaled by an interpolation is reproduced exactly: PSNR inf.
    results = [RunResult("bicubic", "mine", 2.0, "rgb", [ImageResult("flat", float("inf"), 1.0, 0.5),
                                                        ImageResult("photo", 30.0, 0.9, 0.5)])]
    data = _strict_json(format_results(results, "json"))
    run = data["results"][0]
    assert run["images"][0]["psnr"] == "Infinity" and run["images"][1]["psnr"] == 30.0
    assert run["mean"]["psnr"] == "Infinity" and float(run["mean"]["psnr"]) == float("inf")


def test_unknown_format_is_refused():
    with pytest.raises(InvalidArgumentError, match="unknown format"):
        format_results(_results(), "html")
