"""The ``tone-eval`` command: both labelled sets, named, in text and in JSON."""

import json
from collections import Counter
from importlib import resources

import pytest

from dashboard.cli import main

SET_FILES = {
    "tuning": "labelled_signals.jsonl",
    "held_out": "held_out_signals.jsonl",
}


def tone_counts(name: str) -> Counter[str]:
    """How many signals of each tone a shipped file holds, read without metrics."""
    path = resources.files("metrics").joinpath("tone_data", name)
    lines = path.read_text(encoding="utf-8").splitlines()
    return Counter(json.loads(line)["tone"] for line in lines if line.strip())


def run(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["tone-eval", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_the_text_names_both_sets(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys)

    assert "tuning set" in out
    assert "written with the lexicon: in-sample" in out
    assert "held-out set" in out
    assert "never used to tune the lexicon" in out
    assert out.index("tuning set") < out.index("held-out set")
    assert out.count("Macro F1") == 2
    assert out.count("Hard case") == 2


def test_the_json_reports_each_set_with_the_support_in_its_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    payload = json.loads(run(capsys, "--json"))

    assert set(payload) == set(SET_FILES)
    for key, name in SET_FILES.items():
        counts = tone_counts(name)
        report = payload[key]
        support = {tone: row["support"] for tone, row in report["by_tone"].items()}
        assert support == dict(counts), key
        assert report["signals"] == sum(counts.values())
        assert 0 <= report["accuracy"] <= 1
        assert 0 <= report["macro_f1"] <= 1
        assert set(report["by_hard_case"]) == {
            "sarcasm",
            "negation",
            "polite_exit",
            "mixed",
        }
