"""The streaming step of a chunked encoder (``encoder.chunk_frames`` > 0): one chunk of
audio and the state left by the previous chunk in, the chunk's log-probabilities and the
new state out — the external-state design of kws_streaming, so the converted file is an
ordinary TFLite model with builtin ops that an app calls once per chunk.

State (all float32, batch 1, zeros before the first chunk):

- ``audio_tail`` [1, frame_length - frame_step]: the last samples, for the next frames;
- ``feature_tail`` [1, 2, mel bins] and ``conv1_tail`` [1, 2, ceil(bins / 2), channels]:
  the left context of the two causal subsampling convolutions;
- ``offset`` [1]: encoder frames emitted so far (positions of the sinusoidal encoding and
  which cached frames are real);
- per layer ``blockNN_key_cache`` / ``blockNN_value_cache`` [1, left_context_frames, d_model];
- with look-ahead R (``encoder.lookahead_frames``), ``lookahead`` [1, R, d_model]: the
  last R frames that entered the encoder, whose chunk waits for the next call.

Streaming the chunks of an utterance gives the log-probabilities of the full model (same
chunk mask) on the utterance with ``frame_length - frame_step`` zeros in front: the first
chunk's audio tail is that silence. With look-ahead, each call emits the chunk that
starts R frames before its new audio (the first layer attends to that audio as the
look-ahead), so a stream's first R output frames are not frames of the utterance (drop
them) and one more chunk of silence flushes its last R frames (``stream``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from converters import naming
from rt_keras.backend import keras
from rt_keras.core.contracts import FRONTEND_LAYER, SUBSAMPLING_FACTOR
from rt_keras.core.encoder_config import ConfigError
from rt_keras.layers import (
    LastFrames,
    LogMelSpectrogram,
    ScaledDotProductAttention,
    SinusoidalPositionalEncoding,
    StreamingKeyMask,
)
from rt_keras.model.asr import FEATURE_FIELDS
from rt_keras.model.encoder import transformer_block
from rt_keras.model.quantize import quantize_model


@dataclasses.dataclass(frozen=True)
class StreamingShapes:
    chunk_frames: int  # encoder frames per chunk
    chunk_samples: int
    audio_tail: int
    mel_bins: int
    conv1_bins: int
    channels: int
    left_context_frames: int
    num_layers: int
    d_model: int
    lookahead_frames: int = 0

    @classmethod
    def of(cls, config) -> "StreamingShapes":
        encoder, frontend = config.encoder, config.frontend
        if not encoder.chunk_frames:
            raise ValueError("a streaming model needs a chunked encoder: train with encoder.chunk_frames > 0 "
                             "(and encoder.left_context_frames)")
        return cls(encoder.chunk_frames, SUBSAMPLING_FACTOR * encoder.chunk_frames * frontend.frame_step,
                   frontend.frame_length - frontend.frame_step, frontend.num_mel_bins,
                   -(-frontend.num_mel_bins // 2), encoder.subsampling_channels, encoder.left_context_frames,
                   encoder.num_layers, encoder.d_model, encoder.lookahead_frames)

    def state(self) -> dict[str, tuple]:
        """Name -> shape of every state tensor, in input (and output) order."""
        shapes = {"audio_tail": (1, self.audio_tail), "feature_tail": (1, 2, self.mel_bins),
                  "conv1_tail": (1, 2, self.conv1_bins, self.channels), "offset": (1,)}
        for layer in range(self.num_layers if self.left_context_frames else 0):
            for kind in ("key", "value"):
                shapes[naming.block(layer, f"{kind}_cache")] = (1, self.left_context_frames, self.d_model)
        if self.lookahead_frames:
            shapes["lookahead"] = (1, self.lookahead_frames, self.d_model)
        return shapes

    def initial_state(self) -> dict[str, np.ndarray]:
        return {name: np.zeros(shape, np.float32) for name, shape in self.state().items()}

    def stream_audio(self, audio: np.ndarray) -> np.ndarray:
        """``audio`` as a stream feeds it: zero-padded to whole chunks, plus one chunk of
        silence with look-ahead (the flush)."""
        chunks = -(-audio.size // self.chunk_samples) + (1 if self.lookahead_frames else 0)
        return np.pad(audio.astype(np.float32), (0, chunks * self.chunk_samples - audio.size))


def check_streamable(config) -> None:
    """ConfigError unless the step model can reproduce ``config``'s whole-utterance model:
    its leading silence has no place in a stream, which starts from its state."""
    if config.frontend.leading_samples:
        raise ConfigError(f"frontend.leading_silence_seconds={config.frontend.leading_silence_seconds}: the streaming "
                          "step has no leading silence (a stream starts from its state); train the streaming run "
                          "with --set frontend.leading_silence_seconds=0")


def streaming_step_model(config, vocabulary_size: int) -> keras.Model:
    """The step model of ``config`` (a RunConfig with a chunked encoder), with fresh
    weights: load a trained model's with ``copy_weights``. Built from Keras layers only
    (tfmot's model transformer fails on raw TensorFlow ops; ``quantization_aware_step``
    makes its QAT copy)."""
    check_streamable(config)
    shapes = StreamingShapes.of(config)
    encoder, frontend = config.encoder, dataclasses.asdict(config.frontend)
    inputs = {name: keras.Input(batch_shape=shape, name=name)
              for name, shape in [("audio", (1, shapes.chunk_samples)), *shapes.state().items()]}
    # Every input passes an Identity (dropped by the converter): tfmot's quantize_apply
    # reorders a layer's inputs when one comes straight from a model Input, which would
    # swap the state and the new chunk in the concatenations of a QAT step.
    passed = {name: keras.layers.Identity(name=f"{name}_in")(x) for name, x in inputs.items()}
    audio, state = passed.pop("audio"), passed
    new_state = {}

    def carry(x, name, count):  # x, and its last frames as the next call's state `name`
        new_state[name] = LastFrames(count, name=f"{name}_out")(x)
        return x

    buffer = carry(keras.layers.Concatenate(axis=1, name="stream_audio")([state["audio_tail"], audio]),
                   "audio_tail", shapes.audio_tail)
    features = LogMelSpectrogram(**{k: frontend[k] for k in FEATURE_FIELDS}, name=FRONTEND_LAYER)(buffer)

    # The causal subsampling, with the two left frames of each convolution carried over.
    x = carry(keras.layers.Concatenate(axis=1, name="stream_features")([state["feature_tail"], features]),
              "feature_tail", 2)
    x = keras.layers.Reshape((-1, shapes.mel_bins, 1), name="subsample_expand")(x)
    x = keras.layers.ZeroPadding2D(((0, 0), (1, 1)), name="subsample_pad1")(x)
    x = keras.layers.Conv2D(shapes.channels, 3, strides=2, padding="valid", activation="relu",
                            name="subsample_conv1")(x)
    x = carry(keras.layers.Concatenate(axis=1, name="stream_conv1")([state["conv1_tail"], x]), "conv1_tail", 2)
    x = keras.layers.ZeroPadding2D(((0, 0), (1, 1)), name="subsample_pad2")(x)
    x = keras.layers.Conv2D(shapes.channels, 3, strides=2, padding="valid", activation="relu",
                            name="subsample_conv2")(x)
    x = keras.layers.Reshape((shapes.chunk_frames, -(-shapes.conv1_bins // 2) * shapes.channels),
                             name="subsample_flatten")(x)
    x = keras.layers.Dense(shapes.d_model, name="subsample_proj")(x)
    offset = state["offset"]
    x = SinusoidalPositionalEncoding(name="posenc")([x, offset])
    new_state["offset"] = keras.layers.Rescaling(1.0, offset=float(shapes.chunk_frames), name="offset_out")(offset)
    ahead = shapes.lookahead_frames
    if ahead:  # the chunk is the R frames kept from the last call and C - R new ones; R more are its look-ahead
        x = carry(keras.layers.Concatenate(axis=1, name="stream_lookahead")([state["lookahead"], _new(x, "posenc")]),
                  "lookahead", ahead)

    # Attention over the cached left context and the chunk (only the frames that exist
    # yet); the first layer also over the look-ahead frames.
    context = shapes.left_context_frames
    key_mask = (StreamingKeyMask(context, shapes.chunk_frames, shift=ahead, name="stream_key_mask")(offset)
                if context or ahead else None)
    first_mask = (StreamingKeyMask(context, shapes.chunk_frames + ahead, shift=ahead,
                                   name="stream_first_key_mask")(offset) if ahead else key_mask)

    def attention(q, k, v, layer):
        if context:
            keys, values = naming.block(layer, "key_cache"), naming.block(layer, "value_cache")
            if layer == 0 and ahead:  # the look-ahead frames are no keys of the next call's left context
                k = _join_and_keep_chunk(state[keys], k, keys, context, ahead, new_state)
                v = _join_and_keep_chunk(state[values], v, values, context, ahead, new_state)
            else:
                k = carry(keras.layers.Concatenate(axis=1, name=f"{keys}_join")([state[keys], _new(k, keys)]), keys,
                          context)
                v = carry(keras.layers.Concatenate(axis=1, name=f"{values}_join")([state[values], _new(v, values)]),
                          values, context)
        mask = first_mask if layer == 0 else key_mask
        inputs = [q, k, v, mask] if mask is not None else [q, k, v]
        return ScaledDotProductAttention(encoder.num_heads, name=naming.block(layer, "attention"))(inputs)

    shared_layers: dict = {}
    for layer in range(encoder.num_layers):
        x = transformer_block(x, encoder, layer, shared_layers, attention=attention)
        if layer == 0 and ahead:
            x = keras.layers.Cropping1D((0, ahead), name="stream_lookahead_drop")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name=naming.FINAL_NORM)(x)
    logits = keras.layers.Dense(vocabulary_size, name="head_logits")(x)
    log_probs = keras.layers.Activation("log_softmax", name="head_log_probs")(logits)
    names = list(shapes.state())
    return keras.Model([inputs["audio"]] + [inputs[n] for n in names], [log_probs] + [new_state[n] for n in names],
                       name=f"{config.name}-streaming")


def _new(x, name):
    """``x`` on its way into a concatenation with state. tfmot drops the output quantiser
    of a layer that feeds a Concatenate; this Identity (dropped by the converter) is what
    feeds it instead, so the layer keeps the range it was fine-tuned with in the QAT model,
    where nothing is concatenated, and the QAT step computes what the QAT model computes
    (tests/test_streaming.py)."""
    return keras.layers.Identity(name=f"{name}_new")(x)


def _join_and_keep_chunk(cache, new, name, context, ahead, new_state):
    """The first layer's keys (or values) with look-ahead: the cache, the chunk and the
    look-ahead frames to attend over; the next cache from the cache and the chunk only."""
    joined = keras.layers.Concatenate(axis=1, name=f"{name}_join")([cache, new])
    chunk = keras.layers.Cropping1D((0, ahead), name=f"{name}_chunk")(new)
    kept = keras.layers.Concatenate(axis=1, name=f"{name}_keep")([cache, chunk])
    new_state[name] = LastFrames(context, name=f"{name}_out")(kept)
    return joined


def copy_weights(source: keras.Model, step: keras.Model) -> None:
    """Give ``step`` the weights of the trained full model ``source``, layer by name."""
    missing = []
    for layer in step.layers:
        if not layer.weights:
            continue
        try:
            layer.set_weights(source.get_layer(layer.name).get_weights())
        except ValueError:
            missing.append(layer.name)
    if missing:
        raise ValueError(f"{source.name} has no layer(s) {missing} with weights for the streaming step")


def quantization_aware_step(step: keras.Model, qat_model: keras.Model) -> keras.Model:
    """The QAT copy of the float ``step`` (``copy_weights`` done) carrying the fine-tuned
    weights and fake-quant ranges of the run's QAT model (``rt_keras.model.quantize.load_qat_model``),
    layer by name; the step's own state layers stay float (rt_keras.model.quantize)."""

    quantized = quantize_model(step)
    copied = 0
    for layer in quantized.layers:
        try:
            source = {_variable_name(w): w for w in qat_model.get_layer(layer.name).weights}
        except ValueError:
            continue  # a layer of the step alone: only float state plumbing
        # By variable name, so that a variable only one of the two layers has is left alone.
        for weight in layer.weights:
            if _variable_name(weight) in source:
                weight.assign(source[_variable_name(weight)])
                copied += 1
    if not copied:
        raise ValueError(f"{qat_model.name}: no QAT layer matches the streaming step's layers")
    return quantized


def _variable_name(weight) -> str:
    return weight.name.split("/")[-1].split(":")[0]


def stream(step, audio: np.ndarray, shapes: StreamingShapes):
    """Run ``step`` (a callable taking and returning lists of arrays in the step model's
    order) over ``audio`` (float32, any length: the last chunk is zero-padded). Returns
    the log-probabilities of every chunk, concatenated [1, frames, V]; with look-ahead,
    after one more chunk of silence and without the first R frames (see the module)."""
    audio = shapes.stream_audio(audio)
    state = list(shapes.initial_state().values())
    outputs = []
    for index in range(audio.size // shapes.chunk_samples):
        chunk = audio[index * shapes.chunk_samples:(index + 1) * shapes.chunk_samples][None]
        log_probs, *state = step([chunk] + state)
        outputs.append(np.asarray(log_probs))
    return np.concatenate(outputs, axis=1)[:, shapes.lookahead_frames:]
