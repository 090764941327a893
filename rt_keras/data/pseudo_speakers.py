"""New speakers from recorded ones: vocal-tract length and pitch perturbation.

Every real training voice of the digit task is an adult man, so the model has never
heard the formants and pitch of women and children. A pseudo-speaker warps a real
speaker's clips with Praat's "Change gender" (praat-parselmouth): the spectral envelope
is scaled by ``formant_ratio`` (resampling, then PSOLA back to the original duration:
the formants move like a shorter or longer vocal tract, in the spirit of VTLP, Jaitly &
Hinton 2013) and the median pitch is set to ``pitch_hz`` by PSOLA (independently of the
formants). Duration is kept. Deterministic: the same clip and factors give the same
samples (Praat's random generator is seeded for each call).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from rt_keras.data.audio import MODEL_SAMPLE_RATE

# Pitch analysis range of Praat's "Change gender" (Hz): wide enough for men to children.
_MIN_PITCH_HZ, _MAX_PITCH_HZ = 75.0, 600.0


@dataclasses.dataclass(frozen=True)
class Perturbation:
    formant_ratio: float  # > 1: shorter vocal tract (towards female and child voices)
    pitch_hz: float  # target median F0; 0 keeps the speaker's own pitch

    @property
    def tag(self) -> str:
        return f"vt{self.formant_ratio:.2f}-f0{self.pitch_hz:.0f}"


def _praat():
    try:
        import parselmouth
        from parselmouth.praat import call
    except ImportError:
        raise ImportError("voice perturbation needs praat-parselmouth: pip install praat-parselmouth "
                          "(`make install` does it)") from None
    return parselmouth, call


def change_voice(audio: np.ndarray, perturbation: Perturbation,
                 sample_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """``audio`` (float32 in [-1, 1]) spoken with a shifted vocal tract and pitch, same length."""
    parselmouth, call = _praat()
    # Praat's resynthesis draws random numbers: a fixed seed per call makes every call
    # give the same samples whatever came before it.
    parselmouth.praat.run("random_initializeWithSeedUnsafelyButPredictably: 5489")
    sound = parselmouth.Sound(audio.astype(np.float64), sample_rate)
    with warnings.catch_warnings():  # a clip without voiced frames keeps its own pitch
        warnings.simplefilter("ignore", parselmouth.PraatWarning)
        changed = call(sound, "Change gender", _MIN_PITCH_HZ, _MAX_PITCH_HZ, float(perturbation.formant_ratio),
                       float(perturbation.pitch_hz), 1.0, 1.0)
    out = np.nan_to_num(changed.values[0]).astype(np.float32)
    out = np.pad(out, (0, max(0, audio.size - out.size)))[:audio.size]
    peak = np.max(np.abs(out))
    return out / peak * 0.99 if peak > 0.99 else out


def median_pitch(audio: np.ndarray, sample_rate: int = MODEL_SAMPLE_RATE) -> float:
    """Median F0 (Hz) of the voiced frames (Praat's autocorrelation pitch), nan if unvoiced."""
    parselmouth, call = _praat()
    pitch = parselmouth.Sound(audio.astype(np.float64), sample_rate).to_pitch(
        pitch_floor=_MIN_PITCH_HZ, pitch_ceiling=_MAX_PITCH_HZ)
    value = call(pitch, "Get quantile", 0, 0, 0.5, "Hertz")
    return float(value) if np.isfinite(value) else float("nan")


def sample_perturbations(count: int, rng: np.random.Generator, formant_range=(0.88, 1.4),
                         pitch_range=(80.0, 320.0), base_pitch_hz: float = 120.0) -> list[Perturbation]:
    """``count`` pseudo-speakers. Half move vocal tract and pitch together (an adult man
    becomes a woman near ratio 1.15-1.2 and a child near 1.3-1.4: F0 follows the ratio
    to the power 2.5, 120 Hz -> ~200 Hz -> ~280 Hz); the other half draw them
    independently (a deep voice with a short vocal tract, and so on)."""
    perturbations = []
    for i in range(count):
        ratio = float(rng.uniform(*formant_range))
        if i % 2 == 0:
            pitch = base_pitch_hz * ratio ** 2.5 * float(rng.uniform(0.9, 1.1))
        else:
            pitch = float(np.exp(rng.uniform(np.log(pitch_range[0]), np.log(pitch_range[1]))))
        perturbations.append(Perturbation(round(ratio, 3), round(float(np.clip(pitch, *pitch_range)), 1)))
    return perturbations
