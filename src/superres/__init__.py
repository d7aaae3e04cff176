"""superres: single-image super-resolution with the MATLAB-exact protocol.

Image maths lives in :mod:`superres.ops`, methods in :mod:`superres.methods`,
evaluation in :mod:`superres.evaluation`; see the README for the tree.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "upscale", "load_model", "list_models"]

_API = {"upscale", "load_model", "list_models"}


def __getattr__(name: str):
    # The API pulls in torch; import it on first use so `import superres` stays fast.
    if name in _API:
        from superres import api

        return getattr(api, name)
    raise AttributeError(f"module 'superres' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
