"""The inference policy of ``superres.inference.device``: memory sizes, precision, threads, devices.

Reference values: binary units written out by hand (``4G`` is ``4 * 2**30`` bytes), and
the precision rule of the module docstring (``auto`` is bf16 only for ``default`` on a
device with native bf16), with the hardware probe replaced so that both answers are tried.
"""

from __future__ import annotations

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.inference import device as policy
from superres.inference.device import (
    configure_threads,
    default_max_memory,
    format_bytes,
    parse_memory,
    resolve_device,
    resolve_precision,
)

CPU = torch.device("cpu")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("4G", 4 * 2**30),
        ("4g", 4 * 2**30),
        ("512M", 512 * 2**20),
        ("512 MiB", 512 * 2**20),
        ("1.5GiB", 3 * 2**29),
        ("1.5 gb", 3 * 2**29),
        ("2048K", 2 * 2**20),
        ("2T", 2 * 2**40),
        ("  8M  ", 8 * 2**20),
        ("3000000", 3_000_000),  # no unit: bytes
        ("2e9", 2_000_000_000),
        (5 * 2**20, 5 * 2**20),
        (1.5 * 2**20, 3 * 2**19),
    ],
)
def test_parse_memory_binary_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["1023K", "1000000", "0", 2**20 - 1, "-4G", "nan", "lots", "4X", "", "G",
                                  "inf", "Infinity", "1e400", float("inf")])
def test_parse_memory_refuses_sizes_under_1M_and_nonsense(text):
    with pytest.raises(InvalidArgumentError, match="memory"):
        parse_memory(text)


def test_parse_memory_smallest_accepted_is_1M():
    assert parse_memory("1M") == parse_memory("1024K") == parse_memory(2**20) == 2**20


@pytest.mark.parametrize(
    "total, expected",
    [(64 * 2**30, 8 * 2**30), (16 * 2**30, 8 * 2**30), (6 * 2**30, 3 * 2**30), (2**30, 2**30), (2**29, 2**30)],
)
def test_default_max_memory_is_half_the_ram_between_1_and_8_GiB(monkeypatch, total, expected):
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": total // 4096}
    monkeypatch.setattr(policy.os, "sysconf", lambda name: pages[name])
    assert default_max_memory() == expected


@pytest.mark.parametrize(
    "n, text",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 2**20, "5.0 MiB"),
     (3 * 2**30, "3.0 GiB"), (2**40, "1024.0 GiB"),
     (99999 * 2**30, "99999.0 GiB"), (2**50, "1.05e+06 GiB"), (1e300, "9.31e+290 GiB")],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bf16_only_for_default_on_native_hardware(monkeypatch, native):
    monkeypatch.setattr(policy, "native_bf16", lambda device: native)
    assert resolve_precision("auto", CPU, "default") == ("bf16" if native else "fp32")
    for name in ("vdsr", "litesr-small", "bicubic", ""):
        assert resolve_precision("auto", CPU, name) == "fp32"
    for explicit in ("fp32", "bf16"):  # asked for: given, whatever the hardware
        assert resolve_precision(explicit, CPU, "vdsr") == explicit
    with pytest.raises(InvalidArgumentError, match="precision"):
        resolve_precision("fp16", CPU)


def test_native_bf16_reads_the_cpu_flags(monkeypatch):
    for flags, native in ((frozenset({"avx2", "avx512_bf16"}), True), (frozenset({"amx_bf16"}), True),
                          (frozenset({"avx2", "avx512f"}), False), (frozenset(), False)):
        monkeypatch.setattr(policy, "_cpu_flags", lambda flags=flags: flags)
        assert policy.native_bf16(CPU) is native


def test_configure_threads_sets_torch_and_refuses_bad_counts():
    before = torch.get_num_threads()
    try:
        assert configure_threads(1) == 1 and torch.get_num_threads() == 1
        for bad in (0, -2, 1.5, True, "2"):
            with pytest.raises(InvalidArgumentError, match="threads"):
                configure_threads(bad)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_resolve_device_names():
    assert resolve_device("cpu") == CPU
    assert resolve_device(" AUTO ") == resolve_device(None) == resolve_device("auto")
    for bad in ("tpu", "gpu0", "cuda:x"):
        with pytest.raises(InvalidArgumentError, match="device"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        assert resolve_device("auto") == CPU
        with pytest.raises(InvalidArgumentError, match="no CUDA"):
            resolve_device("cuda")
