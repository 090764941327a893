"""Single-digit clips (or any phrases) spoken by espeak-ng voices, generated in a fresh child process so
that the same seed always gives the same samples (see ``rt_keras.data.espeak``)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing

import numpy as np

from rt_keras.core.contracts import DIGIT_WORDS, float_to_pcm
from rt_keras.data.espeak import LANGUAGES, VARIANTS

# Never used for training: the held-out synthetic test set speaks with these variants.
HELD_OUT_VARIANTS = ("f4", "m6", "klatt3", "belinda", "grandpa", "Storm", "aunty", "Lee")


@dataclasses.dataclass(frozen=True)
class Voice:
    language: str
    variant: str
    rate: int  # words per minute
    pitch: int  # 0-100

    @property
    def name(self) -> str:
        return f"{self.language}+{self.variant}@{self.rate}wpm/p{self.pitch}"


def sample_voices(count: int, held_out: bool, seed: int) -> list[Voice]:
    """``count`` random voices from the training (or the held-out) variants."""
    rng = np.random.default_rng(seed)
    variants = [v for v in VARIANTS if (v in HELD_OUT_VARIANTS) == held_out]
    return [Voice(str(rng.choice(LANGUAGES)), str(rng.choice(variants)),
                  int(rng.integers(120, 260)), int(rng.integers(20, 85))) for _ in range(count)]


def trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    return x[max(loud[0] - 160, 0): loud[-1] + 160] if loud.size else x


def _speak_all(voices: list[Voice], texts) -> list[list[np.ndarray]]:
    from rt_keras.data.audio import resample
    from rt_keras.data.espeak import Espeak

    engine = Espeak.get()
    clips = []
    for voice in voices:
        spoken = []
        for text in texts:
            samples = engine.synthesize(text, voice.language, voice.variant, voice.rate, voice.pitch)
            spoken.append(float_to_pcm(trim(resample(samples, engine.sample_rate))))
        clips.append(spoken)
    return clips


def synthesize_clips(voices: list[Voice], texts=DIGIT_WORDS) -> list[list[np.ndarray]]:
    """For each voice, each of ``texts`` (default: the ten digit words) as int16 PCM at
    16 kHz (in a fresh process)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_speak_all, list(voices), list(texts)).result()
