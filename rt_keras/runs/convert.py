"""The convert step: a run directory -> the shipped .tflite in any mode, whole-utterance
or streaming (convert, dedup, metadata, atomic write: a failed conversion leaves no file)."""

from __future__ import annotations

from converters.files import atomic_write_bytes, check_output_file
from rt_keras.core.contracts import SUBSAMPLING_FACTOR
from rt_keras.core.modes import CALIBRATED_MODES, MODES, QAT4_MODES, STREAMING_MODES
from rt_keras.core.vocabulary import Vocabulary
from rt_keras.export.calibration import representative_audio, representative_chunks
from rt_keras.export.keras_to_tflite import INT8_FLOAT_LAYERS, STREAMING_STATE_LAYERS, convert
from rt_keras.export.package import check_vocabulary, export_model, package
from rt_keras.model.compress import materialize as materialize_model
from rt_keras.model.quantize import fake_quantized_model
from rt_keras.model.streaming import StreamingShapes, copy_weights, quantization_aware_step, streaming_step_model
from rt_keras.runs.qat import load_qat_model, qat_command
from rt_keras.runs.run_dir import trained


def export_run(run_dir, mode: str, out, materialize: bool = False, num_samples: int | None = None,
               float_layers=None, short_names: bool = False) -> dict:
    """Convert the model of ``run_dir`` in ``mode`` to ``out``. ``qat-int8`` takes the
    QAT run (``rt-keras qat RUN_DIR``), ``qat-int4`` the 4-bit one (``--weight-bits 4``:
    its fake-quantised weights written into the float model, recovered exactly as int4);
    ``materialize`` ships each layer's full matrix instead."""
    if mode not in MODES:
        raise ValueError(f"--mode {mode!r}; allowed: {', '.join(MODES)}")
    check_output_file(out)
    run = trained(run_dir)
    if materialize and mode in ("qat-int8", *QAT4_MODES):
        raise ValueError(f"--materialize folds the float weights; it cannot be combined with --mode {mode} "
                         "(compare against --mode int8 --materialize instead)")
    if mode in QAT4_MODES and not run.qat4.weights.is_file():
        raise ValueError(f"--mode {mode} needs the 4-bit QAT run ({run.qat4} has none); run first: "
                         f"{qat_command(run.path, 4)}")
    config = run.load_config()
    if num_samples is not None and num_samples < config.frontend.frame_length:
        raise ValueError(f"--samples {num_samples}: a fixed input needs at least one front-end window "
                         f"(frame_length={config.frontend.frame_length} samples at {config.frontend.sample_rate} Hz)")
    if mode == "qat-int8":
        model = load_qat_model(run.path)
    elif mode in QAT4_MODES:
        model = fake_quantized_model(load_qat_model(run.path, 4), run.load_model())
    else:
        model = run.load_model()
    if materialize:
        model, config = materialize_model(model, config)
    data = (representative_audio(config, config.qat.calibration_utterances, num_samples=num_samples)
            if mode in CALIBRATED_MODES else None)
    flatbuffer, report = export_model(model, config, mode, data, num_samples, materialize, float_layers,
                                      short_names, vocabulary=Vocabulary.load(run.path))
    atomic_write_bytes(out, flatbuffer)
    return {"path": str(out), **report}


def export_streaming_run(run_dir, mode: str, out, short_names: bool = False) -> dict:
    """The streaming step (``rt_keras.model.streaming``) of the chunked run ``run_dir`` in
    ``mode``, with dedup and metadata that describe its state tensors, to ``out``."""
    if mode not in STREAMING_MODES:
        raise ValueError(f"--streaming --mode {mode!r}: streaming files are made in {', '.join(STREAMING_MODES)}")
    check_output_file(out)
    run = trained(run_dir)
    config = run.load_config()
    shapes = StreamingShapes.of(config)
    vocabulary = Vocabulary.load(run.path)
    trained_model = run.load_model()
    check_vocabulary(trained_model.outputs[0], vocabulary)
    step = streaming_step_model(config, len(vocabulary))
    copy_weights(trained_model, step)
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
    source = quantization_aware_step(step, load_qat_model(run.path)) if mode == "qat-int8" else step
    float_layers = INT8_FLOAT_LAYERS + STREAMING_STATE_LAYERS if mode in CALIBRATED_MODES else None
    flatbuffer, report = package(convert(source, mode, representative_data=data, float_layers=float_layers), config,
                                 mode, shapes.chunk_samples,
                                 streaming=streaming, short_names=short_names, vocabulary=vocabulary)
    atomic_write_bytes(out, flatbuffer)
    return {"path": str(out), "streaming": streaming, **report}
