"""Fixtures for the inference tests: small random networks saved as weights files.

No trained weights are needed: a random SRCNN, VDSR or LiteSR is saved with
:func:`superres.weights.store.save_weights` into ``tmp_path`` and wrapped in a
:class:`~superres.methods.learned.LearnedMethod`, exactly as shipped weights are.
"""

from __future__ import annotations

import pytest
import torch

from superres.methods.base import MethodInfo
from superres.methods.learned import LearnedMethod
from superres.models.registry import build_model
from superres.weights.store import save_weights

SPECS = {
    # name: (architecture, model_args, card input, scales)
    "srcnn": ("srcnn", {}, "upsampled", [3]),
    "vdsr": ("vdsr", {"depth": 6, "width": 16}, "upsampled", [2, 3, 4]),
    "litesr": ("litesr", {"scales": [2, 3, 4], "channels": 8, "blocks": 2}, "lr", [2, 3, 4]),
}


def make_learned(tmp_path, kind: str, *, any_scale: bool = False, seed: int = 0, card: dict | None = None,
                 std: float = 0.1):
    """``(LearnedMethod, weights path)`` for a random network of ``kind`` (see SPECS); ``card``: extra card keys;
    ``std``: of the random weights (0.1 drives a random SRCNN's every output to 0 or 1)."""
    arch, args, feed, scales = SPECS[kind]
    torch.manual_seed(seed)
    model = build_model(arch, **args)
    with torch.no_grad():
        for p in model.parameters():  # large enough weights that every layer matters
            p.normal_(0.0, std)
    path = save_weights(
        tmp_path / f"{kind}-test{''.join(f'-{k}{v}' for k, v in sorted((card or {}).items()))}.safetensors",
        model.state_dict(),
        {"architecture": arch, "model_args": args, "scales": scales, "input": feed, "method": kind, **(card or {})},
    )
    info = MethodInfo(name=f"{kind}-test", family="cnn", summary="random test network")
    method = LearnedMethod(info, {float(s): str(path) for s in scales}, any_scale=any_scale, device="cpu")
    return method, path


@pytest.fixture
def learned(tmp_path):
    """``learned(kind, any_scale=False)`` -> ``(method, weights path)``."""
    return lambda kind, **kw: make_learned(tmp_path, kind, **kw)
