import numpy as np
import pytest
import scipy.signal
import scipy.stats

from rt_keras.core import run_config
from rt_keras.data import noises

RATE = 16000
CLIPS = [np.sin(2 * np.pi * f * np.arange(4000) / RATE).astype(np.float32) * np.hanning(4000).astype(np.float32)
         for f in (150, 220, 310, 420)]
KINDS = [*noises.GENERATORS, *noises.NEEDS_CLIPS]


def _speech_like(seconds=3.0, seed=0):
    """Harmonic bursts separated by silence (a mask of where the 'speech' is)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 20)) * (1 + 0.3 * rng.normal(size=t.size))
    mask = (np.sin(2 * np.pi * 0.7 * t) > 0.3)
    return (0.2 * x * mask).astype(np.float32), mask


@pytest.mark.parametrize("kind", KINDS)
def test_every_noise_has_the_asked_length_unit_power_and_is_seeded(kind):
    a = noises.make(kind, 12345, np.random.default_rng(1), CLIPS)
    b = noises.make(kind, 12345, np.random.default_rng(1), CLIPS)
    c = noises.make(kind, 12345, np.random.default_rng(2), CLIPS)
    assert a.shape == (12345,) and a.dtype == np.float32 and np.all(np.isfinite(a))
    assert np.mean(a.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_training_development_and_held_out_kinds_are_disjoint_and_all_exist():
    groups = [set(run_config.TRAIN_NOISE_KINDS), set(run_config.DEV_NOISE_KINDS), set(run_config.HELD_OUT_NOISE_KINDS)]
    assert sum(map(len, groups)) == len(set.union(*groups)) and set.union(*groups) == set(KINDS)
    with pytest.raises(ValueError, match="other voices"):
        noises.make("babble", 100, np.random.default_rng(0), [])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("snr", [0.0, 5.0, 10.0, 20.0])
def test_mixing_achieves_the_asked_snr_on_the_speech_within_half_a_db(kind, snr):
    speech, mask = _speech_like()
    mixed = noises.mix_at_snr(speech, noises.make(kind, speech.size, np.random.default_rng(3), CLIPS), snr)
    noise = mixed.astype(np.float64) - speech
    achieved = 10 * np.log10(np.mean(speech[mask].astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert abs(achieved - snr) < 0.5
    assert mixed.size == speech.size


def test_hum_has_a_mains_line_and_music_a_pitch():
    x = noises.hum(4 * RATE, np.random.default_rng(5))
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / RATE)
    floor = np.median(spectrum[(f > 30) & (f < 90)])
    line = [m for m in (50.0, 60.0) if spectrum[np.argmin(np.abs(f - m))] > 20 * floor]
    assert line  # a 50 or 60 Hz line well above the broadband floor next to it
    m = noises.music(4 * RATE, np.random.default_rng(5))
    spectrum = np.abs(np.fft.rfft(m)) ** 2
    band = (f > 80) & (f < 2000)
    assert np.max(spectrum[band]) > 100 * np.median(spectrum[band])  # tonal, not noise


def test_babble_is_many_talkers_at_once():
    """The sum of several streams: rarely silent, unlike one talker with gaps."""
    x = noises.babble(3 * RATE, np.random.default_rng(0), CLIPS, talkers=(6, 6))
    frames = x[: x.size // 320 * 320].reshape(-1, 320)
    quiet = np.mean(np.mean(frames ** 2, axis=1) < 0.01)
    one = noises.babble(3 * RATE, np.random.default_rng(0), CLIPS, talkers=(1, 1))
    frames_one = one[: one.size // 320 * 320].reshape(-1, 320)
    assert quiet < np.mean(np.mean(frames_one ** 2, axis=1) < 0.01)


def test_rain_patters_and_a_television_sounds_through_a_small_loudspeaker():
    f = np.fft.rfftfreq(3 * RATE, 1 / RATE)
    rain = noises.rain(3 * RATE, np.random.default_rng(4)).astype(np.float64)
    drops = scipy.signal.sosfilt(scipy.signal.butter(4, 1000, "highpass", fs=RATE, output="sos"), rain)
    assert scipy.stats.kurtosis(drops) > 3  # impulsive: drops, not a steady hiss (Gaussian: 0)
    steady = scipy.signal.sosfilt(scipy.signal.butter(4, 1000, "highpass", fs=RATE, output="sos"),
                                  noises.pink(3 * RATE, np.random.default_rng(4)))
    assert abs(scipy.stats.kurtosis(steady)) < 0.5
    tv = np.abs(np.fft.rfft(noises.television(3 * RATE, np.random.default_rng(4), CLIPS))) ** 2
    assert tv[f < 60].sum() < 0.01 * tv.sum() and tv[f > 7000].sum() < 0.01 * tv.sum()
