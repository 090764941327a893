"""A run directory -> the shipped .tflite: convert (any mode), dedup, metadata, atomic write."""

from __future__ import annotations


import numpy as np

import rt_keras
from converters.dedup import dedup_bytes, pack
from converters.flatbuffer import load_model
from rt_keras.keras_to_tflite import (CALIBRATED_MODES, INT8_FLOAT_LAYERS, MODES, STREAMING_STATE_LAYERS, audio_signature,
                                      convert)
from converters.metadata import add_metadata, metadata_bytes
from converters.weights import shorten_names
from rt_keras.encoder import SUBSAMPLING_FACTOR
from rt_keras.task import pcm_to_float
from rt_keras.vocabulary import FILE_NAME, Vocabulary
from converters.files import atomic_write_bytes, check_output_file


# The input's stored length in a model that takes any length (1 s at 16 kHz).
STORED_INPUT_SAMPLES = 16000


def representative_audio(config, count: int, seed: int = 0, num_samples: int | None = None):
    """The int8 calibration set: ``count`` random training utterances, one per call, as
    the converter wants them (a callable returning an iterator of input lists); cut or
    zero-padded to ``num_samples`` for a model with a fixed input length."""
    from rt_keras.data.dataset import materialise, sample_audio
    from rt_keras.data.pipeline import training_split

    utterances = sample_audio(training_split(materialise(config, progress=False)), count, seed)

    def generate():
        for pcm in utterances:
            audio = pcm_to_float(pcm)
            if num_samples is not None:
                audio = np.pad(audio[:num_samples], (0, max(0, num_samples - audio.size)))
            yield [audio[None]]
    return generate


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
            "frame_step": config.frontend.frame_step,
            "subsampling": SUBSAMPLING_FACTOR, "encoder": config.encoder.to_dict()}


def export_model(model, config, mode: str, representative_data=None, num_samples: int | None = None,
                 materialized: bool = False, float_layers=None, short_names: bool = False, *,
                 vocabulary: Vocabulary) -> tuple[bytes, dict]:
    """Convert ``model`` (built from RunConfig ``config``), dedup it and add metadata.
    Returns the flatbuffer and a report (sizes, what dedup merged). ``short_names``:
    tensors named ``t<index>``, their roles kept in the metadata."""
    _check_vocabulary(model.outputs[0], vocabulary)
    converted = convert(model, mode, audio_signature(num_samples), representative_data, float_layers)
    return package(converted, config, mode, num_samples, materialized, short_names=short_names,
                   vocabulary=vocabulary)


def _check_vocabulary(log_probs, vocabulary: Vocabulary) -> None:
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
        stored, name=config.name, version=rt_keras.__version__, sample_rate=config.frontend.sample_rate,
        vocabulary=list(vocabulary.tokens), info=info,
        state={s["name"]: s["output"] for s in streaming["state"]} if streaming else None,
        description=(f"rt-keras {config.name} ({mode}{', materialized' if materialized else ''}): "
                     f"speech recogniser, raw 16 kHz mono PCM ({length}) -> per-frame CTC "
                     f"log-probabilities over {len(vocabulary)} {vocabulary.kind} tokens. Encoder: {config.encoder.num_layers} layers, d_model "
                     f"{config.encoder.d_model}, K={config.encoder.group_size}, R={config.encoder.rank}."))
    shipped, dedup_report = dedup_bytes(described)
    metadata = metadata_bytes(shipped)
    report = {"mode": mode, "materialized": materialized, "short_names": short_names, "bytes": len(shipped),
              "bytes_converted": len(converted), "bytes_metadata": metadata,
              "bytes_saved": len(converted) + metadata - len(shipped),  # by dedup and the compact re-pack
              "dedup": dedup_report.to_dict()}
    return shipped, report


def export_run(run_dir, mode: str, out, materialize: bool = False, num_samples: int | None = None,
               float_layers=None, short_names: bool = False) -> dict:
    """Convert the model of ``run_dir`` in ``mode`` to ``out`` (written atomically: a
    failed conversion leaves no file behind). ``qat-int8`` takes the QAT run
    (``rt-keras qat RUN_DIR``); ``materialize`` ships each layer's full matrix instead."""
    from rt_keras import run_config, runs
    from rt_keras.backend import keras
    from rt_keras.compress import materialize as materialize_model
    from rt_keras.qat import load_qat_model

    if mode not in MODES:
        raise ValueError(f"--mode {mode!r}; allowed: {', '.join(MODES)}")
    check_output_file(out)
    run_dir = runs.require_trained(run_dir)
    if materialize and mode == "qat-int8":
        raise ValueError("--materialize folds the float weights; it cannot be combined with --mode qat-int8 "
                         "(compare against --mode int8 --materialize instead)")
    config = run_config.load_resolved(run_dir / "config.yaml")
    if num_samples is not None and num_samples < config.frontend.frame_length:
        raise ValueError(f"--samples {num_samples}: a fixed input needs at least one front-end window "
                         f"(frame_length={config.frontend.frame_length} samples at {config.frontend.sample_rate} Hz)")
    model = load_qat_model(run_dir) if mode == "qat-int8" else keras.models.load_model(run_dir / "model.keras")
    if materialize:
        model, config = materialize_model(model, config)
    data = (representative_audio(config, config.qat.calibration_utterances, num_samples=num_samples)
            if mode in CALIBRATED_MODES else None)
    flatbuffer, report = export_model(model, config, mode, data, num_samples, materialize, float_layers,
                                      short_names, vocabulary=Vocabulary.load(run_dir))
    atomic_write_bytes(out, flatbuffer)
    return {"path": str(out), **report}


# Streaming files from the float model (int8: calibrated on streamed training audio, states
# included), and qat-int8 from the QAT step that carries the QAT run's weights and ranges.
STREAMING_MODES = ("float32", "float16", "dynamic", "int8", "qat-int8", "int4", "int4-shared")


def representative_chunks(step, shapes, audio_generator):
    """Calibration inputs of a streaming step: every chunk of each utterance with the
    state the float step carries into it, by input name (the converted model orders its
    inputs its own way)."""
    from rt_keras.streaming import stream

    names = [t.name.split(":")[0] for t in step.inputs]

    def generate():
        for (audio,) in audio_generator():
            inputs = []

            def record(xs):
                inputs.append({name: np.asarray(x, np.float32) for name, x in zip(names, xs)})
                return [o.numpy() for o in step(xs)]
            stream(record, audio[0], shapes)
            yield from inputs
    return generate


def export_streaming_run(run_dir, mode: str, out, short_names: bool = False) -> dict:
    """The streaming step (``rt_keras.streaming``) of the chunked run ``run_dir`` in
    ``mode``, with dedup and metadata that describe its state tensors, to ``out``."""
    from rt_keras import run_config, runs
    from rt_keras.backend import keras
    from rt_keras.qat import load_qat_model
    from rt_keras.streaming import StreamingShapes, copy_weights, quantization_aware_step, streaming_step_model

    if mode not in STREAMING_MODES:
        raise ValueError(f"--streaming --mode {mode!r}: streaming files are made in {', '.join(STREAMING_MODES)}")
    check_output_file(out)
    run_dir = runs.require_trained(run_dir)
    config = run_config.load_resolved(run_dir / "config.yaml")
    shapes = StreamingShapes.of(config)
    vocabulary = Vocabulary.load(run_dir)
    trained = keras.models.load_model(run_dir / "model.keras")
    _check_vocabulary(trained.outputs[0], vocabulary)
    step = streaming_step_model(config, len(vocabulary))
    copy_weights(trained, step)
    streaming = {
        "chunk_samples": shapes.chunk_samples, "chunk_frames": shapes.chunk_frames,
        "left_context_frames": shapes.left_context_frames, "lookahead_frames": shapes.lookahead_frames,
        "algorithmic_latency_ms": 1000 * (shapes.chunk_samples + shapes.lookahead_frames * SUBSAMPLING_FACTOR
                                          * config.frontend.frame_step) / config.frontend.sample_rate,
        "leading_silence_samples": shapes.audio_tail,
        "state": [{"name": name, "shape": list(shape), "output": f"output_{index + 1}"}
                  for index, (name, shape) in enumerate(shapes.state().items())]}
    data = None
    if mode in CALIBRATED_MODES:
        utterances = max(1, config.qat.calibration_utterances // 4)  # each gives many chunks
        data = representative_chunks(step, shapes, representative_audio(config, utterances))
    source = quantization_aware_step(step, load_qat_model(run_dir)) if mode == "qat-int8" else step
    float_layers = INT8_FLOAT_LAYERS + STREAMING_STATE_LAYERS if mode in CALIBRATED_MODES else None
    flatbuffer, report = package(convert(source, mode, representative_data=data, float_layers=float_layers), config,
                                 mode, shapes.chunk_samples,
                                 streaming=streaming, short_names=short_names, vocabulary=vocabulary)
    atomic_write_bytes(out, flatbuffer)
    return {"path": str(out), "streaming": streaming, **report}
