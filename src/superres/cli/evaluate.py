"""``superres evaluate``: PSNR/SSIM of methods on benchmark sets under the SR protocol."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from superres.cli.common import add_data_dir, check_output_file, parse_list, parse_scales


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score methods on benchmark sets (PSNR/SSIM on Y, as the papers)",
        description="Make LR images from HR with MATLAB bicubic, run the methods and print PSNR/SSIM "
        "on the Y channel with `scale` pixels shaved, per image and mean.",
    )
    p.add_argument("--method", "-m", type=parse_list, default=["bicubic"],
                   help="method name(s), comma-separated (default: bicubic); NAME=FILE.safetensors runs a learned "
                        "method with weights of your own, e.g. vdsr,vdsr=runs/vdsr/best.safetensors")
    p.add_argument("--dataset", "-d", type=parse_list, default=["Set5"], help="set name(s) or folder(s) of HR images (default: Set5)")
    p.add_argument("--scale", "-s", type=parse_scales, default=[2.0, 3.0, 4.0], help="scale(s), comma-separated (default: 2,3,4)")
    add_data_dir(p)
    p.add_argument("--lr-mode", choices=["rgb", "y-float"], default="rgb",
                   help="rgb: methods get the uint8 RGB LR (Huang et al.'s protocol, default); "
                   "y-float: the unrounded float Y LR of the SRCNN/VDSR authors' test code")
    p.add_argument("--lr-from-files", action="store_true", help="read the set's *_LR.png files instead of making LR")
    p.add_argument("--metric-channel", choices=["y", "y-unrounded", "rgb"], default="y",
                   help="y: uint8-rounded Y (the protocol, default); y-unrounded; rgb")
    p.add_argument("--format", "-f", choices=["table", "json", "csv", "markdown"], default="table")
    p.add_argument("--mean-only", action="store_true", help="table format: only the mean rows")
    p.add_argument("--save-dir", type=Path, help="write the SR images under DIR/method/dataset/xS/")
    p.add_argument("--output", "-o", type=Path, help="also write the report to this file")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --output file, the images of an earlier run in --save-dir, "
                        "and an earlier --html page (a page folder with other files in it is never replaced)")
    p.add_argument("--html", type=Path, metavar="DIR",
                   help="also write a web page comparing the methods to DIR/index.html: mean and per-image "
                        "scores, and a side-by-side viewer with a split slider and zoom (opens from disk)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="arithmetic of the learned networks (bf16: autocast, as `superres upscale --precision bf16`; "
                        "default auto: `default` as `superres upscale` runs it here, named methods in fp32)")
    p.add_argument("--device", default="cpu",
                   help="where the learned networks run: cpu (default: the cards' scores are CPU ones), auto, "
                        "cuda, cuda:N or mps; the rest of the protocol stays on the CPU (a GPU's convolutions "
                        "can move the last digits, so --write-card needs cpu)")
    p.add_argument("--self-ensemble", type=int, choices=[1, 2, 4, 8], metavar="N",
                   help="run the learned networks N times on flipped/transposed inputs and average "
                        "(1, 2, 4 or 8; default: as each weights card says)")
    p.add_argument("--write-card", action="store_true",
                   help="store the results in the model cards of the weights that produced them: the shipped "
                        "ones, or for NAME=FILE the card beside FILE (score a candidate before shipping it, then "
                        "python -m superres.weights.compare SHIPPED.json FILE.json)")
    p.set_defaults(run=run)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before the evaluation runs, a report file or --save-dir that cannot or may not be
    written: a missing or non-folder parent, a folder, an existing file without --overwrite, one
    of the files the evaluation reads (--overwrite or not), or a path inside the --html folder."""
    from superres.errors import InvalidArgumentError

    save_dir = args.save_dir
    if args.html is not None:
        # the page folder is replaced whole when the page is done: whatever else is written
        # into it (images, the report) would be deleted or overwrite the page
        page = args.html.resolve()
        for option, path in (("--save-dir", save_dir), ("--output", args.output)):
            if path is not None and path.resolve().is_relative_to(page):
                raise InvalidArgumentError(f"{option} {str(path)!r} lies inside the --html folder, "
                                           f"which the page replaces whole: choose a folder outside it")
    if save_dir is not None and save_dir.exists() and not save_dir.is_dir():
        raise InvalidArgumentError(f"--save-dir {str(save_dir)!r} exists and is not a folder")
    if save_dir is not None and save_dir.is_dir() and any(save_dir.iterdir()) and not args.overwrite:
        # its images would be replaced, one by one, by this run's of the same names
        raise InvalidArgumentError(f"--save-dir {str(save_dir)!r} is not empty (use --overwrite to replace "
                                   f"the images this run writes there)")
    if args.output is None:
        return
    from superres.data.datasets import benchmark_images
    from superres.methods.registry import split_method_spec

    inputs: list[Path] = []
    for spec in args.method:
        weights = split_method_spec(spec)[1]
        if weights is not None:
            inputs += [Path(weights), Path(weights).with_suffix(".json")]
    for dataset in args.dataset:
        for scale in args.scale:
            for item in benchmark_images(dataset, scale, data_dir=args.data_dir):
                inputs += [item.hr_path] + ([item.lr_path] if item.lr_path is not None else [])
    check_output_file(args.output, inputs, overwrite=args.overwrite, what="the report")


def run(args: argparse.Namespace) -> int:
    from superres.errors import ImageWriteError, InvalidArgumentError
    from superres.evaluation.benchmark import evaluate, evaluation_precision

    from superres.inference.device import resolve_device

    device = resolve_device(args.device)  # refuses an unknown or missing device before any work
    if args.write_card and device.type != "cpu":
        # cards hold CPU scores: the tables compare them digit for digit
        raise InvalidArgumentError("--write-card records CPU evaluations only: drop --device or give --device cpu")
    if args.write_card and any(evaluation_precision(m, args.precision) != "fp32" for m in args.method):
        # cards hold the fp32 scores that `superres models` and the default choice rely on
        raise InvalidArgumentError(
            "--write-card records fp32 evaluations only: name the model (not `default`) or add --precision fp32"
        )
    if args.write_card and args.self_ensemble is not None:
        # a card's scores are those of the weights run as the card says
        raise InvalidArgumentError("--write-card records the cards' own inference: drop --self-ensemble")
    _check_outputs(args)
    from superres.evaluation.report import format_results

    def progress(run_result, image) -> None:
        if sys.stderr.isatty():
            print(f"\r{run_result.method} {run_result.dataset} x{run_result.scale:g}: {image.name}   ",
                  end="", file=sys.stderr, flush=True)

    import contextlib
    import shlex

    command = "superres " + shlex.join(args.argv)
    page = None
    if args.html is not None:
        from superres.evaluation.webpage import ComparisonPage

        page = ComparisonPage(args.html, overwrite=args.overwrite)  # refuses a folder it may not replace, before any work
    with page if page is not None else contextlib.nullcontext():
        results = evaluate(
            args.method,
            args.dataset,
            args.scale,
            data_dir=args.data_dir,
            lr_mode=args.lr_mode,
            lr_from_files=args.lr_from_files,
            metric_channel=args.metric_channel,
            save_dir=args.save_dir,
            on_image=progress,
            precision=args.precision,
            self_ensemble=args.self_ensemble,
            on_output=page.add if page is not None else None,
            device=device,
        )
        if page is not None:
            print(f"wrote the comparison page {str(page.finish(results, command=command))!r}", file=sys.stderr)
    if sys.stderr.isatty():
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr)
    text = format_results(results, args.format, per_image=not args.mean_only)
    sys.stdout.write(text)
    if args.write_card:
        from superres.weights.cards import record_evaluation

        command = "superres " + shlex.join(a for a in args.argv if a != "--write-card")
        runs = [r.to_dict() for r in results if not r.method.startswith("default")]
        for name in record_evaluation(runs, command):
            print(f"wrote the evaluation into the card of {name}", file=sys.stderr)
    if args.output is not None:
        from superres.io.atomic import write_text_atomic

        try:
            write_text_atomic(args.output, text, overwrite=args.overwrite)
        except FileExistsError:
            raise ImageWriteError(f"{str(args.output)!r} exists (use --overwrite)") from None
        except OSError as exc:
            raise ImageWriteError(f"cannot write {str(args.output)!r}: {exc.strerror or exc}") from None
    return 0
