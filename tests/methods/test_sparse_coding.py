"""Sparse-coding SR (issue 6): solvers, features, coupled dictionaries, ``scsr`` and ``ibp``.

Reference values: the lasso reference is scikit-learn's coordinate-descent
``Lasso`` run to ``tol=1e-12`` (its objective is ``1/(2n)||y - Da||^2 + alpha|a|_1``,
so ``alpha = lambda / n``); the feature filters are checked against
``scipy.signal.convolve2d(..., mode="same")``, which is MATLAB's ``conv2``.
Everything runs on small problems and crops (a shared 2-core CPU).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from superres.methods.sparse_coding.features import (
    extract_patches,
    gradient_features,
    patch_grid,
    sample_patch_pairs,
)
from superres.methods.sparse_coding.solvers import (
    fista,
    ista,
    lasso_objective,
    lasso_working_set,
    soft_threshold,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """The machine is shared: two torch threads on a busy 2-core CPU are many times slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem(n: int, m: int, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    D = torch.randn(n, m, generator=gen, dtype=torch.float64)
    D = D / D.norm(dim=0, keepdim=True)
    Y = torch.randn(batch, n, generator=gen, dtype=torch.float64)
    return D, Y


def _sklearn_codes(D: torch.Tensor, Y: torch.Tensor, lam: float) -> torch.Tensor:
    sklearn = pytest.importorskip("sklearn.linear_model")
    n = D.shape[0]
    codes = []
    for y in Y:
        model = sklearn.Lasso(alpha=lam / n, fit_intercept=False, tol=1e-12, max_iter=200_000)
        codes.append(model.fit(D.numpy(), y.numpy()).coef_)
    return torch.tensor(np.array(codes))


@pytest.mark.parametrize("per_atom", [False, True])
def test_soft_threshold_is_the_textbook_shrinkage_in_values_and_gradients(per_atom):
    """``x - clamp(x, -t, t)`` (the fast form SCN trains with) against ``sign(x) max(|x| - t, 0)``."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(64, 32, generator=gen, dtype=torch.float64)
    x[0, :4] = torch.tensor([0.5, -0.5, 0.0, -0.0], dtype=torch.float64)  # exactly at the threshold, and zeros
    t = torch.full((32,), 0.5, dtype=torch.float64) if per_atom else 0.5
    if per_atom:
        t[4:] = torch.rand(28, generator=gen, dtype=torch.float64)
    weights = torch.randn(64, 32, generator=gen, dtype=torch.float64)

    def values_and_grads(shrink):
        xs = x.clone().requires_grad_()
        ts = t.clone().requires_grad_() if per_atom else t
        out = shrink(xs, ts)
        grads = torch.autograd.grad((out * weights).sum(), [xs, ts] if per_atom else [xs])
        return out.detach(), grads

    out, grads = values_and_grads(soft_threshold)
    ref, ref_grads = values_and_grads(lambda a, th: torch.sign(a) * torch.clamp(a.abs() - th, min=0))
    assert torch.equal(out, ref)
    assert (out[0, :4] == 0).all() and (out.abs() <= x.abs()).all()
    # At |x| = t exactly (the kink) any slope in [0, 1] is a subgradient: clamp gives 0, the
    # textbook form 1; everywhere else the gradients agree.
    kink = x.abs() == (t if per_atom else torch.tensor(t, dtype=torch.float64))
    assert kink[0, :2].all() and int(kink.sum()) == 2
    torch.testing.assert_close(grads[0][~kink], ref_grads[0][~kink], rtol=1e-12, atol=1e-12)
    if per_atom:
        away = ~kink.any(0)
        torch.testing.assert_close(grads[1][away], ref_grads[1][away], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, m, lam, seed", [(30, 80, 0.3, 0), (20, 20, 0.1, 1), (50, 200, 0.5, 2)])
def test_ista_and_fista_reach_the_sklearn_lasso_objective(n, m, lam, seed):
    D, Y = _problem(n, m, 6, seed)
    reference = lasso_objective(D, Y, _sklearn_codes(D, Y, lam), lam)
    for solver in (ista, fista):
        result = solver(D, Y, lam, max_iter=50_000, tol=1e-12)
        objective = lasso_objective(D, Y, result.codes, lam)
        assert torch.all(objective <= reference + 1e-9 * reference.abs().clamp(min=1)), solver.__name__


def test_fista_objective_history_and_speed():
    D, Y = _problem(40, 120, 8, 3)
    lam = 0.2
    hist_ista = ista(D, Y, lam, max_iter=200, tol=0, record_objective=True).history
    hist_fista = fista(D, Y, lam, max_iter=200, tol=0, record_objective=True).history
    assert hist_ista.shape == hist_fista.shape == (200, 8)
    # ISTA is monotone; FISTA is not necessarily, but gets lower after the same iterations.
    assert torch.all(hist_ista[1:] <= hist_ista[:-1] + 1e-12)
    best = lasso_objective(D, Y, fista(D, Y, lam, max_iter=20_000, tol=1e-12).codes, lam)
    gap_ista = (hist_ista[-1] - best).sum()
    gap_fista = (hist_fista[-1] - best).sum()
    assert gap_fista < 0.1 * gap_ista


def test_working_set_solver_reaches_the_full_lasso_optimum():
    # More atoms than the first working set can hold: exercises the optimality check and the regrowth.
    D, Y = _problem(30, 300, 10, 4)
    lam = 0.3
    reference = lasso_objective(D, Y, _sklearn_codes(D, Y, lam), lam)
    # The final exact solve on the support (polish) makes a few sweeps enough.
    codes = lasso_working_set(D, Y, lam, working_size=8, max_rounds=8, max_sweeps=500, tol=1e-10, chunk=8)
    assert torch.all(lasso_objective(D, Y, codes, lam) <= reference + 1e-8)
    # A warm start at the solution stays there.
    again = lasso_working_set(D, Y, lam, working_size=8, max_rounds=8, max_sweeps=500, tol=1e-10, x0=codes)
    assert torch.allclose(again, codes, atol=1e-6)


def test_working_set_zero_solution_when_lambda_is_large():
    D, Y = _problem(10, 30, 5, 5)
    lam = float((Y @ D).abs().max()) * 1.01
    assert torch.count_nonzero(lasso_working_set(D, Y, lam)) == 0


def test_gradient_features_are_matlab_conv2_same():
    signal = pytest.importorskip("scipy.signal")
    image = torch.rand(1, 1, 13, 17, dtype=torch.float64) * 255
    feats = gradient_features(image)[0].numpy()
    kernels = [
        np.array([[-1.0, 0.0, 1.0]]),
        np.array([[-1.0], [0.0], [1.0]]),
        np.array([[1.0, 0.0, -2.0, 0.0, 1.0]]),
        np.array([[1.0], [0.0], [-2.0], [0.0], [1.0]]),
    ]
    for feat, kernel in zip(feats, kernels):
        np.testing.assert_allclose(feat, signal.convolve2d(image[0, 0].numpy(), kernel, mode="same"), atol=1e-9)


def test_patch_grid_is_yangs():
    # ScSR.m: gridx = 3 : p - overlap : w - p - 2, then [gridx, w - p - 2] (1-based).
    for size, overlap in [(20, 4), (20, 2), (31, 3), (12, 4)]:
        step = 5 - overlap
        expected = list(range(3, size - 5 - 2 + 1, step))
        if expected[-1] != size - 7:
            expected.append(size - 7)
        assert patch_grid(size, 5, overlap) == [g - 1 for g in expected]
    assert patch_grid(8, 5, 4) == []


def test_extract_patches_layout():
    maps = torch.arange(2 * 6 * 7, dtype=torch.float64).view(2, 6, 7)
    patches = extract_patches(maps, torch.tensor([0, 1]), torch.tensor([2, 0]), 3)
    assert patches.shape == (2, 18)
    assert torch.equal(patches[0, :9], maps[0, 0:3, 2:5].flatten())
    assert torch.equal(patches[1, 9:], maps[1, 1:4, 0:3].flatten())


@pytest.fixture(scope="module")
def t91_pairs(data_dir):
    from superres.data.datasets import training_images
    from superres.methods.sparse_coding.features import load_training_y

    images = [load_training_y(p) for p in training_images("T91", data_dir=data_dir)[:20]]
    return sample_patch_pairs(images, 3, 6000, seed=1)


def test_sampled_pairs_are_pruned_and_mean_removed(t91_pairs):
    hr, lr = t91_pairs
    assert hr.shape[1] == 25 and lr.shape[1] == 100 and hr.shape[0] == lr.shape[0]
    assert 1000 < hr.shape[0] <= 6000
    assert torch.all(hr.var(dim=1) > 10)
    assert torch.allclose(hr.mean(dim=1), torch.zeros(hr.shape[0], dtype=hr.dtype), atol=1e-9)


def test_learned_dictionary_codes_training_patches_better_than_random(t91_pairs):
    from superres.methods.sparse_coding.dictionary import joint_signals, learn_dictionary

    X = joint_signals(*t91_pairs).to(torch.float64)
    lam = 0.15
    learned, history = learn_dictionary(X, 128, lam, iterations=4, seed=0)
    assert history[-1] < history[0]
    gen = torch.Generator().manual_seed(0)
    random = torch.randn(X.shape[1], 128, generator=gen, dtype=torch.float64)
    random = random / random.norm(dim=0, keepdim=True)
    assert torch.all(learned.norm(dim=0) <= 1 + 1e-9)

    def cost(D):
        codes = lasso_working_set(D, X, lam, max_rounds=4, max_sweeps=200)
        residual = X - codes @ D.T
        return float(lasso_objective(D, X, codes, lam).mean()), float((residual**2).sum(1).mean())

    learned_objective, learned_error = cost(learned)
    random_objective, random_error = cost(random)
    assert learned_objective < 0.8 * random_objective
    assert learned_error < 0.8 * random_error


def test_training_command_writes_weights_and_card(data_dir, tmp_path):
    from superres.methods.sparse_coding.dictionary import main
    from superres.weights.store import load_weights

    argv = ["--scale", "2", "--atoms", "32", "--samples", "1500", "--iterations", "2", "--tag", "tiny",
            "--data-dir", str(data_dir), "--out", str(tmp_path)]
    assert main(argv) == 0
    entry = load_weights(tmp_path / "scsr-dict.tiny.safetensors")
    card = entry.card
    assert card["name"] == "scsr-dict.tiny" and card["method"] == "scsr"
    assert card["architecture"] == "coupled-dictionary" and card["scales"] == [2]
    assert set(card["training"]) >= {"data", "command", "steps", "wall_time_s", "hardware"}
    assert entry.tensors["high"].shape == (25, 32) and entry.tensors["low"].shape == (100, 32)


def _shipped_scsr() -> dict[float, str]:
    from superres.methods.learned import weights_for_method

    return weights_for_method("scsr")


def test_shipped_dictionaries_load_and_match_their_cards():
    from superres.weights.store import load_weights

    shipped = _shipped_scsr()
    if not shipped:
        pytest.skip("no scsr dictionary shipped")
    for scale, name in shipped.items():
        entry = load_weights(name)
        card = entry.card
        assert card["method"] == "scsr" and card["architecture"] == "coupled-dictionary"
        atoms = card["model_args"]["atoms"]
        assert entry.tensors["high"].shape == (25, atoms)
        assert entry.tensors["low"].shape == (100, atoms)
        assert entry.tensors["high"].dtype == torch.float32
        assert card["params"] == 125 * atoms
        assert set(card["training"]) >= {"data", "command", "steps", "wall_time_s", "hardware"}


def _crop(data_dir, name: str, scale: int, top: int, left: int, size: int):
    from superres.evaluation.benchmark import load_uint8
    from superres.ops.resize import imresize_matlab

    hr = load_uint8(data_dir / "benchmark" / "Set5" / f"x{scale}" / f"{name}_HR.png")
    hr = hr[..., top : top + size, left : left + size]
    lr = imresize_matlab(hr, 1 / scale)
    return hr, lr.to(torch.float32) / 255


def test_scsr_beats_bicubic_on_a_crop(data_dir):
    from superres.evaluation.metrics import protocol_metrics
    from superres.methods.registry import get_method

    if 3.0 not in _shipped_scsr():
        pytest.skip("no x3 scsr dictionary shipped")
    hr, lr = _crop(data_dir, "img_003", 3, 60, 60, 96)  # butterfly: edges everywhere
    method = get_method("scsr")
    sr = method.upscale(lr, 3)
    assert sr.shape == (1, 3, 96, 96) and sr.dtype == torch.float32
    psnr_sr, _ = protocol_metrics(sr, hr, shave=3, channel="y")
    psnr_bicubic, _ = protocol_metrics(get_method("bicubic").upscale(lr, 3), hr, shave=3, channel="y")
    # On the full butterfly at x3, scsr 26.56 dB against bicubic 24.04 (superres evaluate, docs/sparse_coding.md).
    assert float(psnr_sr) > float(psnr_bicubic) + 1.0


def test_scsr_gray_input_and_unknown_scale():
    from superres.errors import InvalidArgumentError
    from superres.methods.registry import get_method

    shipped = _shipped_scsr()
    if not shipped:
        pytest.skip("no scsr dictionary shipped")
    method = get_method("scsr")
    scale = min(shipped)
    y = torch.rand(1, 1, 20, 24)
    out = method.upscale(y, scale)
    assert out.shape == (1, 1, math.ceil(20 * scale), math.ceil(24 * scale))
    with pytest.raises(InvalidArgumentError):
        method.upscale(y, 5)


def test_scsr_x4_runs_two_x2_steps_and_agrees_with_its_input(data_dir):
    from superres.evaluation.metrics import protocol_metrics
    from superres.methods.registry import get_method
    from superres.ops.color import rgb_to_ycbcr_bt601
    from superres.ops.resize import imresize_matlab
    from superres.weights.cards import weights_serving

    shipped = _shipped_scsr()
    if not {2.0, 4.0} <= set(shipped):
        pytest.skip("x2 and x4 scsr dictionaries not both shipped")
    cascade, direct = get_method("scsr"), get_method("scsr", cascade=False)
    assert cascade.weights_for_scale(4) == shipped[2.0] == weights_serving("scsr", 4)
    assert direct.weights_for_scale(4) == shipped[4.0]
    assert cascade.weights_for_scale(3) == shipped[3.0]  # not a power of two: its own dictionary
    hr, lr = _crop(data_dir, "img_003", 4, 64, 64, 96)
    sr_cascade, sr_direct = cascade.upscale(lr, 4), direct.upscale(lr, 4)
    assert sr_cascade.shape == sr_direct.shape == (1, 3, 96, 96)
    assert (sr_cascade - sr_direct).abs().max() > 0.05  # two different reconstructions
    # the last back-projection makes the result agree with the LR it came from
    y_lr = rgb_to_ycbcr_bt601(lr)[:, :1] * 255
    y_sr = rgb_to_ycbcr_bt601(sr_cascade)[:, :1] * 255
    assert (imresize_matlab(y_sr, 1 / 4) - y_lr)[..., 2:-2, 2:-2].abs().mean() < 0.5
    psnr_sr, _ = protocol_metrics(sr_cascade, hr, shave=4, channel="y")
    psnr_bicubic, _ = protocol_metrics(get_method("bicubic").upscale(lr, 4), hr, shave=4, channel="y")
    assert float(psnr_sr) > float(psnr_bicubic) + 0.5


def test_ibp_downscaled_matches_the_lr_input(data_dir):
    from superres.methods.registry import get_method
    from superres.ops.resize import imresize_matlab

    hr, lr = _crop(data_dir, "img_002", 3, 30, 30, 90)
    lr = lr.to(torch.float64)
    sr = get_method("ibp").upscale(lr, 3)
    bicubic = imresize_matlab(lr, 3)
    err_ibp = (imresize_matlab(sr, 1 / 3) - lr).abs().max()
    err_bicubic = (imresize_matlab(bicubic, 1 / 3) - lr).abs().max()
    assert err_ibp < 2e-3  # under half a grey level of 255
    assert err_ibp < 0.1 * err_bicubic


def _kkt_violation(D: torch.Tensor, Y: torch.Tensor, A: torch.Tensor, lam: float) -> torch.Tensor:
    """Per row, how far ``A`` is from the lasso optimality conditions, independently of any solver:
    ``d_j^T (y - D a) = lam * sign(a_j)`` on the support, ``|d_j^T (y - D a)| <= lam`` off it."""
    corr = (Y - A @ D.T) @ D
    on = A != 0
    off_violation = torch.where(on, torch.zeros_like(corr), (corr.abs() - lam).clamp(min=0))
    on_violation = torch.where(on, (corr - lam * torch.sign(A)).abs(), torch.zeros_like(corr))
    return torch.maximum(off_violation, on_violation).amax(1)


def test_lipschitz_constant_is_the_largest_eigenvalue_of_the_gram_matrix():
    from superres.methods.sparse_coding.solvers import lipschitz_constant

    D, _ = _problem(20, 50, 1, 11)
    largest = float(torch.linalg.eigvalsh(D.T @ D).max())
    assert lipschitz_constant(D) == pytest.approx(largest, rel=1e-12)
    assert lipschitz_constant(3 * D) == pytest.approx(9 * largest, rel=1e-12)


@pytest.mark.parametrize(
    "solver, n, m, lam, seed",
    [("fista", 30, 80, 0.3, 0), ("fista", 50, 200, 0.5, 2),
     ("working set", 30, 80, 0.3, 0), ("working set", 50, 200, 0.5, 2), ("working set", 30, 300, 0.3, 4)],
)
def test_solvers_meet_the_lasso_optimality_conditions(solver, n, m, lam, seed):
    D, Y = _problem(n, m, 6, seed)
    if solver == "fista":
        A = fista(D, Y, lam, max_iter=50_000, tol=1e-13).codes
    else:  # the working sets start at 8 atoms, fewer than the support of some signals
        A = lasso_working_set(D, Y, lam, working_size=8, max_rounds=8, max_sweeps=500, tol=1e-12)
    assert torch.count_nonzero(A) > 0
    assert float(_kkt_violation(D, Y, A, lam).max()) < 1e-6 * lam


def test_polish_accepts_only_kkt_optimal_codes():
    """The exact solve on a guessed support and signs is kept only where it is the optimum:
    tried on the optimum's own support and signs (accepted, and equal to the optimum) and on
    guesses one change away (a sign flipped, an atom dropped or added: all rejected)."""
    from superres.methods.sparse_coding.solvers import _polish

    gen = torch.Generator().manual_seed(7)
    D, Y = _problem(12, 8, 300, 7)
    lam = 0.4
    optimum = fista(D, Y, lam, max_iter=50_000, tol=1e-14).codes
    optimum = torch.where(optimum.abs() > 1e-10, optimum, 0.0)
    assert float(_kkt_violation(D, Y, optimum, lam).max()) < 1e-9
    G = (D.T @ D).expand(len(Y), 8, 8)
    c = Y @ D
    signs = torch.sign(optimum)
    x, ok = _polish(G, c, lam, signs, 1e-6)
    assert bool(ok.all())
    torch.testing.assert_close(x, optimum, rtol=0, atol=1e-9)

    on, off = signs != 0, signs == 0
    mixed = on.any(1) & off.any(1)  # problems with atoms both in and out of the support
    assert int(mixed.sum()) > 100
    G, c, Y, signs, on, off = G[mixed], c[mixed], Y[mixed], signs[mixed], on[mixed], off[mixed]
    rows = torch.arange(len(Y))
    pick = torch.rand(len(Y), 8, generator=gen, dtype=torch.float64)
    flip, drop, add = signs.clone(), signs.clone(), signs.clone()
    j_on = torch.where(on, pick, -1.0).argmax(1)  # a random atom of the support
    j_off = torch.where(off, pick, -1.0).argmax(1)  # a random atom off it
    flip[rows, j_on] *= -1
    drop[rows, j_on] = 0
    add[rows, j_off] = torch.where(pick[:, 0] > 0.5, 1.0, -1.0).to(torch.float64)
    for name, guess in (("flip", flip), ("drop", drop), ("add", add)):
        x, ok = _polish(G, c, lam, guess, 1e-6)
        assert not bool(ok.any()), name
        # and the codes of a rejected guess are not the optimum
        assert float(_kkt_violation(D, Y, x, lam).min()) > 1e-6, name


def test_ista_stops_at_the_first_iteration_where_every_code_moved_less_than_tol_relatively():
    # codes of norm ~100: a test of ||a_k - a_(k-1)|| against tol alone would stop much later
    D, Y = _problem(20, 40, 4, 12)
    Y = 200 * Y
    lam, tol = 1.0, 1e-3
    result = ista(D, Y, lam, max_iter=5000, tol=tol)
    k = result.iterations
    assert 2 < k < 5000 and bool(result.converged.all())

    def after(iterations):
        return ista(D, Y, lam, max_iter=iterations, tol=0).codes

    codes = [after(k - 2), after(k - 1), after(k)]
    assert torch.equal(codes[2], result.codes)

    def moved_little(new, old):
        return (new - old).norm(dim=1) <= tol * new.norm(dim=1)

    assert bool(moved_little(codes[2], codes[1]).all())
    assert not bool(moved_little(codes[1], codes[0]).all())


def test_flat_patch_pruning_uses_the_unbiased_variance():
    from superres.methods.sparse_coding.features import prune_flat_patches

    pattern = torch.tensor([1.0, -1.0] * 12 + [0.0], dtype=torch.float64)  # mean 0, sum of squares 24
    # unbiased variance of c * pattern: 24 c^2 / 24 = c^2; biased: 24 c^2 / 25
    hr = torch.stack([c * pattern for c in (1.5, 2.03, 2.0, 3.0)]) + 100.0
    lr = torch.arange(4, dtype=torch.float64)[:, None].expand(4, 100)
    assert torch.allclose(hr.var(dim=1), torch.tensor([2.25, 2.03**2, 4.0, 9.0], dtype=torch.float64))
    kept_hr, kept_lr = prune_flat_patches(hr, lr, threshold=4.0)
    # 2.03^2 = 4.12 is kept although its biased variance (3.96) is under the threshold; exactly 4 is pruned
    assert kept_lr[:, 0].tolist() == [1.0, 3.0]
    assert torch.equal(kept_hr, hr[[1, 3]])


@pytest.mark.parametrize("solver", [ista, fista])
def test_a_precomputed_gram_matrix_gives_the_same_iterates(solver):
    # m > 2n: without a gram matrix the gradient goes through D twice, with one through D^T D
    D, Y = _problem(20, 60, 5, 13)
    lam = 0.2
    plain = solver(D, Y, lam, max_iter=300, tol=0, record_objective=True)
    given = solver(D, Y, lam, max_iter=300, tol=0, gram=D.T @ D, record_objective=True)
    torch.testing.assert_close(given.codes, plain.codes, rtol=0, atol=1e-12)
    torch.testing.assert_close(given.history, plain.history, rtol=1e-12, atol=0)
    ws_plain = lasso_working_set(D, Y, lam, max_sweeps=200, tol=1e-12)
    ws_given = lasso_working_set(D, Y, lam, max_sweeps=200, tol=1e-12, gram=D.T @ D)
    torch.testing.assert_close(ws_given, ws_plain, rtol=0, atol=1e-12)


def test_dictionary_tool_subcommands_have_help_and_refuse_bad_reports(tmp_path, capsys):
    from superres.methods.sparse_coding.dictionary import main as dictionary_main

    with pytest.raises(SystemExit) as exc:
        dictionary_main(["show-evaluation", "--help"])
    assert exc.value.code == 0 and "| dictionary |" not in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        dictionary_main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "record-evaluation" in out and "show-evaluation" in out
    (tmp_path / "bad.json").write_text("{}")
    for report in (tmp_path / "missing.json", tmp_path / "bad.json"):
        with pytest.raises(SystemExit) as exc:
            dictionary_main(["record-evaluation", str(report), "--command", "x"])
        assert exc.value.code == 2 and "not a readable" in capsys.readouterr().err


def _yang_backprojection(im_h: np.ndarray, im_l: np.ndarray, iterations: int) -> np.ndarray:
    """Yang et al.'s backprojection.m, written out with scipy's conv2 'same' and the
    project's MATLAB resize (the one part that is not MATLAB's own)."""
    from scipy.signal import convolve2d

    from superres.ops.resize import imresize_matlab

    x, y, sigma = np.mgrid[-2:3, -2:3][1], np.mgrid[-2:3, -2:3][0], 1.0
    p = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    p /= p.sum()  # fspecial('gaussian', 5, 1)
    p = p**2
    p /= p.sum()
    for _ in range(iterations):
        im_l_s = imresize_matlab(torch.from_numpy(im_h)[None, None], size=im_l.shape)[0, 0].numpy()
        im_diff = imresize_matlab(torch.from_numpy(im_l - im_l_s)[None, None], size=im_h.shape)[0, 0].numpy()
        im_h = im_h + convolve2d(im_diff, p, mode="same")
    return im_h


def test_scsr_back_projects_as_yangs_backprojection_m():
    from superres.methods.classical.back_projection import back_project
    from superres.methods.sparse_coding.method import YANG_BACKPROJECTION_KERNEL

    rng = np.random.default_rng(8)
    lr = rng.random((13, 17)) * 255
    sr = rng.random((39, 51)) * 255
    ours = back_project(torch.from_numpy(sr)[None, None], torch.from_numpy(lr)[None, None], 3.0, iterations=3,
                        smoothing=YANG_BACKPROJECTION_KERNEL)[0, 0].numpy()
    np.testing.assert_allclose(ours, _yang_backprojection(sr, lr, 3), rtol=0, atol=1e-9)
    plain = back_project(torch.from_numpy(sr)[None, None], torch.from_numpy(lr)[None, None], 3.0, iterations=3)
    assert np.abs(plain[0, 0].numpy() - ours).max() > 1  # the filter is not a no-op


@pytest.mark.parametrize("option", ["working_size", "max_rounds", "max_sweeps"])
def test_a_solver_budget_of_zero_is_refused_not_left_uninitialised(option):
    from superres.errors import InvalidArgumentError
    from superres.methods.registry import get_method

    D = torch.nn.functional.normalize(torch.randn(20, 60, generator=torch.Generator().manual_seed(0)), dim=0)
    with pytest.raises(InvalidArgumentError, match=option):
        lasso_working_set(D, torch.randn(5, 20), 0.2, **{option: 0})
    with pytest.raises(InvalidArgumentError, match=option):
        get_method("scsr", **{option: 0})


def test_scsr_gives_each_patch_contrast_times_the_bicubic_patchs_contrast():
    # Yang's lin_scale: the coded patch, mean-removed, is rescaled to contrast x the norm of
    # the bicubic patch's. At contrast 0 every patch is its bicubic mean; at 2 its deviation
    # is twice that of contrast 1 (up to the uint8 rounding of the result).
    from superres.methods.registry import get_method
    from superres.methods.sparse_coding.method import sparse_code_upscale
    from superres.ops.color import round_half_away
    from superres.ops.resize import imresize_matlab

    high, low = get_method("scsr").dictionary(2.0)
    rng = np.random.default_rng(2)
    lr = torch.from_numpy(np.kron(rng.random((4, 4)), np.ones((3, 3))) * 200 + 20)[None, None]
    mid = round_half_away(imresize_matlab(lr, 2.0)).clamp(0, 255)[0, 0]
    block = (slice(2, 7), slice(2, 7))  # the first patch of ScSR.m's grid, overlap 0: no other patch covers it
    outs = {c: sparse_code_upscale(lr, 2.0, high, low, overlap=0, contrast=c, backprojection_iterations=0)[0, 0][block]
            for c in (0.0, 1.0, 2.0)}
    mean = mid[block].mean()
    assert torch.all(outs[0.0] == round_half_away(mean))
    assert (outs[1.0] - mean).abs().max() > 2
    torch.testing.assert_close(outs[2.0] - mean, 2 * (outs[1.0] - mean), rtol=0, atol=1.5)
