"""Seeded mutations of a real converted model (bit flips, overwrites in the flatbuffer
tables, truncations, damage to the appended associated files): `dedup` and the static
half of `footprint` either work or raise their own error naming the file — never an
IndexError, KeyError, UnicodeDecodeError, BadZipFile or a crash of the process."""

from benchmarks.fuzz import mutations
from converters.dedup import dedup_bytes
from converters.flatbuffer import NotATFLiteModel
from converters.footprint import FootprintError, static_report
from tests.helpers import requires_fsdd

MUTATIONS = 300

@requires_fsdd
def test_dedup_and_footprint_survive_seeded_mutations(tiny_converted, tmp_path):
    shipped = tiny_converted.shipped["qat-int8"]
    outcomes = {"ok": 0, "refused": 0}
    path = tmp_path / "mutated.tflite"
    for trial, data in ((t, d) for t, _, d in mutations(shipped, MUTATIONS)):
        try:
            dedup_bytes(data, f"trial {trial}")
            outcomes["ok"] += 1
        except NotATFLiteModel as error:
            assert str(error).startswith(f"trial {trial}: "), error
            outcomes["refused"] += 1
        path.write_bytes(data)
        try:
            static_report(path)
        except FootprintError as error:
            assert str(path) in str(error), error
    # both outcomes occur: the mutations reach past the parser's first check
    assert outcomes["ok"] > 20 and outcomes["refused"] > 20, outcomes

LOAD_CHECKS = 40

@requires_fsdd
def test_load_check_before_evaluate_and_dedup_never_lets_a_damaged_model_crash_the_caller(tiny_converted, tmp_path):
    """``evaluate --tflite`` and ``dedup`` load a model in-process only after
    ``check_loads`` ran it in a child: every mutation either passes (and then runs here
    too) or is refused with an error naming the file."""
    from converters.runner import ModelLoadError, TFLiteModel, check_loads

    shipped = tiny_converted.shipped["qat-int8"]
    outcomes = {"ok": 0, "not a model": 0, "LiteRT refused": 0}
    path = tmp_path / "mutated.tflite"
    for trial, data in ((t, d) for t, _, d in mutations(shipped, LOAD_CHECKS, seed=1)):
        path.write_bytes(data)
        try:
            check_loads(path)
        except NotATFLiteModel as error:
            assert str(path) in str(error), error
            outcomes["not a model"] += 1
            continue
        except ModelLoadError as error:
            assert str(error).startswith(f"{path}: "), error
            outcomes["LiteRT refused"] += 1
            continue
        outcomes["ok"] += 1
        assert TFLiteModel(path)(__import__("numpy").zeros((1, 16000), "float32")).ndim == 3
    # every path is taken (seeded: 21 / 18 / 1 of 40 on the tiny model)
    assert outcomes["ok"] >= 10 and outcomes["not a model"] >= 10 and outcomes["LiteRT refused"] >= 1, outcomes

def test_a_child_killed_by_a_signal_is_named_and_start_up_logging_skipped():
    from converters.runner import child_failure

    stderr = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\nF0000 tflite/core: bad tensor index\n" \
             "I0000 00:00:1 port.cc:153] oneDNN custom operations are on.\n"
    assert child_failure(-6, stderr) == "killed by SIGABRT: F0000 tflite/core: bad tensor index"
    assert child_failure(-11, "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n") == "killed by SIGSEGV"
    assert child_failure(1, "Traceback ...\nRuntimeError: Node number 3 failed\n") == \
        "exit status 1: RuntimeError: Node number 3 failed"
