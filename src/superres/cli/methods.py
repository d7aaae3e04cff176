"""``superres methods``: list the registered SR methods."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("methods", help="list the SR methods",
                       description="List every registered SR method: name, family, the channels it works on "
                                   "(rgb, or y: the Y channel, with Cb/Cr by bicubic), the scales it does and "
                                   "what it is. Registered methods that cannot run here are named below the "
                                   "table, with the reason.")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from superres.methods.registry import list_methods, unavailable_methods

    rows = [(i.name, i.family, i.channels, "any" if i.scales is None else ",".join(f"{s:g}" for s in i.scales), i.summary)
            for i in list_methods()]
    widths = [max(len(r[k]) for r in rows + [("name", "family", "chan", "scales", "")]) for k in range(4)]
    print(f"{'name':<{widths[0]}}  {'family':<{widths[1]}}  {'chan':<{widths[2]}}  {'scales':<{widths[3]}}  summary")
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}")
    for name, reason in unavailable_methods().items():
        print(f"not available here: {name}: {reason}")
    return 0
