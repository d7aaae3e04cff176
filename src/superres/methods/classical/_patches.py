"""Patch tools shared by the example-based and self-similarity methods.

Everything works on whole images at once: patches come from ``F.unfold``,
overlapping patches are put back with ``F.fold`` and averaged, and searches
are vectorised (a k-NN search through faiss or chunked ``torch.cdist``, or a
local-window search whose Python loop runs over the window *offsets*, never
over pixels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "unfold_patches",
    "fold_average",
    "knn_search",
    "has_faiss",
    "local_window_search",
    "step_sizes",
]


def unfold_patches(image: torch.Tensor, size: int, stride: int = 1) -> torch.Tensor:
    """All ``size x size`` patches of a ``(1, C, H, W)`` image, ``(N, C * size * size)``.

    Patches are in raster order of their top-left corner on the grid
    ``0, stride, 2 * stride, ...`` (``F.unfold`` layout).
    """
    return F.unfold(image, size, stride=stride)[0].T.contiguous()


def fold_average(
    patches: torch.Tensor,
    out_size: tuple[int, int],
    size: int,
    stride: int = 1,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Put ``(N, size * size)`` patches (the :func:`unfold_patches` layout) back, averaging overlaps.

    ``weights`` (``(N,)``) weights each patch in the average.  Returns ``(1, 1, H, W)``;
    pixels no patch covers are 0 (cover the image with ``stride <= size``).
    """
    if weights is None:
        weights = torch.ones(patches.shape[0], dtype=patches.dtype)
    num = F.fold((patches * weights[:, None]).T[None], out_size, size, stride=stride)
    den = F.fold(weights[:, None].expand(-1, patches.shape[1]).T[None].contiguous(), out_size, size, stride=stride)
    return num / den.clamp_min(1e-12)


def has_faiss() -> bool:
    """Whether faiss can be imported (then :func:`knn_search` uses it by default)."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def knn_search(
    database: torch.Tensor,
    queries: torch.Tensor,
    k: int = 1,
    *,
    use_faiss: bool | None = None,
    chunk: int = 4096,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact k nearest neighbours (squared L2) of each query row among the database rows.

    Uses faiss ``IndexFlatL2`` (exact) when installed (or ``use_faiss=True``),
    else ``torch.cdist`` on chunks of ``chunk`` queries.

    Returns ``(distances, indices)``, each ``(N, k)``, nearest first; distances are squared.
    """
    database = database.to(torch.float32).contiguous()
    queries = queries.to(torch.float32).contiguous()
    k = min(k, database.shape[0])
    if use_faiss is None:
        use_faiss = has_faiss()
    if use_faiss:
        import faiss

        index = faiss.IndexFlatL2(database.shape[1])
        index.add(database.numpy())
        dist, idx = index.search(queries.numpy(), k)
        return torch.from_numpy(dist), torch.from_numpy(idx).to(torch.int64)
    db_sq = (database * database).sum(1)
    dists, idxs = [], []
    for start in range(0, queries.shape[0], chunk):
        q = queries[start : start + chunk]
        d = (q * q).sum(1, keepdim=True) - 2 * q @ database.T + db_sq[None]
        dist, idx = torch.topk(d, k, dim=1, largest=False)
        dists.append(dist.clamp_min(0))
        idxs.append(idx)
    return torch.cat(dists), torch.cat(idxs)


def local_window_search(
    queries: torch.Tensor,
    database: torch.Tensor,
    db_shape: tuple[int, int],
    centers: torch.Tensor,
    radius: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best match of each query among the database patches in a window around its centre.

    Args:
        queries: ``(N, D)`` query patches.
        database: ``(h * w, D)`` patches of a ``db_shape = (h, w)`` grid (raster order).
        centers: ``(N, 2)`` long, the (row, col) of each query's window centre on that grid.
        radius: the window is ``(2 * radius + 1)^2`` positions, clamped to the grid.

    Returns ``(ssd, index)``, each ``(N,)``: the smallest sum of squared differences
    and the database row that gives it.  The loop runs over window offsets only.
    """
    h, w = db_shape
    best = torch.full((queries.shape[0],), float("inf"), dtype=queries.dtype)
    best_idx = torch.zeros(queries.shape[0], dtype=torch.int64)
    for dy in range(-radius, radius + 1):
        rows = (centers[:, 0] + dy).clamp(0, h - 1)
        for dx in range(-radius, radius + 1):
            idx = rows * w + (centers[:, 1] + dx).clamp(0, w - 1)
            ssd = ((database[idx] - queries) ** 2).sum(1)
            better = ssd < best
            best = torch.where(better, ssd, best)
            best_idx = torch.where(better, idx, best_idx)
    return best, best_idx


def step_sizes(height: int, width: int, scale: float, step: float) -> list[tuple[int, int]]:
    """Intermediate sizes for upscaling ``(height, width)`` by ``scale`` in factors of about ``step``.

    The last size is MATLAB's ``ceil(size * scale)``; the factors are equal, ``scale ** (1 / n)``.
    """
    import math

    from superres.ops.resize import output_size_for_scale

    n = max(1, math.ceil(math.log(scale) / math.log(step) - 1e-9))
    factor = scale ** (1 / n)
    sizes = [(max(1, round(height * factor**i)), max(1, round(width * factor**i))) for i in range(1, n)]
    sizes.append((output_size_for_scale(height, scale), output_size_for_scale(width, scale)))
    return sizes
