"""What lies between a mouth and the model: rooms (image-method impulse responses from
pyroomacoustics), microphone and loudspeaker colouration (random EQ), clipping, low
recording levels and phone codecs (mu-law and A-law in numpy; GSM 06.10, AMR-NB, IMA ADPCM and
Ogg Vorbis through Debian's ``sox``). Every function keeps the length of its input; random ones take a
``numpy.random.Generator``.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import numpy as np
import scipy.signal
import soxr

from rt_keras.data.audio import MODEL_SAMPLE_RATE

RATE = MODEL_SAMPLE_RATE
PHONE_RATE = 8000


# ------------------------------------------------------------------------------ rooms
def measure_rt60(response: np.ndarray, rate: int = RATE) -> float:
    """Reverberation time from Schroeder's backward-integrated energy decay: the time from
    -5 to -25 dB, times three (T20, as ISO 3382 extrapolates to 60 dB)."""
    energy = np.cumsum(np.asarray(response, np.float64)[::-1] ** 2)[::-1]
    decay = 10 * np.log10(energy / energy[0] + 1e-30)
    start, end = np.argmax(decay <= -5), np.argmax(decay <= -25)
    if end <= start:
        raise ValueError("the response does not decay by 25 dB")
    return 3 * (end - start) / rate


def _image_method(rt60: float, dims, source, mic) -> np.ndarray:
    import pyroomacoustics as pra

    absorption, order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(float(min(absorption, 1.0))), max_order=min(order, 60))
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    response = np.asarray(room.rir[0][0], np.float64)
    peak = int(np.argmax(np.abs(response)))
    response = response[max(peak - 8, 0):]  # the direct path at the start: no added delay
    return response / np.sqrt(np.sum(response ** 2))


def room_response(rt60: float, dims, rng: np.random.Generator, tries: int = 3) -> tuple[np.ndarray, float]:
    """(impulse response, its measured RT60) of a shoebox room of ``dims`` metres whose
    measured reverberation time is near ``rt60``: Sabine's formula overestimates the
    absorption the image method needs, so the asked time is corrected by the measured one
    (up to ``tries`` responses; the closest is kept)."""
    margin = 0.4
    source, mic = ([float(rng.uniform(margin, d - margin)) for d in dims] for _ in range(2))
    asked, best = rt60, None
    for _ in range(tries):
        response = _image_method(asked, dims, source, mic)
        measured = measure_rt60(response)
        if best is None or abs(measured - rt60) < abs(best[1] - rt60):
            best = (response, measured)
        if abs(measured - rt60) <= 0.1 * rt60:
            break
        asked = max(asked * rt60 / measured, 0.05)  # the same positions, another absorption
    return best[0].astype(np.float32), best[1]


@functools.lru_cache(maxsize=8)
def room_bank(seed_key: tuple, count: int, rt60_range: tuple, dims_range: tuple) -> tuple:
    """``count`` rooms drawn with generator ``seed_key`` (RT60 uniform in ``rt60_range``,
    each side uniform between ``dims_range``'s two corners): built once per process, since
    an image-method room takes about a second."""
    rng = np.random.default_rng(list(seed_key))
    low, high = (np.asarray(corner, np.float64) for corner in dims_range)
    rooms = []
    for _ in range(count):
        dims = rng.uniform(low, high).tolist()
        rooms.append(room_response(float(rng.uniform(*rt60_range)), dims, rng))
    return tuple(rooms)


def convolve(x: np.ndarray, response: np.ndarray) -> np.ndarray:
    """``x`` through an impulse response, length kept (the tail past the end is cut)."""
    return scipy.signal.fftconvolve(x, response)[: x.size].astype(np.float32)


# ------------------------------------------------------------------ microphones, levels
def peaking(frequency: float, gain_db: float, q: float, rate: int = RATE) -> np.ndarray:
    """Second-order sections of a peaking filter (RBJ cookbook): ``gain_db`` at ``frequency``."""
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * frequency / rate
    alpha = np.sin(w) / (2 * q)
    b = [1 + alpha * a, -2 * np.cos(w), 1 - alpha * a]
    den = [1 + alpha / a, -2 * np.cos(w), 1 - alpha / a]
    return np.array([[*(np.array(b) / den[0]), 1.0, den[1] / den[0], den[2] / den[0]]])


def random_eq(x: np.ndarray, rng: np.random.Generator, max_db: float = 10.0) -> np.ndarray:
    """A microphone or loudspeaker: 2-4 peaks and dips (up to ``max_db``, 150-6000 Hz), and
    half the time the bass roll-off of a small device (high-pass at 150-400 Hz)."""
    sections = [peaking(float(np.exp(rng.uniform(np.log(150), np.log(6000)))), rng.uniform(-max_db, max_db),
                        rng.uniform(0.5, 2.5)) for _ in range(int(rng.integers(2, 5)))]
    if rng.random() < 0.5:
        sections.append(scipy.signal.butter(2, rng.uniform(150, 400), btype="highpass", fs=RATE, output="sos"))
    y = scipy.signal.sosfilt(np.concatenate(sections), x)
    return (y * np.sqrt(np.mean(x ** 2) / (np.mean(y ** 2) + 1e-20))).astype(np.float32)


def clip(x: np.ndarray, fraction: float) -> np.ndarray:
    """Hard clipping at ``fraction`` of the peak (an overdriven microphone or converter)."""
    limit = fraction * float(np.max(np.abs(x)))
    return np.clip(x, -limit, limit).astype(np.float32)


def set_peak_level(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Scaled so the peak is ``peak_dbfs`` below full scale (a quiet recording; the int16
    storage then adds its quantisation noise, as a real converter would)."""
    return (x * 10 ** (peak_dbfs / 20) / (float(np.max(np.abs(x))) + 1e-20)).astype(np.float32)


# ------------------------------------------------------------------------------ codecs
def _to_phone(x: np.ndarray) -> np.ndarray:
    return soxr.resample(np.asarray(x, np.float32), RATE, PHONE_RATE)


def _from_phone(y: np.ndarray, n: int) -> np.ndarray:
    back = soxr.resample(np.asarray(y, np.float32), PHONE_RATE, RATE)
    return np.pad(back, (0, max(n - back.size, 0)))[:n].astype(np.float32)


def mulaw(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711 mu-law: 8 kHz, companded to 8 bits and back."""
    y = np.clip(_to_phone(x), -1, 1)
    code = np.round(np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu) * 127) / 127
    return _from_phone(np.sign(code) * np.expm1(np.abs(code) * np.log1p(mu)) / mu, x.size)


def alaw(x: np.ndarray, a: float = 87.6) -> np.ndarray:
    """G.711 A-law: 8 kHz, companded to 8 bits and back."""
    y = np.clip(_to_phone(x), -1, 1)
    m = np.abs(y)
    compressed = np.where(m < 1 / a, a * m / (1 + np.log(a)), (1 + np.log(np.maximum(a * m, 1e-12))) / (1 + np.log(a)))
    code = np.round(compressed * 127) / 127
    expanded = np.where(code < 1 / (1 + np.log(a)), code * (1 + np.log(a)) / a,
                        np.exp(code * (1 + np.log(a)) - 1) / a)
    return _from_phone(np.sign(y) * expanded, x.size)


class CodecError(RuntimeError):
    """sox is missing or failed; the message names the Debian package."""


def _sox(x: np.ndarray, kind: str, *encode_options: str) -> np.ndarray:
    if shutil.which("sox") is None:
        raise CodecError(f"the {kind} codec needs sox: apt-get install sox (make install does)")
    pcm = (np.clip(_to_phone(x), -1, 1) * 32767).astype("<i2").tobytes()
    raw = ["-t", "s16", "-r", str(PHONE_RATE), "-c", "1"]
    try:
        coded = subprocess.run(["sox", *raw, "-", *encode_options, "-t", kind, "-"], input=pcm,
                               capture_output=True, check=True).stdout
        decoded = subprocess.run(["sox", "-t", kind, "-r", str(PHONE_RATE), "-c", "1", "-", *raw, "-"],
                                 input=coded, capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as error:
        raise CodecError(f"sox {kind}: {error.stderr.decode(errors='replace').strip()}") from None
    return _from_phone(np.frombuffer(decoded, "<i2").astype(np.float32) / 32767, x.size)


def gsm(x: np.ndarray) -> np.ndarray:
    """GSM 06.10 full rate (13 kbit/s) through sox."""
    return _sox(x, "gsm")


def amr_nb(x: np.ndarray) -> np.ndarray:
    """AMR narrow band (12.2 kbit/s) through sox: held out for testing."""
    return _sox(x, "amr-nb", "-C", "7")


def ima_adpcm(x: np.ndarray) -> np.ndarray:
    """IMA ADPCM (4 bits a sample, 32 kbit/s at 8 kHz, as in DECT and old VoIP) through sox:
    development only."""
    return _sox(x, "ima")


def vorbis(x: np.ndarray) -> np.ndarray:
    """Ogg Vorbis at its lowest quality (about 13 kbit/s for speech at 8 kHz: a messaging
    app's voice note) through sox: development only."""
    return _sox(x, "vorbis", "-C", "-1")


CODECS = {"mulaw": mulaw, "alaw": alaw, "gsm": gsm, "amr-nb": amr_nb, "ima-adpcm": ima_adpcm, "vorbis": vorbis}
