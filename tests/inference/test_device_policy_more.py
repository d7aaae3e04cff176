"""Device policy: auto/mps/unknown device types, thread counts that really change, the memory default where RAM is unknown, a network moved back to the CPU's layout."""

from __future__ import annotations

import pytest
import torch
from superres.errors import InvalidArgumentError
from superres.inference import device as policy
from superres.inference.device import configure_threads, resolve_device


# resolve_device: "auto" picks a GPU whenever torch sees one, "mps" is refused where MPS is
# not available, and a device type torch knows but superres does not run on (meta, xpu, ...)
# is refused with a one-line error rather than handed through.

def test_auto_picks_cuda_when_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for name in ("auto", None, "", " Auto "):
        assert resolve_device(name) == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_mps_is_refused_where_it_is_not_available(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(InvalidArgumentError, match="MPS is not available"):
        resolve_device("mps")


@pytest.mark.parametrize("name", ["meta", "xpu", "hpu"])
def test_a_device_type_superres_does_not_run_on_is_refused(name):
    torch.device(name)  # torch itself accepts the name ...
    with pytest.raises(InvalidArgumentError, match="unsupported device"):  # ... superres does not
        resolve_device(name)


# configure_threads really changes torch's intra-op thread count, also from a count other
# than the one torch already has (OMP_NUM_THREADS=1 makes setting 1 a no-op).

def test_configure_threads_changes_torchs_count():
    before = torch.get_num_threads()
    target = 2 if before != 2 else 3
    try:
        assert configure_threads(target) == target
        assert torch.get_num_threads() == target
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# default_max_memory where the machine's RAM cannot be read (no sysconf, or it refuses the
# names): the budget is that of an 8 GiB machine, 4 GiB, not a crash and not the 1 GiB floor.

@pytest.mark.parametrize("error", [ValueError, OSError, AttributeError])
def test_unknown_ram_counts_as_8_GiB(monkeypatch, error):
    def refuse(name):
        raise error(name)

    monkeypatch.setattr(policy.os, "sysconf", refuse, raising=False)
    assert policy.default_max_memory() == 4 * 2**30


# configure_method: a network already loaded elsewhere and moved to the CPU gets the CPU's
# channels_last layout, exactly as a network freshly loaded on the CPU has.

def _spatial_conv(model):
    return next(m for m in model.modules()
                if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1 and m.weight.shape[-1] > 1)


def test_a_network_moved_to_the_cpu_is_channels_last_as_a_fresh_load(learned):
    method, _ = learned("srcnn")
    model, _ = method.model_for_scale(3.0)
    assert _spatial_conv(model).weight.is_contiguous(memory_format=torch.channels_last)  # a fresh CPU load
    # as if it had been loaded on a GPU: plain contiguous layout, and the method says it lives elsewhere
    model.to(memory_format=torch.contiguous_format)
    assert not _spatial_conv(model).weight.is_contiguous(memory_format=torch.channels_last)
    method.device = torch.device("meta")
    policy.configure_method(method, device=torch.device("cpu"), precision="fp32")
    model, _ = method.model_for_scale(3.0)
    weight = _spatial_conv(model).weight
    assert method.device == torch.device("cpu") and weight.device.type == "cpu"
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()
