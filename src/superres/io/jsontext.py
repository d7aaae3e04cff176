"""JSON text that every parser reads: non-finite numbers as strings.

``json.dumps`` writes ``Infinity`` and ``NaN``, which are not JSON: ``JSON.parse``
and jq reject the whole document. A perfect reconstruction (a flat image
upscaled by an interpolation) has PSNR = inf, so scores need another spelling.
The strings ``"Infinity"``, ``"-Infinity"`` and ``"NaN"`` are read back as the
numbers by Python's ``float()`` and JavaScript's ``Number()``.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps_json"]

_SPELLING = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _SPELLING[value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def dumps_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, **kwargs)`` with inf, -inf and nan written as strings."""
    return json.dumps(_finite(value), allow_nan=False, **kwargs)
