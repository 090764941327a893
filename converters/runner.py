"""Running a .tflite model with the LiteRT interpreter (ai-edge-litert)."""

from __future__ import annotations

import contextlib
import dataclasses
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


# Hard limits of every child process that runs an untrusted model (the load check and
# footprint's runtime probe), set with resource.setrlimit in the child before it imports
# numpy or LiteRT, so a damaged file fails there instead of exhausting the machine:
#
#   address space (RLIMIT_AS) = min(CHILD_MAX_BYTES, CHILD_BASE_BYTES
#                                   + CHILD_FILE_FACTOR x the model files' bytes
#                                   + CHILD_ACTIVATION_FACTOR x their activation bytes at the length run)
#   CPU time (RLIMIT_CPU)     = min(CHILD_MAX_CPU_SECONDS, CHILD_BASE_CPU_SECONDS
#                                   + CHILD_CPU_SECONDS_PER_MB x the files' MB + the work asked for)
#
# Measured 2026-12-06 (x86-64, Python 3.11.7, numpy 2.4.6, ai-edge-litert 2.3.0) as VmPeak
# in /proc/self/status of a child that imports numpy and LiteRT, loads a model with the
# default Interpreter (XNNPACK), allocates it at 1 s of audio and invokes it once:
#   numpy imported 140 MB; LiteRT imported 162 MB; demo qat-int8 file (1.1 MB) invoked 176 MB;
#   88.7 MB float32 file (tests/converters/synthetic_models.py, the paper encoder's size) 346 MB
#   = 171 MB + 2 x 88 MB (the file mapped, and XNNPACK's packed copy of its weights).
# So: base 512 MB (about 3x the measured 171 MB, for other platforms and library versions;
# the child runs with one BLAS thread and at most two malloc arenas, whose reservations
# otherwise grow with the number of cores); 3x the file (mapped, packed, and float16
# weights unpacked to float32); twice the activations (flatbuffer.activation_estimate:
# every non-constant tensor at the stored shapes, scaled to the length run); at most
# 4 GiB. CPU: the demo check uses 0.3 s, the 88 MB one 0.8 s (user+sys, same machine).
MIB = 1 << 20
CHILD_BASE_BYTES = 512 * MIB
CHILD_FILE_FACTOR = 3
CHILD_ACTIVATION_FACTOR = 2
CHILD_MAX_BYTES = 4096 * MIB
CHILD_BASE_CPU_SECONDS = 10
CHILD_CPU_SECONDS_PER_MB = 0.1
CHILD_MAX_CPU_SECONDS = 900
# A child blocked without using CPU time (RLIMIT_CPU does not count waiting) is killed
# after twice its CPU allowance plus this much wall-clock time (the machine may be busy).
CHILD_WALL_SLACK_SECONDS = 20
CHILD_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
             "MKL_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


@dataclasses.dataclass(frozen=True)
class ChildLimits:
    address_space: int  # bytes (RLIMIT_AS)
    cpu_seconds: int  # RLIMIT_CPU (soft; SIGKILL 2 s later)

    @property
    def wall_seconds(self) -> int:
        return 2 * self.cpu_seconds + CHILD_WALL_SLACK_SECONDS

    def describe(self) -> str:
        return f"{self.address_space / MIB:,.0f} MB of address space, {self.cpu_seconds} s of CPU time"


def child_limits(file_bytes: int, activation_bytes: int, cpu_work_seconds: float = 0.0) -> ChildLimits:
    """The limits of a child that runs models of ``file_bytes`` in all, needing about
    ``activation_bytes`` of activations, with ``cpu_work_seconds`` of CPU work asked for."""
    space = CHILD_BASE_BYTES + CHILD_FILE_FACTOR * file_bytes + CHILD_ACTIVATION_FACTOR * activation_bytes
    cpu = CHILD_BASE_CPU_SECONDS + CHILD_CPU_SECONDS_PER_MB * file_bytes / MIB + cpu_work_seconds
    return ChildLimits(int(min(space, CHILD_MAX_BYTES)), int(min(cpu, CHILD_MAX_CPU_SECONDS)))


# Run in the child before anything else: lower the limits (never above what the parent
# already has), then run the module as __main__.
_LIMITED = """
import resource, runpy, sys
def lower(kind, soft, hard):
    current = resource.getrlimit(kind)[1]
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))
lower(resource.RLIMIT_AS, int(sys.argv[1]), int(sys.argv[1]))
lower(resource.RLIMIT_CPU, int(sys.argv[2]), int(sys.argv[2]) + 2)
del sys.argv[1:3]
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
"""


def run_limited(module: str, args, limits: ChildLimits) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` in a child under ``limits`` (its own session, so a
    wall-clock timeout kills everything it started). subprocess.TimeoutExpired after
    ``limits.wall_seconds``."""
    command = [sys.executable, "-c", _LIMITED, str(limits.address_space), str(limits.cpu_seconds), module,
               *[str(a) for a in args]]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **CHILD_ENV}, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


def limited_failure(returncode: int, stderr: str, limits: ChildLimits) -> str:
    """``child_failure``, saying which limit a child that ran out of one hit."""
    failure = child_failure(returncode, stderr)
    if returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and "SIGKILL" in failure):
        return f"{failure}; it used up its {limits.cpu_seconds} s of CPU time"
    if re.search(r"alloc|memory|MemoryError", failure, re.IGNORECASE) or returncode == -signal.SIGABRT:
        return f"{failure}; the check allows {limits.describe()}"
    return failure


def check_samples(model, metadata: dict | None) -> int | None:
    """The audio length the load check runs a model at: for a model taking audio
    [1, samples] of any length, the length its metadata states (``info.input_samples``)
    or one second at its sample rate — never a stored length such as 1, at which a valid
    model may not run; None (its stored shapes) for a fixed-length or several-input model."""
    subgraph = model.subgraphs[0]
    if len(subgraph.inputs) != 1:
        return None
    tensor = subgraph.tensors[subgraph.inputs[0]]
    if len(tensor.shape) != 2 or tensor.shapeSignature is None or len(tensor.shapeSignature) != 2 \
            or int(tensor.shapeSignature[1]) != -1:
        return None
    metadata = metadata or {}
    stated = (metadata.get("info") or {}).get("input_samples")
    if isinstance(stated, int) and not isinstance(stated, bool) and 0 < stated <= 60 * 192000:
        return stated
    return int(metadata.get("sample_rate") or 16000)


def _regular_file(path) -> None:
    """ModelLoadError unless ``path`` is a regular file (a FIFO would block the read)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise ModelLoadError(f"{path}: cannot read it ({error.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ModelLoadError(f"{path}: {kind}; give a .tflite file")


def check_loads(path, same_outputs_as=None) -> None:
    """Load ``path`` with LiteRT and run it once, in a child process with hard limits on
    address space and CPU time (``child_limits``), so that a file that crashes the
    interpreter (it aborts on some damaged files) or asks for unbounded memory cannot take
    the caller or the machine down; with ``same_outputs_as``, run that model on the same
    input and require bit-identical outputs.

    First, in this process: the file is parsed and validated (``load_model``: NotATFLiteModel
    naming a damaged structure or a stored shape too large for the file) and its metadata
    read (DamagedMetadata for a damaged table or associated-files zip, with or without a
    metadata table). The model runs on
    seeded float32 noise at ``check_samples`` of audio. Raises ModelLoadError naming the
    file and the problem."""
    from converters.flatbuffer import DamagedMetadata, activation_estimate, associated_files, load_model
    from converters.metadata import read_metadata

    paths = [p for p in ([same_outputs_as] if same_outputs_as else []) + [path]]
    models, file_bytes = [], 0
    for model_path in paths:
        _regular_file(model_path)
        with open(model_path, "rb") as f:
            data = f.read()
        model = load_model(data, str(model_path))
        try:  # even without a metadata table (which read_metadata reads the archive for)
            associated_files(data)
        except DamagedMetadata as error:
            raise DamagedMetadata(f"{model_path}: {error}") from None
        models.append((model, read_metadata(data, str(model_path))))
        file_bytes += len(data)
    samples = check_samples(*models[-1])
    limits = child_limits(file_bytes, sum(activation_estimate(model, samples) for model, _ in models))
    args = (["--samples", samples] if samples is not None else []) + [str(p) for p in paths]
    try:
        done = run_limited("converters.load_check", args, limits)
    except subprocess.TimeoutExpired:
        raise ModelLoadError(f"{path}: LiteRT did not finish loading and running it in {limits.wall_seconds} s "
                             f"(wall clock)") from None
    if done.returncode == 3:
        raise ModelLoadError(f"{path}: its outputs differ from those of {same_outputs_as}")
    if done.returncode != 0:
        raise ModelLoadError(f"{path}: LiteRT cannot load it ({limited_failure(done.returncode, done.stderr, limits)})")


class StreamingTFLiteModel:
    """A streaming .tflite (``rt-keras convert --streaming``) called one chunk at a time:
    the state layout comes from the model's metadata, so nothing is hard-coded. ``reset``
    before a new utterance. ``layout``: the metadata's ``info.streaming``, read elsewhere (where
    tflite-support is missing, as in the emulated arm64 Python of benchmarks/arm64_wer.py)."""

    def __init__(self, model, num_threads: int = 1, layout: dict | None = None):
        data = model if isinstance(model, (bytes, bytearray)) else open(model, "rb").read()
        if layout is None:
            from converters.metadata import read_metadata

            layout = ((read_metadata(bytes(data)) or {}).get("info") or {}).get("streaming")
        self.layout = layout
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
