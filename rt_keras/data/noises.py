"""Noise that sounds like the places people speak in, synthesised (no downloads): babble
(many other talkers at once), fan/air-conditioning hum, music, rain, a television, street
traffic and a cafe; and mixing at a chosen signal-to-noise ratio measured on the speech
that is there.

Every generator takes the length in samples and a ``numpy.random.Generator`` and returns
float32 noise of exactly that length with unit power; the same generator state gives the
same samples. Which kinds training may use and which only the held-out test splits use is
fixed in ``rt_keras.core.run_config`` (``TRAIN_NOISE_KINDS``, ``HELD_OUT_NOISE_KINDS``; rain and
television only ever reach the ``dev_shifted`` development split: ``DEV_NOISE_KINDS``).
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from rt_keras.data.audio import MODEL_SAMPLE_RATE

RATE = MODEL_SAMPLE_RATE


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.sqrt(np.mean(x ** 2) + 1e-20)).astype(np.float32)


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return _unit(rng.normal(size=n))


def brown(n: int, rng: np.random.Generator) -> np.ndarray:
    """Low-pass (brown-ish) noise, the filter of the original augmentation."""
    return _unit(scipy.signal.lfilter([1.0], [1.0, -0.95], rng.normal(size=n)))


def coloured(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (1: pink, 2: brown), shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.normal(size=n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum *= 1 / np.maximum(f, 20.0) ** (exponent / 2)
    return _unit(np.fft.irfft(spectrum, n))


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    return coloured(n, rng, 1.0)


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """Fan / air conditioning / fridge: coloured broadband noise, a mains hum (50 or 60 Hz and
    its harmonics) and a slow amplitude modulation at a blade rate of 2-12 Hz."""
    t = np.arange(n) / RATE
    base = coloured(n, rng, rng.uniform(0.8, 1.8))
    mains = rng.choice([50.0, 60.0])
    tone = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi))
               for k in range(1, 8))
    blade = 1 + rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(2, 12) * t + rng.uniform(0, 2 * np.pi))
    return _unit(blade * (base + rng.uniform(0.2, 1.5) * _unit(tone)))


def music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Synthesised music: notes of a major or minor scale with harmonic partials and decaying
    envelopes on a beat (80-160 bpm), a bass line and a kick drum."""
    t = np.arange(n) / RATE
    beat = 60.0 / rng.uniform(80, 160)
    scale = np.array([0, 2, 4, 5, 7, 9, 11] if rng.random() < 0.5 else [0, 2, 3, 5, 7, 8, 10])
    root = 220.0 * 2 ** (rng.integers(-5, 7) / 12)
    out = np.zeros(n)
    start = -rng.uniform(0, beat)
    while start < n / RATE:
        length = beat * rng.choice([0.5, 1.0, 2.0])
        for f0, level in ((root * 2 ** (scale[rng.integers(7)] / 12 + rng.integers(0, 2)), 1.0),
                          (root / 2 * 2 ** (scale[rng.integers(3)] / 12), 0.7)):
            mask = (t >= start) & (t < start + length + 0.3)
            local = t[mask] - start
            envelope = np.minimum(local / 0.01, 1.0) * np.exp(-local / (0.3 * length + 0.05))
            partials = sum(np.sin(2 * np.pi * f0 * k * local) / k ** rng.uniform(1.0, 2.0) for k in range(1, 6))
            out[mask] += level * envelope * partials
        if rng.random() < 0.7:  # kick drum: a falling low sine burst
            mask = (t >= start) & (t < start + 0.15)
            local = t[mask] - start
            out[mask] += 1.5 * np.sin(2 * np.pi * (50 + 100 * np.exp(-local / 0.03)) * local) * np.exp(-local / 0.05)
        start += length
    return _unit(out + 1e-3 * rng.normal(size=n))


def babble(n: int, rng: np.random.Generator, clips: list, talkers: tuple = (3, 8)) -> np.ndarray:
    """Several talkers at once: each a random stream of ``clips`` (float arrays of other
    voices' words) with short gaps, starting at a random point; their sum."""
    if not clips:
        raise ValueError("babble needs clips of other voices")
    out = np.zeros(n)
    for _ in range(int(rng.integers(talkers[0], talkers[1] + 1))):
        pieces, total = [], 0
        while total < n + RATE:
            clip = np.asarray(clips[int(rng.integers(len(clips)))], np.float64)
            gap = np.zeros(int(rng.uniform(0.0, 0.3) * RATE))
            pieces += [clip / (np.sqrt(np.mean(clip ** 2)) + 1e-9), gap]
            total += clip.size + gap.size
        stream = np.concatenate(pieces)
        offset = int(rng.integers(0, stream.size - n + 1))
        out += stream[offset:offset + n] * rng.uniform(0.5, 1.0)
    return _unit(out)


def street(n: int, rng: np.random.Generator) -> np.ndarray:
    """Held out for testing: traffic — low rumble, vehicles passing (swelling band-limited noise
    whose centre frequency falls as it passes), tyre hiss and now and then a two-tone horn."""
    t = np.arange(n) / RATE
    out = coloured(n, rng, 2.0) * rng.uniform(0.5, 1.0)
    for _ in range(int(rng.integers(1, 4))):
        centre, width = rng.uniform(-1.0, n / RATE + 1.0), rng.uniform(0.5, 2.0)
        swell = np.exp(-0.5 * ((t - centre) / width) ** 2)
        low, high = rng.uniform(80, 200), rng.uniform(600, 1500)
        sos = scipy.signal.butter(2, [low, high], btype="bandpass", fs=RATE, output="sos")
        out += 3 * swell * _unit(scipy.signal.sosfilt(sos, rng.normal(size=n)))
    sos = scipy.signal.butter(2, 3000, btype="highpass", fs=RATE, output="sos")
    out += rng.uniform(0.05, 0.3) * _unit(scipy.signal.sosfilt(sos, rng.normal(size=n)))
    if rng.random() < 0.5:
        start, length = rng.uniform(0, n / RATE), rng.uniform(0.3, 1.0)
        mask = (t >= start) & (t < start + length)
        f1 = rng.uniform(300, 450)
        horn = sum(np.sign(np.sin(2 * np.pi * f * k * t[mask])) / k for f in (f1, f1 * 1.26) for k in (1, 3))
        out[mask] += 2 * horn
    return _unit(out)


def cafe(n: int, rng: np.random.Generator, clips: list) -> np.ndarray:
    """Held out for testing: a cafe — babble of many voices (``clips`` of voices no training
    or development split uses) with cutlery clatter (short decaying high-frequency clicks)."""
    out = babble(n, rng, clips, talkers=(6, 12)).astype(np.float64)
    for _ in range(int(rng.poisson(2.0 * n / RATE))):
        start, length = int(rng.integers(n)), int(rng.uniform(0.01, 0.05) * RATE)
        click = rng.normal(size=length) * np.exp(-np.arange(length) / (0.004 * RATE)) * np.sin(
            2 * np.pi * rng.uniform(2000, 6000) * np.arange(length) / RATE)
        end = min(n, start + length)
        out[start:end] += rng.uniform(1, 4) * click[: end - start]
    return _unit(out)


def rain(n: int, rng: np.random.Generator) -> np.ndarray:
    """Development only: rain on a window or a roof — a soft broadband wash and a dense random
    patter of drops (50-400 per second, each a few milliseconds of decaying 1-6 kHz noise)."""
    out = coloured(n, rng, rng.uniform(0.3, 1.0)) * rng.uniform(0.3, 1.0)
    patter = np.zeros(n)
    starts = rng.integers(0, n, size=int(rng.poisson(rng.uniform(50, 400) * n / RATE)))
    patter[starts] = rng.uniform(0.2, 1.0, size=starts.size) * rng.choice([-1.0, 1.0], size=starts.size)
    drop = rng.normal(size=int(0.006 * RATE)) * np.exp(-np.arange(int(0.006 * RATE)) / (0.0015 * RATE))
    sos = scipy.signal.butter(2, [1000, 6000], btype="bandpass", fs=RATE, output="sos")
    out += 2 * _unit(scipy.signal.sosfilt(sos, np.convolve(patter, drop)[:n]) + 1e-9 * rng.normal(size=n))
    return _unit(out)


def television(n: int, rng: np.random.Generator, clips: list) -> np.ndarray:
    """Development only: a television in the room — one or two talkers over a music bed 6-15 dB
    below them, through a small loudspeaker (a 150-300 Hz to 4-6 kHz band). The talkers say
    ``clips`` backwards: the rhythm and spectrum of talk without words of the task (forward,
    one clear talker saying digits would make the reference transcript ambiguous)."""
    speech = babble(n, rng, [np.asarray(c)[::-1] for c in clips], talkers=(1, 2)).astype(np.float64)
    bed = music(n, rng) * 10 ** (-rng.uniform(6, 15) / 20)
    sos = scipy.signal.butter(2, [rng.uniform(150, 300), rng.uniform(4000, 6000)], btype="bandpass", fs=RATE,
                              output="sos")
    return _unit(scipy.signal.sosfilt(sos, speech + bed))


GENERATORS = {"white": white, "brown": brown, "pink": pink, "hum": hum, "music": music, "rain": rain,
              "street": street}
NEEDS_CLIPS = {"babble": babble, "television": television, "cafe": cafe}


def make(kind: str, n: int, rng: np.random.Generator, clips: list | None = None) -> np.ndarray:
    """``n`` samples of noise of ``kind`` at unit power; babble, television and cafe mix ``clips``."""
    if kind in NEEDS_CLIPS:
        return NEEDS_CLIPS[kind](n, rng, clips or [])
    if kind not in GENERATORS:
        raise ValueError(f"unknown noise kind {kind!r}; known: {', '.join([*GENERATORS, *NEEDS_CLIPS])}")
    return GENERATORS[kind](n, rng)


def active_power(x: np.ndarray, frame: int = 320, floor_db: float = 40.0) -> float:
    """Mean power of the frames (20 ms) within ``floor_db`` of the loudest: the speech, not
    the pauses, so a long silence does not lower the signal level an SNR is measured against."""
    x = np.asarray(x, np.float64)
    frames = x[: x.size // frame * frame].reshape(-1, frame) if x.size >= frame else x[None, :]
    power = np.mean(frames ** 2, axis=1)
    loud = power >= power.max() * 10 ** (-floor_db / 10)
    return float(np.mean(power[loud])) + 1e-20


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` (same length) scaled to ``snr_db`` below the speech's active power."""
    if noise.size != speech.size:
        raise ValueError(f"noise has {noise.size} samples, speech {speech.size}")
    noise = np.asarray(noise, np.float64)
    scale = np.sqrt(active_power(speech) / (np.mean(noise ** 2) + 1e-20) / 10 ** (snr_db / 10))
    return (speech + scale * noise).astype(np.float32)
