import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from converters.dedup import dedup_bytes, dedup_file
from converters.flatbuffer import TFLITE_IDENTIFIER, NotATFLiteModel, buffer_bytes, load_model
from converters.runner import run_tflite
from converters.weights import summary, weights
from rt_keras.core.encoder_config import preset
from rt_keras.export.keras_to_tflite import convert, convert_float32
from rt_keras.model.encoder import build_encoder

NUM_FEATURES = 16


@pytest.fixture(scope="module")
def tiny_model():
    model = build_encoder(preset("tiny", group_size=2, rank=3, diagonal=True, dropout=0.0), NUM_FEATURES)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def tiny_tflite(tiny_model):
    return convert_float32(tiny_model)


def _duplicate_largest_buffer(data):
    """A copy of the model in which one reader of the largest shared constant gets its own
    byte-identical buffer (what per-call-site exports produce)."""
    model = load_model(data)
    subgraph = model.subgraphs[0]
    sizes = {t.buffer: len(buffer_bytes(model, t.buffer)) for t in subgraph.tensors if t.buffer}
    shared = max(sizes, key=sizes.get)
    index = next(i for i, t in enumerate(subgraph.tensors) if t.buffer == shared)
    readers = [op for op in subgraph.operators if index in list(op.inputs)]
    assert len(readers) >= 2, "the shared matrix should be read by the K layers of its group"
    import copy

    model.buffers.append(copy.deepcopy(model.buffers[shared]))
    clone = copy.deepcopy(subgraph.tensors[index])
    clone.buffer = len(model.buffers) - 1
    subgraph.tensors.append(clone)
    readers[1].inputs = np.array([len(subgraph.tensors) - 1 if i == index else i for i in readers[1].inputs], np.int32)
    builder = flatbuffers.Builder(1024)  # a plain re-pack (the dedup pass's own would share the copy)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output()), sizes[shared]


def test_dedup_merges_a_duplicated_shared_matrix_and_keeps_outputs_bit_identical(tiny_tflite):
    duplicated, size = _duplicate_largest_buffer(tiny_tflite)
    assert len(duplicated) >= len(tiny_tflite) + size
    out, report = dedup_bytes(duplicated)
    assert report.buffers_merged == 1 and report.tensors_merged == 1
    assert report.buffers_dropped >= 1  # the duplicate (and empty buffers the converter leaves)
    assert report.bytes_saved >= size
    assert any(c["readers"] >= 2 and c["bytes"] == size for c in report.shared_constants)
    x = np.random.default_rng(1).normal(size=(1, 30, NUM_FEATURES)).astype(np.float32)
    np.testing.assert_array_equal(run_tflite(out, x)[0], run_tflite(duplicated, x)[0])
    again, second = dedup_bytes(out)
    assert again == out and second.bytes_saved == 0  # idempotent


def test_dedup_finds_no_duplicate_constants_in_the_converters_output(tiny_tflite):
    out, report = dedup_bytes(tiny_tflite)
    assert report.buffers_merged == 0 and report.tensors_merged == 0
    x = np.random.default_rng(2).normal(size=(1, 21, NUM_FEATURES)).astype(np.float32)
    np.testing.assert_array_equal(run_tflite(out, x)[0], run_tflite(tiny_tflite, x)[0])
    assert dedup_bytes(out)[0] == out


def test_dedup_rejects_non_tflite_and_writes_nothing_on_failure(tmp_path, tiny_tflite):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(NotATFLiteModel, match="not a TFLite model"):
        dedup_file(bad, tmp_path / "out.tflite")
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(tiny_tflite[:8] + b"\xff" * 200)
    with pytest.raises(NotATFLiteModel):
        dedup_file(corrupt, tmp_path / "out.tflite")
    assert not list(p for p in tmp_path.iterdir() if p.name.startswith(("out", ".out")))


@pytest.mark.parametrize("mode,dtype", [("float16", np.float16), ("dynamic", np.int8)])
def test_float16_and_dynamic_modes_store_each_dense_kernel_once(mode, dtype):
    """Every Dense kernel of >= 1024 elements (the converter's threshold) appears once in
    ``dtype`` (FC weights are [out, in]); the shared ones are read by both layers."""
    from collections import Counter

    from converters.dedup import shared_constants
    from converters.flatbuffer import constant_tensors
    from rt_keras.backend import keras
    from rt_keras.export.keras_to_tflite import convert

    model = build_encoder(preset("tiny", group_size=2, rank=3, diagonal=True, dropout=0.0), NUM_FEATURES)
    expected = Counter(tuple(reversed(layer.kernel.shape)) for layer in model.layers
                       if isinstance(layer, keras.layers.Dense) and layer.kernel.shape.num_elements() >= 1024)
    flatbuffer, _ = dedup_bytes(convert(model, mode))
    parsed = load_model(flatbuffer)
    stored = Counter(tuple(array.shape) for _, _, tensor, array in constant_tensors(parsed)
                     if array.dtype == dtype and tuple(array.shape) in expected)
    assert stored == expected
    shared = [c for c in shared_constants(parsed) if c["bytes"] == 32 * 32 * np.dtype(dtype).itemsize]
    readers = Counter(c["readers"] for c in shared)
    if mode == "dynamic":  # int8 weights feed the FCs directly: 4 attention matrices x 2 groups, 2 readers each
        assert readers[2] == 8
    else:  # float16 weights go through one DEQUANTIZE each, whose float output both layers' FCs read
        subgraph = parsed.subgraphs[0]
        dequantized = {op.inputs[0]: op.outputs[0] for op in subgraph.operators
                       if parsed.operatorCodes[op.opcodeIndex].builtinCode == 6}  # DEQUANTIZE
        fc_inputs = Counter(i for op in subgraph.operators if parsed.operatorCodes[op.opcodeIndex].builtinCode == 9
                            for i in op.inputs)  # FULLY_CONNECTED
        square = [t for _, t, _, array in constant_tensors(parsed) if array.dtype == dtype and array.shape == (32, 32)]
        # 4 attention matrices x 2 groups read by both layers of their group; subsample_proj (32 x 32) by one
        assert sorted(fc_inputs[dequantized[t]] for t in square) == [1] + [2] * 8
    x = np.random.default_rng(3).normal(size=(1, 25, NUM_FEATURES)).astype(np.float32)
    got, want = run_tflite(flatbuffer, x)[0], model(x).numpy()
    relative = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert relative < (0.005 if mode == "float16" else 0.05), relative



def _zero_point_vectors(data: bytes) -> list:
    """(file position, values) of every tensor's per-channel zero-point vector."""
    subgraph = schema.Model.GetRootAsModel(data, 0).Subgraphs(0)
    vectors = []
    for i in range(subgraph.TensorsLength()):
        q = subgraph.Tensors(i).Quantization()
        if q is not None and q.ZeroPointLength() > 1:
            position = q._tab.Vector(q._tab.Offset(10))  # field 3 of QuantizationParameters: zero_point
            vectors.append((position, tuple(q.ZeroPointAsNumpy().tolist())))
    return vectors


def test_repack_stores_each_distinct_zero_point_vector_once(tiny_model):
    dynamic = convert(tiny_model, "dynamic")
    before = _zero_point_vectors(dynamic)
    assert len(before) > len({values for _, values in before})  # per-channel zero points repeat (all zeros)
    out, report = dedup_bytes(dynamic)
    assert report.bytes_saved > 0
    after = _zero_point_vectors(out)
    assert sorted(v for _, v in after) == sorted(v for _, v in before)
    assert len({position for position, _ in after}) == len({values for _, values in after})
    # The footprint counts each stored quantisation vector once, as the file holds them.
    inventory = {w.buffer: w for w in weights(load_model(out))}.values()
    per_tensor = sum(len(data) for w in inventory for _, data in w.quantization)
    assert summary(list(inventory))["quantization_bytes"] < per_tensor
    x = np.random.default_rng(3).normal(size=(1, 12, NUM_FEATURES)).astype(np.float32)
    np.testing.assert_array_equal(run_tflite(out, x)[0], run_tflite(dynamic, x)[0])


def test_dedup_file_rewrites_only_models_litert_loads(tmp_path, tiny_tflite):
    """A file that parses but that LiteRT refuses (a weight matrix with the wrong shape) is
    refused with the interpreter's reason and no output; a good file is written and
    checked to give bit-identical outputs (tests/test_fuzz.py covers damaged files)."""
    from converters.runner import ModelLoadError

    model = load_model(tiny_tflite)
    subgraph = model.subgraphs[0]
    fc = next(op for op in subgraph.operators
              if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.FULLY_CONNECTED)
    subgraph.tensors[fc.inputs[1]].shape = np.array([3, 5], np.int32)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(bytes(builder.Output()))
    dedup_bytes(broken.read_bytes())  # the flatbuffer itself is well formed
    with pytest.raises(ModelLoadError, match=r"broken\.tflite: LiteRT cannot load it \(exit status 1: .+\)"):
        dedup_file(broken, tmp_path / "out.tflite")
    good = tmp_path / "good.tflite"
    good.write_bytes(tiny_tflite)
    report = dedup_file(good, tmp_path / "out.tflite")
    assert (tmp_path / "out.tflite").read_bytes() == dedup_bytes(tiny_tflite)[0] and report.bytes_after > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tflite", "good.tflite", "out.tflite"]


def test_conversion_leaves_no_temporary_files(tmp_path, monkeypatch, tiny_model):
    import os
    import tempfile

    system_tmp = tmp_path / "tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    stale = system_tmp / "rt-keras-convert-999999999-abc"  # a killed conversion's directory
    (stale / "saved_model").mkdir(parents=True)
    assert convert_float32(tiny_model)[4:8] == b"TFL3"
    assert os.listdir(system_tmp) == []
