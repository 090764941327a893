"""The load check that dedup and evaluate --tflite run on an untrusted model (issue 32,
findings 1 and 9): a child under hard limits on address space and CPU time derived from
the file, stored shapes validated before anything is allocated, float32 input at a
realistic length."""

import subprocess
import time

import numpy as np
import pytest

from converters import runner
from converters.flatbuffer import NotATFLiteModel, activation_estimate, load_model
from converters.runner import MIB, ChildLimits, ModelLoadError, check_loads, child_limits, limited_failure, run_limited
from tests.converters.synthetic_models import PAPER_SIZE_WIDTHS, speech_like_model


def test_a_paper_size_float32_file_passes_within_its_limits(tmp_path):
    path = tmp_path / "paper.tflite"
    path.write_bytes(speech_like_model(PAPER_SIZE_WIDTHS))
    size = path.stat().st_size
    assert 85e6 < size < 90e6  # the paper encoder's float32 file is about 88 MB
    limits = child_limits(size, activation_estimate(load_model(path.read_bytes()), 16000))
    # 512 MB + 3 x 88.7 MB + 2 x 0.6 MB of activations: 779 MB; VmPeak measured 346 MB
    assert 770 * MIB < limits.address_space < 790 * MIB and limits.cpu_seconds == 18
    started = time.monotonic()
    check_loads(path)
    assert time.monotonic() - started < 30


def test_a_model_storing_an_input_length_of_one_is_checked_at_one_second(tmp_path):
    """Finding 9: valid models storing length 1 ran fine on real audio but failed the check,
    which ran them at that stored length."""
    path = tmp_path / "stored-1.tflite"
    path.write_bytes(speech_like_model(stored_samples=1))
    assert runner.check_samples(load_model(path.read_bytes()), None) == 16000
    assert runner.check_samples(load_model(path.read_bytes()), {"sample_rate": 8000}) == 8000
    assert runner.check_samples(load_model(path.read_bytes()), {"info": {"input_samples": 24000}}) == 24000
    check_loads(path)
    fixed = load_model(speech_like_model(dynamic=False))
    assert runner.check_samples(fixed, None) is None  # a fixed-length model runs at its own length


@pytest.mark.parametrize("tensor,dim", [(0, 1), (2, 0)], ids=["input dim", "activation dim"])
def test_a_damaged_stored_dimension_is_refused_by_name_before_any_child_starts(tmp_path, monkeypatch, tensor, dim):
    """Finding 1 (0834, 0814): the check allocated at the stored shapes, 16 + 8 GiB,
    and the machine ran out of memory."""
    from ai_edge_litert import schema_py_generated as schema

    from converters.dedup import pack

    model = schema.ModelT.InitFromPackedBuf(bytearray(speech_like_model()), 0)
    model.subgraphs[0].tensors[tensor].shape[dim] = 2147483647
    path = tmp_path / "damaged.tflite"
    path.write_bytes(pack(model))
    monkeypatch.setattr(runner, "run_limited", lambda *a: pytest.fail("a child was started"))
    started = time.monotonic()
    with pytest.raises(NotATFLiteModel, match=rf"^{path}: corrupted TFLite flatbuffer \(subgraph 0 tensor {tensor} .*"
                                              r"2147483647.* needs [\d,]+ bytes; a tensor of a [\d,]+-byte file may"):
        check_loads(path)
    assert time.monotonic() - started < 5


def test_the_child_cannot_allocate_beyond_its_address_space():
    limits = ChildLimits(512 * MIB, 20)
    done = run_limited("timeit", ["-n", "1", "bytearray(1 << 30)"], limits)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1] == "MemoryError"
    assert limited_failure(done.returncode, done.stderr, limits) == \
        "exit status 1: MemoryError; the check allows 512 MB of address space, 20 s of CPU time"
    show = "print(resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CPU))"
    shown = run_limited("timeit", ["-n", "1", "-s", "import resource", show], limits)
    assert shown.stdout.splitlines()[0] == f"({512 * MIB}, {512 * MIB}) (20, 22)"


def test_the_child_is_stopped_by_its_cpu_time():
    limits = ChildLimits(512 * MIB, 1)
    started = time.monotonic()
    done = run_limited("timeit", ["-n", "1000000000", "pass"], limits)
    assert time.monotonic() - started < 15
    assert limited_failure(done.returncode, done.stderr, limits) == \
        "killed by SIGXCPU; it used up its 1 s of CPU time"


def test_a_child_that_blocks_without_using_cpu_is_killed_after_its_wall_clock_bound(monkeypatch):
    monkeypatch.setattr(runner, "CHILD_WALL_SLACK_SECONDS", 1)
    limits = ChildLimits(512 * MIB, 1)  # wall clock: 2 x 1 + 1 s
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_limited("timeit", ["-n", "1", "-s", "import time", "time.sleep(600)"], limits)
    assert time.monotonic() - started < 10


def test_the_limits_follow_the_file_and_have_a_cap():
    assert child_limits(0, 0) == ChildLimits(512 * MIB, 10)
    assert child_limits(100 * MIB, 10 * MIB, 5) == ChildLimits((512 + 300 + 20) * MIB, 25)
    assert child_limits(2000 * MIB, 10**12, 10**6) == ChildLimits(runner.CHILD_MAX_BYTES, runner.CHILD_MAX_CPU_SECONDS)


def test_the_check_runs_float32_noise_at_the_length_it_checks(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from converters.load_check import _inputs

    path = tmp_path / "model.tflite"
    path.write_bytes(speech_like_model(stored_samples=1))
    (value,) = _inputs(Interpreter(model_path=str(path)), 16000, np.random.default_rng(0))
    assert value.dtype == np.float32 and value.shape == (1, 16000) and 0.05 < value.std() < 0.2


def test_a_model_litert_cannot_run_is_one_line_naming_it(tmp_path):
    path = tmp_path / "fixed.tflite"
    path.write_bytes(speech_like_model(stored_samples=100, dynamic=False))  # 100 samples: no 320-sample frame
    with pytest.raises(ModelLoadError) as error:
        check_loads(path)
    assert str(error.value).startswith(f"{path}: LiteRT cannot load it (") and "\n" not in str(error.value)


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_model_path_that_is_not_a_regular_file_is_refused_before_it_is_read(tmp_path, kind):
    import os

    path = tmp_path / "model.tflite"
    path.mkdir() if kind == "directory" else os.mkfifo(path)
    with pytest.raises(ModelLoadError, match="a directory; give a .tflite file" if kind == "directory"
                       else "not a regular file; give a .tflite file"):
        check_loads(path)
