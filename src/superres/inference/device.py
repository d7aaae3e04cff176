"""Device, precision, thread and memory policy for inference.

The policy, in one place:

* device: ``"auto"`` (default) picks CUDA when torch sees a GPU, else the CPU;
  ``"cpu"``, ``"cuda"``, ``"cuda:N"`` and ``"mps"`` are taken as given and
  refused with a one-line error when that device is not there;
* threads: all of the CPUs this process may run on, unless ``threads`` says
  otherwise (torch's own default is the physical cores, which a container's
  CPU affinity can make wrong in either direction);
* precision: ``"auto"`` (default of ``superres upscale``), ``"fp32"`` or
  ``"bf16"`` (autocast of the network's convolutions; the colour conversion,
  the bicubic parts and the output quantisation stay fp32).  ``auto`` is bf16
  where the device does bf16 arithmetic natively (a CUDA GPU of compute
  capability 8 or later, an x86 CPU with AVX512-BF16 or AMX) and the method is ``default``
  (whose bf16 quality is measured: it about doubles the convolution
  throughput for no measurable loss, docs/models.md), and fp32 for named
  methods and where bf16 would be emulated and slower.  fp32 on a CUDA GPU is
  torch's: its cuDNN convolutions use TF32 on compute capability 8 and later
  unless ``torch.backends.cudnn.allow_tf32`` is False (why ``superres evaluate``
  keeps the cards' scores to the CPU).  Only learned
  methods have a network, so the option changes nothing for the others;
* where things run: a learned method's tiles go to ``device`` (its network, colour
  conversion and bicubic parts run there); every other method computes on the CPU;
* layout: networks and their inputs are ``channels_last`` on the CPU (the
  :class:`~superres.methods.learned.LearnedMethod` adapter does this);
* gradients: the tiled pipeline runs under :func:`torch.inference_mode`, a
  network alone under :func:`torch.no_grad` (its result is an ordinary tensor);
* memory: ``max_memory`` is a byte budget for one image's data (input, output
  and the tiles in flight); see :mod:`superres.inference.tiling`.
"""

from __future__ import annotations

import functools
import math
import os
import re

import torch

from superres.errors import InvalidArgumentError
from superres.methods.base import SRMethod

__all__ = [
    "PRECISIONS",
    "resolve_device",
    "resolve_precision",
    "native_bf16",
    "configure_threads",
    "configure_method",
    "parse_memory",
    "default_max_memory",
    "format_bytes",
]

PRECISIONS = ("auto", "fp32", "bf16")

_GiB = 1 << 30


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The :class:`torch.device` that ``device`` names, checked to exist here."""
    if device is None or (isinstance(device, str) and device.strip().lower() in ("", "auto")):
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidArgumentError(f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgumentError(f"device {device!r} asked for, but torch sees no CUDA GPU here")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InvalidArgumentError(
                f"device {device!r} asked for, but there are only {torch.cuda.device_count()} CUDA GPU(s)"
            )
    elif dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise InvalidArgumentError(f"device {device!r} asked for, but MPS is not available here")
    elif dev.type != "cpu":
        raise InvalidArgumentError(f"unsupported device {device!r} (use auto, cpu, cuda, cuda:N or mps)")
    return dev


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    # the processor's feature flags do not change while the process runs: read them once
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` does bf16 arithmetic in hardware (not emulated)."""
    if device.type == "cuda":
        # compute capability 8 (Ampere) and later do bf16 in hardware; torch.cuda.is_bf16_supported()
        # also says True for older GPUs that only emulate it (slower than fp32), and asks about
        # the current device rather than this one
        return bool(torch.cuda.is_available() and torch.cuda.get_device_capability(device)[0] >= 8)
    if device.type == "cpu":
        return bool(_cpu_flags() & {"avx512_bf16", "amx_bf16"})
    return False


def resolve_precision(precision: str, device: torch.device, method_name: str = "default") -> str:
    """``"fp32"`` or ``"bf16"`` for ``precision`` on ``device``.

    ``auto``: bf16 for the ``default`` method where ``device`` does it natively, else fp32.
    """
    if precision not in PRECISIONS:
        raise InvalidArgumentError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "bf16" if method_name == "default" and native_bf16(device) else "fp32"
    return precision


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def configure_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads (default: every CPU this process may use); returns the count."""
    if threads is None:
        threads = _usable_cpus()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InvalidArgumentError(f"threads must be a positive integer, not {threads!r}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def configure_method(method: SRMethod, *, device: torch.device, precision: str = "fp32",
                     method_name: str = "") -> SRMethod:
    """Point a method at ``device`` and ``precision`` (learned methods only; others ignore it).

    ``method_name`` is the name the user gave (``auto`` picks bf16 for ``default`` only).
    Must run before the method's network is first used: networks are loaded
    lazily by :meth:`~superres.methods.learned.LearnedMethod.model_for_scale`.
    """
    precision = resolve_precision(precision, device, method_name)
    from superres.methods.learned import LearnedMethod

    if isinstance(method, LearnedMethod):
        if method._models and method.device != device:  # already loaded elsewhere: move them
            layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format  # as a fresh load
            method._models = {
                name: (model.to(device, memory_format=layout), card) for name, (model, card) in method._models.items()
            }
        method.device = device
        method.precision = precision
    return method


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_memory(text: str | int | float) -> int:
    """Bytes from ``"4G"``, ``"512M"``, ``"1.5GiB"``, ``"2e9"`` or a number (binary units)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _MEMORY.match(str(text))
        if match is None:
            try:
                value = float(str(text))
            except ValueError:
                raise InvalidArgumentError(
                    f"invalid memory size {text!r} (use e.g. 4G, 512M or a number of bytes)"
                ) from None
        else:
            number, unit, _ = match.groups()
            value = float(number) * (1 << (10 * " kmgt".index(unit.lower() or " ")))
    if not math.isfinite(value):
        raise InvalidArgumentError(f"invalid memory size {text!r} (use e.g. 4G, 512M or a number of bytes)")
    if not value >= 1 << 20:
        raise InvalidArgumentError(f"memory budget {text!r} is too small (at least 1M)")
    return int(value)


def default_max_memory() -> int:
    """Half of the machine's RAM, at most 8 GiB (at least 1 GiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 8 * _GiB
    return int(max(_GiB, min(8 * _GiB, total // 2)))


def format_bytes(n: float) -> str:
    """``n`` bytes in words, e.g. ``512 B`` or ``1.5 GiB`` (binary units, at most GiB;
    from 100000 GiB in 3 significant digits, so an absurd need is not a 300-digit number)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            break
        n /= 1024
    if unit == "B":
        return f"{n:.0f} B"
    return f"{n:.1f} {unit}" if abs(n) < 1e5 else f"{n:.3g} {unit}"
