"""benchmarks/noisy_by_kind.py pools every utterance's errors under the kind that the data
generator's condition (rt_keras/data/digits.py) drew for it."""

import json

import numpy as np
import pytest

from benchmarks.noisy_by_kind import by_kind, by_padding, main
from rt_keras.core.run_config import HELD_OUT_NOISE_KINDS
from rt_keras.data import augment, channels, digits, noises


def test_errors_are_pooled_by_the_kind_the_generator_drew(monkeypatch):
    drawn = []

    def recording_make(kind, n, rng, clips=None):
        drawn.append(kind)
        return np.ones(n, np.float32)

    monkeypatch.setattr(noises, "make", recording_make)
    condition = digits._held_out_noise(10.0, clips=None)
    for index in range(8):  # as the generator applies it: its own generator per utterance
        condition(np.full(1600, 0.1, np.float32), np.random.default_rng([0, digits.NOISY_TEST_KEY, index]))
    assert set(drawn) == set(HELD_OUT_NOISE_KINDS)  # both kinds occur, so the split is a real test

    errors, words = [1, 0, 2, 3, 0, 1, 4, 0], [2, 1, 3, 4, 1, 2, 4, 3]
    evaluation = {"test_real": {"utterances": 8}, "test_real_noisy_10db": {"utterance_errors": errors,
                                                                        "utterance_words": words}}
    pooled = by_kind(evaluation, 10)
    for kind in HELD_OUT_NOISE_KINDS:
        chosen = [i for i, k in enumerate(drawn) if k == kind]
        assert pooled[kind] == (sum(errors[i] for i in chosen), sum(words[i] for i in chosen))


def test_dev_noisy_errors_are_pooled_by_whether_the_generator_padded_the_utterance(monkeypatch):
    """Everything but the padding made the identity: an utterance is padded if it grew."""
    monkeypatch.setattr(augment, "add_noise_of", lambda audio, *args: audio)
    monkeypatch.setattr(channels, "random_eq", lambda audio, rng: audio)
    monkeypatch.setattr(channels, "convolve", lambda audio, response: audio)
    monkeypatch.setattr(channels, "CODECS", {name: (lambda audio: audio) for name in channels.CODECS})
    condition = digits._dev_condition(babble=None, rooms=[(None, 0.3)])
    grew = [condition(np.full(1600, 0.1, np.float32), np.random.default_rng([0, digits.DEV_NOISY_KEY, i])).size > 1600
            for i in range(10)]
    assert any(grew) and not all(grew)
    errors, words = list(range(10)), [3] * 10
    pooled = by_padding({"dev_clean": {"utterances": 10},
                         "dev_noisy": {"utterance_errors": errors, "utterance_words": words}})
    assert pooled["with noise-only stretches"] == (sum(e for e, g in zip(errors, grew) if g), 3 * sum(grew))
    assert pooled["without"] == (sum(e for e, g in zip(errors, grew) if not g), 3 * (10 - sum(grew)))


def test_a_split_with_a_dropped_utterance_is_refused():
    """The conditions are found again by utterance index: one utterance fewer than the clean
    split would pool every later utterance under another utterance's condition."""
    evaluation = {"test_real": {"utterances": 8},
                  "test_real_noisy_10db": {"utterance_errors": [0] * 7, "utterance_words": [1] * 7},
                  "dev_noisy": {"utterance_errors": [0] * 10, "utterance_words": [1] * 10}}
    with pytest.raises(ValueError, match="test_real_noisy_10db: 7 utterances scored, expected test_real's 8"):
        by_kind(evaluation, 10)
    with pytest.raises(ValueError, match="needs dev_noisy and dev_clean"):
        by_padding(evaluation)


def test_the_command_names_the_file_it_cannot_use_in_one_line(tmp_path, capsys):
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps({"test_real": {"utterances": 8},
                                "test_real_noisy_10db": {"utterance_errors": [0] * 7, "utterance_words": [1] * 7}}))
    with pytest.raises(SystemExit) as stopped:
        main([str(path)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}: test_real_noisy_10db: 7 utterances scored" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main([str(path), "--dev-noisy-padding"])
    assert f"{path}: needs dev_noisy and dev_clean" in capsys.readouterr().err
