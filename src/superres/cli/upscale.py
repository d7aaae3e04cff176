"""``superres upscale``: make images bigger with the best shipped model.

Files, folders and glob patterns in; one output file (``-o``), a folder
(``--out-dir``), or by default each output beside its input, named by the scale
(``photo.jpg`` -> ``photo_x3.jpg``).  Existing outputs are never overwritten without
``--overwrite``: they are skipped, so a batch that was interrupted, started
again, carries on where it stopped (outputs are written atomically, so an
output that exists is complete).  Each failure is named with its reason on
stderr, the other files are still done, and the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from superres.cli.common import memory_size, parse_scale, positive_int
from superres.errors import InvalidArgumentError, SuperresError

DEFAULT_SCALE = 2.0
_GLOB_CHARS = set("*?[")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "upscale",
        help="upscale images (files, folders, globs) with the best shipped model",
        description="Upscale images by SCALE with MODEL (default: the best shipped model for that scale, "
        "see `superres models`). Gray stays gray, alpha is upscaled with bicubic and kept, 16-bit stays "
        "16-bit, EXIF orientation is applied and ICC/EXIF are carried over. Large images are processed "
        "in tiles within --max-memory; the result equals the untiled one (networks: up to float rounding, "
        "which can move a rare pixel by 1 level). Each output goes to -o, into "
        "--out-dir, or (neither given) beside its input as NAME_xSCALE.EXT (a GIF's as .png); existing outputs "
        "are skipped.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", metavar="OUT", help="output file (one input only); its extension sets the format")
    out.add_argument("--out-dir", metavar="DIR", help="output folder (created if missing); files keep their names (a GIF's become .png)")
    # Neither: beside each input, e.g. photo.jpg -> photo_x3.jpg, so that the plain
    # `superres upscale photo.jpg -s 3` works and can never replace the input.
    p.add_argument("-s", "--scale", type=parse_scale, default=DEFAULT_SCALE,
                   help=f"scale factor, fractional allowed, e.g. 2, 3, 4, 2.5 (default: {DEFAULT_SCALE:g})")
    p.add_argument("-m", "--model", default="default",
                   help="method name (see `superres models`), or NAME=FILE.safetensors for a learned method with "
                        "weights of your own; default: the best shipped one for the scale")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (default: skip them)")
    p.add_argument("--format", metavar="EXT", help="output format/extension, e.g. png (default: the input's; PNG for a GIF; not with -o)")
    p.add_argument("--suffix", help="text added to each output's name (default: none with --out-dir, "
                                    "else _xSCALE, e.g. _x3); not with -o")
    p.add_argument("-r", "--recursive", action="store_true", help="look into sub-folders (kept in --out-dir)")
    p.add_argument("--device", default="auto",
                   help="where a network runs: auto (CUDA if present, else CPU), cpu, cuda, cuda:N, mps "
                        "(the other methods always compute on the CPU)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="network arithmetic (default auto: the default model in bf16 where the device does "
                        "it natively, i.e. CUDA GPUs and CPUs with AVX512-BF16/AMX; else and for named models fp32)")
    p.add_argument("--max-memory", type=memory_size, metavar="SIZE",
                   help="memory budget per image: input, output and tiles, e.g. 4G (default: half the RAM, at most 8G)")
    p.add_argument("--tile", type=positive_int, metavar="PIXELS", help="force the LR tile side (default: from --max-memory)")
    p.add_argument("--threads", type=positive_int, help="CPU threads (default: all CPUs this process may use)")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1..100 (default 95; WebP 100 is lossless)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, only errors and the summary")
    p.set_defaults(run=run)


# --------------------------------------------------------------------------
# Collecting the work


@dataclass
class _Job:
    source: Path
    target: Path


@dataclass
class _Batch:
    jobs: list[_Job] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    own_outputs: list[Path] = field(default_factory=list)


def _images_in(folder: Path, recursive: bool) -> list[Path]:
    from superres.io import READ_EXTENSIONS

    pattern = "**/*" if recursive else "*"
    return sorted(
        p for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in READ_EXTENSIONS and not p.name.startswith(".")
    )


def _expand(arg: str, recursive: bool) -> tuple[list[tuple[Path, Path]], str | None]:
    """(file, base folder) pairs for one INPUT argument, or a reason it gives none."""
    path = Path(arg)
    if path.is_dir():
        files = _images_in(path, recursive)
        if not files:
            return [], f"no images in folder {arg!r}"
        return [(f, path) for f in files], None
    if path.exists() or path.is_symlink():
        return [(path, path.parent)], None
    if _GLOB_CHARS & set(arg):
        matches = sorted(Path(m) for m in glob.glob(arg, recursive=recursive))
        files = [m for m in matches if m.is_file()]
        if not files:
            return [], f"no files match {arg!r}"
        return [(f, f.parent) for f in files], None
    return [], f"cannot read {arg!r}: no such file"


def _out_name(source: Path, base: Path, args: argparse.Namespace) -> Path:
    from superres.io import output_extension

    suffix = output_extension(source)
    if args.format:
        fmt = args.format.lower().lstrip(".")
        suffix = "." + fmt
    try:
        rel_parent = source.parent.relative_to(base) if args.recursive else Path()
    except ValueError:
        rel_parent = Path()
    folder = source.parent if args.out_dir is None else Path(args.out_dir) / rel_parent
    return folder / f"{source.stem}{_name_suffix(args)}{suffix}"


def _name_suffix(args: argparse.Namespace) -> str:
    if args.suffix is not None:
        return args.suffix
    from superres.io import scale_suffix

    return "" if args.out_dir is not None else scale_suffix(args.scale)


def _check_extension(target: Path) -> str | None:
    from superres.io import check_extension

    if target.is_dir():
        return f"cannot write {str(target)!r}: it is a folder (use --out-dir for a folder)"
    try:
        check_extension(target)
    except SuperresError as exc:
        return str(exc)
    return None


def _unreadable(source: Path) -> str | None:
    """Why a named input whose extension is not an image's cannot be read, if it cannot: said
    before its output name (``notes_x2.txt``) is blamed for the input's format."""
    from superres.io import READ_EXTENSIONS, read_image_size

    if source.suffix.lower() in READ_EXTENSIONS:
        return None  # read, and any problem named, when its turn comes
    try:
        read_image_size(source)  # the header; a PNG named .dat is still a PNG
    except SuperresError as exc:
        return str(exc)
    return None


def _collect(args: argparse.Namespace) -> _Batch:
    from superres.io.atomic import is_same_file

    batch = _Batch()
    pairs: list[tuple[Path, Path]] = []
    named: set[Path] = set()  # files named one by one: inputs, whatever their names
    for arg in args.inputs:
        found, reason = _expand(arg, args.recursive)
        if reason:
            batch.failures.append(reason)
        pairs += found
        if len(found) == 1 and found[0][0] == Path(arg):
            named.add(Path(arg).absolute())
    if args.output is not None:
        if len(pairs) + len(batch.failures) > 1:
            raise InvalidArgumentError(
                f"-o/--output takes one input file, got {len(pairs) + len(batch.failures)}; use --out-dir DIR"
            )
        pairs = [(src, Path(args.output)) for src, _ in pairs]
    else:
        pairs = [(src, _out_name(src, base, args)) for src, base in pairs]
        # An input that is another input's output (a folder or `*.png` upscaled a second
        # time, outputs beside the inputs) is what this command writes, not a new image.
        # (An output named as its own input is refused below, not skipped here. So is one
        # that is a file named on the command line: `a.png a_x2.png --overwrite` never
        # writes the second, whatever its name says.)
        targets = {target.absolute() for src, target in pairs if target.absolute() != src.absolute()}
        batch.own_outputs = [src for src, _ in pairs if src.absolute() in targets and src.absolute() not in named]
        pairs = [(src, target) for src, target in pairs if src.absolute() not in targets or src.absolute() in named]
    inputs = {src.resolve() for src, _ in pairs}
    seen: dict[Path, Path] = {}
    for source, target in pairs:
        reason = _unreadable(source) or _check_extension(target)
        key = target.resolve() if target.parent.exists() else target.absolute()
        if reason is None and is_same_file(source, target):
            reason = f"{str(source)!r}: the output would replace the input (give another name or --out-dir)"
        if reason is None and key in inputs:
            reason = (f"{str(source)!r}: the output {str(target)!r} is another input of this command "
                      "(give another name, --suffix or --out-dir)")
        if reason is None and key in seen:
            reason = f"{str(source)!r}: same output {str(target)!r} as {str(seen[key])!r}"
        if reason is not None:
            batch.failures.append(reason)
            continue
        seen[key] = source
        batch.jobs.append(_Job(source, target))
    return batch


# --------------------------------------------------------------------------
# Progress


class _Progress:
    """A progress line on stderr: redrawn in place on a terminal, one line per file otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.index = 0
        self.name = ""
        self._drawn = False

    def _draw(self, text: str) -> None:
        if self.quiet or not self.tty:
            return
        width = 79
        line = text if len(text) <= width else text[: width - 3] + "..."
        sys.stderr.write("\r" + line.ljust(width))
        sys.stderr.flush()
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r" + " " * 79 + "\r")
            sys.stderr.flush()
            self._drawn = False

    @staticmethod
    def _bar(done: int, total: int, width: int = 20) -> str:
        filled = int(width * done / max(total, 1))
        return "#" * filled + "-" * (width - filled)

    def start(self, name: str) -> None:
        self.index += 1
        self.name = name
        self._draw(f"[{self._bar(self.index - 1, self.total)}] {self.index}/{self.total} {name}")

    def tile(self, done: int, total: int) -> None:
        if total > 1:
            self._draw(f"[{self._bar(self.index - 1, self.total)}] {self.index}/{self.total} {self.name} "
                       f"tile {done}/{total}")

    def message(self, text: str, always: bool = False) -> None:
        """A line that stays (errors always; per-file lines only when not on a terminal)."""
        if always or (not self.quiet and not self.tty):
            self.clear()
            print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Running


def _writable_folder(target: Path) -> str | None:
    parent = target.parent
    if not parent.exists():
        return f"cannot write {str(target)!r}: folder {str(parent)!r} does not exist"
    if not parent.is_dir():
        return f"cannot write {str(target)!r}: {str(parent)!r} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write {str(target)!r}: permission denied"
    if target.is_dir():
        return f"cannot write {str(target)!r}: is a directory"
    return None


def run(args: argparse.Namespace) -> int:
    # OpenMP threads that sleep instead of spinning between parallel regions: on a
    # busy machine spinning threads starve each other (measured on a shared 2-core
    # box: bicubic 12x, a 64-channel conv 1.8x slower with spinning).  Takes effect
    # only if torch is not loaded yet, as when run from the command line.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from superres.inference import configure_threads, prepare_method, resolve_device
    from superres.io import read_image, write_image

    if args.output is not None and (args.format or args.suffix is not None or args.recursive):
        raise InvalidArgumentError("--format, --suffix and --recursive do not go with -o: the name given to -o is the output")
    if not 1 <= args.quality <= 100:
        raise InvalidArgumentError(f"--quality must be in 1..100, not {args.quality}")
    started = time.perf_counter()
    configure_threads(args.threads)
    device = resolve_device(args.device)
    method = prepare_method(args.model, args.scale, device=device, precision=args.precision)
    name = method.info.name

    if args.out_dir is not None:
        out_dir = Path(args.out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise InvalidArgumentError(f"--out-dir {args.out_dir!r} is not a folder")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidArgumentError(f"cannot create --out-dir {args.out_dir!r}: {exc.strerror or exc}") from None

    batch = _collect(args)
    progress = _Progress(len(batch.jobs), args.quiet)
    failed = list(batch.failures)
    for reason in batch.failures:
        progress.message(f"superres: error: {reason}", always=True)
    done = skipped = 0
    for source in batch.own_outputs:
        progress.message(f"{source}: an output of this command, skipped")
    for job in batch.jobs:
        progress.start(job.source.name)
        if not args.overwrite and (job.target.exists() or job.target.is_symlink()):
            skipped += 1
            progress.message(f"[{progress.index}/{progress.total}] {job.source} -> {job.target}: exists, skipped")
            continue
        if args.out_dir is not None and args.recursive and not job.target.parent.exists():
            try:  # the sub-folder of --out-dir that mirrors the input's
                job.target.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # reported just below
        reason = _writable_folder(job.target)
        if reason is not None:
            failed.append(reason)
            progress.message(f"superres: error: {reason}", always=True)
            continue
        t0 = time.perf_counter()
        try:
            _process(job, method, device, args, progress, read_image, write_image)
        except SuperresError as exc:
            failed.append(str(exc))
            progress.message(f"superres: error: {exc}", always=True)
            continue
        done += 1
        progress.message(f"[{progress.index}/{progress.total}] {job.source} -> {job.target} "
                         f"({time.perf_counter() - t0:.1f} s)")
    progress.clear()
    parts = [f"upscaled {done} file{'s' if done != 1 else ''} x{args.scale:g} with {name}"]
    if skipped:
        parts.append(f"{skipped} skipped (output exists; --overwrite redoes it)")
    if batch.own_outputs:
        parts.append(f"{len(batch.own_outputs)} skipped (outputs of this command)")
    if failed:
        parts.append(f"{len(failed)} failed")
    print(f"{', '.join(parts)} in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def _process(job: _Job, method, device, args: argparse.Namespace, progress: _Progress, read_image, write_image) -> None:
    import torch

    from superres.inference import upscale_array
    from superres.io import check_output_dimensions
    from superres.ops.resize import output_size_for_scale

    image = read_image(job.source)
    height, width = image.pixels.shape[:2]  # a size the format cannot hold, said before the work
    check_output_dimensions(job.target, output_size_for_scale(width, args.scale), output_size_for_scale(height, args.scale))
    if image.frames > 1:  # a still output of an animation or a multi-page file: say what was done
        progress.message(f"note: {str(job.source)!r} has {image.frames} frames; only the first is upscaled",
                         always=True)
    try:
        pixels = upscale_array(
            image.pixels,
            method,
            args.scale,
            max_memory=args.max_memory,
            tile=args.tile,
            device=device,
            on_tile=progress.tile,
        )
    except torch.OutOfMemoryError:
        raise SuperresError(f"{str(job.source)!r}: out of device memory (lower --max-memory or give --tile)") from None
    except MemoryError:
        raise SuperresError(f"{str(job.source)!r}: out of memory (lower --max-memory)") from None
    except SuperresError as exc:
        raise SuperresError(f"{str(job.source)!r}: {exc}") from None
    icc, exif = image.icc_profile, image.exif
    del image
    from superres.io import what_the_format_drops

    lost = what_the_format_drops(job.target, pixels)
    if lost:  # the format's choice, not a failure: said, as the animation note above
        progress.message(f"note: {str(job.target)!r}: {' and '.join(lost)} (the format holds no more)", always=True)
    write_image(job.target, pixels, icc_profile=icc, exif=exif, overwrite=args.overwrite, quality=args.quality)
