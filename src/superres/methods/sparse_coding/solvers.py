"""Batched lasso solvers: ISTA, FISTA and a working-set coordinate descent, for many signals at once.

Every solver minimises, independently for each row ``y`` of ``Y``,

.. math::

    f(a) = \\tfrac12 \\lVert y - D a \\rVert_2^2 + \\lambda \\lVert a \\rVert_1

with ``D`` of shape ``(n, m)`` (one atom per column), ``Y`` of shape ``(B, n)``
(one signal per row) and codes ``A`` of shape ``(B, m)``.  Everything is a
plain matrix operation on the whole batch, so a few hundred thousand patches
are coded with a handful of GEMMs per iteration.

Scaling note: scikit-learn's ``Lasso(alpha)`` minimises
``1/(2 n) ||y - D a||^2 + alpha ||a||_1``; it solves the problem above with
``alpha = lambda / n``.

References:
    Beck & Teboulle, A fast iterative shrinkage-thresholding algorithm for linear
    inverse problems, SIAM J. Imaging Sciences 2009 (ISTA, FISTA).
    Friedman, Hastie & Tibshirani, Regularization paths for generalized linear
    models via coordinate descent, J. Stat. Software 2010 (coordinate descent).
    Johnson & Guestrin, Blitz: a principled meta-algorithm for scaling sparse
    optimization, ICML 2015 (working sets checked by the optimality conditions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from superres.errors import InvalidArgumentError

__all__ = [
    "LassoResult",
    "soft_threshold",
    "lasso_objective",
    "lipschitz_constant",
    "ista",
    "fista",
    "lasso_working_set",
]


@dataclass
class LassoResult:
    """Codes and diagnostics of a batched lasso solve.

    ``codes``: ``(B, m)``.  ``iterations``: iterations run (the largest over the
    batch).  ``history``: ``(T, B)`` objective per iteration (row ``t`` after
    ``t + 1`` iterations) when asked, else None.  ``converged``: ``(B,)`` bool.
    """

    codes: torch.Tensor
    iterations: int
    converged: torch.Tensor
    history: torch.Tensor | None = None


def soft_threshold(x: torch.Tensor, threshold: float | torch.Tensor) -> torch.Tensor:
    """``sign(x) * max(|x| - t, 0)`` elementwise (the proximal map of ``t ||.||_1``).

    Written as ``x - clamp(x, -t, t)``: the same values, and the same gradients
    away from the kink ``|x| = t``, in two elementwise passes instead of five
    (they are a large part of an SCN training step on the CPU).
    """
    return x - torch.clamp(x, -threshold, threshold)


def lasso_objective(D: torch.Tensor, Y: torch.Tensor, A: torch.Tensor, lam: float) -> torch.Tensor:
    """``0.5 ||y - D a||^2 + lam ||a||_1`` per row: ``D (n, m)``, ``Y (B, n)``, ``A (B, m)`` -> ``(B,)``."""
    residual = Y - A @ D.T
    return 0.5 * (residual * residual).sum(1) + lam * A.abs().sum(1)


def lipschitz_constant(D: torch.Tensor) -> float:
    """``||D||_2^2``, the largest eigenvalue of ``D^T D``: the step of ISTA/FISTA is ``1 / L``."""
    return float(torch.linalg.matrix_norm(D.to(torch.float64), ord=2) ** 2)


def _check(D: torch.Tensor, Y: torch.Tensor, lam: float) -> None:
    if D.dim() != 2 or Y.dim() != 2 or D.shape[0] != Y.shape[1]:
        raise InvalidArgumentError(f"expected D (n, m) and Y (B, n), got {tuple(D.shape)} and {tuple(Y.shape)}")
    if not lam >= 0:
        raise InvalidArgumentError(f"lambda must be >= 0, got {lam}")


def _proximal_gradient(
    D: torch.Tensor,
    Y: torch.Tensor,
    lam: float,
    *,
    accelerated: bool,
    max_iter: int,
    tol: float,
    x0: torch.Tensor | None,
    gram: torch.Tensor | None,
    lipschitz: float | None,
    record: bool,
) -> LassoResult:
    _check(D, Y, lam)
    n, m = D.shape
    C = Y @ D  # D^T y for every signal, (B, m)
    # Gradient D^T (D a) - D^T y: through the Gram matrix when it is cheaper (m <= 2n)
    # or given, else through D twice.
    use_gram = gram is not None or m <= 2 * n
    G = (D.T @ D if gram is None else gram.to(D.dtype)) if use_gram else None
    L = float(lipschitz) if lipschitz is not None else lipschitz_constant(D)
    step = 1.0 / L
    yy = 0.5 * (Y * Y).sum(1)

    def dtd(a: torch.Tensor) -> torch.Tensor:
        return a @ G if G is not None else (a @ D.T) @ D

    def objective(a: torch.Tensor, dtda: torch.Tensor | None = None) -> torch.Tensor:
        if dtda is None:
            dtda = dtd(a)
        return yy - (C * a).sum(1) + 0.5 * (a * dtda).sum(1) + lam * a.abs().sum(1)

    x = torch.zeros_like(C) if x0 is None else x0.to(C.dtype).clone()
    z = x
    t = 1.0
    history = []
    converged = torch.zeros(Y.shape[0], dtype=torch.bool)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        x_new = soft_threshold(z - step * (dtd(z) - C), lam * step)
        if record:
            history.append(objective(x_new))
        delta = (x_new - x).norm(dim=1)
        converged = delta <= tol * torch.clamp(x_new.norm(dim=1), min=1e-12)
        if accelerated:
            t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2
            z = x_new + ((t - 1) / t_new) * (x_new - x)
            t = t_new
        else:
            z = x_new
        x = x_new
        if tol > 0 and bool(converged.all()):
            break
    hist = torch.stack(history) if record else None
    return LassoResult(x, iterations, converged, hist)


def ista(
    D: torch.Tensor,
    Y: torch.Tensor,
    lam: float,
    *,
    max_iter: int = 1000,
    tol: float = 1e-6,
    x0: torch.Tensor | None = None,
    gram: torch.Tensor | None = None,
    lipschitz: float | None = None,
    record_objective: bool = False,
) -> LassoResult:
    """ISTA (proximal gradient with step ``1/L``) for every row of ``Y`` at once.

    Args:
        D: ``(n, m)`` dictionary, atoms as columns.
        Y: ``(B, n)`` signals, one per row.
        lam: the l1 weight ``lambda``.
        max_iter: iteration cap.
        tol: stop when every signal's ``||a_k - a_{k-1}|| <= tol * ||a_k||``
            (0: always run ``max_iter``).
        x0: ``(B, m)`` starting codes (default zeros).
        gram: precomputed ``D^T D`` (``(m, m)``), reused across calls.
        lipschitz: precomputed ``||D||_2^2``.
        record_objective: keep the objective of every signal after every iteration.

    Returns:
        :class:`LassoResult` with ``codes`` ``(B, m)``.

    Example:
        >>> D = torch.randn(20, 50); Y = torch.randn(8, 20)
        >>> ista(D, Y, 0.5).codes.shape
        torch.Size([8, 50])
    """
    return _proximal_gradient(D, Y, lam, accelerated=False, max_iter=max_iter, tol=tol, x0=x0,
                              gram=gram, lipschitz=lipschitz, record=record_objective)


def fista(
    D: torch.Tensor,
    Y: torch.Tensor,
    lam: float,
    *,
    max_iter: int = 1000,
    tol: float = 1e-6,
    x0: torch.Tensor | None = None,
    gram: torch.Tensor | None = None,
    lipschitz: float | None = None,
    record_objective: bool = False,
) -> LassoResult:
    """FISTA (Beck & Teboulle 2009): ISTA with Nesterov momentum, ``O(1/k^2)`` objective gap.

    Same arguments and result as :func:`ista`.

    Example:
        >>> D = torch.randn(20, 50); Y = torch.randn(8, 20)
        >>> r = fista(D, Y, 0.5, record_objective=True)
        >>> r.history.shape[1]
        8
    """
    return _proximal_gradient(D, Y, lam, accelerated=True, max_iter=max_iter, tol=tol, x0=x0,
                              gram=gram, lipschitz=lipschitz, record=record_objective)


def _polish(G: torch.Tensor, c: torch.Tensor, lam: float, a: torch.Tensor, kkt_tol: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact optimum on the support and signs of ``a``, where they are the right ones.

    With support ``S`` and signs ``s`` the optimum of ``0.5 a'Ga - c'a + lam|a|_1``
    solves ``G_SS a_S = c_S - lam s``; that solution is the optimum when its signs
    are ``s`` and ``|c_j - (G a)_j| <= lam`` off ``S``.  ``G (B, k, k)``, ``c, a (B, k)``.
    Returns the solved codes and a ``(B,)`` mask of the problems where this holds.
    """
    support = a != 0
    signs = torch.sign(a)
    both = support.unsqueeze(2) & support.unsqueeze(1)
    system = torch.where(both, G, torch.zeros((), dtype=G.dtype)) + torch.diag_embed((~support).to(G.dtype))
    rhs = torch.where(support, c - lam * signs, torch.zeros((), dtype=c.dtype))
    factor, info = torch.linalg.cholesky_ex(system)
    half = torch.linalg.solve_triangular(factor, rhs.unsqueeze(2), upper=False)
    x = torch.linalg.solve_triangular(factor.mT, half, upper=True).squeeze(2)
    corr = c - torch.bmm(G, x.unsqueeze(2)).squeeze(2)
    ok = torch.where(support, torch.sign(x) == signs, corr.abs() <= lam * (1 + kkt_tol)).all(1)
    ok &= (info == 0) & torch.isfinite(x).all(1)
    return x, ok


def _coordinate_descent(
    G: torch.Tensor,
    c: torch.Tensor,
    lam: float,
    x0: torch.Tensor,
    max_sweeps: int,
    tol: float,
    kkt_tol: float = 1e-3,
    polish: bool = True,
) -> torch.Tensor:
    """Cyclic coordinate descent on many small problems ``0.5 a'G_b a - c_b'a + lam|a|_1`` at once.

    ``G (B, k, k)``, ``c (B, k)``, ``x0 (B, k)``.  One sweep updates coordinate
    ``j = 0..k-1`` of every problem together: ``a_j <- S(a_j + g_j / G_jj, lam / G_jj)``
    with the gradient ``g = c - G a`` kept up to date by one row of ``G``
    (as scikit-learn's ``Lasso`` does for one problem).  A problem leaves the
    batch when a sweep changed no coordinate by more than ``tol * max|a|``; the
    ones left after ``max_sweeps`` get their support and signs tried in
    :func:`_polish` (when ``polish``), which gives the exact optimum when those
    are right.
    """
    B, k = c.shape
    g = c - torch.bmm(G, x0.unsqueeze(2)).squeeze(2)
    # Coordinate-major layouts so that every step reads contiguous memory.
    Gt = G.transpose(0, 1).contiguous()  # (k, B, k): Gt[j] = row j of every problem
    a = x0.T.contiguous()  # (k, B)
    inv = (1.0 / G.diagonal(dim1=1, dim2=2).clamp(min=1e-12)).T.contiguous()  # (k, B)
    thr = lam * inv
    cc = c
    out = torch.empty_like(x0)
    idx = torch.arange(B)
    for sweep in range(1, max_sweeps + 1):
        change = torch.zeros(a.shape[1], dtype=a.dtype)
        for j in range(k):
            old = a[j]
            z = torch.addcmul(old, g[:, j], inv[j])
            new = z - torch.clamp(z, -thr[j], thr[j])
            d = new - old
            a[j] = new
            g.addcmul_(Gt[j], d.unsqueeze(1), value=-1)
            torch.maximum(change, d.abs(), out=change)
        done = change <= tol * a.abs().amax(dim=0).clamp(min=1e-12)
        result = a.T
        if polish and sweep == max_sweeps:
            polished, exact = _polish(Gt.transpose(0, 1), cc, lam, result, kkt_tol)
            result = torch.where(exact.unsqueeze(1), polished, result)
            done |= exact
        if sweep == max_sweeps or bool(done.all()):
            out[idx] = result
            break
        if bool(done.any()):
            out[idx[done]] = result[done]
            keep = ~done
            idx, a, g, Gt, inv, thr, cc = idx[keep], a[:, keep], g[keep], Gt[:, keep], inv[:, keep], thr[:, keep], cc[keep]
    return out


def lasso_working_set(
    D: torch.Tensor,
    Y: torch.Tensor,
    lam: float,
    *,
    gram: torch.Tensor | None = None,
    working_size: int = 32,
    max_rounds: int = 4,
    max_sweeps: int = 50,
    tol: float = 1e-4,
    kkt_tol: float = 1e-3,
    polish: bool = True,
    x0: torch.Tensor | None = None,
    chunk: int = 8192,
) -> torch.Tensor:
    """The lasso of every row of ``Y``, by coordinate descent restricted to a working set of atoms per signal.

    For a sparse solution only a few atoms matter.  Each signal gets the
    ``working_size`` atoms most correlated with it (plus the support of ``x0``);
    batched coordinate descent solves all the small problems together on
    ``(k, k)`` blocks of the precomputed ``D^T D``; then the optimality
    conditions of the *full* problem, ``|d_j^T (y - D a)| <= lambda`` for every
    unused atom, are checked with two GEMMs.  Signals that violate them get a new
    working set (their support plus the most violating atoms, grown when the
    support fills half of it) and are solved again, warm, up to ``max_rounds``
    times.  When the check passes, the codes solve the full lasso (to ``tol``)
    at ``O(k^2)`` per sweep instead of ``O(m n)`` per iteration.

    Args:
        D: ``(n, m)`` dictionary; Y: ``(B, n)`` signals; lam: l1 weight.
        gram: precomputed ``D^T D``.
        working_size: atoms per working set ``k`` at the start.
        max_rounds: working-set rounds before accepting the last solution.
        max_sweeps, tol: coordinate-descent cap and tolerance per round.
        kkt_tol: relative slack on ``lambda`` in the optimality check.
        polish: when a problem reaches ``max_sweeps``, try its support and signs
            in an exact solve (:func:`_polish`).
        x0: ``(B, m)`` warm start (its support joins the working set).
        chunk: signals per batch (memory is ``chunk * k * k`` floats).

    Returns:
        ``(B, m)`` codes.

    Example:
        >>> D = torch.nn.functional.normalize(torch.randn(20, 200), dim=0); Y = torch.randn(64, 20)
        >>> A = lasso_working_set(D, Y, 0.5)
        >>> bool((lasso_objective(D, Y, A, 0.5) <= lasso_objective(D, Y, fista(D, Y, 0.5).codes, 0.5) + 1e-4).all())
        True
    """
    _check(D, Y, lam)
    for name, value in (("working_size", working_size), ("max_rounds", max_rounds), ("max_sweeps", max_sweeps),
                        ("chunk", chunk)):
        if isinstance(value, bool) or not hasattr(value, "__index__") or value < 1:
            # 0 sweeps would return codes never written (uninitialised memory), 0 rounds all zeros
            raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
    n, m = D.shape
    k = min(int(working_size), m)
    G = D.T @ D if gram is None else gram.to(D.dtype)
    out = torch.zeros(Y.shape[0], m, dtype=D.dtype) if x0 is None else x0.to(D.dtype).clone()
    for start in range(0, Y.shape[0], chunk):
        Yc = Y[start:start + chunk]
        A = out[start:start + chunk]  # a view: codes are written in place
        C = Yc @ D
        score = C.abs()
        k_round = k
        if x0 is not None:
            warm = A != 0
            score = torch.where(warm, torch.full_like(score, math.inf), score)
            k_round = min(m, max(k, 2 * int(warm.sum(1).max())))
        # Sorted: coordinate descent then visits the most correlated atoms first, which matters
        # when it is stopped after a few sweeps.
        W = score.topk(k_round, dim=1).indices
        del score
        rows = torch.arange(Yc.shape[0])
        for round_ in range(1, max_rounds + 1):
            GW = G[W.unsqueeze(2), W.unsqueeze(1)]
            if round_ == 1:
                cW = C.gather(1, W)
                start_codes = torch.zeros_like(cW) if x0 is None else A.gather(1, W)
            else:
                cW = C[rows.unsqueeze(1), W]
                start_codes = A[rows.unsqueeze(1), W]
            aW = _coordinate_descent(GW, cW, lam, start_codes, max_sweeps, tol, kkt_tol, polish)
            if round_ == 1:
                if x0 is not None:
                    A.zero_()
                A.scatter_(1, W, aW)
            else:
                A[rows] = 0
                A[rows.unsqueeze(1), W] = aW
            if round_ == max_rounds:
                break
            # Optimality of the full problem: |D^T (y - D a)| <= lam on atoms outside the support.
            Ar = A if round_ == 1 else A[rows]
            corr = (C if round_ == 1 else C[rows]) - (Ar @ D.T) @ D
            bad = ((corr.abs() > lam * (1 + kkt_tol)) & (Ar == 0)).any(1)
            if not bool(bad.any()):
                break
            rows = rows[bad]
            support = Ar[bad] != 0
            # Room for the support and as many new atoms: grow the set when the support fills it.
            k_round = min(m, max(k_round, 2 * int(support.sum(1).max())))
            score = torch.where(support, torch.full_like(corr[bad], math.inf), corr[bad].abs())
            W = score.topk(k_round, dim=1).indices
    return out
