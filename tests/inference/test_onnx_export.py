"""ONNX export: onnxruntime agrees with PyTorch at two input sizes (max abs difference < 1e-4).

Skipped when onnxruntime is not installed (it is in the ``test`` extra).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superres.cli.main import main
from superres.errors import InvalidArgumentError
from superres.inference.export import export_onnx

ort = pytest.importorskip("onnxruntime")


def _run(path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"y": x.numpy()})[0]


@pytest.mark.parametrize("kind, scale", [("srcnn", 3.0), ("vdsr", 2.0), ("litesr", 3.0)])
def test_onnxruntime_matches_pytorch_at_two_sizes(learned, tmp_path, kind, scale):
    method, _ = learned(kind)
    path = export_onnx(method, scale, tmp_path / f"{kind}.onnx")
    model, card = method.model_for_scale(scale)
    model = model.float().eval()
    for shape in [(1, 1, 24, 31), (2, 1, 45, 19)]:  # dynamic batch, height and width
        x = torch.rand(*shape)
        with torch.no_grad():
            ref = (model(x) if card["input"] == "upsampled" else model(x, int(scale))).numpy()
        got = _run(path, x)
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() < 1e-4


def test_export_cli_from_a_weights_file(learned, tmp_path, capsys):
    _, weights = learned("srcnn")
    out = tmp_path / "srcnn.onnx"
    assert main(["export", str(weights), "--scale", "3", "-o", str(out)]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    onnx = pytest.importorskip("onnx")
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["superres.input"] == "upsampled" and meta["superres.scale"] == "3"
    # never overwritten without --overwrite; a wrong scale or a non-learned method is one clear line
    assert main(["export", str(weights), "--scale", "3", "-o", str(out)]) == 1
    assert main(["export", str(weights), "--scale", "2", "-o", str(tmp_path / "x2.onnx")]) == 1
    assert main(["export", "bicubic", "--scale", "2", "-o", str(tmp_path / "b.onnx")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("superres: error:") for line in err)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".onnx") == ["srcnn.onnx"]


def test_fractional_scale_of_an_lr_network_is_refused(learned, tmp_path):
    method, _ = learned("litesr", any_scale=True)
    with pytest.raises(InvalidArgumentError, match="integer scale"):
        export_onnx(method, 2.5, tmp_path / "x.onnx")
