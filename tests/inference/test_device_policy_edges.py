"""``superres.inference.device``: CUDA indices, moving loaded networks, threads within the CPU affinity."""

from __future__ import annotations

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.inference import device as policy


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
