"""The contracts between data, model, decoding and the shipped file, in one place:
the CTC blank at index 0 and the digit task's words (the vocabularies themselves are in
``rt_keras.core.vocabulary``), how int16 PCM becomes the model's float input,
the name of the in-graph front-end, the layout of the packed CTC targets, and the
frame arithmetic (audio samples -> log-mel frames -> encoder output frames).

No TensorFlow here: the host's ``transcribe`` and the converters' tools use it too.
"""

from __future__ import annotations

import numpy as np

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
BLANK = 0

# Splits store int16; the model takes int16 / PCM_SCALE (and so does the Android app's Pcm).
PCM_SCALE = 32767
# The in-graph log-mel layer: its statistics are set from data and it stays float in int8 files.
FRONTEND_LAYER = "frontend_logmel"


def pcm_to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples -> the model's float32 input."""
    return np.asarray(samples).astype(np.float32) / PCM_SCALE


def float_to_pcm(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] -> int16 as the splits store them (clipped)."""
    return (np.clip(audio, -1, 1) * PCM_SCALE).astype(np.int16)


# Packed CTC targets, one row per utterance: [valid_output_frames, label_1, ..., label_n,
# -1 padding]. The accessors slice, so they work on numpy arrays and tf tensors alike.
TARGET_PADDING = -1


def pack_targets(frames: list[int], labels: list[list[int]]) -> np.ndarray:
    targets = np.full((len(labels), 1 + max((len(ids) for ids in labels), default=0)), TARGET_PADDING, np.int32)
    for row, (count, ids) in enumerate(zip(frames, labels)):
        targets[row, 0] = count
        targets[row, 1:1 + len(ids)] = ids
    return targets


def target_frames(targets):
    return targets[:, 0]


def target_labels(targets):
    return targets[:, 1:]


def ctc_frames_needed(labels) -> int:
    """The fewest frames a CTC path for ``labels`` has: one per label and a blank between
    equal neighbours."""
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


def greedy_decode(log_probs: np.ndarray, frames: int | None = None, blank: int = BLANK,
                  min_probability: float = 0.0) -> list[int]:
    """Best path: argmax per frame, repeats collapsed, blanks removed. With
    ``min_probability`` > 0, a token is kept only if its probability reaches it on at least
    one frame of its run (a confidence gate: words the model is unsure of, as from noise, are
    dropped; benchmarks/confidence_gate.py measures what it costs the speech)."""
    if not 0 <= min_probability <= 1:
        raise ValueError(f"min_probability={min_probability!r}: expected a probability in [0, 1]")
    log_probs = np.asarray(log_probs)[:frames]
    best = np.argmax(log_probs, axis=-1)
    starts = np.flatnonzero(np.concatenate([[True], best[1:] != best[:-1]])) if best.size else best
    if min_probability <= 0:
        return [int(best[s]) for s in starts if best[s] != blank]
    ends = np.append(starts[1:], best.size)
    floor = np.log(min_probability)
    return [int(best[s]) for s, e in zip(starts, ends)
            if best[s] != blank and log_probs[s:e, best[s]].max() >= floor]


# Frame arithmetic: samples -> log-mel frames -> encoder output frames (4x subsampling).
SUBSAMPLING_FACTOR = 4


def subsampled_length(frames):
    """Frames after the 4x conv subsampling ("same" padding, two stride-2 convolutions)."""
    return (frames + 3) // 4


def feature_frames(num_samples, frontend) -> int:
    """Log-mel frames of ``num_samples`` audio (frames that fit entirely, no end padding)."""
    return max(0, 1 + (int(num_samples) - frontend.frame_length) // frontend.frame_step)


def output_frames(num_samples, frontend) -> int:
    """Encoder output frames of ``num_samples`` of audio fed to the whole-utterance model,
    whose graph puts ``frontend.leading_samples`` of silence in front of it."""
    return subsampled_length(feature_frames(num_samples + frontend.leading_samples, frontend))
