"""Speed of ``scsr`` (issue 6) on Set5, and the lasso objective of ISTA vs FISTA per iteration.

    python benchmarks/bench_sparse_coding.py                  # both parts, Set5 x3, 1 torch thread
    python benchmarks/bench_sparse_coding.py --part solver --json docs/figures/ista_fista.json
    python benchmarks/bench_sparse_coding.py --part images --threads 2

``images``: seconds per image of ``scsr`` on every Set5 image at the given
scale, input as ``superres evaluate`` feeds it (the protocol's uint8 RGB LR),
with bicubic timed in the same run for reference; wall-clock and CPU seconds
(the latter tells what the run costs when other jobs share the cores).  Target (issue 6): all of
Set5 at x3 in under 60 s on the project's 2-core CPU.

``solver``: the lasso that ``scsr`` solves, on real inputs: ``n`` normalised
LR features of Set5 img_002 (bird) at the scale, the shipped dictionary's
``Dl`` (unit-norm atoms) and lambda 0.2.  Prints the mean objective after each
iteration of ISTA and FISTA (step 1/L, L = ||Dl||^2) and its gap to the
optimum (working-set solver run to convergence), and the time of each solver
to reach a gap of 1e-4 of the optimum.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _timing import pick_image, positive_int  # noqa: E402

from superres.cli.common import add_data_dir  # noqa: E402
from superres.data.datasets import benchmark_images  # noqa: E402
from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale  # noqa: E402
from superres.errors import InvalidArgumentError, OneLineParser, one_line_errors  # noqa: E402
from superres.evaluation.benchmark import load_uint8  # noqa: E402
from superres.evaluation.metrics import protocol_metrics  # noqa: E402
from superres.methods.registry import get_method  # noqa: E402


def lasso_inputs(scale: int, count: int, data_dir) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Dl, Y)``: the x``scale`` dictionary's unit-norm LR half and ``count`` normalised features of bird."""
    from superres.methods.sparse_coding.features import extract_patches, gradient_features, patch_grid
    from superres.ops.color import rgb_to_y_bt601
    from superres.ops.resize import imresize_matlab

    method = get_method("scsr")
    _, low = method.dictionary(scale)
    Dl = low / low.norm(dim=0, keepdim=True)
    item = pick_image(benchmark_images("Set5", scale, data_dir=data_dir), "img_002", "Set5")
    lr = bicubic_downscale(modcrop_to_scale(load_uint8(item.hr_path), scale), scale)
    mid = imresize_matlab(rgb_to_y_bt601(lr).to(torch.float64), scale).round().float()
    fea = gradient_features(mid)[0]
    rows = torch.tensor(patch_grid(mid.shape[-2], 5, 4))
    cols = torch.tensor(patch_grid(mid.shape[-1], 5, 4))
    rr, cc = torch.meshgrid(rows, cols, indexing="ij")
    pick = torch.randperm(rr.numel(), generator=torch.Generator().manual_seed(0))[:count]
    Y = extract_patches(fea, rr.flatten()[pick], cc.flatten()[pick], 5)
    norm = Y.norm(dim=1, keepdim=True)
    return Dl, torch.where(norm > 1, Y / norm, Y)


def solver_part(args) -> dict:
    from superres.methods.sparse_coding.solvers import fista, ista, lasso_objective, lasso_working_set

    lam = 0.2
    Dl, Y = lasso_inputs(args.scale, args.patches, args.data_dir)
    Dl, Y = Dl.double(), Y.double()
    t0 = time.perf_counter()
    best_codes = lasso_working_set(Dl, Y, lam, max_rounds=10, max_sweeps=1000, tol=1e-10)
    t_ws_exact = time.perf_counter() - t0
    best = lasso_objective(Dl, Y, best_codes, lam)
    records = {}
    for solver in (ista, fista):
        result = solver(Dl, Y, lam, max_iter=args.iterations, tol=0, record_objective=True)
        records[solver.__name__] = result.history.mean(1)
    best_mean = float(best.mean())
    print(f"lasso on {Y.shape[0]} LR features of Set5 bird x{args.scale}: Dl {tuple(Dl.shape)}, lambda {lam}, "
          f"optimum mean objective {best_mean:.6f} (working set, {t_ws_exact:.2f} s to tol 1e-10)")
    print(f"{'iter':>5} {'ISTA':>10} {'FISTA':>10} {'ISTA gap':>10} {'FISTA gap':>10}")
    shown = sorted({1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 1000, args.iterations} & set(range(1, args.iterations + 1)))
    for it in shown:
        i, f = float(records["ista"][it - 1]), float(records["fista"][it - 1])
        print(f"{it:>5} {i:>10.6f} {f:>10.6f} {i - best_mean:>10.2e} {f - best_mean:>10.2e}")
    # Time to a relative gap of 1e-4 (per signal mean), each solver from scratch.
    target = best_mean * (1 + 1e-4)
    timing = {}
    for name, fn in (("ista", ista), ("fista", fista)):
        hist = records[name]
        reached = (hist <= target).nonzero()
        iters = int(reached[0]) + 1 if reached.numel() else None
        if iters is None:
            timing[name] = (None, None)
            continue
        t0 = time.perf_counter()
        fn(Dl, Y, lam, max_iter=iters, tol=0)
        timing[name] = (iters, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ws = lasso_working_set(Dl, Y, lam)  # the settings of the dictionary training (default arguments)
    t_ws = time.perf_counter() - t0
    ws_gap = float(lasso_objective(Dl, Y, ws, lam).mean()) / best_mean - 1
    for name, (iters, seconds) in timing.items():
        if iters is None:
            print(f"{name}: gap 1e-4 not reached in {args.iterations} iterations")
        else:
            print(f"{name}: gap 1e-4 after {iters} iterations, {seconds:.3f} s")
    print(f"working set (default arguments): relative gap {ws_gap:.1e}, {t_ws:.3f} s")
    return {
        "scale": args.scale,
        "patches": int(Y.shape[0]),
        "lambda": lam,
        "optimum": best_mean,
        "ista": records["ista"].tolist(),
        "fista": records["fista"].tolist(),
    }


def images_part(args) -> None:
    from superres.methods.sparse_coding.features import patch_grid

    scsr = get_method("scsr")
    bicubic = get_method("bicubic")
    items = benchmark_images("Set5", args.scale, data_dir=args.data_dir)
    print(f"Set5 x{args.scale}, {torch.get_num_threads()} torch thread(s)")
    print(f"{'image':<8} {'HR':>9} {'patches':>8} {'scsr s':>7} {'CPU s':>6} {'bicubic s':>9} {'PSNR':>7}")
    total = total_cpu = total_bicubic = 0.0
    for item in items:
        hr = modcrop_to_scale(load_uint8(item.hr_path), args.scale)  # a no-op where Set5 has x<scale>
        lr = bicubic_downscale(hr, args.scale).to(torch.float32) / 255
        with torch.inference_mode():
            t0, c0 = time.perf_counter(), time.process_time()
            sr = scsr.upscale(lr, args.scale)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            t0 = time.perf_counter()
            bicubic.upscale(lr, args.scale)
            seconds_bicubic = time.perf_counter() - t0
        psnr, _ = protocol_metrics(sr, hr, shave=args.scale, channel="y")
        h, w = hr.shape[-2:]
        patches = len(patch_grid(h, 5, 4)) * len(patch_grid(w, 5, 4))
        total += seconds
        total_cpu += cpu
        total_bicubic += seconds_bicubic
        print(f"{item.name:<8} {w:>4}x{h:<4} {patches:>8} {seconds:>7.1f} {cpu:>6.1f} {seconds_bicubic:>9.3f} "
              f"{float(psnr[0]):>7.2f}")
    print(f"total    {'':>9} {'':>8} {total:>7.1f} {total_cpu:>6.1f} {total_bicubic:>9.3f}   "
          f"({total / len(items):.1f} s per image)")
    print("scsr s: wall clock; CPU s: CPU time of this process (all its threads).  On a shared machine the "
          "wall clock includes time spent waiting for a core; load average now "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["all", "images", "solver"], default="all")
    parser.add_argument("-s", "--scale", type=positive_int, default=3)
    parser.add_argument("--threads", type=positive_int, default=1)
    parser.add_argument("--patches", type=positive_int, default=2000, help="solver part: number of features")
    parser.add_argument("--iterations", type=positive_int, default=500, help="solver part: ISTA/FISTA iterations")
    parser.add_argument("--json", type=Path, help="solver part: write the objective histories here")
    add_data_dir(parser)
    args = parser.parse_args(argv)
    get_method("scsr").check_scale(args.scale)  # both parts need its dictionary for the scale
    if args.json is not None and args.part == "images":
        raise InvalidArgumentError("--json records the solver part: use --part solver or all")
    benchmark_images("Set5", args.scale, data_dir=args.data_dir)  # a missing data folder fails before the work
    torch.set_num_threads(args.threads)
    if args.part in ("all", "solver"):
        record = solver_part(args)
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(record) + "\n")
    if args.part in ("all", "images"):
        images_part(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
