"""Speed and memory of ``superres upscale``, as ratios measured in one run.

Prints, for every shipped model (every registered learned method whose
weights are in the package) and for bicubic:

* milliseconds per output megapixel at fp32 and bf16 (the whole pipeline of
  :func:`superres.inference.upscale_array`: colour conversion, network,
  Cb/Cr bicubic, quantisation), best of ``--repeat`` runs after a warm-up;
* the machine's convolution ceiling, measured in the same run: a 3x3
  64->64 convolution on a 64x256x256 channels_last tensor (fp32 and bf16),
  and the fraction of it each network reaches (its multiply-adds per output
  pixel, counted by :mod:`superres.models.cost`, times pixels per second,
  over the ceiling);
* bicubic through the upscale pipeline against ``imresize_matlab`` alone on
  the same pixels (the foundation's resize): the ratio should be <= 1.0x-ish;
* the peak resident memory (``ru_maxrss``) of a separate process that runs
  ``superres upscale`` on a 5000x5000 RGB PNG at x4 with the default model
  and the default memory budget, and its wall time (``--skip-big`` skips it).

``--set14`` times what issue 10 asks for: seconds per Set14 image (the
MATLAB LR files of the shared data, whole pipeline of ``superres upscale``,
best of ``--repeat``, averaged over the 14 images) for the default model at
fp32 and bf16, SRCNN, VDSR (shipped weights, else random ones: speed does
not depend on weights) and bicubic, with each time as a ratio to VDSR's.

``--architectures`` also times the registered architectures with random
weights (srcnn, vdsr, litesr variants): the speed of a network does not
depend on its weights, so this gives the figures before weights ship.

Run: ``python benchmarks/bench_upscale.py [--architectures] [--set14] [--skip-big]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The same thread policy as `superres upscale` (see superres/cli/upscale.py); set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from superres.cli.common import positive_int  # noqa: E402
from superres.errors import InvalidArgumentError, OneLineParser, SuperresError, one_line_errors  # noqa: E402
from superres.inference import configure_threads, prepare_method, upscale_array  # noqa: E402
from superres.inference.device import default_max_memory, format_bytes  # noqa: E402
from superres.methods.learned import LearnedMethod  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_time as _best_time, conv_ceiling  # noqa: E402


def test_image(side: int, seed: int = 0) -> np.ndarray:
    from superres.assets import make_sample

    base = make_sample(256, 192, seed=seed)
    reps = (-(-side // base.shape[0]), -(-side // base.shape[1]), 1)
    return np.ascontiguousarray(np.tile(base, reps)[:side, :side])


def _cost(method, scale) -> float | None:
    if not isinstance(method, LearnedMethod):
        return None
    from superres.models.cost import model_cost

    model, card = method.model_for_scale(scale)
    return model_cost(model, card, scale).macs_per_pixel


def time_method(method, scale: float, pixels: np.ndarray, precision: str, repeat: int) -> float:
    """Milliseconds per output megapixel of the whole upscale pipeline."""
    if isinstance(method, LearnedMethod):
        method.precision = precision
    out_px = np.prod([int(np.ceil(n * scale)) for n in pixels.shape[:2]])
    seconds = _best_time(lambda: upscale_array(pixels, method, scale), repeat)
    return seconds * 1e3 / (out_px / 1e6)


def shipped_methods() -> list[tuple[str, object]]:
    from superres.methods.registry import METHODS, get_method

    found = [("bicubic", get_method("bicubic"))]
    for name in METHODS:
        try:
            method = get_method(name)
        except SuperresError:
            continue
        if isinstance(method, LearnedMethod):
            found.append((name, method))
    return found


def random_architectures(folder: Path) -> list[tuple[str, object]]:
    from superres.methods.base import MethodInfo
    from superres.models.registry import MODELS, build_model
    from superres.weights.store import save_weights

    specs = [("srcnn (random)", "srcnn", {}, "upsampled", [2, 3, 4]),
             ("vdsr (random)", "vdsr", {}, "upsampled", [2, 3, 4])]
    if "litesr" in MODELS:
        from superres.models.litesr import VARIANTS

        for variant, args in VARIANTS.items():
            specs.append((f"litesr-{variant} (random)", "litesr", {"scales": [2, 3, 4], **args}, "lr", [2, 3, 4]))
    methods = []
    for label, arch, args, feed, scales in specs:
        model = build_model(arch, **args)
        path = save_weights(folder / f"{arch}-{len(methods)}.safetensors", model.state_dict(),
                            {"architecture": arch, "model_args": args, "scales": scales, "input": feed})
        info = MethodInfo(name=label, family="cnn", summary="random weights, for timing")
        method = LearnedMethod(info, {float(s): str(path) for s in scales})
        loaded, _ = method.model_for_scale(float(scales[0]))  # one file serves every scale
        if hasattr(loaded, "fuse"):  # inference form: re-parameterised branches merged
            loaded.fuse()
            loaded.to(memory_format=torch.channels_last)
        methods.append((label, method))
    return methods


def set14_seconds(label: str, method, precision: str, scale: float, repeat: int) -> dict:
    """Mean seconds per Set14 image of ``method`` at ``scale`` (MATLAB LR inputs, whole upscale pipeline).

    One warm-up run on the first image (weights load, oneDNN set-up), then the
    best of ``repeat`` runs per image.
    """
    from superres.data.datasets import benchmark_images
    from superres.io.image import read_image

    images = [read_image(im.lr_path).pixels for im in benchmark_images("Set14", scale)]
    m = prepare_method(method, scale, device="cpu")
    if isinstance(m, LearnedMethod):
        m.precision = precision
    upscale_array(images[0], m, scale)
    seconds = []
    for px in images:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            upscale_array(px, m, scale)
            times.append(time.perf_counter() - t0)
        seconds.append(min(times))
    if isinstance(m, LearnedMethod):
        m.precision = "fp32"
    return {"method": label, "precision": precision, "scale": scale, "seconds_per_image": sum(seconds) / len(seconds)}


def _vdsr_for_timing(folder: Path):
    from superres.methods.registry import get_method

    try:
        return "vdsr", get_method("vdsr")
    except SuperresError:
        return next((label, m) for label, m in random_architectures(folder) if label.startswith("vdsr"))


def peak_memory_big(side: int, scale: float, workdir: Path, model: str = "default") -> dict:
    """Run `superres upscale` on a side x side PNG in a fresh process; its peak RSS and wall time."""
    from superres.io import write_image

    src = workdir / "big.png"
    write_image(src, test_image(side), overwrite=True)
    out = workdir / "big_x4.png"
    # ru_maxrss of a child also counts the parent's pages it saw before exec (fork/vfork),
    # so the child reports VmHWM too, the high-water mark of its own address space (Linux).
    peak = (
        "def peak():\n"
        "    import resource\n"
        "    try:\n"
        "        for line in open('/proc/self/status'):\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    except OSError:\n"
        "        pass\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    )
    code = (
        "import json, resource, sys, time\n" + peak +
        "from superres.cli.main import main\n"
        "t = time.perf_counter()\n"
        f"rc = main(['upscale', {str(src)!r}, '-o', {str(out)!r}, '-s', '{scale:g}', '-m', {model!r}, '-q',"
        " '--overwrite'])\n"
        "print(json.dumps({'rc': rc, 'seconds': time.perf_counter() - t, 'maxrss_kib': peak(),"
        " 'ru_maxrss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    base_code = ("import json, resource, torch, superres.cli.main, superres.inference\n" + peak +
                 "print(json.dumps({'maxrss_kib': peak()}))")
    result = _child_record(code, f"the {side}x{side} x{scale:g} run")  # first: a failed run costs no baseline
    baseline = _child_record(base_code, "the baseline process (python + torch alone)")
    result["baseline_kib"] = baseline["maxrss_kib"]
    result["output_bytes"] = out.stat().st_size if out.exists() else 0
    out.unlink(missing_ok=True)
    src.unlink(missing_ok=True)
    return result


def _child_record(code: str, what: str) -> dict:
    """Run ``python -c code`` and return the JSON record it prints last; a child that fails (a
    traceback, or ``superres upscale`` refusing, e.g. over the memory budget) raises
    :class:`SuperresError` with the last line of its stderr, so no figures of a failed run are shown."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    try:
        record = json.loads(lines[-1]) if proc.returncode == 0 and lines else None
    except json.JSONDecodeError:
        record = None
    rc = proc.returncode if record is None else record.get("rc", 0)
    if record is None or rc != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SuperresError(f"{what} failed (exit {rc}): {last}")
    return record


def _positive_float(text: str) -> float:
    """A number above 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architectures", action="store_true", help="also time random-weight architectures")
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--output-mp", type=_positive_float, default=0.25, help="output megapixels per timed image")
    parser.add_argument("--skip-big", action="store_true", help="skip the 5000x5000 x4 memory run")
    parser.add_argument("--big-side", type=positive_int, default=5000)
    parser.add_argument("--big-model", default="default", help="model of the big run (default: the default at x4)")
    parser.add_argument("--set14", action="store_true", help="only: seconds per Set14 image vs VDSR and SRCNN")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--threads", type=positive_int, help="torch threads (default: all usable CPUs, as superres upscale)")
    args = parser.parse_args(argv)
    if args.json is not None and not args.json.parent.is_dir():
        raise InvalidArgumentError(f"--json {str(args.json)!r}: folder {str(args.json.parent)!r} does not exist")
    if not args.skip_big and not args.set14:  # the big run comes last: a bad name must fail before the timing
        from superres.methods.registry import get_method, resolve_method_name

        get_method(args.big_model, scale=4.0).check_scale(4.0)
        big_name = resolve_method_name(args.big_model, 4.0)

    threads = configure_threads(args.threads)
    bf16_native = "avx512_bf16" in Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else None
    print(f"torch {torch.__version__}, {threads} threads, CPU bf16 instructions: {bf16_native}")
    dtypes = (("fp32", torch.float32), ("bf16", torch.bfloat16))
    ceiling = {p: conv_ceiling(dt, max(args.repeat, 10)) for p, dt in dtypes}
    print(f"conv ceiling (3x3 64->64, 64x256x256): fp32 {ceiling['fp32'] / 1e9:.1f} GMAC/s, "
          f"bf16 {ceiling['bf16'] / 1e9:.1f} GMAC/s", flush=True)

    if args.set14:
        return _main_set14(args, threads)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        methods = shipped_methods() + (random_architectures(Path(tmp)) if args.architectures else [])
        for name, method in methods:
            scales = method.info.scales or (2.0, 3.0, 4.0)
            for scale in scales:
                side = max(16, int(round((args.output_mp * 1e6) ** 0.5 / scale)))
                pixels = test_image(side)
                m = prepare_method(method, scale, device="cpu")
                macs = _cost(m, scale)
                row = {"method": name, "scale": scale, "macs_per_pixel": macs}
                for precision in ("fp32", "bf16"):
                    if precision == "bf16" and not isinstance(m, LearnedMethod):
                        row["bf16_ms_per_mp"] = None
                        continue
                    ms = time_method(m, scale, pixels, precision, args.repeat)
                    row[f"{precision}_ms_per_mp"] = ms
                    row[f"{precision}_ceiling_fraction"] = (
                        None if macs is None else macs * 1e6 / (ms / 1e3) / ceiling[precision])
                if isinstance(m, LearnedMethod):
                    m.precision = "fp32"
                rows.append(row)
                print(_row_text(row), flush=True)

        # the ceiling again, after the models: the best of both runs counts, and if it moved
        # by much the machine's load changed during the run (the fractions are then rough)
        again = {p: conv_ceiling(dt, max(args.repeat, 10)) for p, dt in dtypes}
        print(f"conv ceiling again: fp32 {again['fp32'] / 1e9:.1f} GMAC/s, bf16 {again['bf16'] / 1e9:.1f} GMAC/s")
        for p in ceiling:
            if again[p] > ceiling[p]:
                for row in rows:
                    if row.get(f"{p}_ceiling_fraction") is not None:
                        row[f"{p}_ceiling_fraction"] *= ceiling[p] / again[p]
                ceiling[p] = again[p]
        print("fractions of the ceiling, against the best ceiling of the run:")
        for row in rows:
            print(_row_text(row))

        # bicubic through the pipeline vs the foundation's resize on the same pixels
        from superres.ops.resize import imresize_matlab

        pixels = test_image(512)
        bicubic = prepare_method("bicubic", 4.0, device="cpu")
        t_pipe = _best_time(lambda: upscale_array(pixels, bicubic, 4.0), args.repeat)
        tensor = torch.from_numpy(pixels).permute(2, 0, 1)[None].contiguous()
        t_resize = _best_time(lambda: imresize_matlab(tensor, 4.0), args.repeat)
        print(f"bicubic x4 of 512x512 uint8: upscale pipeline {t_pipe * 1e3:.0f} ms, imresize_matlab alone "
              f"{t_resize * 1e3:.0f} ms: ratio {t_pipe / t_resize:.2f}x")

        big = None
        if not args.skip_big:
            print(f"peak memory: {args.big_side}x{args.big_side} RGB at x4 with "
                  f"{big_name}, default budget {format_bytes(default_max_memory())} ...",
                  flush=True)
            big = peak_memory_big(args.big_side, 4.0, Path(tmp), args.big_model)
            print(f"  exit {big['rc']}, {big['seconds']:.0f} s, peak RSS {big['maxrss_kib'] / 2**20:.2f} GiB "
                  f"(python + torch alone: {big['baseline_kib'] / 2**20:.2f} GiB; output PNG "
                  f"{big['output_bytes'] / 2**20:.0f} MiB)")

    if args.json:
        args.json.write_text(json.dumps({"ceiling": ceiling, "rows": rows, "big": big, "threads": threads},
                                        indent=2) + "\n")
    return 0


def _main_set14(args, threads: int) -> int:
    from superres.methods.registry import get_method, resolve_method_name

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        vdsr_label, vdsr = _vdsr_for_timing(Path(tmp))
        # SRCNN and VDSR run at the output size: same input and output pixels at every
        # scale, so their time does not depend on it; they are timed once, at x3.
        for label, method in (("srcnn-915", get_method("srcnn-915")), (vdsr_label, vdsr)):
            for precision in ("fp32", "bf16"):
                rows.append(set14_seconds(label, method, precision, 3.0, args.repeat))
                print(f"  {label} {precision}: {rows[-1]['seconds_per_image']:.3f} s", flush=True)
        reference = next(r["seconds_per_image"] for r in rows if r["method"] == vdsr_label and r["precision"] == "fp32")
        for scale in (2.0, 3.0, 4.0):
            default = resolve_method_name("default", scale)
            for precision in ("bf16", "fp32"):
                rows.append(set14_seconds(f"default = {default}", get_method(default), precision, scale, args.repeat))
            rows.append(set14_seconds("bicubic", get_method("bicubic"), "fp32", scale, args.repeat))
    print(f"Set14, mean seconds per image (MATLAB LR files, whole upscale pipeline, {threads} threads, "
          f"best of {args.repeat} per image; SRCNN and VDSR timed at x3, their cost does not depend on the scale):")
    print(f"{'method':<30} {'precision':<9} {'scale':>5} {'s/image':>8} {'VDSR fp32 / this':>17}")
    for row in rows:
        print(f"{row['method']:<30} {row['precision']:<9} x{row['scale']:<4g} {row['seconds_per_image']:8.3f} "
              f"{reference / row['seconds_per_image']:16.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"set14": rows, "threads": threads}, indent=2) + "\n")
    return 0


def _row_text(row: dict) -> str:
    def ms(key):
        return "-" if row.get(key) is None else f"{row[key]:9.0f}"

    def frac(key):
        return "-" if row.get(key) is None else f"{100 * row[key]:5.1f}%"

    macs = "-" if row["macs_per_pixel"] is None else f"{row['macs_per_pixel'] / 1e3:.1f}k"
    return (f"{row['method']:<26} x{row['scale']:g}  MACs/px {macs:>8}  fp32 {ms('fp32_ms_per_mp')} ms/MP "
            f"({frac('fp32_ceiling_fraction')} of ceiling)  bf16 {ms('bf16_ms_per_mp')} ms/MP "
            f"({frac('bf16_ceiling_fraction')})")


if __name__ == "__main__":
    sys.exit(main())
