"""benchmarks/confidence_gate.py keeps the floor that cuts words from noise most among those
that do not lose on the development speech, and none when no floor qualifies."""

import json

import pytest

from benchmarks.confidence_gate import NOISE_SELECT, REPORT, SELECT, choose, compare, markdown
from rt_keras.core.splits import is_noise_only


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


def _evaluation(errors, emitted):
    words = [2] * len(errors)
    speech = {"wer": sum(errors) / sum(words), "utterance_errors": errors, "utterance_words": words}
    noise = {"utterance_words_emitted": emitted, "utterance_minutes": [0.1] * len(emitted),
             "utterance_sources": ["noise:rain", "noise:tv"] * (len(emitted) // 2)}
    return {**{name: speech for name in [*SELECT, *REPORT] if not is_noise_only(name)},
            **{name: noise for name in [NOISE_SELECT, *REPORT] if is_noise_only(name)}}


def test_a_floor_is_compared_with_no_gate_seed_by_seed_and_tabled(tmp_path):
    """Two seeds: the gate deletes a word of every other utterance and silences every other
    noise stretch; the table has a row per floor and a cell per column."""
    files = {}
    for seed in range(2):
        for floor, errors, emitted in [(0.0, [0] * 20, [3, 1] * 10), (0.5, [1, 0] * 10, [3, 0] * 10)]:
            files[seed, floor] = tmp_path / f"{seed}-{floor}.json"
            files[seed, floor].write_text(json.dumps(_evaluation(errors, emitted)))
    result = compare([files[s, 0.5] for s in range(2)], [files[s, 0.0] for s in range(2)])
    assert result["dev_clean"]["difference"] == pytest.approx(20 / 80)
    assert result["dev_clean"]["ci95"][0] > 0
    assert result["dev_clean"]["words"] == 80
    assert result[NOISE_SELECT]["all"]["difference"] == pytest.approx(-10 * 2 / 4)  # 20 words fewer in 4 minutes
    assert result[NOISE_SELECT]["noise:rain"]["difference"] == 0
    table = markdown({0.5: result}, choose({0.5: result}), 2, "python -m benchmarks.confidence_gate ...")
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert len(rows) == 4 and len({row.count("|") for row in rows}) == 1
    assert rows[3].startswith("| 0.5 |")  # the speech is worse: not chosen
