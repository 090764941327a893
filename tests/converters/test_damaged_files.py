"""The damaged models of issue 32 (../shared/fuzz, see its README.md) and a bounded run of
the seeded fuzz (benchmarks/fuzz.py), each call in its own worker process under a memory
cap, so that a regression fails the test instead of taking the machine down: every call
ends in a result or a one-line refusal naming the file — no traceback, no crash, no
hang — and its whole process tree stays far below the issue's 2 GB."""

import collections
import pathlib

import numpy as np
import pytest

from benchmarks.fuzz import COMMANDS, call, is_finding, mutations
from converters.flatbuffer import associated_files, with_associated_files
from tests.converters.synthetic_models import speech_like_model

FUZZ = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "fuzz"
requires_corpus = pytest.mark.skipif(not FUZZ.is_dir(), reason=f"{FUZZ.resolve()} is absent: the damaged files "
                                                                "of issue 32 are not on this machine")
MEMORY_CAP_MB = 3072  # every call's worker (RLIMIT_AS, inherited by the load check and the probe)
MAX_TREE_RSS_MB = 512  # measured peak of any call on these files: 210 MB
TIMEOUT = 120  # a hang; the slowest call measured took 5 s on a loaded machine

ZIP = "damaged associated files"
# What each damaged model must give in dedup, footprint --static, footprint, evaluate --tflite:
# "ok", or a refusal whose message contains the text given.
EXPECTED = {
    "0281_field_vtable_entry": ["writes no tensor"] * 4,
    "0351_field_vtable_size": ["is written by no operator"] * 4,
    "0370_field_vtable_size": ["LiteRT cannot load it", "input is not audio", "input is not audio",
                               "LiteRT cannot load it"],
    "0371_field_vtable_size": ["LiteRT cannot load it", "input is not audio", "input is not audio",
                               "LiteRT cannot load it"],
    "0493_overwrite_random": ["ok"] * 4,  # loads and runs: its damage is in the weights
    "0814_shape_dim": ["stored shape [1, 1, 2147483647] needs 2,147,483,647 bytes"] * 4,
    "0834_shape_dim": ["'serving_default_audio:0': stored shape [1, 2147483647] needs 8,589,934,588 bytes"] * 4,
    "0927_vector_length": ["operator 418 (FULLY_CONNECTED) writes no tensor"] * 4,
    # footprint measures the model and reports the unreadable metadata in its report
    **{name: [ZIP, "ok", "ok", ZIP] for name in ("0953_zip_tail", "0961_zip_tail", "0964_zip_tail",
                                                 "0977_zip_tail", "0990_zip_tail", "0999_zip_tail")},
}


def _check(record: dict, path, expected: str) -> None:
    assert not is_finding(record, MAX_TREE_RSS_MB), record
    if expected == "ok":
        assert record["outcome"] == "ok", record
    else:
        assert record["outcome"] == "refused" and record["message"].startswith(f"{path}: "), record
        assert expected in record["message"] and "\n" not in record["message"], record


@requires_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_damaged_model_is_refused_or_runs_with_bounded_memory_and_time(name, tmp_path):
    path = FUZZ / f"{name}.tflite"
    data = path.read_bytes()
    for command, expected in zip(COMMANDS, EXPECTED[name]):
        record = call(command, path, tmp_path, MEMORY_CAP_MB, TIMEOUT)
        _check(record, path, expected)
        assert record["seconds"] < 60, record
    assert path.read_bytes() == data


def _fuzzed_model() -> bytes:
    """The demo's qat-int8 file the corpus was cut from (each byte: the value most of the
    14 damaged copies agree on; each copy differs in a few bytes), else a synthetic
    speech-like model with a vocabulary appended as associated files."""
    if FUZZ.is_dir():
        copies = np.stack([np.frombuffer(p.read_bytes(), np.uint8) for p in sorted(FUZZ.glob("*.tflite"))])
        counts = np.zeros((256, copies.shape[1]), np.int32)
        for copy in copies:
            counts[copy, np.arange(copy.size)] += 1
        return counts.argmax(axis=0).astype(np.uint8).tobytes()
    import zipfile

    return with_associated_files(speech_like_model(), [(zipfile.ZipInfo("vocabulary.txt"), b"<blank>\nzero\n")])


FUZZ_TRIALS = 8  # one of each mutation kind


def test_a_bounded_seeded_fuzz_gives_no_traceback_crash_hang_or_memory_spike(tmp_path):
    original = _fuzzed_model()
    assert associated_files(original)
    outcomes = collections.Counter()
    path = tmp_path / "mutated.tflite"
    for trial, kind, data in mutations(original, FUZZ_TRIALS, seed=32):
        path.write_bytes(data)
        for command in COMMANDS:
            record = call(command, path, tmp_path, MEMORY_CAP_MB, TIMEOUT)
            assert not is_finding(record, MAX_TREE_RSS_MB), (trial, kind, command, record)
            outcomes[record["outcome"]] += 1
    assert outcomes["ok"] and outcomes["refused"], outcomes  # both paths taken


def test_the_structure_aware_mutations_hit_what_they_name():
    from ai_edge_litert import schema_py_generated as schema

    def shapes(data):
        return [t.shape.tolist() for t in schema.ModelT.InitFromPackedBuf(bytearray(data), 0).subgraphs[0].tensors]

    original = speech_like_model()
    kinds = collections.defaultdict(list)
    for _, kind, data in mutations(original, 40, seed=0):
        kinds[kind].append(data)
    for data in kinds["shape dim"]:  # one stored dimension changed, nothing else
        assert sum(a != b for a, b in zip(shapes(data), shapes(original))) <= 1
        assert sum(a != b for a, b in zip(data, original)) <= 4
    for kind in ("empty vector", "absent field"):  # a vector length or a vtable entry zeroed
        assert all(len(data) == len(original) and sum(a != b for a, b in zip(data, original)) <= 4
                   for data in kinds[kind])
