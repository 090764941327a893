"""benchmarks/pooled_compare.py: seeds' per-utterance errors pooled into one paired comparison."""

import json
import types

import numpy as np
import pytest

from benchmarks.pooled_compare import pooled, pooled_emitted
from benchmarks.study import emitted_words


def _evaluation(path, errors, words):
    path.write_text(json.dumps({"test_real": {"wer": sum(errors) / sum(words), "utterance_errors": errors,
                                              "utterance_words": words}}))
    return path


def test_seeds_are_pooled_utterance_by_utterance(tmp_path):
    a = [_evaluation(tmp_path / "a0.json", [1, 0, 0], [2, 2, 1]), _evaluation(tmp_path / "a1.json", [0, 2], [3, 3])]
    b = [_evaluation(tmp_path / "b0.json", [0, 0, 0], [2, 2, 1]), _evaluation(tmp_path / "b1.json", [0, 0], [3, 3])]
    result = pooled(a, b, "test_real")
    assert result["a"]["wer"] == pytest.approx(3 / 11) and result["b"]["wer"] == 0
    assert result["a_minus_b"]["difference"] == pytest.approx(3 / 11)
    assert result["a_minus_b"]["words"] == 11 and result["a_minus_b"]["utterances"] == 5


def test_different_utterances_are_refused(tmp_path):
    a = [_evaluation(tmp_path / "a.json", [1, 0], [2, 2])]
    b = [_evaluation(tmp_path / "b.json", [1, 0], [2, 3])]
    with pytest.raises(ValueError, match="not the same utterances"):
        pooled(a, b, "test_real")


def _emitted(path, hypotheses, seconds):
    """A noise-only split's entry as the study writes it (benchmarks.study.emitted_words)."""
    split = types.SimpleNamespace(audio=[np.zeros(int(16000 * s), np.int16) for s in seconds],
                                  sources=[f"noise:{'rain' if s == 30 else 'hum'}" for s in seconds])
    path.write_text(json.dumps({"dev_noise_only": emitted_words(hypotheses, split)}))
    return path


def test_words_from_noise_are_compared_per_minute_stretch_by_stretch(tmp_path):
    a = [_emitted(tmp_path / "a0.json", ["", "one two"], [30, 30]), _emitted(tmp_path / "a1.json", [""], [60])]
    b = [_emitted(tmp_path / "b0.json", ["six", "one two three"], [30, 30]),
         _emitted(tmp_path / "b1.json", ["four five"], [60])]
    result = pooled_emitted(a, b, "dev_noise_only")
    assert result["a"] == pytest.approx(2 / 2) and result["b"] == pytest.approx(6 / 2)
    assert result["difference"] == pytest.approx(-2.0) and result["minutes"] == pytest.approx(2.0)
    assert result["stretches"] == 3 and (result["a_with_words"], result["b_with_words"]) == (1, 3)
    assert result["ci95"][0] <= -2.0 <= result["ci95"][1] < 0 and result["verdict"] == "A is better"
    rain = pooled_emitted(a, b, "dev_noise_only", "noise:rain")  # seed 0's two 30 s stretches
    assert (rain["a"], rain["b"], rain["stretches"]) == (pytest.approx(2.0), pytest.approx(4.0), 2)
    other = [_emitted(tmp_path / "c0.json", ["", ""], [30, 20])]
    with pytest.raises(ValueError, match="not the same stretches"):
        pooled_emitted(a[:1], other, "dev_noise_only")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"dev_noise_only": {"words_emitted": 3, "minutes": 1.0, "per_minute": 3.0}}))
    with pytest.raises(ValueError, match="old.json: dev_noise_only has no per-stretch counts"):
        pooled_emitted([old], a[:1], "dev_noise_only")
