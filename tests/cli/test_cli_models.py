"""``superres models`` and the cost counter behind it.

Reference multiply-add counts are the closed forms for each layer type
(``out_pixels * in_channels/groups * k*k`` for a convolution), written here
only to check the hook-based counter, which never sees them.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from superres.cli.main import main
from superres.methods import registry
from superres.methods.base import MethodInfo
from superres.methods.learned import LearnedMethod
from superres.models.cost import count_macs, count_parameters, macs_per_output_pixel
from superres.models.srcnn import SRCNN
from superres.models.vdsr import VDSR
from superres.weights import defaults
from superres.weights.store import save_weights


def test_macs_of_plain_layers():
    x = torch.zeros(1, 4, 10, 12)
    assert count_macs(nn.Conv2d(4, 8, 3, padding=1), x) == 10 * 12 * 8 * 4 * 9
    assert count_macs(nn.Conv2d(4, 8, 3, padding=1, groups=2), x) == 10 * 12 * 8 * 2 * 9
    assert count_macs(nn.Conv2d(4, 8, 3, stride=2, padding=1), x) == 5 * 6 * 8 * 4 * 9
    assert count_macs(nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), x) == 10 * 12 * 4 * 2 * 16
    assert count_macs(nn.Linear(12, 5), x) == 1 * 4 * 10 * 5 * 12


def test_macs_of_functional_conv_and_shared_layers():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)
            self.register_buffer("k", torch.ones(4, 1, 2, 2))

        def forward(self, x):
            y = self.conv(self.conv(x))  # applied twice: counted twice
            return F.conv2d(y, self.k)  # a fixed kernel outside any module

    x = torch.zeros(1, 1, 8, 8)
    assert count_macs(Net(), x) == 2 * 64 * 9 + 7 * 7 * 4 * 4


def test_srcnn_and_vdsr_costs_match_their_papers():
    # SRCNN 9-5-5 with 64/32 filters: 81*64 + 25*64*32 + 25*32 = 57,184 per pixel (the same closed form gives
    # the 8,032 of the 9-1-5 network in Dong et al., TPAMI 2016).  VDSR: 20 3x3 layers of 64 channels.
    assert macs_per_output_pixel(SRCNN()) == 81 * 64 + 25 * 64 * 32 + 25 * 32
    assert macs_per_output_pixel(VDSR()) == 9 * 64 + 18 * 9 * 64 * 64 + 9 * 64
    assert count_parameters(SRCNN()) == 81 * 64 + 64 + 25 * 64 * 32 + 32 + 25 * 32 + 1


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """A learned method 'tiny-srcnn' registered for x3 whose card holds an evaluation; the default at x3."""
    model = SRCNN()
    results = [
        {"method": "tiny-srcnn", "dataset": d, "scale": 3.0, "lr_mode": mode, "mean": {"psnr": p, "ssim": 0.9}}
        for d, p, mode in [("Set5", 32.75, "rgb"), ("Set5", 40.0, "y-float"), ("Set14", 29.30, "rgb"),
                           ("BSD100", 28.41, "rgb")]
    ]
    path = save_weights(tmp_path / "tiny-srcnn.x3.safetensors", model.state_dict(),
                        {"architecture": "srcnn", "model_args": {}, "scales": [3], "input": "upsampled",
                         "evaluation": {"results": results}})
    info = MethodInfo(name="tiny-srcnn", family="cnn", summary="test")
    original = registry._factory

    def factory(name):
        if name == "tiny-srcnn":
            return lambda **kw: LearnedMethod(info, {3.0: str(path)}, **kw)
        return original(name)

    monkeypatch.setitem(registry.METHODS, "tiny-srcnn", "unused:unused")
    monkeypatch.setattr(registry, "_factory", factory)
    monkeypatch.setitem(defaults.DEFAULT_METHOD_BY_SCALE, 3, "tiny-srcnn")
    return path


def test_models_lists_cost_psnr_and_default(zoo, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("tiny-srcnn"))
    assert "x3" in row and "57.2k" in row and "32.75" in row and "29.30" in row and "28.41" in row
    assert "* x3" in row
    bicubic = next(line for line in out.splitlines() if line.startswith("bicubic"))
    expected = ",".join(f"x{s:g}" for s in sorted(s for s, m in defaults.DEFAULT_METHOD_BY_SCALE.items()
                                                   if m == "bicubic"))
    assert (f"* {expected}" in bicubic) if expected else "*" not in bicubic


def test_models_json(zoo, capsys):
    assert main(["models", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    tiny = next(r for r in rows if r["method"] == "tiny-srcnn")
    assert tiny["params"] == count_parameters(SRCNN())
    assert tiny["macs_per_pixel"] == 57184
    assert tiny["psnr"] == {"Set5": 32.75, "Set14": 29.30, "BSD100": 28.41}  # rgb protocol preferred
    assert tiny["default_for"] == [3.0]
    names = {r["method"] for r in rows}
    assert set(registry.METHODS) <= names  # every registered method appears, available or not


def test_scsr_rows_count_the_entries_of_the_dictionaries_they_run(capsys):
    from safetensors.torch import load_file

    from superres.methods.registry import get_method
    from superres.weights.store import weights_path

    assert main(["models", "--format", "json"]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["method"] == "scsr"]
    assert {r["scale"] for r in rows} == {2.0, 3.0, 4.0}
    method = get_method("scsr")
    for row in rows:
        tensors = load_file(str(weights_path(method.weights_for_scale(row["scale"]))))
        assert row["params"] == sum(t.numel() for t in tensors.values()) > 0


def test_a_learned_method_whose_weights_cannot_load_says_why_in_its_row(tmp_path, monkeypatch):
    from superres.cli.models import collect_rows

    (tmp_path / "broken_net.py").write_text(
        "from superres.methods.base import MethodInfo\n"
        "from superres.methods.learned import LearnedMethod\n\n"
        "def broken(**options):\n"
        "    info = MethodInfo(name='broken-net', family='cnn', summary='weights missing', scales=(2.0,))\n"
        f"    return LearnedMethod(info, {{2.0: {str(tmp_path / 'gone.safetensors')!r}}})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "METHODS", {**registry.METHODS, "broken-net": "broken_net:broken"})
    rows = [row for row in collect_rows() if row["method"] == "broken-net"]
    assert len(rows) == 1 and rows[0]["params"] is None and rows[0]["psnr"] == {}
    assert "gone.safetensors" in rows[0]["note"]
