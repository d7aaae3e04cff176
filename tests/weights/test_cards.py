"""``superres evaluate --write-card``'s store: results go into the card of the weights that made them."""

import json

import pytest
import torch

from superres.weights import cards
from superres.weights.store import read_card, save_weights


def _run(method, dataset, scale, psnr, lr_mode="rgb"):
    return {"method": method, "dataset": dataset, "scale": scale, "lr_mode": lr_mode, "mean_psnr": psnr}


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A private shipped folder with two weights files: ``net-x2`` serves x2, ``net-x3`` x3."""
    for name in ("net-x2", "net-x3"):
        save_weights(tmp_path / f"{name}.safetensors", {"w": torch.zeros(1)}, {"name": name, "architecture": "net"})
    monkeypatch.setattr(cards, "SHIPPED_DIR", tmp_path)
    serving = {("net", 2.0): "net-x2", ("net", 3.0): "net-x3"}
    monkeypatch.setattr(cards, "weights_serving", lambda method, scale: serving.get((method, float(scale))))
    return tmp_path


def _results(folder, name):
    return read_card(folder / f"{name}.safetensors").get("evaluation", {}).get("results", [])


def test_each_result_goes_to_the_card_that_served_its_scale(shipped):
    written = cards.record_evaluation(
        [_run("net", "Set5", 2, 36.0), _run("net", "Set5", 3, 32.0), _run("bicubic", "Set5", 2, 33.6)], "cmd one"
    )
    assert written == ["net-x2", "net-x3"]  # bicubic has no weights, so no card
    assert [(r["scale"], r["mean_psnr"], r["command"]) for r in _results(shipped, "net-x2")] == [(2, 36.0, "cmd one")]
    assert [(r["scale"], r["mean_psnr"]) for r in _results(shipped, "net-x3")] == [(3, 32.0)]
    # what ran it, since the same command on another torch or thread count differs in the 5th decimal
    ran_on = _results(shipped, "net-x2")[0]["ran_on"]
    assert ran_on.startswith(f"torch {torch.__version__}, ") and f"{torch.get_num_threads()} threads" in ran_on


def test_a_newer_run_replaces_only_its_own_set_scale_and_mode(shipped):
    cards.record_evaluation([_run("net", "Set5", 2, 36.0), _run("net", "Set14", 2, 32.0)], "old")
    cards.record_evaluation([_run("net", "Set5", 2, 36.5), _run("net", "Set5", 2, 36.6, lr_mode="y-float")], "new")
    kept = {(r["dataset"], r["lr_mode"]): (r["mean_psnr"], r["command"]) for r in _results(shipped, "net-x2")}
    assert kept == {("Set5", "rgb"): (36.5, "new"), ("Set14", "rgb"): (32.0, "old"), ("Set5", "y-float"): (36.6, "new")}


def test_cards_are_written_under_an_exclusive_lock(shipped, monkeypatch):
    # Two --write-card runs side by side each read, extend and rewrite a card; the lock keeps
    # the later from dropping the earlier's results.  Probe it from inside the write.
    fcntl = pytest.importorskip("fcntl")
    seen = []

    def probe(runs, command):
        with open(shipped / ".cards.lock", "a") as other:
            try:  # a shared lock is refused only while another holds an exclusive one
                fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
                seen.append("free")
            except BlockingIOError:
                seen.append("held")
        return []

    monkeypatch.setattr(cards, "_record", probe)
    cards.record_evaluation([], "cmd")
    assert seen == ["held"]
    with open(shipped / ".cards.lock", "a") as other:  # released afterwards
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _result(mode, dataset, scale, psnr):
    return {"dataset": dataset, "scale": scale, "lr_mode": mode, "mean": {"psnr": psnr}}


def test_card_psnr_picks_the_requested_lr_mode():
    card = {"evaluation": {"results": [_result("y-float", "Set5", 2.0, 37.5), _result("rgb", "Set5", 2.0, 37.4),
                                       _result("y-float", "Set14", 2.0, 33.1)]}}
    # rgb prefers rgb results and falls back to the other mode where a set has no rgb result
    assert cards.card_psnr(card, 2.0) == {"Set5": 37.4, "Set14": 33.1}
    assert cards.card_psnr(card, 2.0, "y-float") == {"Set5": 37.5, "Set14": 33.1}
    assert cards.card_psnr({"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.4)]}}, 2.0, "y-float") == {}
    assert cards.card_psnr(card, 3.0) == {}


def test_evaluation_changes_pair_the_cells_both_cards_hold():
    before = {"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.0), _result("rgb", "Set14", 2.0, 32.7),
                                         _result("y-float", "Set5", 2.0, 37.1), _result("rgb", "Set5", 2.5, 34.3)]}}
    after = {"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.1), _result("rgb", "Set14", 2.0, 32.6),
                                        _result("y-float", "Set5", 2.0, 37.2), {"dataset": "Set5"}]}}
    # x2.5 is only in the old card, the malformed entry only in the new: neither is a pair
    assert cards.evaluation_changes(before, after) == [
        ("rgb", "Set14", 2.0, 32.7, 32.6), ("rgb", "Set5", 2.0, 37.0, 37.1), ("y-float", "Set5", 2.0, 37.1, 37.2)]


def test_compare_prints_every_cell_and_the_largest_loss(tmp_path, capsys):
    from superres.weights import compare

    before = {"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.0), _result("rgb", "Set14", 3.0, 29.6)]}}
    after = {"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.25), _result("rgb", "Set14", 3.0, 29.5)]}}
    (tmp_path / "old.json").write_text(json.dumps(before))
    (tmp_path / "new.json").write_text(json.dumps(after))
    assert compare.main([str(tmp_path / "old.json"), str(tmp_path / "new.safetensors")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["rgb", "Set14", "x3", "29.6000", "29.5000", "-0.1000"]
    assert out[2].split() == ["rgb", "Set5", "x2", "37.0000", "37.2500", "+0.2500"]
    assert out[-1] == "1 of 2 cells gained, 1 lost (largest loss -0.1000 dB, rgb Set14 x3)"


def test_compare_of_cards_without_common_cells_is_a_one_line_error(tmp_path, capsys):
    from superres.weights import compare

    (tmp_path / "old.json").write_text(json.dumps({"evaluation": {}}))
    assert compare.main([str(tmp_path / "old.json"), str(tmp_path / "missing.json")]) == 1
    assert compare.main([str(tmp_path / "old.json"), str(tmp_path / "old.json")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


def test_loading_checks_the_files_sha256_against_its_card(tmp_path):
    from superres.errors import WeightsError
    from superres.weights.store import load_weights

    path = save_weights(tmp_path / "w.safetensors", {"conv.weight": torch.arange(64.0).view(4, 16)}, {"name": "w"})
    torch.testing.assert_close(load_weights(path).tensors["conv.weight"], torch.arange(64.0).view(4, 16))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01  # one bit of the last tensor value
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        load_weights(path)
    assert load_weights(path, verify=False).tensors["conv.weight"].shape == (4, 16)  # asked for: no check


def test_compare_counts_no_change_as_neither_gain_nor_loss_and_names_the_largest_loss(tmp_path, capsys):
    from superres.weights import compare

    cells = [("Set5", 2.0, 37.0, 37.0), ("Set14", 2.0, 33.0, 32.9), ("BSD100", 2.0, 31.0, 30.5),
             ("Urban100", 2.0, 30.0, 29.75), ("Set5", 3.0, 33.0, 33.5)]
    before = {"evaluation": {"results": [_result("rgb", d, s, b) for d, s, b, _ in cells]}}
    after = {"evaluation": {"results": [_result("rgb", d, s, a) for d, s, _, a in cells]}}
    changes = cards.evaluation_changes(before, after)
    assert compare.format_changes(changes).splitlines()[-1] == (
        "1 of 5 cells gained, 3 lost (largest loss -0.5000 dB, rgb BSD100 x2)")
    (tmp_path / "old.json").write_text(json.dumps(before))
    (tmp_path / "new.json").write_text(json.dumps(after))
    assert compare.main([str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + 5 + 1
    assert out[1].split() == ["rgb", "BSD100", "x2", "31.0000", "30.5000", "-0.5000"]
    assert out[-1].startswith("1 of 5 cells gained, 3 lost")


def test_evaluation_means_reads_old_and_new_card_layouts():
    card = {"evaluation": {"results": [
        {"dataset": "Set5", "scale": 2, "psnr": 36.5},  # before "mean" and "lr_mode" existed: rgb
        {"dataset": "Set14", "scale": "3", "lr_mode": "y-float", "mean": {"psnr": 29.25, "ssim": 0.8}},
        {"dataset": "B100", "scale": 2.0, "mean": {"ssim": 0.9}},  # no PSNR: skipped
        "junk",
    ]}}
    assert cards.evaluation_means(card) == {("rgb", "Set5", 2.0): 36.5, ("y-float", "Set14", 3.0): 29.25}
    assert cards.card_psnr(card, 2.0) == {"Set5": 36.5}
    # the oldest layout: a bare list of results
    assert cards.evaluation_means({"evaluation": [{"dataset": "Set5", "scale": 4, "psnr": 30.0}]}) == {
        ("rgb", "Set5", 4.0): 30.0}


def test_candidates_of_one_file_name_in_two_run_folders_keep_their_own_cards(shipped, tmp_path):
    paths = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        paths.append(tmp_path / run / "best.safetensors")
        save_weights(paths[-1], {"w": torch.zeros(1)}, {"name": run, "architecture": "net"})
    runs = [_run(f"net={paths[0]}", "Set5", 2, 36.0), _run(f"net={paths[1]}", "Set5", 2, 37.0)]
    assert cards.record_evaluation(runs, "cmd") == sorted(str(p) for p in paths)
    for path, psnr in zip(paths, (36.0, 37.0)):
        (result,) = read_card(path)["evaluation"]["results"]
        assert result["mean_psnr"] == psnr


def test_compare_says_which_file_is_not_a_card_whichever_side_it_is_on(tmp_path, capsys):
    from superres.weights import compare

    card = {"evaluation": {"results": [_result("rgb", "Set5", 2.0, 37.0)]}}
    (tmp_path / "card.json").write_text(json.dumps(card))
    (tmp_path / "report.json").write_text(json.dumps({"results": []}))  # an evaluate report
    for pair in (["report.json", "card.json"], ["card.json", "report.json"]):
        assert compare.main([str(tmp_path / name) for name in pair]) == 1
        assert "report.json is not a model card with an evaluation" in capsys.readouterr().err
