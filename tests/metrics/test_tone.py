"""The tone model: fixed examples, negation, evaluation arithmetic, the shipped sets."""

import re
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics.tone import (
    EXIT_SEEKING,
    FRUSTRATED,
    HARD_CASES,
    HELP_SEEKING,
    TONES,
    ToneResult,
    accuracy_by_hard_case,
    classify,
    evaluate,
    label_signals,
    load_held_out_set,
    load_labelled_set,
    read_signals,
    score_tone,
)


@pytest.mark.parametrize(
    ("text", "tone", "phrase"),
    [
        # Plain cases.
        ("How do I add a new admin to the workspace?", HELP_SEEKING, "how do i"),
        ("The sync failed again and nobody has replied.", FRUSTRATED, "nobody"),
        (
            "Please cancel our subscription at the end of the month.",
            EXIT_SEEKING,
            "cancel our subscription",
        ),
        # Sarcasm: praise around a failure.
        ("Great, another outage during our launch.", FRUSTRATED, "great, another"),
        ("Love waiting four days for an answer.", FRUSTRATED, "love waiting"),
        # Negation: an exit phrase that is denied.
        (
            "We're not looking to leave, we just need help with the SSO setup.",
            HELP_SEEKING,
            "not looking to leave",
        ),
        (
            "No plans to cancel, but this is the third outage and it's unacceptable.",
            FRUSTRATED,
            "unacceptable",
        ),
        # Negation that is itself the exit signal.
        ("We won't be renewing next year.", EXIT_SEEKING, "won't be renewing"),
        # Polite exit language.
        (
            "We will be reviewing our options ahead of the renewal.",
            EXIT_SEEKING,
            "reviewing our options",
        ),
        (
            "Please send the data export and termination terms.",
            EXIT_SEEKING,
            "termination",
        ),
        # Mixed: frustration with a stated exit reads as exit.
        (
            "Support keeps failing us, so we are evaluating other vendors.",
            EXIT_SEEKING,
            "evaluating other vendors",
        ),
        # Very short, misspelled.
        ("hw to add user", HELP_SEEKING, "hw to"),
        ("cancel pls", EXIT_SEEKING, "cancel"),
    ],
)
def test_classify_labels_and_explains(text: str, tone: str, phrase: str) -> None:
    result = classify(text)

    assert result.tone == tone
    assert phrase in result.phrases
    assert 0 < result.score <= 1


@pytest.mark.parametrize(
    "text",
    [
        "We are not looking to leave.",
        "No plans to cancel our contract.",
        "We have no intention of switching to another vendor.",
        "We don't want to downgrade, how do we move users between plans?",
    ],
)
def test_a_negated_exit_phrase_is_not_exit_seeking(text: str) -> None:
    assert classify(text).tone != EXIT_SEEKING


def test_a_negation_far_from_the_exit_phrase_does_not_cancel_it() -> None:
    result = classify("If this is not fixed by Friday we will cancel our contract.")

    assert result.tone == EXIT_SEEKING


def test_no_phrase_at_all_is_help_seeking_at_one_third() -> None:
    assert classify("Hello") == ToneResult(tone=HELP_SEEKING, score=0.333, phrases=[])


def test_intensifiers_raise_the_confidence_in_frustration() -> None:
    plain = classify("The export is broken.")
    intense = classify("The export is really broken!!")

    assert plain.tone == intense.tone == FRUSTRATED
    assert intense.score > plain.score


def test_score_tone_keeps_order_length_and_nulls() -> None:
    texts = pl.Series(["cancel pls", None, "how do I reset it?"])

    scored = score_tone(texts)

    assert scored.schema == pl.Schema(
        {"tone": pl.String, "score": pl.Float64, "phrases": pl.List(pl.String)}
    )
    assert scored.get_column("tone").to_list() == [
        EXIT_SEEKING,
        HELP_SEEKING,
        HELP_SEEKING,
    ]
    assert scored.item(1, "phrases").to_list() == []


def test_evaluate_on_a_hand_made_confusion() -> None:
    # truth     H H F F E E
    # predicted H F F F E H
    # help:  1 right of 2 predicted, 2 true -> precision 1/2, recall 1/2, F1 1/2
    # frust: 2 right of 3 predicted, 2 true -> precision 2/3, recall 1, F1 4/5
    # exit:  1 right of 1 predicted, 2 true -> precision 1, recall 1/2, F1 2/3
    # accuracy 4/6; macro precision 13/18, macro recall 2/3, macro F1 59/90
    labelled = pl.DataFrame(
        {
            "tone": [*[HELP_SEEKING] * 2, *[FRUSTRATED] * 2, *[EXIT_SEEKING] * 2],
            "predicted": [HELP_SEEKING, *[FRUSTRATED] * 3, EXIT_SEEKING, HELP_SEEKING],
        }
    )

    scores = evaluate(labelled)

    expected = pl.DataFrame(
        {
            "tone": [*TONES, "overall"],
            "precision": [1 / 2, 2 / 3, 1.0, 13 / 18],
            "recall": [1 / 2, 1.0, 1 / 2, 2 / 3],
            "f1": [1 / 2, 4 / 5, 2 / 3, 59 / 90],
            "support": [2, 2, 2, 6],
            "accuracy": [None, None, None, 4 / 6],
        },
        schema_overrides={"support": pl.UInt32},
    )
    assert_frame_equal(scores, expected)


def test_evaluate_leaves_precision_empty_for_a_tone_never_predicted() -> None:
    labelled = pl.DataFrame(
        {"tone": ["exit_seeking", "help_seeking"], "predicted": ["help_seeking"] * 2}
    )

    scores = evaluate(labelled)

    exit_row = scores.row(2, named=True)
    assert exit_row["precision"] is None
    assert exit_row["recall"] == 0.0


def test_evaluate_names_an_unknown_tone() -> None:
    labelled = pl.DataFrame({"tone": ["angry"], "predicted": ["frustrated"]})

    with pytest.raises(ValueError, match="angry"):
        evaluate(labelled)


def test_evaluate_needs_text_or_predictions() -> None:
    with pytest.raises(ValueError, match="'text' or a 'predicted'"):
        evaluate(pl.DataFrame({"tone": ["frustrated"]}))


def test_the_shipped_set_is_balanced_and_covers_every_hard_case() -> None:
    labelled = load_labelled_set()

    counts = labelled.get_column("tone").value_counts().sort("tone")
    assert set(labelled.get_column("tone").unique()) == set(TONES)
    assert counts.get_column("count").min() >= 70
    assert set(labelled.get_column("hard_case").drop_nulls().unique()) == set(
        HARD_CASES
    )


def test_accuracy_on_the_shipped_set() -> None:
    # The lexicon was written alongside this set, so these figures are in-sample.
    labelled = load_labelled_set()

    scores = evaluate(labelled)
    by_case = accuracy_by_hard_case(labelled)

    assert scores.item(3, "accuracy") >= 0.85
    assert by_case.get_column("accuracy").min() >= 0.7
    assert by_case.get_column("hard_case").to_list() == sorted(HARD_CASES)


def test_the_held_out_set_has_thirty_signals_per_tone() -> None:
    held_out = load_held_out_set()

    counts = dict(held_out.group_by("tone").len().iter_rows())
    assert counts == dict.fromkeys(TONES, 30)
    assert held_out.get_column("text").null_count() == 0


def test_the_held_out_hard_cases_are_known_categories() -> None:
    hard_cases = set(load_held_out_set().get_column("hard_case").drop_nulls())

    assert hard_cases == set(HARD_CASES)


def _normalised(texts: pl.Series) -> set[str]:
    return {re.sub(r"\s+", " ", text.lower()).strip() for text in texts}


def test_no_held_out_text_is_also_in_the_tuning_set() -> None:
    # The held-out figure means something only if its texts are new to the lexicon.
    held_out = _normalised(load_held_out_set().get_column("text"))
    tuning = _normalised(load_labelled_set().get_column("text"))

    assert len(held_out) == load_held_out_set().height
    assert held_out.isdisjoint(tuning)


def test_reading_a_missing_signals_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.jsonl"

    with pytest.raises(ValueError, match=r"absent\.jsonl"):
        read_signals(missing)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"tone": "frustrated"}', "non-empty string 'text'"),
        ('{"text": "Hi", "tone": "angry"}', "tone 'angry'"),
        ('{"text": "Hi", "tone": "frustrated", "hard_case": "irony"}', "'irony'"),
    ],
)
def test_a_malformed_line_names_the_file_and_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "signals.jsonl"
    good = '{"text": "How do I add a user?", "tone": "help_seeking"}'
    path.write_text(f"{good}\n\n{line}\n", encoding="utf-8")

    with pytest.raises(ValueError, match=r"signals\.jsonl line 3") as error:
        read_signals(path)
    assert problem in str(error.value)


def test_reading_a_well_formed_file_keeps_every_field(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    path.write_text(
        '{"text": "We will cancel.", "tone": "exit_seeking", "source": "chat", '
        '"hard_case": null}\n',
        encoding="utf-8",
    )

    assert read_signals(path).rows() == [
        ("We will cancel.", "exit_seeking", "chat", None)
    ]


def test_label_signals_matches_one_by_one_classification() -> None:
    texts = [
        "We are planning to cancel at renewal.",
        "How do I export the audit log?",
        "We are planning to cancel at renewal.",
        None,
        "Third outage this month, really!!",
    ]
    signals = pl.DataFrame(
        {"id": [10, 11, 12, 13, 14], "text": texts, "tone": ["x"] * 5}
    )

    labelled = label_signals(signals)

    expected = [classify(text or "") for text in texts]
    assert labelled.columns == ["id", "tone", "score"]
    assert labelled["id"].to_list() == [10, 11, 12, 13, 14]
    assert labelled["tone"].to_list() == [result.tone for result in expected]
    assert labelled["score"].to_list() == pytest.approx(
        [result.score for result in expected], abs=1e-6
    )
    # A missing text has no phrase at all: help seeking at one third.
    assert labelled.row(3) == (13, HELP_SEEKING, pytest.approx(1 / 3, abs=1e-3))


def test_label_signals_keeps_text_and_phrases_when_asked() -> None:
    signals = pl.DataFrame({"id": [1], "text": ["We will cancel the contract."]})

    labelled = label_signals(signals, keep_phrases=True)

    assert labelled.columns == ["id", "text", "tone", "score", "phrases"]
    assert labelled["phrases"].to_list() == [
        classify("We will cancel the contract.").phrases
    ]


def test_label_signals_on_no_rows_and_without_text() -> None:
    empty = pl.DataFrame(schema={"id": pl.Int64, "text": pl.String})

    assert label_signals(empty).schema == pl.Schema(
        {"id": pl.Int64, "tone": pl.String, "score": pl.Float32}
    )
    with pytest.raises(ValueError, match="'text' column"):
        label_signals(pl.DataFrame({"id": [1]}))
