"""``superres models``: the model zoo: scales, cost, benchmark PSNR, and the default per scale.

Parameters and multiply-adds per output pixel are counted from the network
(:mod:`superres.models.cost`); PSNR comes from the evaluation that
``superres evaluate`` wrote into each weights card (the default protocol,
``lr_mode`` rgb, when the card has it; ``--lr-mode y-float`` shows the
authors' test-code mode instead).  The default per scale comes from
:mod:`superres.weights.defaults`, the one place that records it.
"""

from __future__ import annotations

import argparse
import json
import sys

DATASETS = ("Set5", "Set14", "BSD100")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="list every method with scales, parameters, multiply-adds per pixel, PSNR, and the default",
        description="One row per method and scale: parameters, multiply-adds per output pixel (counted from the "
        "network), Set5/Set14/BSD100 PSNR from the weights card, and which method `superres upscale` uses by default.",
    )
    p.add_argument("--format", "-f", choices=["table", "json", "markdown"], default="table")
    p.add_argument("--lr-mode", choices=["rgb", "y-float"], default="rgb",
                   help="which of the cards' evaluations to show (default rgb: the protocol)")
    p.set_defaults(run=run)


def _defaults() -> dict[float, str]:
    from superres.weights.defaults import DEFAULT_METHOD_BY_SCALE

    return {float(s): name for s, name in DEFAULT_METHOD_BY_SCALE.items()}


def collect_rows(lr_mode: str = "rgb") -> list[dict]:
    """One dict per (method, scale): the data behind the table."""
    from superres.errors import SuperresError
    from superres.methods.learned import LearnedMethod
    from superres.methods.registry import METHODS, get_method
    from superres.models.cost import model_cost
    from superres.plugins import METHODS_GROUP, add_plugins
    from superres.weights.cards import card_psnr
    from superres.weights.store import SHIPPED_DIR, read_card

    defaults = _defaults()
    rows: list[dict] = []
    for name in add_plugins(METHODS, METHODS_GROUP):  # other packages' methods too, as `superres methods`
        try:
            method = get_method(name)
        except SuperresError as exc:
            rows.append({"method": name, "scale": None, "family": "", "params": None, "macs_per_pixel": None,
                         "psnr": {}, "default_for": [], "note": str(exc).split(";")[0]})
            continue
        info = method.info
        base = {"method": name, "family": info.family, "note": ""}
        if isinstance(method, LearnedMethod):
            for scale in info.scales or sorted(method.weights):  # any-scale models: the trained ones
                row = dict(base, scale=scale, default_for=[scale] if defaults.get(scale) == name else [])
                try:
                    model, card = method.model_for_scale(scale)
                    cost = model_cost(model, card, scale)
                    row.update(params=cost.params, macs_per_pixel=cost.macs_per_pixel, psnr=card_psnr(card, scale, lr_mode),
                               weights=card.get("name"))
                except SuperresError as exc:
                    row.update(params=None, macs_per_pixel=None, psnr={}, note=str(exc))
                rows.append(row)
        elif info.scales and callable(getattr(method, "weights_for_scale", None)):
            # a classical method with learned data per scale (scsr's dictionaries): scores from the
            # cards of the data it runs at each scale (the method built above says which)
            for scale in info.scales:
                card = read_card(SHIPPED_DIR / f"{method.weights_for_scale(scale)}.safetensors")
                # its parameters are the dictionaries' entries, which its card counts
                rows.append(dict(base, scale=scale, params=int(card.get("params", 0)), macs_per_pixel=None,
                                 psnr=card_psnr(card, scale, lr_mode),
                                 weights=card.get("name"), default_for=[scale] if defaults.get(scale) == name else []))
        else:
            scales = info.scales
            rows.append(dict(base, scale=None if scales is None else ",".join(f"{s:g}" for s in scales),
                             params=0, macs_per_pixel=None, psnr={},
                             default_for=sorted(s for s, m in defaults.items() if m == name)))
    return rows


def _fmt_count(n: float | None) -> str:
    if n is None:
        return "-"
    if n == 0:
        return "0"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        text = f"{n / size:.3g}"  # rounded first: 999.6k shows as 1M, not 1e+03k
        if float(text) >= 1:
            return f"{text}{unit}"
    return f"{n:.0f}"


def _table(rows: list[dict]) -> list[list[str]]:
    header = ["method", "scale", "params", "MACs/px", *DATASETS, "default"]
    lines = [header]
    for r in rows:
        scale = r["scale"]
        shown = "any" if scale is None and not r["note"] else ("-" if scale is None else
                                                              (f"x{scale:g}" if isinstance(scale, float) else scale))
        default = ",".join(f"x{s:g}" for s in r["default_for"])
        psnr = [f"{r['psnr'][d]:.2f}" if d in r["psnr"] else "-" for d in DATASETS]
        line = [r["method"], shown, _fmt_count(r["params"]), _fmt_count(r["macs_per_pixel"]), *psnr,
                f"* {default}" if default else ""]
        if r["note"]:
            line[-1] = (line[-1] + " " if line[-1] else "") + f"({r['note']})"
        lines.append(line)
    return lines


def markdown_table(rows: list[dict]) -> list[str]:
    """The ``--format markdown`` lines of ``rows`` (from :func:`collect_rows`): header, rule, one line per row."""
    lines = _table(rows)
    return ["| " + " | ".join(lines[0]) + " |", "|" + "|".join("---" for _ in lines[0]) + "|",
            *("| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in lines[1:])]


def run(args: argparse.Namespace) -> int:
    rows = collect_rows(args.lr_mode)
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.format == "markdown":
        print("\n".join(markdown_table(rows)))
    else:
        lines = _table(rows)
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
        for line in lines:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1])
    print("\nMACs/px: multiply-adds per output pixel, counted from the network; PSNR (dB, Y channel) from the "
          "weights card's evaluation; * marks the method `superres upscale` uses by default at that scale.",
          file=sys.stderr if args.format == "markdown" else sys.stdout)
    return 0
