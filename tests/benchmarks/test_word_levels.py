"""benchmarks/word_levels.py: words found by their energy at the levels they were made with,
and each reference word's outcome counted in the bin of its relative level."""

import numpy as np
import soundfile

from benchmarks import word_levels

RATE = 16000


def _burst(seconds, level_db, rng):
    t = np.arange(int(seconds * RATE)) / RATE
    return 10 ** (level_db / 20) * np.sqrt(2) * np.sin(2 * np.pi * rng.uniform(200, 900) * t)


def test_words_are_found_at_the_levels_they_were_made_with():
    rng = np.random.default_rng(0)
    gap = np.zeros(int(0.3 * RATE))
    pieces = [gap]
    for level in (-20.0, -26.0, -35.0):
        pieces += [_burst(0.3, level, rng), gap]
    audio = np.concatenate(pieces) + rng.normal(scale=1e-5, size=sum(p.size for p in pieces))
    levels = word_levels.word_levels_db(audio, RATE)
    np.testing.assert_allclose(levels, [-20.0, -26.0, -35.0], atol=0.2)
    # a 60 ms dip inside a word does not split it; a stretch shorter than 50 ms is not a word
    dipped = np.concatenate([gap, _burst(0.2, -20, rng), np.zeros(int(0.06 * RATE)), _burst(0.2, -20, rng), gap,
                             _burst(0.03, -20, rng), gap])
    assert len(word_levels.word_levels_db(dipped, RATE)) == 1


def test_outcomes_are_counted_in_the_bin_of_each_words_relative_level():
    references = ["one two three", "four five", "six"]
    hypotheses = ["one nine three", "four", "six six"]
    levels = [[-20.0, -35.0, -23.0], [-30.0, -30.5], None]  # the third utterance is left out
    table = word_levels.outcomes_by_level(references, hypotheses, levels)
    loudest, near, _, quiet = (table[label] for _, label in word_levels.BINS)
    assert loudest == {"words": 3, "deleted": 1, "substituted": 0}  # one, four, and five (-0.5 dB, deleted)
    assert near == {"words": 1, "deleted": 0, "substituted": 0}  # three at -3 dB
    assert quiet == {"words": 1, "deleted": 0, "substituted": 1}  # two at -15 dB
    table = word_levels.outcomes_by_level(["four five"], ["four"], [[-30.0, -45.0]])
    assert table[word_levels.BINS[-1][1]] == {"words": 1, "deleted": 1, "substituted": 0}


def test_speakers_table_gives_each_speakers_median_level(tmp_path):
    rng = np.random.default_rng(1)
    for speaker, level in (("anna", -20.0), ("ben", -40.0)):
        for take in range(5):
            soundfile.write(tmp_path / f"{take}_{speaker}_{take}.wav", _burst(0.4, level + take, rng)[::2], 8000,
                            subtype="PCM_16")
    rows = word_levels.speakers_table(tmp_path).splitlines()[2:]
    assert [row.split(" | ")[:3] for row in rows] == [["| anna", "5", "-18.0"], ["| ben", "5", "-38.0"]]
