"""``superres export``: the default opset, the metadata it records, and a missing folder refused up front."""

from __future__ import annotations

import hashlib
import json

import pytest

from superres.cli.main import main

onnx = pytest.importorskip("onnx")


def test_default_opset_and_metadata_name_the_weights(learned, tmp_path, capsys):
    _, weights = learned("srcnn")
    out = tmp_path / "m.onnx"
    assert main(["export", str(weights), "-s", "3", "-o", str(out)]) == 0
    model = onnx.load(str(out))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    meta = {p.key: p.value for p in model.metadata_props}
    card = json.loads(weights.with_suffix(".json").read_text())
    assert meta["superres.weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest() == card["sha256"]
    assert meta["superres.method"] == card["method"] == "srcnn"
    assert meta["superres.weights"] == card["name"]


def test_a_missing_output_folder_is_refused_before_the_export(learned, tmp_path, capsys, monkeypatch):
    import superres.inference.export as export

    def not_reached(*args, **kwargs):
        raise AssertionError("the network was prepared before the output folder was checked")

    monkeypatch.setattr(export, "network_for_export", not_reached)
    _, weights = learned("srcnn")
    assert main(["export", str(weights), "-s", "3", "-o", str(tmp_path / "nodir" / "m.onnx")]) == 1
    assert "does not exist" in capsys.readouterr().err
