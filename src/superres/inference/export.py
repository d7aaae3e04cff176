"""ONNX export of a learned method's network for one scale, with dynamic height and width.

What is exported is the network exactly as :class:`~superres.methods.learned.LearnedMethod`
runs it (re-parameterised branches fused where the model can, the self-ensemble of
its card if it has one), on the Y
channel only:

* input ``"y"``: ``(N, 1, H, W)`` float32 in ``[0, 1]``, BT.601 luma
  (``superres.ops.color.rgb_to_ycbcr_bt601``); for a card with
  ``input: upsampled`` (SRCNN, VDSR) it is the LR Y already upscaled to
  the output size with MATLAB bicubic, for ``input: lr`` the LR Y itself;
* output ``"sr_y"``: ``(N, 1, H', W')`` float32 (``H' = H`` for upsampled
  input, ``scale * H`` for LR input), not clipped.

Cb/Cr are upscaled with MATLAB bicubic outside the network, as the papers
do.  The model's metadata (``metadata_props``) records method, scale,
input kind, colour convention and the weights' sha256.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from superres.errors import InvalidArgumentError, SuperresError
from superres.methods.base import SRMethod
from superres.models.ensemble import forward_takes_scale, inference_network

__all__ = ["export_onnx", "network_for_export", "supported_opsets"]


def supported_opsets() -> range:
    """The ONNX opsets the installed torch exports (7 to 23 for torch 2.13)."""
    try:
        from torch.onnx import _constants

        return range(int(_constants.ONNX_MIN_OPSET), int(_constants.ONNX_MAX_OPSET) + 1)
    except (ImportError, AttributeError):  # a torch that moved its constants: what 2.13 supports
        return range(7, 24)


class _WithScale(nn.Module):
    """Binds a multi-scale network's ``forward(x, scale)`` to one scale."""

    def __init__(self, model: nn.Module, scale: int) -> None:
        super().__init__()
        self.model = model
        self.scale = int(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, self.scale)


def network_for_export(method: SRMethod, scale: float) -> tuple[nn.Module, dict, str]:
    """``(network taking y only, card, name)`` for ``method`` at ``scale``.

    ``method`` is a registered learned method's name (``default`` allowed), a
    :class:`~superres.methods.learned.LearnedMethod`, ``NAME=FILE`` (the method ``NAME``
    with the weights ``FILE``, as ``upscale`` and ``evaluate`` take it), or the path of a
    ``.safetensors`` weights file with its card.
    """
    from superres.methods.learned import LearnedMethod, network_scale
    from superres.methods.registry import METHODS, get_method, resolve_method_name, split_method_spec

    named_weights = isinstance(method, str) and "=" in method and split_method_spec(method)[0] in METHODS
    if not named_weights and isinstance(method, (str, os.PathLike)) and str(method).endswith(".safetensors"):
        from superres.models.registry import model_from_weights

        model, card = model_from_weights(str(method))
        model = inference_network(model, card)  # as a method runs it: fused, self-ensemble if the card asks
        scales = [float(s) for s in card.get("scales", [])]
        if scales and float(scale) not in scales:
            raise InvalidArgumentError(f"{Path(method).name} serves scale {', '.join(f'{s:g}' for s in scales)}, not {scale:g}")
        name = str(card.get("method") or card.get("name") or Path(method).stem)
    else:
        if isinstance(method, str):
            name = resolve_method_name(method, scale)
            method = get_method(name)
        if not isinstance(method, LearnedMethod):
            raise InvalidArgumentError(f"{method.info.name!r} is not a learned method: it has no network to export")
        name = method.info.name
        method.check_scale(scale)
        model, card = method.model_for_scale(scale)
    # traced on the CPU whatever device the method runs on: the ONNX file does not depend on it
    model = copy.deepcopy(model).cpu().float().eval().to(memory_format=torch.contiguous_format)
    if card.get("input", "upsampled") == "lr":
        net_scale = network_scale(model, card, scale)  # as the method runs it
        if net_scale != float(scale):
            served = ", ".join(f"x{float(s):g}" for s in card.get("scales", []))
            raise InvalidArgumentError(
                f"{name} runs its x{net_scale:g} network and resizes for x{scale:g}; export a scale it serves ({served})"
            )
        refusal = getattr(model, "export_refusal", None)
        reason = refusal(scale) if callable(refusal) else None
        if reason:
            raise InvalidArgumentError(f"{name} at x{scale:g}: {reason}")
        if forward_takes_scale(model):
            model = _WithScale(model, net_scale)
    return model, card, name


def export_onnx(
    method_name: str,
    scale: float,
    path: str | os.PathLike,
    *,
    opset: int = 17,
    overwrite: bool = False,
) -> Path:
    """Write the network of ``method_name`` (see :func:`network_for_export`) at ``scale`` to ``path``

    ONNX with dynamic N, H and W, written atomically; returns ``path``.
    """
    target = Path(path)
    opsets = supported_opsets()
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in opsets:
        raise InvalidArgumentError(
            f"ONNX opset {opset!r} is not supported: torch {torch.__version__.split('+')[0]} exports opsets "
            f"{opsets.start} to {opsets.stop - 1}"
        )
    if target.suffix.lower() != ".onnx":
        raise InvalidArgumentError(f"the output file must end in .onnx, got {str(target)!r}")
    if target.exists() and not overwrite:
        raise InvalidArgumentError(f"{str(target)!r} exists (use --overwrite)")
    if not target.parent.is_dir():
        raise InvalidArgumentError(f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not exist")
    if importlib.util.find_spec("onnx") is None:  # torch's exporter needs it, and says so only at the end
        raise SuperresError('ONNX export needs the onnx package: pip install onnx (or the extra: pip install -e ".[export]")')
    model, card, name = network_for_export(method_name, scale)
    feed = card.get("input", "upsampled")
    example = torch.rand(1, 1, 40, 48)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        _export(model, example, temp, opset)
        _add_metadata(temp, {
            "superres.method": name,
            "superres.weights": str(card.get("name", "")),
            "superres.weights_sha256": str(card.get("sha256", "")),
            "superres.scale": f"{scale:g}",
            "superres.input": feed,
            "superres.colour": "Y of BT.601 YCbCr (16-235 range) scaled to [0, 1]; Cb/Cr by MATLAB bicubic",
        })
        os.replace(temp, target)
    except SuperresError:
        raise
    except OSError as exc:
        raise SuperresError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None
    except Exception as exc:  # exporter errors are many types
        raise SuperresError(f"ONNX export of {name} failed: {' '.join(str(exc).split())[:300]}") from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    return target


def _export(model: nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    axes = {"y": {0: "batch", 2: "height", 3: "width"}, "sr_y": {0: "batch", 2: "out_height", 3: "out_width"}}
    with warnings.catch_warnings(), _native_output_silenced():
        warnings.simplefilter("ignore")
        try:  # the TorchScript exporter: needs nothing beyond torch
            torch.onnx.export(model, (example,), str(path), input_names=["y"], output_names=["sr_y"],
                              dynamic_axes=axes, opset_version=opset, dynamo=False)
            return
        except TypeError as exc:
            if "dynamo" not in str(exc):  # a failure of the export itself, not a missing exporter
                raise
            # a torch whose export() takes no dynamo=False: use torch.export (needs onnxscript)
        dim = torch.export.Dim
        shapes = {"x": {0: dim("batch"), 2: dim("height", min=8), 3: dim("width", min=8)}}
        torch.onnx.export(model, (example,), str(path), input_names=["y"], output_names=["sr_y"],
                          dynamic_shapes=shapes, opset_version=max(opset, 18), dynamo=True)


@contextlib.contextmanager
def _native_output_silenced() -> Iterator[None]:
    """Discard what is written to the stdout and stderr file descriptors meanwhile: torch's
    TorchScript exporter prints its whole IR graph to stdout when it fails (its logging is always
    on), whatever the error; the error itself is reported by the exception."""
    saved: list[tuple[int, int]] = []
    with tempfile.TemporaryFile() as sink:
        try:
            for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
                with contextlib.suppress(AttributeError, OSError, ValueError):
                    stream.flush()
                try:
                    saved.append((fd, os.dup(fd)))
                except OSError:  # not open: nothing to silence
                    continue
                os.dup2(sink.fileno(), fd)
            yield
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(AttributeError, OSError, ValueError):
                    stream.flush()
            for fd, copy_of_fd in saved:
                os.dup2(copy_of_fd, fd)
                os.close(copy_of_fd)


def _add_metadata(path: Path, props: dict[str, str]) -> None:
    try:
        import onnx
    except ImportError:  # metadata is a nicety; the model works without it
        return
    model = onnx.load(str(path))
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
