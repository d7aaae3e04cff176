"""``format_results(..., "markdown")``: rows and columns in the order the runs came, not sorted."""

from __future__ import annotations

from superres.evaluation.benchmark import ImageResult, RunResult
from superres.evaluation.report import format_results


def test_markdown_rows_keep_the_order_of_the_methods_asked_for():
    results = [RunResult("vdsr", "Set5", 2.0, "rgb", [ImageResult("a", 34.0, 0.9, 0.1)]),
               RunResult("bicubic", "Set5", 2.0, "rgb", [ImageResult("a", 32.0, 0.8, 0.1)])]
    assert format_results(results, "markdown").splitlines()[2:] == [
        "| vdsr | 34.00 / 0.9000 |", "| bicubic | 32.00 / 0.8000 |"]


def test_the_default_format_is_the_table():
    results = [RunResult("bicubic", "Set5", 2.0, "rgb", [ImageResult("a", 32.0, 0.8, 0.1)])]
    assert format_results(results) == format_results(results, "table")
