"""qat-int4 (issue 33): the 4-bit QAT model's fake-quantised weights stored as int4 exactly
(every matrix, W_g included), each W_g one INT4 tensor for its K readers, and a one-line
refusal for a run without the 4-bit QAT."""

import shutil

import numpy as np

from converters.flatbuffer import buffer_bytes, load_model
from converters.weights import weights
from rt_keras.backend import keras
from rt_keras.cli import main
from rt_keras.model.quantize import fake_quantized_weights
from tests.helpers import requires_fsdd

pytestmark = requires_fsdd


def _int4_codes(parsed, weight) -> np.ndarray:
    """The stored signed 4-bit integers of an INT4 tensor (two per byte, low nibble first)."""
    packed = np.frombuffer(buffer_bytes(parsed, weight.buffer), np.uint8)
    nibbles = np.stack([packed & 0xF, packed >> 4], -1).reshape(-1)[:weight.elements].astype(np.int8)
    return np.where(nibbles > 7, nibbles - 16, nibbles).reshape(weight.shape)


def _dense_wrappers(qat_model):
    return [w for w in qat_model.layers if isinstance(getattr(w, "layer", None), keras.layers.Dense)]


def test_qat_int4_stores_every_matrix_as_its_trained_4bit_values(tiny_converted):
    qat4 = tiny_converted.qat4_model
    fake = fake_quantized_weights(qat4)
    parsed = load_model(tiny_converted.shipped["qat-int4"])
    subgraph = parsed.subgraphs[0]
    stored = {}
    for weight in weights(parsed):
        if weight.type == "INT4":
            (layer,) = [name for name in weight.layers if name in fake]
            assert layer not in stored, f"{layer}: a second INT4 copy"
            stored[layer] = weight
    dense = _dense_wrappers(qat4)
    assert set(stored) == {w.layer.name for w in dense}  # every Dense of the QAT model, nothing else
    assert {stored[w.layer.name].group for w in dense} >= {"shared", "low_rank"}
    for wrapper in dense:
        name, weight = wrapper.layer.name, stored[wrapper.layer.name]
        ((_, _, ranges),) = wrapper._weight_vars
        trained = fake[name]["kernel"].T  # the fake-quantised kernel as FULLY_CONNECTED stores it: [out, in]
        # the training-time grid: symmetric narrow range, 14 steps across [-max, max] per output channel
        step = (ranges["max_var"].numpy() - ranges["min_var"].numpy()) / np.float32(14)
        levels = np.round(trained / np.where(step > 0, step, 1)[:, None])  # step 0: an all-zero channel
        codes = _int4_codes(parsed, weight)
        np.testing.assert_array_equal(codes, levels, err_msg=name)  # the integers are the training-time ones
        quantization = subgraph.tensors[weight.tensor].quantization
        scale = np.asarray(quantization.scale, np.float32)
        assert quantization.quantizedDimension == 0 and scale.shape == step.shape, name
        # The file's step is read back from float values that tfmot computes as k*s - 7*s in
        # float32 (k = 0..14), so it can differ from s in its last bits: a few 1e-7, bound 2^-17.
        np.testing.assert_allclose(scale[step > 0], step[step > 0], rtol=2 ** -17, atol=0, err_msg=name)
        # dequantised, the file's weights are the fake-quantised ones to that rounding (a wrong
        # integer would be off by a whole step)
        assert np.all(np.abs(codes * scale[:, None] - trained) <= 2 ** -14 * step[:, None]), name
    # the diagonals stay float32 (no 4-bit MUL): the fake-quantised values themselves, bit for bit
    diagonals = [w for w in weights(parsed) if w.group == "diagonal"]
    assert diagonals
    for weight in diagonals:
        (name,) = [layer for layer in weight.layers if layer in fake]
        stored = np.frombuffer(buffer_bytes(parsed, weight.buffer), np.float32)
        np.testing.assert_array_equal(stored, fake[name]["diagonal"], err_msg=name)
        assert np.unique(stored).size <= 15, name


def test_each_shared_matrix_is_one_int4_tensor_read_by_its_k_operators(tiny_converted):
    config = tiny_converted.config
    parsed = load_model(tiny_converted.shipped["qat-int4"])
    shared = [w for w in weights(parsed) if w.group == "shared" and len(w.shape) >= 2]
    assert len(shared) == 6 * config.encoder.num_groups
    for weight in shared:
        assert weight.type == "INT4", (weight.name, weight.type)
        assert weight.readers == ["FULLY_CONNECTED"] * config.encoder.group_size, (weight.name, weight.readers)
    buffers = [w.buffer for w in weights(parsed)]
    assert all(buffers.count(w.buffer) == 1 for w in shared)  # one tensor, one buffer


def test_qat_int4_is_refused_with_one_line_for_a_run_with_8bit_qat_only(tiny_converted, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_converted.run_dir, run_dir, ignore=shutil.ignore_patterns("qat4", "*.tflite"))
    assert (run_dir / "qat" / "model.weights.h5").is_file()
    out = tmp_path / "model.tflite"
    status = main(["convert", str(run_dir), "--mode", "qat-int4", "--out", str(out)])
    stderr = capsys.readouterr().err
    assert status == 2 and not out.exists()
    assert len(stderr.strip().splitlines()) == 1 and f"rt-keras qat {run_dir} --weight-bits 4" in stderr, stderr
