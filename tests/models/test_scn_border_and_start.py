"""SCN and the cascade: G at the border, dictionary scaling, the cascade's border, a start of another architecture.

References are explicit loops or invariances, not copies of the implementation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from superres.errors import WeightsError
from superres.models.scn import SCN, CascadeSCN


def _coupled_dictionary(atoms: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    d = F.normalize(torch.randn(125, atoms, generator=g, dtype=torch.float64), dim=0)
    return d[:25].clone(), d[25:].clone()


def _image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    smooth = 0.5 + 0.3 * torch.sin(xx / 3) * torch.cos(yy / 4)
    return (smooth + 0.05 * torch.rand(h, w, generator=g, dtype=torch.float64)).view(1, 1, h, w)


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
    cascade = CascadeSCN(atoms=8)
    with pytest.raises(WeightsError, match="cascade|scn"):
        SCN(atoms=8).load_initial_weights(cascade.state_dict(), {"architecture": "cscn"})


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
