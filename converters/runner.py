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
