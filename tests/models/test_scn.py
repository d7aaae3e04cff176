"""SCN and the SCN cascade: sizes, the sparse-coding start, patch averaging, serving as methods.

References: the dictionary start is checked against the project's own ISTA
(:func:`superres.methods.sparse_coding.solvers.ista`) and Yang's features
(:func:`gradient_features` + :func:`extract_patches`) on the same inputs, and G
against an explicit loop that averages overlapping patches; nothing here is a
number copied from elsewhere.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from superres.errors import WeightsError
from superres.methods.base import MethodInfo
from superres.methods.learned import LearnedMethod
from superres.methods.registry import get_method
from superres.methods.sparse_coding.features import extract_patches, gradient_features
from superres.methods.sparse_coding.solvers import ista
from superres.models.cost import count_macs, macs_per_output_pixel
from superres.models.registry import build_model, model_from_weights
from superres.models.scn import SCN, CascadeSCN, averaging_kernel
from superres.ops.resize import imresize_matlab
from superres.weights.store import save_weights


def _coupled_dictionary(atoms: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A random Yang-shaped dictionary: high (25, m), low (100, m), jointly unit-norm atoms."""
    g = torch.Generator().manual_seed(seed)
    d = F.normalize(torch.randn(125, atoms, generator=g, dtype=torch.float64), dim=0)
    return d[:25].clone(), d[25:].clone()


def _image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    smooth = 0.5 + 0.3 * torch.sin(xx / 3) * torch.cos(yy / 4)
    return (smooth + 0.05 * torch.rand(h, w, generator=g, dtype=torch.float64)).view(1, 1, h, w)


@pytest.mark.parametrize("size", [(17, 23), (9, 9), (31, 12)])
@pytest.mark.parametrize("stages", [0, 2])
def test_scn_keeps_the_size(size, stages):
    model = SCN(atoms=32, stages=stages).eval()
    x = torch.rand(2, 1, *size)
    assert model(x).shape == x.shape
    assert model.border == 9 // 2 + 5 // 2


def test_h_is_yangs_feature_extraction():
    high, low = _coupled_dictionary()
    model = SCN.from_dictionary(high, low).double()
    x = _image(21, 26)
    u, norm = model.normalised_features(x)
    f = u * norm
    # Yang's features of the 5x5 patch centred at every interior pixel (the border differs:
    # Yang pads the gradient maps with zeros, the network replicates the image)
    maps = gradient_features(x)[0]
    rows, cols = torch.meshgrid(torch.arange(2, 21 - 7), torch.arange(2, 26 - 7), indexing="ij")
    yang = extract_patches(maps, rows.flatten(), cols.flatten(), 5)  # top-left corners: centre - 2
    ours = f[0][:, rows.flatten() + 2, cols.flatten() + 2].T
    torch.testing.assert_close(ours, yang, rtol=0, atol=1e-12)


@pytest.mark.parametrize("stages", [0, 1, 3])
def test_dictionary_start_codes_are_ista_iterations(stages):
    high, low = _coupled_dictionary(atoms=96)
    lam = 0.2
    model = SCN.from_dictionary(high, low, lam=lam, stages=stages).double()
    x = _image(19, 22, seed=stages)
    with torch.no_grad():
        u, _ = model.normalised_features(x)
        codes = model.codes(u)
    signals = u[0].flatten(1).T  # (pixels, 100): the normalised feature of every pixel
    Dl = low / low.norm(dim=0, keepdim=True)
    reference = ista(Dl, signals, lam, max_iter=stages + 1, tol=0).codes
    assert (reference != 0).any() and (reference == 0).any()  # a real lasso: some atoms on, most off
    torch.testing.assert_close(codes[0].flatten(1).T, reference, rtol=1e-5, atol=1e-5)


def test_features_are_normalised_with_a_floor():
    model = SCN(atoms=16).double()
    x = _image(15, 15)
    u, norm = model.normalised_features(x)
    n = u.norm(dim=1)
    assert torch.allclose(n, (norm[:, 0] ** 2 - model.eps**2).sqrt() / norm[:, 0])
    # Yang's gradient filters sum to zero: a flat image has no feature, and the floor keeps u finite
    model = SCN.from_dictionary(*_coupled_dictionary()).double()
    flat = torch.full((1, 1, 12, 12), 0.3, dtype=torch.float64)
    u_flat, norm_flat = model.normalised_features(flat)
    assert torch.isfinite(u_flat).all() and torch.allclose(norm_flat, torch.full_like(norm_flat, model.eps), atol=1e-6)


def test_g_at_start_averages_the_overlapping_patches():
    p = 5
    model = SCN(atoms=8, hr_patch=p).double()
    torch.testing.assert_close(model.G.weight.detach(), averaging_kernel(p, torch.float64))
    g = torch.Generator().manual_seed(3)
    H, W = 9, 11
    patches = torch.randn(1, p * p, H, W, generator=g, dtype=torch.float64)
    out = model.aggregate(patches)[0, 0]
    # explicit loop: the patch predicted at (y, x) covers pixels (y + i - 2, x + j - 2)
    acc = torch.zeros(H + 4, W + 4, dtype=torch.float64)
    cnt = torch.zeros(H + 4, W + 4, dtype=torch.float64)
    for y in range(H):
        for x in range(W):
            acc[y:y + p, x:x + p] += patches[0, :, y, x].view(p, p)
            cnt[y:y + p, x:x + p] += 1
    interior = (slice(2, H - 2), slice(2, W - 2))  # pixels whose 25 covering patches all lie in the image
    assert (cnt[2:-2, 2:-2][interior] == p * p).all()
    # the weights were made in float32 (1/25 is not exact there)
    torch.testing.assert_close(out[interior], (acc / cnt.clamp(min=1))[2:-2, 2:-2][interior], rtol=0, atol=1e-6)
    assert out.shape == (H, W)


def test_flat_image_comes_back_flat():
    high, low = _coupled_dictionary()
    model = SCN.from_dictionary(high, low).double()
    flat = torch.full((1, 1, 13, 16), 0.42, dtype=torch.float64)
    torch.testing.assert_close(model(flat), flat, rtol=0, atol=1e-6)  # G sums to 1 in float32


def test_calibrated_gain_is_the_least_squares_factor():
    high, low = _coupled_dictionary()
    model = SCN.from_dictionary(high, low).double()
    x = _image(20, 20)
    target = x + 0.05 * torch.sin(torch.arange(20.0, dtype=torch.float64)).view(1, 1, 1, 20)
    factor = model.calibrate_gain(x, target)
    err = lambda m: float(((m(x) - target) ** 2).sum().detach())  # noqa: E731
    best = err(model)
    for nudge in (0.9, 1.1):
        model.Dx.weight.data.mul_(nudge)
        assert err(model) > best
        model.Dx.weight.data.div_(nudge)
    assert math.isfinite(factor)


def test_scn_cost_counts_every_layer():
    model = SCN(features=100, atoms=128, stages=2)
    expected = 81 * 100 + 100 * 128 + 2 * 128 * 128 + 128 * 25 + 25 * 25  # H, W, S twice, Dx, G
    assert macs_per_output_pixel(model) == expected
    x = torch.zeros(1, 1, 12, 12)
    assert count_macs(model, x) == expected * 144


@pytest.mark.parametrize("scale, steps", [(1.5, 1), (2, 1), (2.5, 2), (3, 2), (4, 2), (6, 3), (8, 3)])
def test_cascade_sizes_and_stage_targets(scale, steps):
    model = CascadeSCN(atoms=16, distinct=2).eval()
    lr = torch.rand(1, 1, 10, 7)
    out = model(lr, scale)
    assert out.shape[-2:] == (math.ceil(10 * scale), math.ceil(7 * scale))
    stages = model(lr, scale, return_stages=True)
    assert len(stages) == steps == model.steps(scale)
    torch.testing.assert_close(stages[-1], out)
    if float(scale).is_integer():
        hr = torch.rand(1, 1, int(10 * scale), int(7 * scale))
        targets = model.stage_targets(hr, scale)
        assert [t.shape for t in targets] == [s.shape for s in stages]
        assert targets[-1] is hr


def test_cascade_step_is_bicubic_x2_then_scn():
    model = CascadeSCN(atoms=16, distinct=2).eval()
    lr = torch.rand(1, 1, 9, 8)
    with torch.no_grad():
        x4 = model(lr, 4)
        by_hand = model.scn[1](imresize_matlab(model.scn[0](imresize_matlab(lr, 2)), 2))
        x3 = model(lr, 3)
    torch.testing.assert_close(x4, by_hand, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(x3, imresize_matlab(x4, 0.75), rtol=1e-5, atol=1e-6)


def test_cascade_repeats_its_last_scn_for_further_steps():
    model = CascadeSCN(atoms=16, distinct=2).eval()
    lr = torch.rand(1, 1, 6, 5)
    with torch.no_grad():
        x8 = model(lr, 8)
        up = lambda x: imresize_matlab(x, 2)  # noqa: E731
        by_hand = model.scn[1](up(model.scn[1](up(model.scn[0](up(lr))))))
    torch.testing.assert_close(x8, by_hand, rtol=1e-4, atol=1e-5)


def test_cascade_starts_from_an_x2_scn(tmp_path):
    scn = SCN(atoms=16)
    path = save_weights(tmp_path / "scn.safetensors", scn.state_dict(),
                        {"architecture": "scn", "model_args": {"atoms": 16}, "scales": [2], "input": "upsampled"})
    from superres.weights.store import load_weights

    entry = load_weights(path)
    cascade = CascadeSCN(atoms=16, distinct=2)
    cascade.load_initial_weights(entry.tensors, entry.card)
    for net in cascade.scn:
        for key, value in scn.state_dict().items():
            assert torch.equal(net.state_dict()[key], value)


def _random_weights(tmp_path, arch: str, args: dict, feed: str, scales: list[int], method: str):
    torch.manual_seed(0)
    model = build_model(arch, **args)
    return save_weights(tmp_path / f"{method}-test.safetensors", model.state_dict(),
                        {"architecture": arch, "model_args": args, "scales": scales, "input": feed, "method": method})


def test_scn_and_cscn_serve_as_registered_methods(tmp_path):
    scn_path = _random_weights(tmp_path, "scn", {"atoms": 16}, "upsampled", [2], "scn")
    cscn_path = _random_weights(tmp_path, "cscn", {"atoms": 16, "distinct": 2}, "lr", [2, 3, 4], "cscn")
    lr = torch.rand(1, 3, 11, 9)
    scn = get_method("scn", weights=str(scn_path))
    assert scn.info.scales == (2.0,)
    assert scn.upscale(lr, 2).shape == (1, 3, 22, 18)
    cscn = get_method("cscn", weights=str(cscn_path))
    assert cscn.info.scales is None  # any factor from the one file
    model, _ = model_from_weights(str(cscn_path))
    for scale in (1.5, 2, 3, 4, 8):
        out = cscn.upscale(lr[:, :1], scale)
        assert out.shape[-2:] == (math.ceil(11 * scale), math.ceil(9 * scale))
        with torch.no_grad():
            torch.testing.assert_close(out, model(lr[:, :1], scale), rtol=1e-4, atol=1e-5)  # no extra resize


@pytest.mark.parametrize("scale", [2.0, 3.0, 8.0])
def test_cscn_tiled_equals_untiled(tmp_path, scale):
    from superres.inference import prepare_method, upscale_tensor

    path = _random_weights(tmp_path, "cscn", {"atoms": 16, "distinct": 2}, "lr", [2, 3, 4], "cscn")
    with torch.no_grad():
        model, _ = model_from_weights(str(path))
    info = MethodInfo(name="cscn-test", family="cnn", summary="random test network")
    method = LearnedMethod(info, {2.0: str(path)}, any_scale=True)
    for p in model.parameters():
        assert torch.isfinite(p).all()
    m = prepare_method(method, scale, device="cpu")
    lr = torch.rand(1, 1, 29, 34, generator=torch.Generator().manual_seed(1))
    whole = upscale_tensor(lr, m, scale, tile=10_000)
    tiled = upscale_tensor(lr, m, scale, tile=8)
    assert (whole - tiled).abs().max() < 1e-5


@pytest.fixture
def shipped_cscn(tmp_path, monkeypatch):
    """A random CSCN weights file that the method registry finds as if it were shipped."""
    from superres.methods import learned
    from superres.weights.store import read_card

    path = _random_weights(tmp_path, "cscn", {"atoms": 16, "distinct": 2}, "lr", [2, 3, 4], "cscn")
    monkeypatch.setattr(learned, "_shipped_cards", lambda: ((str(path), read_card(path)),))
    return path


def test_cli_evaluate_and_upscale_with_cscn(shipped_cscn, data_dir, tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from superres.cli.main import main

    assert main(["evaluate", "-m", "cscn", "-d", "Set5", "-s", "2", "--data-dir", str(data_dir), "--mean-only"]) == 0
    assert "cscn" in capsys.readouterr().out
    src = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(src)
    assert main(["upscale", str(src), "-o", str(tmp_path / "out.png"), "-m", "cscn", "-s", "8", "--quiet"]) == 0
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (80, 96)


def test_dictionary_start_file_rebuilds_and_keeps_the_ista_weights(tmp_path, data_dir):
    from superres.models.scn import write_dictionary_start

    high, low = _coupled_dictionary(atoms=32)
    dictionary = save_weights(tmp_path / "dict.safetensors", {"high": high.float(), "low": low.float()},
                              {"architecture": "coupled-dictionary", "method": "scn-init", "scales": [2]})
    path, gain = write_dictionary_start(dictionary, tmp_path / "start.safetensors", 2, stages=2, patches=16,
                                        data_dir=str(data_dir))
    model, card = model_from_weights(str(path))
    assert card["architecture"] == "scn" and card["model_args"]["stages"] == 2 and gain > 0
    reference = SCN.from_dictionary(high.float(), low.float(), stages=2)
    for name in ("H.weight", "W.weight", "S.weight", "theta", "G.weight"):
        torch.testing.assert_close(model.state_dict()[name], reference.state_dict()[name])
    torch.testing.assert_close(model.Dx.weight, reference.Dx.weight * (gain / 2))


# ----- denorm="patch": the paper's (Yang's lin_scale, the SCN authors' test code) -------------


def test_patch_contrast_is_the_norm_of_the_mean_removed_window():
    model = SCN(atoms=8, hr_patch=5, denorm="patch").double()
    x = _image(12, 14, seed=4)
    contrast = model.patch_contrast(x)[0, 0]
    for y, col in ((2, 2), (6, 9), (9, 11)):  # windows inside the image
        window = x[0, 0, y - 2 : y + 3, col - 2 : col + 3]
        torch.testing.assert_close(contrast[y, col], (window - window.mean()).norm(), rtol=1e-9, atol=2e-4)


def test_patch_denorm_takes_only_dx_s_direction_and_the_input_s_contrast():
    high, low = _coupled_dictionary()
    model = SCN.from_dictionary(high, low, denorm="patch", contrast=1.1).double()
    x = _image(16, 15, seed=5)
    out = model(x)
    model.Dx.weight.data.mul_(7.0)  # a longer Dx changes nothing: its direction is all that counts
    torch.testing.assert_close(model(x), out, rtol=0, atol=1e-7)
    # each patch: mean + 1.1 * ||mean-removed input patch|| * unit(Dx z), aggregated by G
    u, _ = model.normalised_features(x)
    detail = model.Dx(model.codes(u))
    unit = detail / detail.norm(dim=1, keepdim=True).clamp(min=1e-300)  # codes of 0: the mean alone
    patches = model.patch_mean(x) + 1.1 * model.patch_contrast(x) * unit
    torch.testing.assert_close(out, model.aggregate(patches), rtol=0, atol=1e-6)
    # and it is not the feature-norm scaling of the default
    feature = SCN.from_dictionary(high, low).double()
    assert (feature(x) - out).abs().max() > 1e-3


def test_patch_denorm_keeps_a_flat_image_flat_with_finite_gradients():
    high, low = _coupled_dictionary()
    model = SCN.from_dictionary(high, low, denorm="patch").double()
    flat = torch.full((1, 1, 13, 16), 0.42, dtype=torch.float64, requires_grad=True)
    out = model(flat)
    torch.testing.assert_close(out, flat.detach(), rtol=0, atol=1e-6)
    out.sum().backward()
    assert torch.isfinite(flat.grad).all() and all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_denorm_is_checked_and_reaches_every_scn_of_a_cascade():
    with pytest.raises(Exception, match="denorm must be one of feature, patch"):
        SCN(denorm="image")
    with pytest.raises(Exception, match="contrast must be above 0"):
        SCN(denorm="patch", contrast=0)
    cascade = CascadeSCN(atoms=8, distinct=2, denorm="patch", contrast=1.2)
    assert [(net.denorm, net.contrast) for net in cascade.scn] == [("patch", 1.2), ("patch", 1.2)]
    with pytest.raises(Exception, match="calibrate_gain fits the output of denorm='feature'"):
        SCN(atoms=8, denorm="patch").calibrate_gain(_image(9, 9), _image(9, 9))


def test_a_patch_denorm_start_file_records_its_denorm_and_fits_no_gain(tmp_path):
    from superres.models.scn import write_dictionary_start

    high, low = _coupled_dictionary(atoms=32)
    dictionary = save_weights(tmp_path / "dict.safetensors", {"high": high.float(), "low": low.float()},
                              {"architecture": "coupled-dictionary", "method": "scn-init", "scales": [2]})
    path, gain = write_dictionary_start(dictionary, tmp_path / "start.safetensors", 2, denorm="patch", contrast=1.1)
    model, card = model_from_weights(str(path))
    assert gain is None and card["model_args"]["denorm"] == "patch" and card["training"]["calibration"] == "none"
    assert model.denorm == "patch" and model.contrast == 1.1
    reference = SCN.from_dictionary(high.float(), low.float(), denorm="patch")
    x = _image(10, 10).float()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_a_start_made_with_another_denorm_is_refused(tmp_path):

    patch = SCN(atoms=8, denorm="patch")
    card = {"architecture": "scn", "model_args": {"atoms": 8, "denorm": "patch"}}
    with pytest.raises(WeightsError, match="made with denorm='patch'"):
        SCN(atoms=8).load_initial_weights(patch.state_dict(), card)
    with pytest.raises(WeightsError, match="made with denorm='feature'"):
        CascadeSCN(atoms=8, denorm="patch").load_initial_weights(SCN(atoms=8).state_dict(), {"architecture": "scn"})
    SCN(atoms=8, denorm="patch").load_initial_weights(patch.state_dict(), card)  # the same meaning loads


# G at the border, dictionary scaling, the cascade's border, a start of another architecture:
# references are explicit loops or invariances, not copies of the implementation.

def test_g_at_the_border_averages_the_patches_of_the_nearest_pixels():
    """Kills: aggregate() padding the patch map by reflection (or zeros) instead of replication.

    Replicate padding means: a patch channel (i, j) that G would read outside the image is read
    at the nearest pixel inside, i.e. the position is clamped.  Checked on every pixel,
    borders included, against an explicit clamped loop.
    """
    p, r = 5, 2
    model = SCN(atoms=8, hr_patch=p).double()
    g = torch.Generator().manual_seed(5)
    H, W = 7, 9
    patches = torch.randn(1, p * p, H, W, generator=g, dtype=torch.float64)
    out = model.aggregate(patches)[0, 0]
    ref = torch.zeros(H, W, dtype=torch.float64)
    for y in range(H):
        for x in range(W):
            for i in range(p):
                for j in range(p):
                    # channel (i, j) predicts pixel q + (i - r, j - r): pixel (y, x) reads it at (y - i + r, x - j + r)
                    yy = min(max(y - i + r, 0), H - 1)
                    xx = min(max(x - j + r, 0), W - 1)
                    ref[y, x] += patches[0, i * p + j, yy, xx] / (p * p)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)  # G's start was made in float32


def test_a_jointly_rescaled_dictionary_gives_the_same_network():
    """Kills: from_dictionary dropping the ``/ ||low_j||`` of Dx (or of Dl).

    The start normalises each coupled atom by its LR half's norm, so multiplying an atom's HR
    and LR halves by the same factor changes nothing.
    """
    high, low = _coupled_dictionary(atoms=48)
    factors = torch.linspace(0.5, 3.0, high.shape[1], dtype=torch.float64)
    a = SCN.from_dictionary(high, low).double()
    b = SCN.from_dictionary(high * factors, low * factors).double()
    x = _image(18, 21, seed=2)
    with torch.no_grad():
        torch.testing.assert_close(b(x), a(x), rtol=1e-9, atol=1e-9)


def test_an_scn_start_from_another_architecture_is_a_weights_error():
    """Kills: load_initial_weights skipping its architecture check (a RuntimeError from
    load_state_dict would then surface as a traceback)."""
    from superres.models.vdsr import VDSR

    tensors = VDSR(depth=3, width=4).state_dict()
    with pytest.raises(WeightsError, match="vdsr"):
        SCN(atoms=8).load_initial_weights(tensors, {"architecture": "vdsr"})


def test_an_scn_starts_from_a_cascades_first_scn():
    # the cascade's first SCN is an x2 SCN: it can go on training alone, at x2
    torch.manual_seed(0)
    cascade = CascadeSCN(atoms=8, distinct=2)
    scn = SCN(atoms=8)
    scn.load_initial_weights(cascade.state_dict(), {"architecture": "cscn"})
    first, second = cascade.scn[0].state_dict(), cascade.scn[1].state_dict()
    assert any(not torch.equal(first[k], second[k]) for k in first)  # the stages differ: the right one is taken
    assert all(torch.equal(v, first[k]) for k, v in scn.state_dict().items())
    with pytest.raises(WeightsError, match="denorm"):
        SCN(atoms=8, denorm="patch").load_initial_weights(cascade.state_dict(), {"architecture": "cscn"})


def test_cascade_border_covers_the_receptive_field():
    """Kills: CascadeSCN.border counting one x2 step instead of the bound over all steps
    (``(2 + ceil(b / 2)) + 2`` = 7 where x3 and x8 reach 7.7 and 8.3 LR pixels)."""
    torch.manual_seed(0)
    model = CascadeSCN(atoms=16, distinct=2).double().eval()
    x = torch.rand(1, 1, 33, 33, dtype=torch.float64)
    poked = x.clone()
    poked[0, 0, 16, 16] += 1
    reaches = []
    for s in (3, 8):
        with torch.no_grad():
            changed = torch.nonzero((model(poked, s) - model(x, s))[0, 0].abs() > 0)
        reaches.append(((changed.double() + 0.5) / s - 0.5 - 16).abs().max().item())
    assert max(reaches) > 8  # several steps reach further than one
    assert max(reaches) <= model.border
