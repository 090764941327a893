"""Synthetic speech with espeak-ng, from the PyPI wheel ``espeakng-loader`` (no system install).

A thin ctypes binding to the library's synchronous API: one call speaks one text with
one voice (language + variant), rate and pitch, and returns float32 samples at the
library's rate (22,050 Hz).

Determinism: espeak-ng seeds its noise generator from the clock at start-up, so its
breathy and whispering variants differed from run to run (measured: 11 of 160 training
voices); both of its random sources are seeded before every call. It also carries other
internal state from one call to the next, so synthesis still runs in a fresh child
process with a call order fixed by the seed (``rt_keras.data.espeak_voices``).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 2, 3, 4
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_RANDOM_SEED = 5489
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# English voices and variants shipped in espeak-ng-data (lang/gmw/*, voices/!v/*).
LANGUAGES = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan",
             "en-gb-x-gbcwmd", "en-us-nyc")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt",
            "klatt2", "klatt3", "croak", "whisper", "adam", "anika", "belinda", "benjamin",
            "caleb", "david", "edward", "grandma", "grandpa", "ian", "john", "linda", "max",
            "michel", "mike2", "norbert", "Andy", "Annie", "Denis", "Gene", "Jacky", "Lee",
            "Mario", "Michael", "Storm", "Tweaky", "antonio", "aunty", "boris", "ed", "iven")


class EspeakError(RuntimeError):
    pass


class Espeak:
    """The process-wide espeak-ng engine (the C library keeps global state)."""

    _instance = None
    _lock = threading.Lock()

    def __init__(self):
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_int]
        self._libc = ctypes.CDLL(None)
        self._lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                           ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.sample_rate <= 0:
            raise EspeakError(f"espeak-ng failed to initialise with data at {data.decode()}")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: C holds the pointer
        self._lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> "Espeak":
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _collect(self, samples, count, _events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0

    def synthesize(self, text: str, language: str = "en-us", variant: str | None = None,
                   rate: int = 175, pitch: int = 50, pitch_range: int = 50) -> np.ndarray:
        """Speak ``text``; returns float32 samples in [-1, 1] at ``self.sample_rate``.

        ``rate`` is words per minute (80-450), ``pitch`` and ``pitch_range`` 0-100."""
        voice = f"{language}+{variant}" if variant else language
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"espeak-ng has no voice {voice!r}")
            for parameter, value in ((_ESPEAK_RATE, rate), (_ESPEAK_PITCH, pitch),
                                     (_ESPEAK_RANGE, pitch_range), (_ESPEAK_VOLUME, 100)):
                self._lib.espeak_SetParameter(parameter, int(value), 0)
            # Breathy and whispering variants (f2, f5, whisper, ...) draw noise from
            # espeak-ng's own generator, which it seeds from the clock, and from libc's
            # rand(): both are seeded for every call, so a call's samples do not depend
            # on the time or on the calls before it.
            self._lib.espeak_ng_SetRandSeed(_RANDOM_SEED)
            self._libc.srand(_RANDOM_SEED)
            self._chunks = []
            encoded = text.encode("utf-8") + b"\0"
            status = self._lib.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0,
                                            _ESPEAK_CHARS_UTF8, None, None)
            if status != 0:
                raise EspeakError(f"espeak-ng failed to speak {text!r} with {voice!r} (status {status})")
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.zeros(0, np.float32)
        return (np.concatenate(chunks).astype(np.float32) / 32768.0)
