"""``superres export``: a learned method's network for one scale as ONNX (dynamic height and width)."""

from __future__ import annotations

import argparse

from superres.cli.common import parse_scale


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a learned model to ONNX (dynamic height and width)",
        description="Write the network of MODEL at SCALE as ONNX. Input 'y' (N, 1, H, W) float32 in [0, 1], the Y "
        "channel (bicubic-upscaled first for SRCNN/VDSR-style models, see the model's metadata 'superres.input'); "
        "output 'sr_y'. H, W and N are dynamic.",
    )
    p.add_argument("model", metavar="MODEL", help="learned method name (see `superres models`), 'default', NAME=FILE.safetensors (the method "
                   "NAME with weights of your own), or a .safetensors weights file")
    p.add_argument("-s", "--scale", type=parse_scale, required=True, help="scale whose network to export")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="ONNX file to write (name ending in .onnx)")
    p.add_argument("--opset", type=int, default=17,
                   help="ONNX opset (default 17): one the installed torch exports, 7 to 23 for torch 2.13 "
                        "(some models need 10 or higher)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from superres.inference.export import export_onnx

    path = export_onnx(args.model, args.scale, args.output, opset=args.opset, overwrite=args.overwrite)
    print(f"wrote {path} ({args.model} x{args.scale:g}, dynamic height and width)")
    return 0
