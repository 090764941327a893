"""Waveform augmentation: noise at a chosen SNR, reverberation, speed, gain and
telephone-band limiting (so 8 kHz real speech is not out of distribution); and, switched on
by their ``AugmentConfig`` fields, real-world noise kinds (``rt_keras.data.noises``:
babble, hum, music), image-method rooms, microphone colouration, phone codecs, low levels
and clipping (``rt_keras.data.channels``). With those fields at their defaults every
utterance is exactly what the original steps made (the generator draws nothing more)."""

from __future__ import annotations

import numpy as np
import scipy.signal
import soxr

from rt_keras.core.run_config import AugmentConfig
from rt_keras.data import channels, noises
from rt_keras.data.audio import MODEL_SAMPLE_RATE


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white or low-pass (brown-ish) noise at ``snr_db`` relative to the signal power."""
    noise = rng.normal(size=x.shape).astype(np.float32)
    if rng.random() < 0.5:
        noise = scipy.signal.lfilter([1.0], [1.0, -0.95], noise).astype(np.float32)
    signal_power = np.mean(x ** 2) + 1e-12
    noise *= np.sqrt(signal_power / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr_db / 10))
    return x + noise


def reverberate(x: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with a synthetic room response: exponentially decaying noise."""
    length = int(rt60 * MODEL_SAMPLE_RATE)
    t = np.arange(length) / MODEL_SAMPLE_RATE
    response = rng.normal(size=length) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    response[0] = 1.0
    response /= np.sqrt(np.sum(response ** 2))
    return scipy.signal.fftconvolve(x, response)[: x.size].astype(np.float32)


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together, as in Kaldi's speed perturbation)."""
    return soxr.resample(x, MODEL_SAMPLE_RATE * factor, MODEL_SAMPLE_RATE).astype(np.float32)


def telephone_band(x: np.ndarray) -> np.ndarray:
    """Through an 8 kHz telephone channel: 300-3400 Hz band-pass, down to 8 kHz and back."""
    sos = scipy.signal.butter(4, [300, 3400], btype="bandpass", fs=MODEL_SAMPLE_RATE, output="sos")
    narrow = soxr.resample(scipy.signal.sosfilt(sos, x).astype(np.float32), MODEL_SAMPLE_RATE, 8000)
    return soxr.resample(narrow, 8000, MODEL_SAMPLE_RATE).astype(np.float32)


ORIGINAL_NOISE_KINDS = ["white", "brown"]


def add_noise_of(x: np.ndarray, kinds, snr_db: float, rng: np.random.Generator, babble_clips=None) -> np.ndarray:
    """Noise of one of ``kinds`` (``rt_keras.data.noises``) at ``snr_db`` below the speech's active power."""
    kind = kinds[int(rng.integers(len(kinds)))]
    return noises.mix_at_snr(x, noises.make(kind, x.size, rng, babble_clips), snr_db)


def training_rooms(config: AugmentConfig, seed: int, count: int = 48) -> tuple:
    """The bank of image-method rooms training draws from (its own generator: ``seed``, 5001)."""
    return channels.room_bank((seed, 5001), count, tuple(config.room_rt60_seconds),
                              tuple(map(tuple, config.room_dims_m)))


def augment(x: np.ndarray, rng: np.random.Generator, config: AugmentConfig, babble_clips=None,
            rooms=None) -> np.ndarray:
    """One training utterance's augmentation. ``babble_clips`` (other voices' words) are
    needed when ``config.noise_kinds`` has babble, ``rooms`` ((response, RT60) pairs) when
    ``config.room_probability`` > 0."""
    if rng.random() < config.speed_probability:
        x = change_speed(x, rng.uniform(*config.speed))
    if rng.random() < config.reverb_probability:
        x = reverberate(x, rng.uniform(*config.rt60_seconds), rng)
    if config.room_probability > 0 and rng.random() < config.room_probability:
        x = channels.convolve(x, rooms[int(rng.integers(len(rooms)))][0])
    if config.eq_probability > 0 and rng.random() < config.eq_probability:
        x = channels.random_eq(x, rng, config.eq_max_db)
    if rng.random() < config.telephone_probability:
        x = telephone_band(x)
    if rng.random() < config.noise_probability:
        if list(config.noise_kinds) == ORIGINAL_NOISE_KINDS:
            x = add_noise(x, rng.uniform(*config.snr_db), rng)
        else:
            x = add_noise_of(x, config.noise_kinds, rng.uniform(*config.snr_db), rng, babble_clips)
    if config.codec_probability > 0 and rng.random() < config.codec_probability:
        x = channels.CODECS[config.codecs[int(rng.integers(len(config.codecs)))]](x)
    x = x * 10 ** (rng.uniform(*config.gain_db) / 20)
    if config.clip_probability > 0 and rng.random() < config.clip_probability:
        x = channels.clip(x, rng.uniform(*config.clip_fraction))
    if config.low_level_probability > 0 and rng.random() < config.low_level_probability:
        x = channels.set_peak_level(x, rng.uniform(*config.low_level_dbfs))
    return below_full_scale(x)


def noise_only_kinds(config: AugmentConfig) -> list:
    """The noise-only utterances' kinds: training's noise kinds but babble, which is other voices
    saying digits (as a no-words utterance it would teach the model to drop speech)."""
    return [kind for kind in config.noise_kinds if kind != "babble"]


def noise_only(rng: np.random.Generator, config: AugmentConfig) -> tuple[np.ndarray, str]:
    """A training utterance without words (``config.noise_only_probability``): one of
    ``noise_only_kinds``, ``config.noise_only_seconds`` long, at an RMS level drawn from
    ``config.noise_only_dbfs`` (lowered only if a peak would pass full scale). Returns (audio, kind)."""
    kinds = noise_only_kinds(config)
    kind = kinds[int(rng.integers(len(kinds)))]
    noise = noises.make(kind, int(rng.uniform(*config.noise_only_seconds) * MODEL_SAMPLE_RATE), rng)
    level = 10 ** (rng.uniform(*config.noise_only_dbfs) / 20)
    return below_full_scale(noise / np.sqrt(np.mean(noise ** 2) + 1e-20) * level), kind


def below_full_scale(audio: np.ndarray) -> np.ndarray:
    """``audio`` (float32) scaled down to a peak of 0.99 if noise or a channel pushed it above."""
    peak = np.max(np.abs(audio))
    return (audio / peak * 0.99 if peak > 0.99 else audio).astype(np.float32)
