"""Running a .tflite model with the LiteRT interpreter (ai-edge-litert)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

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


class ModelLoadError(ValueError):
    """LiteRT cannot load the model (or crashed loading it)."""


# Lines LiteRT and its delegates log at start-up, which say nothing about a failure.
_INFO_LINE = re.compile(r"^(INFO:|[IW]\d{4} |WARNING: All log messages)")


def child_failure(returncode: int, stderr: str) -> str:
    """What a failed child process says about its failure: the signal that killed it, and
    its last stderr line that is not start-up logging."""
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not _INFO_LINE.match(line)]
    if returncode < 0:
        try:
            how = f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"killed by signal {-returncode}"
    else:
        how = f"exit status {returncode}"
    return f"{how}: {lines[-1]}" if lines else how


# Child: load every model named on the command line and run it once on a seeded input at
# the first model's stored input shapes; with two models, exit 3 unless their outputs are
# equal bit for bit.
_LOAD_CHECK = """
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
inputs, outputs = None, []
for path in sys.argv[1:]:
    model = Interpreter(model_path=path, num_threads=1)
    model.allocate_tensors()
    details = model.get_input_details()
    if inputs is None:
        rng = np.random.default_rng(0)
        inputs = [(rng.standard_normal(d["shape"]) * 0.1).astype(d["dtype"]) for d in details]
    for detail, value in zip(details, inputs):
        model.set_tensor(detail["index"], value)
    model.invoke()
    outputs.append([model.get_tensor(d["index"]).tobytes() for d in model.get_output_details()])
if len(outputs) == 2 and outputs[0] != outputs[1]:
    print("the two models give different outputs on the same input", file=sys.stderr)
    sys.exit(3)
"""


def check_loads(path, same_outputs_as=None, timeout: float = 300) -> None:
    """Load ``path`` with LiteRT and run it once, in a child process, so that a file that
    crashes the interpreter (it aborts on some damaged files) cannot take the caller down;
    with ``same_outputs_as``, run that model on the same input and require bit-identical
    outputs. Raises ModelLoadError naming the file and the problem."""
    from converters.flatbuffer import load_model

    with open(path, "rb") as f:
        load_model(f.read(), str(path))  # NotATFLiteModel naming the structural problem first
    paths = [str(p) for p in ([same_outputs_as] if same_outputs_as else []) + [path]]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        done = subprocess.run([sys.executable, "-c", _LOAD_CHECK, *paths], capture_output=True, text=True,
                              env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelLoadError(f"{path}: LiteRT did not finish loading it in {timeout:.0f} s") from None
    if done.returncode == 3:
        raise ModelLoadError(f"{path}: its outputs differ from those of {same_outputs_as}")
    if done.returncode != 0:
        raise ModelLoadError(f"{path}: LiteRT cannot load it ({child_failure(done.returncode, done.stderr)})")


class StreamingTFLiteModel:
    """A streaming .tflite (``rt-keras convert --streaming``) called one chunk at a time:
    the state layout comes from the model's metadata, so nothing is hard-coded. ``reset``
    before a new utterance."""

    def __init__(self, model, num_threads: int = 1):
        from converters.metadata import read_metadata

        data = model if isinstance(model, (bytes, bytearray)) else open(model, "rb").read()
        self.layout = ((read_metadata(bytes(data)) or {}).get("info") or {}).get("streaming")
        if not self.layout:
            raise ValueError(f"{model if not isinstance(model, (bytes, bytearray)) else 'model'}: not a streaming "
                             "model (no streaming state in its metadata; convert with --streaming)")
        self.chunk_samples = int(self.layout["chunk_samples"])
        # with look-ahead: the first frames a stream emits precede the audio, and one more
        # chunk of silence flushes its last ones (rt_keras.streaming)
        self.lookahead_frames = int(self.layout.get("lookahead_frames", 0))
        self._runner = interpreter_for(bytes(data), num_threads).get_signature_runner()
        self.reset()

    def reset(self) -> None:
        self.state = {s["name"]: np.zeros(s["shape"], np.float32) for s in self.layout["state"]}

    def __call__(self, chunk) -> np.ndarray:
        chunk = np.asarray(chunk, np.float32).reshape(1, -1)
        if chunk.shape[1] != self.chunk_samples:
            raise ValueError(f"a chunk is {self.chunk_samples} samples, got {chunk.shape[1]}")
        out = self._runner(audio=chunk, **self.state)
        self.state = {s["name"]: out[s["output"]] for s in self.layout["state"]}
        return out["output_0"]

    def utterance(self, audio, training=False) -> np.ndarray:
        """A whole utterance [1, samples] streamed from a fresh state, called like a full
        model: the log-probabilities of every chunk [1, frames, V] (the last chunk
        zero-padded, so there may be more frames than the full model gives)."""
        audio = np.asarray(audio, np.float32)
        if audio.ndim != 2 or audio.shape[0] != 1:
            raise ValueError(f"one utterance at a time: expected audio [1, samples], got {list(audio.shape)}")
        self.reset()
        return np.concatenate([self(chunk) for chunk in self.chunks(audio[0])], axis=1)[:, self.lookahead_frames:]

    def chunks(self, audio) -> list[np.ndarray]:
        """``audio`` (float32 [samples]) as the chunks a stream feeds: the last one
        zero-padded, and with look-ahead one more of silence to flush the last frames
        (whose first ``lookahead_frames`` output frames precede the audio: drop them)."""
        count = -(-audio.size // self.chunk_samples) + (1 if self.lookahead_frames else 0)
        audio = np.pad(np.asarray(audio, np.float32), (0, count * self.chunk_samples - audio.size))
        return [audio[i * self.chunk_samples:(i + 1) * self.chunk_samples] for i in range(count)]
