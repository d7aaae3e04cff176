import pytest
import torch

from superres.errors import WeightsError
from superres.weights.average import average_weights, main
from superres.weights.store import load_weights, save_weights


def _run(tmp_path, name, value, arch="litesr", shape=(2, 3)):
    tensors = {"conv.weight": torch.full(shape, float(value)), "conv.bias": torch.tensor([value, 2.0 * value])}
    card = {"architecture": arch, "training": {"steps": int(value * 10)}, "evaluation": {"results": [1]}}
    return save_weights(tmp_path / name / "best.safetensors", tensors, card)


def test_mean_of_two_runs_and_its_card(tmp_path):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 4.0)
    entry = load_weights(average_weights([a, b], tmp_path / "mean.safetensors"))
    torch.testing.assert_close(entry.tensors["conv.weight"], torch.full((2, 3), 2.5))
    torch.testing.assert_close(entry.tensors["conv.bias"], torch.tensor([2.5, 5.0]))
    assert [s["steps"] for s in entry.card["training"]["averaged_from"]] == [10, 40]
    assert entry.card["training"]["steps"] == 40  # the last source's record
    assert entry.card["evaluation"] == {}


def test_different_networks_are_refused_in_one_line(tmp_path, capsys):
    a = _run(tmp_path, "a", 1.0)
    with pytest.raises(WeightsError, match="same network"):
        average_weights([a, _run(tmp_path, "c", 1.0, arch="vdsr")], tmp_path / "x.safetensors")
    with pytest.raises(WeightsError, match="shape"):
        average_weights([a, _run(tmp_path, "d", 1.0, shape=(3, 2))], tmp_path / "x.safetensors")
    assert main([str(a), "-o", str(tmp_path / "y.safetensors")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "x.safetensors").exists()


def test_mean_of_three_runs_counts_every_run_and_records_each_source(tmp_path):
    # 1, 2 and 6: the mean of all three is 3; of the first and last only it would be 3.5
    sources = [_run(tmp_path, name, value) for name, value in (("a", 1.0), ("b", 2.0), ("c", 6.0))]
    entry = load_weights(average_weights(sources, tmp_path / "mean3.safetensors"))
    torch.testing.assert_close(entry.tensors["conv.weight"], torch.full((2, 3), 3.0))
    torch.testing.assert_close(entry.tensors["conv.bias"], torch.tensor([3.0, 6.0]))
    recorded = entry.card["training"]["averaged_from"]
    assert [s["file"] for s in recorded] == [str(p) for p in sources]
    assert [s["sha256"] for s in recorded] == [load_weights(p).card["sha256"] for p in sources]
    assert len({s["sha256"] for s in recorded}) == 3
    assert [s["steps"] for s in recorded] == [10, 20, 60]
    assert entry.card["name"] == "mean3"


def test_mean_is_elementwise_and_keeps_the_dtype(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = [{"w": torch.randn(4, 5, generator=g), "h": torch.randn(3, generator=g).half()} for _ in range(3)]
    paths = [save_weights(tmp_path / f"r{i}.safetensors", t, {"architecture": "x"}) for i, t in enumerate(tensors)]
    entry = load_weights(average_weights(paths, tmp_path / "m.safetensors"))
    for key in ("w", "h"):
        expected = sum(t[key].double() for t in tensors) / 3
        assert entry.tensors[key].dtype == tensors[0][key].dtype
        torch.testing.assert_close(entry.tensors[key], expected.to(tensors[0][key].dtype))


def test_the_output_is_never_a_source_nor_an_existing_file_without_overwrite(tmp_path, capsys):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 4.0)
    before = a.read_bytes()
    assert main([str(a), str(b), "-o", str(a)]) == 1
    assert main([str(a), str(b), "-o", str(a), "--overwrite"]) == 1
    assert "would replace the input" in capsys.readouterr().err and a.read_bytes() == before
    kept = tmp_path / "keep.safetensors"
    kept.write_bytes(b"mine")
    assert main([str(a), str(b), "-o", str(kept)]) == 1
    assert kept.read_bytes() == b"mine" and not kept.with_suffix(".json").exists()
    assert main([str(a), str(b), "-o", str(kept), "--overwrite"]) == 0
    for bad in (tmp_path / "a" / "best.safetensors" / "x.safetensors", tmp_path / "no-folder" / "x.safetensors",
                tmp_path / "x.pt"):
        capsys.readouterr()
        assert main([str(a), str(b), "-o", str(bad)]) == 1
        assert capsys.readouterr().err.count("\n") == 1


def test_runs_for_other_scales_are_not_one_network(tmp_path):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 4.0)
    card = load_weights(b).card
    save_weights(b, load_weights(b).tensors, dict(card, scales=[3.0]))
    with pytest.raises(WeightsError, match="differ in scales"):
        average_weights([a, b], tmp_path / "x.safetensors")
