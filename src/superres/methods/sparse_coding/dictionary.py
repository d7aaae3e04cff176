"""Coupled dictionary learning (Yang et al. 2010, ``train_coupled_dict.m``) and its command.

The HR patches ``Xh`` (25-d, mean removed) and LR features ``Xl`` (100-d) are
each normalised to unit norm, stacked as ``[sqrt(25) Xh; sqrt(100) Xl]`` and
renormalised (Yang's code), and one dictionary ``D = [Dh; Dl]`` is learned on
the joint signals by alternating

* sparse coding of every signal with lambda 0.15 (working-set coordinate
  descent, :func:`~superres.methods.sparse_coding.solvers.lasso_working_set`,
  warm started from the previous codes, 2 rounds of at most 20 sweeps), and
* the dictionary update ``min_D ||X - D A||^2`` s.t. ``||d_j|| <= 1``, solved by
  block-coordinate descent over the atoms (Mairal et al., Online dictionary
  learning for sparse coding, ICML 2009, Algorithm 2) with the sufficient
  statistics ``A A^T`` and ``X A^T``.  This is the same constrained least squares
  that Yang's code solves through its Lagrange dual (Lee et al. 2007); BCD
  needs no inner Newton solve and each sweep never increases the objective.
  Atoms no signal uses are restarted on the worst-coded signals.

Command (trains, then writes ``<out>/scsr-dict.<tag>.safetensors`` and its card)::

    python -m superres.methods.sparse_coding.dictionary --scale 3 --atoms 1024 \\
        --samples 100000 --iterations 15 --data-dir ../shared/data

The SCN's dictionary start (:mod:`superres.models.scn`) wants a small one,
written outside the shipped folder and not serving ``scsr``::

    python -m superres.methods.sparse_coding.dictionary --scale 2 --atoms 128 \\
        --samples 100000 --iterations 20 --out runs/scn-dict --method scn-init

and, after ``superres evaluate -m scsr ... --format json -o report.json``, copy
the scores into the cards::

    python -m superres.methods.sparse_coding.dictionary record-evaluation report.json \\
        --command "superres evaluate -m scsr -d Set5 -s 3 --format json"
    python -m superres.methods.sparse_coding.dictionary show-evaluation   # the cards' scores
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from superres.errors import OneLineParser, one_line_errors
from superres.methods.sparse_coding.solvers import lasso_working_set
from superres.weights.cards import hardware_description, record_evaluation

__all__ = ["CoupledDictionary", "joint_signals", "learn_dictionary", "train_coupled_dictionary", "main"]


@dataclass
class CoupledDictionary:
    """``high`` ``(25, m)`` and ``low`` ``(100, m)`` halves of a jointly learned dictionary."""

    high: torch.Tensor
    low: torch.Tensor
    objective: list[float] = field(default_factory=list)


def joint_signals(hr: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """Yang's joint normalised signals ``(N, 25 + 100)`` from pairs ``hr (N, 25)``, ``lr (N, 100)``."""
    hn, ln = hr.norm(dim=1), lr.norm(dim=1)
    keep = (hn > 0) & (ln > 0)
    hr, lr, hn, ln = hr[keep], lr[keep], hn[keep], ln[keep]
    x = torch.cat([math.sqrt(hr.shape[1]) * hr / hn[:, None], math.sqrt(lr.shape[1]) * lr / ln[:, None]], dim=1)
    xn = x.norm(dim=1)
    x = x[xn > 1e-5]
    return x / x.norm(dim=1, keepdim=True)


def _update_atoms(D: torch.Tensor, AtA: torch.Tensor, XtA: torch.Tensor, sweeps: int) -> torch.Tensor:
    """Block-coordinate descent on ``||X - D A||^2`` with ``||d_j|| <= 1`` (Mairal et al. 2009, Alg. 2)."""
    D = D.clone()
    diag = AtA.diagonal()
    for _ in range(sweeps):
        for j in range(D.shape[1]):
            if diag[j] <= 1e-12:
                continue
            u = D[:, j] + (XtA[:, j] - D @ AtA[:, j]) / diag[j]
            D[:, j] = u / torch.clamp(u.norm(), min=1.0)
    return D


def learn_dictionary(
    X: torch.Tensor,
    atoms: int,
    lam: float = 0.15,
    *,
    iterations: int = 20,
    sweeps: int = 3,
    working_size: int = 32,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> tuple[torch.Tensor, list[float]]:
    """Learn ``D`` ``(n, atoms)`` for signals ``X`` ``(N, n)``: ``min 0.5||x - D a||^2 + lam |a|_1``, ``||d_j|| <= 1``.

    Returns the dictionary and the mean objective after each coding step.
    """
    gen = torch.Generator().manual_seed(seed)
    N, n = X.shape
    D = X[torch.randperm(N, generator=gen)[:atoms]].T.clone()  # start from random signals
    D = D / D.norm(dim=0, keepdim=True)
    A = None
    history: list[float] = []
    for it in range(iterations):
        t0 = time.perf_counter()
        A = lasso_working_set(D, X, lam, working_size=working_size, x0=A, tol=1e-4, max_rounds=2, max_sweeps=20)
        residual = X - A @ D.T
        per_signal = 0.5 * (residual * residual).sum(1) + lam * A.abs().sum(1)
        history.append(float(per_signal.mean()))
        AtA = A.T @ A
        XtA = X.T @ A
        unused = torch.nonzero(AtA.diagonal() <= 1e-12).flatten()
        D = _update_atoms(D, AtA, XtA, sweeps)
        if unused.numel():  # restart unused atoms on the worst-represented signals
            worst = per_signal.topk(unused.numel()).indices
            D[:, unused] = (X[worst] / X[worst].norm(dim=1, keepdim=True)).T
            A[:, unused] = 0
        if log is not None:
            nnz = float((A != 0).sum(1).float().mean())
            log(f"iter {it + 1:3d}/{iterations}: objective {history[-1]:.5f}  nnz/signal {nnz:.1f}  "
                f"restarted {unused.numel()}  {time.perf_counter() - t0:.1f}s")
    return D, history


def train_coupled_dictionary(
    hr: torch.Tensor,
    lr: torch.Tensor,
    atoms: int,
    lam: float = 0.15,
    **options,
) -> CoupledDictionary:
    """Yang's coupled training on pairs ``hr (N, 25)``, ``lr (N, 100)``; see the module docstring."""
    X = joint_signals(hr.to(torch.float32), lr.to(torch.float32))
    D, history = learn_dictionary(X, atoms, lam, **options)
    h = hr.shape[1]
    return CoupledDictionary(D[:h].contiguous(), D[h:].contiguous(), history)


def evaluation_table() -> str:
    """A markdown table of the scores recorded in the shipped ``scsr`` cards (mean PSNR / SSIM, seconds per image)."""
    from superres.methods.learned import weights_for_method
    from superres.weights.store import SHIPPED_DIR, read_card

    lines = ["| dictionary | set | scale | images | PSNR | SSIM | s/image (wall) |", "|---|---|---|---|---|---|---|"]
    for scale, name in sorted(weights_for_method("scsr").items()):
        card = read_card(SHIPPED_DIR / f"{name}.safetensors")
        for run in sorted(card.get("evaluation", {}).get("results", []), key=lambda r: r["dataset"]):
            mean = run["mean"]
            lines.append(f"| {name} | {run['dataset']} | x{run['scale']:g} | {len(run['images'])} | "
                         f"{mean['psnr']:.2f} | {mean['ssim']:.4f} | {mean['seconds']:.1f} |")
    return "\n".join(lines) + "\n"


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """The module's command: train a coupled dictionary, or ``record-evaluation`` / ``show-evaluation``; returns the exit status."""
    if argv is None:
        argv = sys.argv[1:]
    prog = "python -m superres.methods.sparse_coding.dictionary"
    if argv[:1] == ["show-evaluation"]:
        OneLineParser(prog=f"{prog} show-evaluation",
                                description="Print the scores recorded in the shipped scsr cards as a markdown "
                                            "table.").parse_args(argv[1:])
        sys.stdout.write(evaluation_table())
        return 0
    if argv and argv[0] == "record-evaluation":
        sub = OneLineParser(
            prog=f"{prog} record-evaluation",
            description="Write `superres evaluate -m scsr --format json` reports into the shipped cards.",
        )
        sub.add_argument("reports", nargs="+", type=Path)
        sub.add_argument("--command", required=True, help="the evaluate command that made the reports")
        sub_args = sub.parse_args(argv[1:])
        runs = []
        for report in sub_args.reports:
            try:
                runs += json.loads(report.read_text())["results"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                sub.error(f"{str(report)!r} is not a readable `superres evaluate --format json` report "
                          f"({type(exc).__name__}: {exc})")
        for name in record_evaluation(runs, sub_args.command):
            print(f"updated {name}.json", file=sys.stderr)
        return 0
    parser = OneLineParser(
        prog=prog,
        description="Train Yang et al.'s coupled dictionaries for the scsr method.",
        epilog=f"Two more commands: `{prog} record-evaluation REPORT.json ... --command CMD` writes "
               f"`superres evaluate -m scsr --format json` reports into the shipped cards, and "
               f"`{prog} show-evaluation` prints the scores the cards hold.",
    )
    parser.add_argument("--scale", type=int, required=True)
    parser.add_argument("--atoms", type=int, default=1024)
    parser.add_argument("--samples", type=int, default=100_000, help="patch pairs sampled before pruning")
    parser.add_argument("--iterations", type=int, default=20, help="alternating coding/update iterations")
    parser.add_argument("--lam", type=float, default=0.15)
    parser.add_argument("--patch", type=int, default=5)
    parser.add_argument("--train-set", default="T91")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default=None, help="weights tag (default: T91-<atoms>-x<scale>)")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the package's weights/files)")
    parser.add_argument("--method", default="scsr",
                        help="the card's method (default scsr); another name, e.g. scn-init, keeps a dictionary made "
                             "only to start an SCN from serving scsr if it is ever copied into weights/files")
    args = parser.parse_args(argv)

    from superres.data.datasets import training_images
    from superres.methods.sparse_coding.features import load_training_y, sample_patch_pairs
    from superres.weights.store import SHIPPED_DIR, save_weights

    torch.manual_seed(args.seed)
    start = time.perf_counter()
    files = training_images(args.train_set, data_dir=args.data_dir)
    images = [load_training_y(p) for p in files]
    hr, lr = sample_patch_pairs(images, args.scale, args.samples, patch=args.patch, seed=args.seed)
    print(f"{len(files)} images, {hr.shape[0]} patch pairs after pruning", file=sys.stderr)
    result = train_coupled_dictionary(
        hr, lr, args.atoms, args.lam, iterations=args.iterations, seed=args.seed,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    wall = time.perf_counter() - start
    tag = args.tag or f"{args.train_set}-{args.atoms}-x{args.scale}"
    name = f"scsr-dict.{tag}"
    out = args.out or SHIPPED_DIR
    command = "python -m superres.methods.sparse_coding.dictionary " + " ".join(argv)
    card = {
        "name": name,
        "method": args.method,
        "architecture": "coupled-dictionary",
        "model_args": {"atoms": args.atoms, "patch": args.patch, "features": "yang-gradients-4", "lam_train": args.lam},
        "scales": [args.scale],
        "channels": "y",
        "params": int(result.high.numel() + result.low.numel()),
        "training": {
            "data": f"{args.train_set} ({len(files)} images), {hr.shape[0]} of {args.samples} sampled 5x5 patch pairs "
                    "kept after pruning (HR variance > 10)",
            "command": command,
            "steps": args.iterations,
            "objective": result.objective,
            "wall_time_s": round(wall, 1),
            "hardware": hardware_description(torch.device("cpu")),
            "notes": "alternating working-set coordinate-descent coding (lambda %.2f) and block-coordinate atom update, "
                     "seed %d" % (args.lam, args.seed),
        },
        "evaluation": {},
    }
    path = save_weights(out / f"{name}.safetensors", {"high": result.high, "low": result.low}, card)
    print(f"wrote {path} ({wall:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
