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
# The longest file read, even with no data.max_seconds: the longest input `rt-keras
# transcribe` hands the model whole. Its attention grows with the square of the length:
# the demo model (6 layers, d 144) peaks at 148 MB resident for 60 s and 369 MB for 120 s
# (LiteRT Interpreter, measured 2026-12-06); the paper-size encoder (d 512, twice the
# heads) needs about twice that, so 120 s stays under 1 GB, where 240 s would pass 2 GB and
# the hour allowed before needed hundreds of GB. Streaming (`transcribe --stream`) uses
# constant model memory but reads the file the same way.
MAX_FILE_SECONDS = 120.0
# Decoded samples in memory at once (float32, every channel): 120 s of stereo at 192 kHz
# is 184 MB; more channels than that must be shorter.
MAX_DECODED_BYTES = 256 << 20
# Float WAVs hold [-1, 1]. The model hears 16-bit PCM (pcm_to_float(float_to_pcm(...)), as
# the training data is stored), so anything beyond 1.0 is clipped: float audio from an
# editor may carry overs of a few dB, which clip only its peaks, and up to 2.0 (+6 dBFS) is
# accepted; beyond that most of the speech would be clipped, and the file was scaled
# wrongly (e.g. int16-range values stored as floats, or gain applied twice).
MAX_FLOAT_AMPLITUDE = 2.0
# Bits per sample of the WAV formats read: the header's container size (a 20-bit
# WAVE_FORMAT_EXTENSIBLE file is stored in 24-bit containers).
WAV_PCM_BITS = (8, 16, 24, 32)
WAV_FLOAT_BITS = (32, 64)
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


def _riff_problem(path: str) -> str | None:
    """For a RIFF/WAVE file, what is wrong with its header that libsndfile lets pass: a
    sample size it would read as another (a 7-bit header is decoded as 8-bit), a block
    size that disagrees with it, or a data chunk shorter than it declares (libsndfile
    quietly reads what is there)."""
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
            if chunk[:4] == b"fmt ":
                problem = _wav_format_problem(f.read(min(length, 64)))
                if problem:
                    return problem
                f.seek(max(length - 64, 0) + (length & 1), os.SEEK_CUR)
                continue
            if chunk[:4] == b"data":
                available = size - f.tell()
                if length != 0xFFFFFFFF and available < length:
                    return f"truncated WAV (data chunk declares {length} bytes, file holds {available})"
                return None
            f.seek(length + (length & 1), os.SEEK_CUR)


_WAVE_FORMAT_PCM, _WAVE_FORMAT_FLOAT, _WAVE_FORMAT_EXTENSIBLE = 0x0001, 0x0003, 0xFFFE


def _wav_format_problem(fmt: bytes) -> str | None:
    """The WAV header's fmt chunk: PCM samples of 8, 16, 24 or 32 bits, float samples of
    32 or 64, and a block of exactly one sample per channel."""
    if len(fmt) < 16:
        return f"damaged WAV header (fmt chunk of {len(fmt)} bytes)"
    tag, channels = int.from_bytes(fmt[0:2], "little"), int.from_bytes(fmt[2:4], "little")
    block, bits = int.from_bytes(fmt[12:14], "little"), int.from_bytes(fmt[14:16], "little")
    if tag == _WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], "little")  # the sub-format GUID's first two bytes
    allowed = {_WAVE_FORMAT_PCM: WAV_PCM_BITS, _WAVE_FORMAT_FLOAT: WAV_FLOAT_BITS}.get(tag)
    if allowed is None:
        return None  # other encodings: libsndfile names them (refused by SUPPORTED_SUBTYPES)
    kind = "PCM" if tag == _WAVE_FORMAT_PCM else "float"
    if bits not in allowed:
        return (f"unsupported sample size: its header declares {bits}-bit {kind} samples "
                f"(supported: {', '.join(map(str, allowed))}-bit {kind})")
    if channels and block != channels * bits // 8:
        return (f"damaged WAV header: {channels} channel(s) of {bits}-bit samples take {channels * bits // 8} "
                f"bytes per frame; it declares {block}")
    return None


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
    problem = _riff_problem(path)
    if problem:
        raise AudioError(f"{path}: {problem}")
    # Length from the header, before anything is decoded.
    declared = info.frames / info.samplerate
    limit = min(max_seconds, MAX_FILE_SECONDS) if max_seconds is not None else MAX_FILE_SECONDS
    if declared > limit:
        setting = " (data.max_seconds)" if max_seconds is not None and max_seconds <= MAX_FILE_SECONDS else ""
        raise AudioError(f"{path}: {declared:.2f} s is longer than the maximum of {limit:.2f} s{setting}")
    decoded = 4 * info.frames * info.channels
    if decoded > MAX_DECODED_BYTES:
        raise AudioError(f"{path}: {info.channels} channels of {declared:.2f} s decode to {decoded / 2**20:.0f} MB; "
                         f"at most {MAX_DECODED_BYTES / 2**20:.0f} MB (give fewer channels or a shorter file)")
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as error:
        raise AudioError(f"{path}: unreadable audio data ({error})") from None
    if info.subtype in ("FLOAT", "DOUBLE") and samples.size and np.all(np.isfinite(samples)):
        peak = float(np.max(np.abs(samples)))
        if peak > MAX_FLOAT_AMPLITUDE:
            raise AudioError(f"{path}: float samples reach {peak:.3g}; a float WAV holds [-1, 1] (up to "
                             f"{MAX_FLOAT_AMPLITUDE:g} is accepted and clipped: scale it, or write it as 16-bit PCM)")
    mono = samples.mean(axis=1)
    if samples.shape[1] > 1 and samples.size and np.all(np.isfinite(samples)):
        channel_peak, mono_peak = float(np.max(np.abs(samples))), float(np.max(np.abs(mono)))
        if channel_peak > 0 and mono_peak < CANCELLING_CHANNELS * channel_peak:
            raise AudioError(f"{path}: its {samples.shape[1]} channels cancel when averaged to mono (peak "
                             f"{mono_peak:.2g} against {channel_peak:.2g} per channel; one is phase-inverted?); "
                             "give one channel")
    check_samples(mono, path, max_seconds, rate)
    return resample(mono, rate, target_rate)
