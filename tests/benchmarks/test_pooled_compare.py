"""benchmarks/pooled_compare.py: seeds' per-utterance errors pooled into one paired comparison."""

import json

import pytest

from benchmarks.pooled_compare import pooled


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
