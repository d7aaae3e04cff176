"""ONNX export: failures leave nothing, a weights file exports as its card runs it, the method is left as it was, the metadata names the input kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from superres.errors import InvalidArgumentError, SuperresError
from superres.inference import export
from superres.inference.export import export_onnx


# A failed or refused ONNX export leaves the output folder as it was.
#
# The file is written to a temporary name and renamed at the end: a failure after
# the exporter wrote it (here the metadata step) removes the temporary file, and a
# scale the method cannot do is refused before anything is written.

pytest.importorskip("onnx")


def test_a_failure_after_the_export_wrote_removes_the_temporary_file(learned, tmp_path, monkeypatch):
    method, _ = learned("srcnn")
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def broken(path, props):
        assert path.is_file()  # the exporter did write it
        raise RuntimeError("metadata step broke")

    monkeypatch.setattr(export, "_add_metadata", broken)
    with pytest.raises(SuperresError, match="metadata step broke"):
        export.export_onnx(method, 3.0, out_dir / "m.onnx")
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("scale", [1.0, 0.5, 65.0])
def test_a_scale_the_method_cannot_do_is_refused_before_writing(learned, tmp_path, scale):
    method, _ = learned("vdsr", any_scale=True)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(InvalidArgumentError):
        export.export_onnx(method, scale, out_dir / "m.onnx")
    assert list(out_dir.iterdir()) == []


# Exporting a weights file exports the network as its card runs it.
#
# A card with ``"self_ensemble": 2`` makes the method average two passes; the ONNX
# file exported from that weights file (path, not method) must compute the same,
# not the bare network.

ort = pytest.importorskip("onnxruntime")


def test_the_exported_file_network_is_the_card_s_self_ensemble(learned, tmp_path):
    method, weights = learned("srcnn", card={"self_ensemble": 2}, std=0.05)
    out = export_onnx(str(weights), 3.0, tmp_path / "e.onnx")
    model, _ = method.model_for_scale(3.0)
    bare = next(m for m in model.modules() if type(m).__name__ == "SRCNN")
    x = torch.rand(1, 1, 23, 17)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"y": x.numpy()})[0]
    with torch.no_grad():
        want, plain = model.float()(x).numpy(), bare.float()(x).numpy()
    assert np.abs(want - plain).max() > 1e-3  # the ensemble changes the output
    assert np.abs(got - want).max() < 1e-4


# Exporting a method's network leaves the method's own network untouched.
#
# The export traces a copy on the CPU in float32 and contiguous layout; the network the
# method keeps (channels-last on the CPU, maybe on a GPU) must keep its layout and
# device, so upscaling after an export runs exactly as before.

pytest.importorskip("onnx")


def test_the_method_s_network_keeps_its_layout_after_an_export(learned, tmp_path):
    method, _ = learned("srcnn")
    model, _ = method.model_for_scale(3.0)
    weights = [p for p in model.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export.export_onnx(method, 3.0, tmp_path / "m.onnx")
    after_model, _ = method.model_for_scale(3.0)
    assert after_model is model
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_an_os_error_while_writing_is_called_a_write_failure(learned, tmp_path, monkeypatch):
    method, _ = learned("srcnn")

    def full(path, props):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_add_metadata", full)
    with pytest.raises(SuperresError, match="cannot write .*No space left on device"):
        export.export_onnx(method, 3.0, tmp_path / "m.onnx")
    assert list(tmp_path.glob("*.onnx")) == [] and list(tmp_path.glob(".*tmp")) == []


# The exported ONNX file's metadata says which input its network takes.
#
# ``superres.input`` is ``lr`` for a network fed the LR Y (LiteSR) and ``upsampled``
# for one fed the bicubic-upscaled Y (SRCNN): a consumer sizes its input by it.

onnx = pytest.importorskip("onnx")


@pytest.mark.parametrize("kind, scale, feed", [("litesr", 2.0, "lr"), ("srcnn", 3.0, "upsampled")])
def test_metadata_input_is_the_card_s(learned, tmp_path, kind, scale, feed):
    _, weights = learned(kind)
    out = export_onnx(str(weights), scale, tmp_path / f"{kind}.onnx")
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["superres.input"] == feed and meta["superres.scale"] == f"{scale:g}"
