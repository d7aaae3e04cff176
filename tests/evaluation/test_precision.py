"""``superres evaluate --precision``: bf16 quality of the learned methods, measured the same way."""

from __future__ import annotations

import pytest

from superres.cli.main import main
from superres.evaluation.benchmark import evaluate
from superres.inference import prepare_method


def test_bf16_runs_the_network_in_bf16_and_stays_close_to_fp32(data_dir):
    fp32, = evaluate(["default"], ["Set5"], [4.0], data_dir=data_dir, precision="fp32")
    bf16, = evaluate(["default"], ["Set5"], [4.0], data_dir=data_dir, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.to_dict()["precision"] == "bf16"
    # a different arithmetic gives different pixels, but not a different model
    assert bf16.mean_psnr != fp32.mean_psnr
    assert abs(bf16.mean_psnr - fp32.mean_psnr) < 0.1


def test_classical_methods_ignore_the_precision(data_dir):
    run, = evaluate(["bicubic"], ["Set5"], [2.0], data_dir=data_dir, precision="bf16")
    assert run.precision == "fp32"


def test_cards_only_take_fp32_scores(capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    # refused before any evaluation: were the guard lost, this fails at once instead of
    # evaluating and writing into the shipped cards
    monkeypatch.setattr(benchmark, "evaluate", lambda *a, **k: pytest.fail("evaluated despite the refusal"))
    assert main(["evaluate", "-m", "default", "-s", "2", "--precision", "bf16", "--write-card"]) != 0
    err = capsys.readouterr().err.strip()
    assert "fp32" in err and len(err.splitlines()) == 1


def test_auto_evaluates_default_as_upscale_runs_it_and_named_methods_in_fp32(data_dir, monkeypatch):
    from superres.inference import device as device_policy

    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(device_policy, "native_bf16", lambda _device, native=native: native)
        default, named = evaluate(["default", "litesr-small"], ["Set5"], [4.0], data_dir=data_dir)
        assert (default.precision, named.precision) == (expected, "fp32")
        upscaler = prepare_method("default", 4.0, device="cpu")  # what `superres upscale` runs
        assert upscaler.precision == expected
    assert default.mean_psnr == named.mean_psnr  # fp32 both times: the same model


def test_unknown_precision_is_refused(data_dir):
    with pytest.raises(ValueError, match="precision"):
        evaluate(["bicubic"], ["Set5"], [2.0], data_dir=data_dir, precision="fp16")
