"""Format evaluation results as a text table, JSON, CSV or Markdown.

The JSON form is stable::

    {"results": [{"method", "dataset", "scale", "lr_mode",
                  "images": [{"name", "psnr", "ssim", "seconds"}],
                  "mean": {"psnr", "ssim", "seconds"}}]}

A perfect score's PSNR (inf) is the string ``"Infinity"`` (JSON has no such number;
``float()`` reads it back).
"""

from __future__ import annotations

import csv
import io

from superres.errors import InvalidArgumentError
from superres.evaluation.benchmark import RunResult
from superres.io.jsontext import dumps_json

__all__ = ["FORMATS", "format_results"]

FORMATS = ("table", "json", "csv", "markdown")


def _table(results: list[RunResult], per_image: bool) -> str:
    lines = []
    for run in results:
        lines.append(f"{run.method}  {run.dataset}  x{run.scale:g}  (lr-mode {run.lr_mode})")
        if per_image:
            lines.append(f"  {'image':<24} {'PSNR':>8} {'SSIM':>8} {'seconds':>8}")
            for r in run.images:
                lines.append(f"  {r.name:<24} {r.psnr:8.4f} {r.ssim:8.4f} {r.seconds:8.3f}")
        lines.append(f"  {'mean':<24} {run.mean_psnr:8.4f} {run.mean_ssim:8.4f} {run.mean_seconds:8.3f}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _markdown(results: list[RunResult]) -> str:
    """One row per method, one column per (set, scale): "PSNR / SSIM"."""
    columns = []
    for run in results:
        key = (run.dataset, run.scale)
        if key not in columns:
            columns.append(key)
    methods = list(dict.fromkeys(run.method for run in results))
    cell = {(run.method, run.dataset, run.scale): run for run in results}
    header = "| method | " + " | ".join(f"{d} x{s:g}" for d, s in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    rows = [header, rule]
    for m in methods:
        values = []
        for d, s in columns:
            run = cell.get((m, d, s))
            values.append(f"{run.mean_psnr:.2f} / {run.mean_ssim:.4f}" if run else "")
        rows.append(f"| {m} | " + " | ".join(values) + " |")
    return "\n".join(rows) + "\n"


def _csv(results: list[RunResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["method", "dataset", "scale", "lr_mode", "image", "psnr", "ssim", "seconds"])
    for run in results:
        for r in run.images:
            writer.writerow([run.method, run.dataset, f"{run.scale:g}", run.lr_mode, r.name, f"{r.psnr:.6f}", f"{r.ssim:.6f}", f"{r.seconds:.6f}"])
        writer.writerow([run.method, run.dataset, f"{run.scale:g}", run.lr_mode, "mean", f"{run.mean_psnr:.6f}", f"{run.mean_ssim:.6f}", f"{run.mean_seconds:.6f}"])
    return buffer.getvalue()


def format_results(results: list[RunResult], fmt: str = "table", *, per_image: bool = True) -> str:
    """Render ``results`` in one of :data:`FORMATS`."""
    if fmt == "table":
        return _table(results, per_image)
    if fmt == "json":
        return dumps_json({"results": [run.to_dict() for run in results]}, indent=2) + "\n"
    if fmt == "csv":
        return _csv(results)
    if fmt == "markdown":
        return _markdown(results)
    raise InvalidArgumentError(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
