"""benchmarks/noisy_by_kind.py pools every utterance's errors under the kind that the data
generator's condition (rt_keras/data/digits.py) drew for it."""

import numpy as np

from benchmarks.noisy_by_kind import by_kind, by_padding
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
    pooled = by_kind({"test_real_noisy_10db": {"utterance_errors": errors, "utterance_words": words}}, 10)
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
    pooled = by_padding({"dev_noisy": {"utterance_errors": errors, "utterance_words": words}})
    assert pooled["with noise-only stretches"] == (sum(e for e, g in zip(errors, grew) if g), 3 * sum(grew))
    assert pooled["without"] == (sum(e for e, g in zip(errors, grew) if not g), 3 * (10 - sum(grew)))
