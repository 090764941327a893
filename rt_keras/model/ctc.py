"""CTC loss for model.fit on padded batches (greedy decoding is in rt_keras.core.contracts)."""

from __future__ import annotations

from rt_keras.backend import keras, tf
from rt_keras.core.contracts import BLANK, target_frames, target_labels


@keras.utils.register_keras_serializable(package="rt_keras")
class CTCLoss(keras.losses.Loss):
    """CTC loss whose ``y_true`` packs the lengths with the labels:
    ``[valid_output_frames, label_1, ..., label_n, -1 padding]`` (rt_keras.core.contracts.pack_targets).
    ``y_pred`` are per-frame log-probabilities [B, T, V] with the blank at index 0."""

    def __init__(self, name="ctc_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, tf.int32)
        frames = tf.minimum(target_frames(y_true), tf.shape(y_pred)[1])
        labels = target_labels(y_true)
        # A batch of noise-only utterances has labels zero columns wide, on which tf.nn.ctc_loss
        # is off by log 2 (tests/model/test_ctc.py): give it one padding column (none otherwise).
        labels = tf.pad(labels, [[0, 0], [0, tf.maximum(0, 1 - tf.shape(labels)[1])]], constant_values=-1)
        label_length = tf.reduce_sum(tf.cast(labels >= 0, tf.int32), axis=1)
        labels = tf.maximum(labels, 0)
        return tf.nn.ctc_loss(labels, y_pred, label_length, frames, logits_time_major=False, blank_index=BLANK)
