"""CTC loss for model.fit on padded batches, greedy decoding and word error rate."""

from __future__ import annotations

import numpy as np

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class CTCLoss(keras.losses.Loss):
    """CTC loss whose ``y_true`` packs the lengths with the labels:
    ``[valid_output_frames, label_1, ..., label_n, -1 padding]`` (see rt_keras.data.pipeline).
    ``y_pred`` are per-frame log-probabilities [B, T, V] with the blank at index 0."""

    def __init__(self, name="ctc_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.int32)
        frames = tf.minimum(y_true[:, 0], tf.shape(y_pred)[1])
        labels = y_true[:, 1:]
        label_length = tf.reduce_sum(tf.cast(labels >= 0, tf.int32), axis=1)
        labels = tf.maximum(labels, 0)
        return tf.nn.ctc_loss(labels, y_pred, label_length, frames, logits_time_major=False, blank_index=0)


def greedy_decode(log_probs: np.ndarray, frames: int | None = None, blank: int = 0) -> list[int]:
    """Best path: argmax per frame, repeats collapsed, blanks removed."""
    best = np.argmax(log_probs[:frames], axis=-1)
    collapsed = best[np.concatenate([[True], best[1:] != best[:-1]])] if best.size else best
    return [int(i) for i in collapsed if i != blank]


def edit_distance(reference: list, hypothesis: list) -> int:
    """Levenshtein distance (substitutions, deletions, insertions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: total word edits / total reference words."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    words = sum(len(r.split()) for r in references)
    if not words:
        raise ValueError("references contain no words")
    return sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses)) / words
