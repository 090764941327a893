"""A Keras model -> the shipped flatbuffer: convert (any mode), then metadata (sample
rate, vocabulary, model info) and the dedup pass, so every shared tensor is stored once."""

from __future__ import annotations

import numpy as np

import rt_keras
from converters.dedup import dedup_bytes, pack
from converters.flatbuffer import load_model
from converters.metadata import add_metadata, metadata_bytes
from converters.weights import shorten_names
from rt_keras.core.contracts import SUBSAMPLING_FACTOR
from rt_keras.core.vocabulary import FILE_NAME, Vocabulary
from rt_keras.export.keras_to_tflite import audio_signature, convert

# The input's stored length in a model that takes any length (1 s at 16 kHz).
STORED_INPUT_SAMPLES = 16000


def store_input_length(flatbuffer: bytes, samples: int = STORED_INPUT_SAMPLES) -> bytes:
    """A model that takes any length (input signature [1, -1]) with the stored input shape
    [1, samples] instead of the converter's placeholder [1, 1]: LiteRT's Java Interpreter
    allocates at the stored shape when it is created, before any resize, and a 1-sample
    input cannot even produce a frame."""
    model = load_model(flatbuffer)
    subgraph = model.subgraphs[0]
    tensor = subgraph.tensors[subgraph.inputs[0]]
    if tensor.shapeSignature is None or list(tensor.shapeSignature) != [1, -1]:
        return flatbuffer
    tensor.shape = np.array([1, samples], np.int32)
    return pack(model)


def model_info(config, mode: str, materialized: bool, num_samples) -> dict:
    return {"rt_keras_version": rt_keras.__version__, "run": config.name, "mode": mode,
            "materialized": materialized, "input_samples": num_samples,
            "sample_rate": config.frontend.sample_rate, "frame_length": config.frontend.frame_length,
            "frame_step": config.frontend.frame_step, "leading_samples": config.frontend.leading_samples,
            "subsampling": SUBSAMPLING_FACTOR, "encoder": config.encoder.to_dict(),
            "min_token_probability": config.decode.min_token_probability}


def export_model(model, config, mode: str, representative_data=None, num_samples: int | None = None,
                 materialized: bool = False, float_layers=None, short_names: bool = False, *,
                 vocabulary: Vocabulary) -> tuple[bytes, dict]:
    """Convert ``model`` (built from RunConfig ``config``), dedup it and add metadata.
    Returns the flatbuffer and a report (sizes, what dedup merged). ``short_names``:
    tensors named ``t<index>``, their roles kept in the metadata."""
    check_vocabulary(model.outputs[0], vocabulary)
    converted = convert(model, mode, audio_signature(num_samples), representative_data, float_layers)
    return package(converted, config, mode, num_samples, materialized, short_names=short_names,
                   vocabulary=vocabulary)


def check_vocabulary(log_probs, vocabulary: Vocabulary) -> None:
    if int(log_probs.shape[-1]) != len(vocabulary):
        raise ValueError(f"the model predicts {int(log_probs.shape[-1])} tokens but the run's vocabulary has "
                         f"{len(vocabulary)} ({FILE_NAME} in the run directory)")


def package(converted: bytes, config, mode: str, num_samples: int | None = None,
            materialized: bool = False, streaming: dict | None = None,
            short_names: bool = False, *, vocabulary: Vocabulary) -> tuple[bytes, dict]:
    """The metadata, then the dedup pass on a converted flatbuffer (last, so that its
    compact re-pack is what ships: tflite-support re-serialises the model plainly).
    ``streaming``: the state layout of a streaming step, recorded in the model info.
    ``vocabulary``: the tokens of the model's output, shipped as its vocabulary file."""

    length = "any length" if num_samples is None else f"{num_samples} samples"
    if streaming:
        length = f"chunks of {num_samples} samples, with state"
    stored = store_input_length(converted) if num_samples is None else converted
    info = model_info(config, mode, materialized, num_samples)
    if streaming:
        info["streaming"] = streaming
    if short_names:
        stored, info["weight_roles"] = shorten_names(stored)
    described = add_metadata(
        stored,
        name=config.name,
        version=rt_keras.__version__,
        sample_rate=config.frontend.sample_rate,
        vocabulary=list(vocabulary.tokens),
        info=info,
        state={s["name"]: s["output"] for s in streaming["state"]} if streaming else None,
        description=(
            f"rt-keras {config.name} ({mode}{', materialized' if materialized else ''}): "
            f"speech recogniser, raw 16 kHz mono PCM ({length}) -> per-frame CTC "
            f"log-probabilities over {len(vocabulary)} {vocabulary.kind} tokens. "
            f"Encoder: {config.encoder.num_layers} layers, d_model {config.encoder.d_model}, "
            f"K={config.encoder.group_size}, R={config.encoder.rank}."
        ),
    )
    shipped, dedup_report = dedup_bytes(described)
    metadata = metadata_bytes(shipped)
    report = {
        "mode": mode,
        "materialized": materialized,
        "short_names": short_names,
        "bytes": len(shipped),
        "bytes_converted": len(converted),
        "bytes_metadata": metadata,
        "bytes_saved": len(converted) + metadata - len(shipped),  # by dedup and the compact re-pack
        "dedup": dedup_report.to_dict(),
    }
    return shipped, report
