"""``superres.inference.device``: CUDA indices, moving loaded networks, threads within the CPU affinity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import superres
from superres.errors import InvalidArgumentError
from superres.inference import device as policy
from superres.inference import pipeline
from superres.methods.registry import get_method


def test_a_cuda_index_past_the_last_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert policy.resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(InvalidArgumentError, match="only 2 CUDA"):
        policy.resolve_device("cuda:2")


def test_configure_method_moves_networks_already_loaded(learned):
    method, _ = learned("srcnn")
    model, _ = method.model_for_scale(3.0)
    assert next(model.parameters()).device.type == "cpu"
    policy.configure_method(method, device=torch.device("meta"), precision="fp32")
    model, _ = method.model_for_scale(3.0)
    assert method.device == torch.device("meta") and next(model.parameters()).device.type == "meta"


def test_default_threads_are_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.setattr(policy.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(policy.os, "cpu_count", lambda: 64)
    before = torch.get_num_threads()
    try:
        assert policy.configure_threads() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("capability, native", [((7, 5), False), ((8, 0), True), ((9, 0), True)])
def test_bf16_is_native_on_cuda_from_compute_capability_8(monkeypatch, capability, native):
    # torch.cuda.is_bf16_supported() also says True where bf16 is only emulated (a T4, a V100)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    assert policy.native_bf16(torch.device("cuda")) is native
    assert policy.resolve_precision("auto", torch.device("cuda"), "default") == ("bf16" if native else "fp32")


def test_a_network_moved_off_the_cpu_leaves_the_cpus_channels_last_layout(learned):
    method, _ = learned("srcnn")
    model, _ = method.model_for_scale(3.0)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1 and m.weight.shape[-1] > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    policy.configure_method(method, device=torch.device("meta"), precision="fp32")
    model, _ = method.model_for_scale(3.0)
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1 and m.weight.shape[-1] > 1)
    assert conv.weight.device.type == "meta" and conv.weight.is_contiguous()


@pytest.mark.parametrize("name, expected", [("glasner", "cpu"), ("bicubic", "cpu"), ("vdsr", "meta")])
def test_only_networks_get_their_tiles_on_the_device(monkeypatch, name, expected):
    method = get_method(name)
    if name == "vdsr":
        policy.configure_method(method, device=torch.device("meta"), precision="fp32")
    seen = []

    def record(*args, device=None, **kwargs):
        seen.append(device)

    monkeypatch.setattr(pipeline, "run_tiled", record)
    pixels = np.zeros((12, 14, 3), dtype=np.uint16)  # 16-bit: no raw uint8 shortcut
    pipeline.upscale_array(pixels, method, 2.0, device=torch.device("meta") if name != "vdsr" else None)
    pipeline.upscale_tensor(torch.zeros(1, 3, 12, 14), method, 2.0, device=torch.device("meta") if name != "vdsr" else None)
    assert [d.type for d in seen] == [expected, expected]


def test_a_device_given_for_the_tiles_overrides_the_networks_own(monkeypatch):
    method = get_method("vdsr")  # its network on the CPU
    seen = []
    monkeypatch.setattr(pipeline, "run_tiled", lambda *a, device=None, **k: seen.append(device))
    pipeline.upscale_array(np.zeros((12, 14, 3), dtype=np.uint16), method, 2.0, device=torch.device("meta"))
    pipeline.upscale_tensor(torch.zeros(1, 3, 12, 14), method, 2.0, device=torch.device("meta"))
    assert [d.type for d in seen] == ["meta", "meta"]


def test_bf16_asks_about_the_gpu_in_question_not_the_current_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    caps = {0: (7, 5), 1: (8, 0)}  # current device 0 is a T4, cuda:1 an A100
    monkeypatch.setattr(torch.cuda, "get_device_capability",
                        lambda device=None: caps[0 if device is None else (torch.device(device).index or 0)])
    assert policy.native_bf16(torch.device("cuda:1")) and not policy.native_bf16(torch.device("cuda:0"))


def test_bf16_is_not_native_on_cuda_where_there_is_no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    assert policy.native_bf16(torch.device("cuda")) is False


def test_the_network_is_exported_from_a_cpu_copy(learned, monkeypatch):
    # stand-in for a method on a GPU (needs one to show directly): the copy is moved to the CPU
    from superres.inference.export import network_for_export

    method, _ = learned("srcnn")
    moved = []
    real_cpu = torch.nn.Module.cpu
    monkeypatch.setattr(torch.nn.Module, "cpu", lambda self: moved.append(self) or real_cpu(self))
    model = network_for_export(method, 3.0)[0]
    assert moved and all(p.device.type == "cpu" for p in model.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_network_on_the_gpu_exports_the_same_file(tmp_path, learned):
    from superres.inference.export import export_onnx

    method, _ = learned("srcnn")
    cpu = export_onnx(method, 3.0, tmp_path / "cpu.onnx").read_bytes()
    policy.configure_method(method, device=torch.device("cuda"), precision="fp32")
    assert export_onnx(method, 3.0, tmp_path / "gpu.onnx").read_bytes() == cpu


def test_upscale_by_name_uses_the_precision_asked_for():
    image = (torch.rand(1, 3, 10, 12, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    assert not torch.equal(superres.upscale(image, 2, "vdsr", precision="bf16"),
                           superres.upscale(image, 2, "vdsr", precision="fp32"))


def test_upscale_by_name_runs_on_the_device_asked_for(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # "auto" would now mean a GPU
    placed = []
    real = policy.configure_method
    monkeypatch.setattr(pipeline, "configure_method",
                        lambda m, *, device, **k: placed.append(device) or real(m, device=torch.device("cpu"), **k))
    superres.upscale(np.zeros((8, 9, 3), dtype=np.uint8), 2, "vdsr", device="cpu")
    assert placed == [torch.device("cpu")]
