"""The speech model: raw 16 kHz PCM -> log-mel (in the graph) -> SpecAugment (training
only) -> residual weight-shared encoder -> CTC head with per-frame log-probabilities."""

from __future__ import annotations

import dataclasses

from rt_keras.backend import keras
from rt_keras.core.contracts import FRONTEND_LAYER
from rt_keras.layers import LogMelSpectrogram, SpecAugment
from rt_keras.model.encoder import encoder_graph

FEATURE_FIELDS = ("sample_rate", "frame_length", "frame_step", "num_mel_bins", "lower_hz", "upper_hz", "log_floor")
SPEC_AUGMENT_FIELDS = ("time_masks", "time_mask_frames", "frequency_masks", "frequency_mask_bins")


def build_asr_model(config, vocabulary_size: int) -> keras.Model:
    """``config`` is a RunConfig. Input [B, N] float32 PCM at 16 kHz; output [B, T, V]
    log-probabilities over the ``vocabulary_size`` tokens (index 0 is the CTC blank),
    T = ceil(frames / 4)."""
    frontend = dataclasses.asdict(config.frontend)
    audio = keras.Input((None,), name="audio")
    features = LogMelSpectrogram(**{k: frontend[k] for k in FEATURE_FIELDS},
                                 leading_samples=config.frontend.leading_samples, name=FRONTEND_LAYER)(audio)
    features = SpecAugment(**{k: frontend[k] for k in SPEC_AUGMENT_FIELDS}, name="specaugment")(features)
    encoded = encoder_graph(features, config.encoder)
    logits = keras.layers.Dense(vocabulary_size, name="head_logits")(encoded)
    log_probs = keras.layers.Activation("log_softmax", name="head_log_probs")(logits)
    return keras.Model(audio, log_probs, name=config.name)
