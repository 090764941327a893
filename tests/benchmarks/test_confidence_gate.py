"""benchmarks/confidence_gate.py keeps the floor that cuts words from noise most among those
that do not lose on the development speech, and none when no floor qualifies."""

from benchmarks.confidence_gate import NOISE_SELECT, choose


def _result(clean_low, shifted_low, words_per_minute, noise_high):
    return {"dev_clean": {"ci95": [clean_low, clean_low + 0.01]},
            "dev_shifted": {"ci95": [shifted_low, shifted_low + 0.01]},
            NOISE_SELECT: {"all": {"a": words_per_minute, "ci95": [-9.0, noise_high]}}}


def test_the_floor_with_fewest_words_among_those_that_keep_the_speech():
    comparisons = {0.3: _result(0.0, -0.001, 50.0, -1.0),
                   0.5: _result(0.0, -0.002, 36.0, -5.0),
                   0.7: _result(0.0, 0.003, 20.0, -9.0)}  # fewest words, but dev_shifted is worse
    assert choose(comparisons) == 0.5
    comparisons[0.5] = _result(0.001, -0.002, 36.0, -5.0)  # now dev_clean is worse
    assert choose(comparisons) == 0.3


def test_no_gate_when_no_floor_cuts_the_words_beyond_noise():
    assert choose({0.3: _result(0.0, 0.0, 50.0, 0.5), 0.4: _result(0.0, 0.0, 49.0, 0.1)}) == 0.0
    assert choose({0.3: _result(0.002, 0.0, 50.0, -3.0)}) == 0.0
