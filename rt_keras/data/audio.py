"""Reading, checking and resampling audio. The model's own rate is 16 kHz; anything
else is resampled explicitly here (soxr), never silently inside the model."""

from __future__ import annotations

import os

import numpy as np
import soundfile
import soxr

MODEL_SAMPLE_RATE = 16000
# Sample formats we read; others (u-law, ADPCM, 64-bit int, ...) are refused by name.
SUPPORTED_SUBTYPES = ("PCM_U8", "PCM_S8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8000, 192000
MIN_SECONDS = 0.01  # shorter holds no speech (and is no file a recorder writes)
MAX_FILE_SECONDS = 3600.0  # read at most this much of one file, even with no data.max_seconds
MAX_FLOAT_AMPLITUDE = 16.0  # float WAVs hold [-1, 1]; far beyond is a scaling mistake
CANCELLING_CHANNELS = 1e-3  # mono peak below this fraction of the channels' peak: they cancel


class AudioError(ValueError):
    """A file or array cannot be used as speech; the message names it and the problem."""


def check_samples(samples: np.ndarray, source: str, max_seconds: float | None = None,
                  sample_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """Reject empty, non-finite, all-zero or too-long audio with a message naming ``source``."""
    if samples.size == 0:
        raise AudioError(f"{source}: empty audio (0 samples)")
    if not np.all(np.isfinite(samples)):
        bad = int(np.size(samples) - np.count_nonzero(np.isfinite(samples)))
        raise AudioError(f"{source}: {bad} NaN/Inf samples")
    if not np.any(samples):
        raise AudioError(f"{source}: all samples are zero (silent file)")
    seconds = samples.shape[0] / sample_rate
    if seconds < MIN_SECONDS:
        raise AudioError(f"{source}: {samples.shape[0]} samples ({1000 * seconds:.2f} ms) is too short to hold "
                         f"speech (at least {1000 * MIN_SECONDS:g} ms)")
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(f"{source}: {seconds:.2f} s is longer than the configured maximum "
                         f"of {max_seconds:.2f} s (data.max_seconds)")
    return samples


def resample(samples: np.ndarray, from_rate: int, to_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    return soxr.resample(samples.astype(np.float32, copy=False), from_rate, to_rate, quality="HQ")


def _riff_truncation(path: str) -> str | None:
    """For a RIFF/WAVE file, describe how its data chunk falls short of its declared size
    (libsndfile quietly reads what is there)."""
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        size = os.fstat(f.fileno()).st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            length = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                available = size - f.tell()
                if length != 0xFFFFFFFF and available < length:
                    return f"data chunk declares {length} bytes, file holds {available}"
                return None
            f.seek(length + (length & 1), os.SEEK_CUR)


def read_wav(path, max_seconds: float | None = None, target_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``target_rate``; stereo is averaged.

    Raises AudioError naming the file for unreadable, truncated, unsupported, empty,
    silent, non-finite or too long audio."""
    path = os.fspath(path)
    try:
        info = soundfile.info(path)
    except Exception as error:
        raise AudioError(f"{path}: unreadable audio file ({error})") from None
    if info.subtype not in SUPPORTED_SUBTYPES:
        raise AudioError(f"{path}: unsupported sample format {info.subtype} "
                         f"({info.subtype_info}); supported: {', '.join(SUPPORTED_SUBTYPES)}")
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{path}: sample rate {info.samplerate} Hz outside the supported "
                         f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz")
    truncation = _riff_truncation(path)
    if truncation:
        raise AudioError(f"{path}: truncated WAV ({truncation})")
    # Length from the header, before anything is decoded (a 1-hour file is ~500 MB decoded).
    declared = info.frames / info.samplerate
    limit = min(max_seconds, MAX_FILE_SECONDS) if max_seconds is not None else MAX_FILE_SECONDS
    if declared > limit:
        setting = " (data.max_seconds)" if max_seconds is not None and max_seconds <= MAX_FILE_SECONDS else ""
        raise AudioError(f"{path}: {declared:.2f} s is longer than the maximum of {limit:.2f} s{setting}")
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as error:
        raise AudioError(f"{path}: unreadable audio data ({error})") from None
    if info.subtype in ("FLOAT", "DOUBLE") and samples.size and np.all(np.isfinite(samples)):
        peak = float(np.max(np.abs(samples)))
        if peak > MAX_FLOAT_AMPLITUDE:
            raise AudioError(f"{path}: float samples reach {peak:.3g}; a float WAV holds [-1, 1] "
                             "(scale it, or write it as 16-bit PCM)")
    mono = samples.mean(axis=1)
    if samples.shape[1] > 1 and samples.size and np.all(np.isfinite(samples)):
        channel_peak, mono_peak = float(np.max(np.abs(samples))), float(np.max(np.abs(mono)))
        if channel_peak > 0 and mono_peak < CANCELLING_CHANNELS * channel_peak:
            raise AudioError(f"{path}: its {samples.shape[1]} channels cancel when averaged to mono (peak "
                             f"{mono_peak:.2g} against {channel_peak:.2g} per channel; one is phase-inverted?); "
                             "give one channel")
    check_samples(mono, path, max_seconds, rate)
    return resample(mono, rate, target_rate)
