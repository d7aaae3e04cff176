"""The registry of SR methods: one name, one factory, imported on first use.

The table below is the only place that lists methods.  Modules are imported
lazily so that ``import superres`` stays fast and a broken optional
dependency only breaks its own method.  To add a method, add one line here
(``name -> "module:factory"``); the factory takes keyword options and returns
an :class:`~superres.methods.base.SRMethod`.  Another installed package adds its own
through an entry point (:mod:`superres.plugins`), without editing this table.

The name ``default`` is resolved per scale through
:mod:`superres.weights.defaults` to the method ``superres upscale`` uses.

A learned method also runs with a weights file of one's own, named after it as
``NAME=FILE.safetensors`` (a `superres train` run's ``best.safetensors``, say), so a
candidate is scored under the same protocol as the shipped weights, in the same table.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

from superres.errors import InvalidArgumentError, SuperresError, UnknownNameError
from superres.methods.base import MethodInfo, SRMethod
from superres.plugins import METHODS_GROUP, add_plugins

__all__ = [
    "METHODS", "available_methods", "get_method", "list_methods", "method_info", "method_label", "resolve_method_name",
    "split_method_spec", "unavailable_methods",
]

METHODS: dict[str, str] = {
    # interpolation baselines
    "nearest": "superres.methods.interpolation:nearest",
    "bilinear": "superres.methods.interpolation:bilinear",
    "bicubic": "superres.methods.interpolation:bicubic",
    "lanczos3": "superres.methods.interpolation:lanczos3",
    # reconstruction-based
    "ibp": "superres.methods.classical.back_projection:ibp",
    "btv": "superres.methods.classical.btv:btv",
    "gpp": "superres.methods.classical.gpp:gpp",
    # external examples and self-similarity
    "freeman": "superres.methods.classical.freeman:freeman",
    "glasner": "superres.methods.classical.glasner:glasner",
    "selfex": "superres.methods.classical.selfex:selfex",
    # sparse coding
    "scsr": "superres.methods.sparse_coding.method:scsr",
    # trained networks (weights shipped in superres/weights/files)
    "srcnn-915": "superres.methods.networks:srcnn_915",
    "srcnn-935": "superres.methods.networks:srcnn_935",
    "srcnn-955": "superres.methods.networks:srcnn_955",
    "vdsr": "superres.methods.networks:vdsr",
    "litesr-small": "superres.methods.networks:litesr_small",
    "scn": "superres.methods.networks:scn",
    "cscn": "superres.methods.networks:cscn",
}
#: this package's own methods; every other name came from an entry point
_BUILTIN = frozenset(METHODS)


def _factory(name: str) -> Callable[..., SRMethod]:
    if name not in METHODS:
        add_plugins(METHODS, METHODS_GROUP)  # an installed package's methods (superres.plugins)
    if name not in METHODS:
        known = ", ".join(sorted(METHODS) + ["default"])
        raise UnknownNameError(f"unknown method {name!r} (known: {known})")
    module_name, _, attr = METHODS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # an optional dependency is missing
        raise SuperresError(f"method {name!r} is unavailable: {exc}") from exc
    try:
        factory = getattr(module, attr)
    except AttributeError:  # a plugin's entry point that names nothing
        raise SuperresError(f"method {name!r} is unavailable: {METHODS[name]} does not exist") from None
    if name in _BUILTIN:
        return factory
    return _checked_plugin(name, factory)


def _checked_plugin(name: str, factory: Callable[..., SRMethod]) -> Callable[..., SRMethod]:
    """``factory`` of another package's method, whose failures become one :class:`SuperresError`
    (a broken plugin must not take ``superres methods`` down with it)."""

    @functools.wraps(factory)
    def build(**options: Any) -> SRMethod:
        try:
            method = factory(**options)
        except SuperresError:
            raise
        except Exception as exc:
            raise SuperresError(f"method {name!r} ({METHODS[name]}) failed to build: {type(exc).__name__}: {exc}") from None
        if not isinstance(method, SRMethod):
            raise SuperresError(f"method {name!r} ({METHODS[name]}) gave a {type(method).__name__}, not an SRMethod")
        return method

    return build


def resolve_method_name(name: str, scale: float | None = None) -> str:
    """Map ``default`` to the method used by ``superres upscale`` at ``scale``."""
    if name != "default":
        return name
    from superres.weights.defaults import default_method_for_scale

    return default_method_for_scale(scale)


def split_method_spec(spec: str) -> tuple[str, str | None]:
    """``"vdsr=runs/a/best.safetensors"`` -> ``("vdsr", "runs/a/best.safetensors")``;
    a plain name -> ``(name, None)``."""
    name, sep, weights = spec.partition("=")
    if sep and not weights:
        raise InvalidArgumentError(f"{spec!r}: name a weights file after '=' (e.g. vdsr=runs/vdsr/best.safetensors)")
    return name, weights or None


def method_label(spec: str) -> str:
    """A short label for a method spec: the name, and for ``NAME=FILE`` the run folder
    holding the file (``vdsr (vdsr-gpu-s10)``), or the file's own name where it has none."""
    name, weights = split_method_spec(spec)
    if weights is None:
        return name
    path = Path(weights)
    return f"{name} ({path.parent.name or path.name.removesuffix('.safetensors')})"


def get_method(name: str, *, scale: float | None = None, **options: Any) -> SRMethod:
    """Build the method registered as ``name`` (``default`` needs ``scale``); ``NAME=FILE``
    runs the learned method ``NAME`` with the weights file ``FILE``."""
    spec = name
    name, weights = split_method_spec(spec)
    if weights is None:
        return _factory(resolve_method_name(name, scale))(**options)
    if name == "default":
        raise InvalidArgumentError(f"'default' is a choice of shipped weights: name the method {weights!r} belongs to")
    if "weights" in options:
        raise InvalidArgumentError(f"{spec!r} names its weights file already: drop the weights option")
    factory = _factory(name)
    if "weights" not in inspect.signature(factory).parameters:
        raise InvalidArgumentError(f"method {name!r} has no trained weights to replace (it takes no weights file)")
    return factory(**options, weights=weights)


def method_info(name: str) -> MethodInfo:
    """The :class:`MethodInfo` of a registered method (builds it; weights load lazily)."""
    return get_method(name).info


def available_methods() -> list[SRMethod]:
    """Every registered method that can be built here, built with its defaults (weights load
    lazily), in table order (:func:`unavailable_methods` says why the others cannot)."""
    return [method for method in _probe_methods().values() if not isinstance(method, str)]


def list_methods() -> list[MethodInfo]:
    """Infos of :func:`available_methods`, in table order."""
    return [method.info for method in available_methods()]


def unavailable_methods() -> dict[str, str]:
    """Registered methods that cannot be built here -> why (no shipped weights, a missing
    optional dependency), in table order."""
    return {name: reason for name, reason in _probe_methods().items() if isinstance(reason, str)}


def _probe_methods() -> dict[str, SRMethod | str]:
    add_plugins(METHODS, METHODS_GROUP)
    found: dict[str, SRMethod | str] = {}
    for name in METHODS:
        try:
            found[name] = get_method(name)
        except SuperresError as exc:
            found[name] = str(exc)
    return found
