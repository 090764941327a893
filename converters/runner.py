"""Running a .tflite model with the LiteRT interpreter (ai-edge-litert)."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def interpreter_for(model, num_threads: int = 1) -> Interpreter:
    """A LiteRT interpreter for ``model``: flatbuffer bytes or a path."""
    if isinstance(model, (bytes, bytearray)):
        return Interpreter(model_content=bytes(model), num_threads=num_threads)
    return Interpreter(model_path=str(model), num_threads=num_threads)


def run_tflite(model, inputs, num_threads: int = 1):
    """Run ``model`` (bytes or a path) on ``inputs`` and return the list of outputs.

    ``inputs`` is one array, a list in the interpreter's input order, or a dict keyed by
    the Keras input name (the converter may order a model's inputs differently from
    Keras). Dynamic dimensions are resized to the inputs."""
    interpreter = interpreter_for(model, num_threads)
    details = interpreter.get_input_details()
    if isinstance(inputs, dict):
        by_name = {}
        for detail in details:
            name = detail["name"].removeprefix("serving_default_").split(":")[0]
            if name not in inputs:
                raise ValueError(f"model input {name!r} missing; got {sorted(inputs)}")
            by_name[detail["index"]] = inputs[name]
        inputs = [by_name[d["index"]] for d in details]
    inputs = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(details) != len(inputs):
        raise ValueError(f"model has {len(details)} inputs, got {len(inputs)} arrays")
    for detail, array in zip(details, inputs):
        if list(detail["shape"]) != list(array.shape):
            interpreter.resize_tensor_input(detail["index"], list(array.shape))
    interpreter.allocate_tensors()
    for detail, array in zip(details, inputs):
        interpreter.set_tensor(detail["index"], np.asarray(array, dtype=detail["dtype"]))
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


class TFLiteModel:
    """A .tflite speech model called like the Keras model (``model(audio)`` with audio
    [1, N]), on one interpreter that is resized to each input length."""

    def __init__(self, model, num_threads: int = 1):
        self.interpreter = interpreter_for(model, num_threads)
        (self._input,), (self._output,) = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        self._shape = None

    def __call__(self, audio, training=False):
        audio = np.asarray(audio, np.float32)
        if audio.ndim != 2 or audio.shape[0] != 1:
            raise ValueError(f"TFLiteModel takes one utterance of shape [1, samples], got {audio.shape}")
        if self._shape != audio.shape:
            self.interpreter.resize_tensor_input(self._input["index"], list(audio.shape))
            self.interpreter.allocate_tensors()
            self._shape = audio.shape
        self.interpreter.set_tensor(self._input["index"], audio)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"])


class TranscribeError(ValueError):
    """The model cannot transcribe (not a model, or without the metadata it needs)."""


def transcribe_files(model_path, wav_paths, num_threads: int = 1) -> list[dict]:
    """Greedy CTC transcripts of WAV files by a converted model (``rt-keras transcribe``).
    Audio goes through the training reader (any rate and channel count it accepts,
    resampled with soxr to the model's rate, PCM scaled as in training); input shorter than
    one front-end window is padded, and a fixed-length model gets its length. One dict per
    file: transcript, audio seconds and inference milliseconds, or the error that file gave."""
    import pathlib
    import time

    from converters.flatbuffer import NotATFLiteModel, load_model
    from converters.metadata import read_metadata
    from rt_keras.ctc import greedy_decode
    from rt_keras.data.audio import AudioError, read_wav, to_int16

    data = pathlib.Path(model_path).read_bytes()
    try:
        subgraph = load_model(data, str(model_path)).subgraphs[0]
        metadata = read_metadata(data) or {}
    except (NotATFLiteModel, ValueError) as error:
        raise TranscribeError(f"{model_path}: {error}" if str(model_path) not in str(error) else str(error)) from None
    vocabulary = metadata.get("vocabulary")
    if not vocabulary:
        raise TranscribeError(f"{model_path}: no vocabulary in its metadata; convert the run with `rt-keras convert`")
    rate = metadata.get("sample_rate") or 16000
    window = metadata.get("info", {}).get("frame_length", 512)
    audio_input = subgraph.tensors[subgraph.inputs[0]]
    fixed = None if audio_input.shapeSignature is not None else int(audio_input.shape[1])
    model = TFLiteModel(data, num_threads)
    results = []
    for path in wav_paths:
        try:
            audio = to_int16(read_wav(path, target_rate=rate)).astype(np.float32) / 32767
        except (AudioError, OSError) as error:
            results.append({"file": str(path), "transcript": None, "error": str(error)})
            continue
        seconds = audio.size / rate
        length = fixed or max(audio.size, window)
        audio = np.pad(audio[:length], (0, length - min(audio.size, length)))
        started = time.perf_counter()
        log_probs = model(audio[None])[0]
        milliseconds = 1000 * (time.perf_counter() - started)
        words = " ".join(vocabulary[i] for i in greedy_decode(log_probs))
        results.append({"file": str(path), "transcript": words, "seconds": seconds, "latency_ms": milliseconds,
                        "error": None, "cut_to_seconds": fixed / rate if fixed and fixed < seconds * rate else None})
    return results
