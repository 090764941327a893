import numpy as np
import pytest

from rt_keras.core.wer_stats import (
    alignment,
    edit_distance,
    error_counts,
    format_wer,
    mean_and_sd,
    paired_bootstrap,
    wer_interval,
)
from rt_keras.training.evaluation import score


def test_interval_of_a_perfect_and_of_a_constant_model():
    assert wer_interval([0] * 50, [3] * 50)["ci95"] == [0.0, 0.0]
    result = wer_interval([1] * 40, [4] * 40)  # every utterance 25% wrong: no spread
    assert result["wer"] == 0.25 and result["ci95"] == pytest.approx([0.25, 0.25])
    assert result["words"] == 160 and result["errors"] == 40 and result["utterances"] == 40


def test_interval_matches_the_binomial_for_one_word_utterances():
    rng = np.random.default_rng(3)
    errors = (rng.random(2000) < 0.2).astype(int)
    result = wer_interval(errors, np.ones(2000))
    p = errors.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / 2000)  # normal approximation
    assert result["ci95"][0] == pytest.approx(p - half, abs=0.004)
    assert result["ci95"][1] == pytest.approx(p + half, abs=0.004)
    assert wer_interval(errors, np.ones(2000)) == result  # fixed seed
    assert format_wer(result) == f"{100 * p:6.2f}% [{100 * result['ci95'][0]:5.1f}, {100 * result['ci95'][1]:5.1f}]"


def test_paired_bootstrap_separates_a_real_difference_from_noise():
    rng = np.random.default_rng(0)
    words = rng.integers(1, 5, 400)
    base = rng.binomial(words, 0.2)
    same = paired_bootstrap(base, base, words)
    assert same["difference"] == 0 and same["ci95"] == [0.0, 0.0] and not same["significant"]

    better = np.maximum(base - rng.binomial(1, 0.4, 400), 0)  # fewer errors on ~40% of utterances
    result = paired_bootstrap(better, base, words)
    assert result["significant"] and result["verdict"] == "A is better" and result["ci95"][1] < 0
    assert result["p_a_not_better"] < 0.01

    shuffled = rng.binomial(words, 0.2)  # another model of the same quality
    noise = paired_bootstrap(shuffled, base, words)
    assert noise["ci95"][0] < 0 < noise["ci95"][1] and noise["verdict"] == "inside noise"
    with pytest.raises(ValueError, match="same utterances"):
        paired_bootstrap(base[:10], base, words)


def test_score_counts_errors_per_utterance_and_per_voice():
    result = score(["one two", "three", "four five six"], ["one", "three", "four five six seven"],
                   ["theo", "en-us+f4@150wpm/p30", "en-gb+f4@200wpm/p60"])
    assert result["utterance_errors"] == [1, 0, 1] and result["utterance_words"] == [2, 1, 3]
    assert (result["substitutions"], result["deletions"], result["insertions"]) == (0, 1, 1)
    assert result["wer"] == pytest.approx(2 / 6)
    assert set(result["by_voice"]) == {"theo", "espeak-ng:f4"}
    assert result["by_voice"]["espeak-ng:f4"]["wer"] == pytest.approx(1 / 4)
    assert mean_and_sd([0.1, 0.2, 0.3]) == pytest.approx((0.2, 0.1))


@pytest.mark.parametrize("reference, hypothesis, counts", [
    ("one two three", "one three", (0, 1, 0)),            # a dropped word
    ("one two", "three four five", (2, 0, 1)),            # substitutions before an insertion
    ("", "four four", (0, 0, 2)),                         # words from noise alone
    ("five six seven", "", (0, 3, 0)),
    ("one two three four", "two three four one", (0, 1, 1)),  # a shifted word
    ("nine nine", "nine nine", (0, 0, 0)),
])
def test_error_counts_split_the_edit_distance(reference, hypothesis, counts):
    reference, hypothesis = reference.split(), hypothesis.split()
    assert error_counts(reference, hypothesis) == counts
    assert sum(counts) == edit_distance(reference, hypothesis)


def test_error_counts_always_sum_to_the_edit_distance():
    rng = np.random.default_rng(1)
    for _ in range(300):
        reference = list(rng.integers(0, 4, rng.integers(0, 7)))
        hypothesis = list(rng.integers(0, 4, rng.integers(0, 7)))
        s, d, n = error_counts(reference, hypothesis)
        assert s + d + n == edit_distance(reference, hypothesis)
        assert len(reference) - d + n == len(hypothesis)  # each count is what it says


def test_the_alignment_walks_both_transcripts_word_by_word():
    assert alignment("one two three".split(), "one three".split()) == ["match", "deletion", "match"]
    assert alignment([], ["four"]) == ["insertion"]
    rng = np.random.default_rng(2)
    for _ in range(300):
        reference = list(rng.integers(0, 4, rng.integers(0, 7)))
        hypothesis = list(rng.integers(0, 4, rng.integers(0, 7)))
        i = j = 0
        for operation in alignment(reference, hypothesis):
            if operation in ("match", "substitution"):
                assert (reference[i] == hypothesis[j]) == (operation == "match")
            i += operation != "insertion"
            j += operation != "deletion"
        assert (i, j) == (len(reference), len(hypothesis))
