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
        trained = fake[name][0].T  # the fake-quantised kernel as FULLY_CONNECTED stores it: [out, in]
        # the training-time grid: symmetric narrow range, 14 steps across [-max, max] per output channel
        step = (ranges["max_var"].numpy() - ranges["min_var"].numpy()) / np.float32(14)
        levels = np.round(trained / step[:, None])
        codes = _int4_codes(parsed, weight)
        np.testing.assert_array_equal(codes, levels, err_msg=name)  # the integers are the training-time ones
        quantization = subgraph.tensors[weight.tensor].quantization
        scale = np.asarray(quantization.scale, np.float32)
        assert quantization.quantizedDimension == 0 and scale.shape == step.shape, name
        np.testing.assert_allclose(scale, step, rtol=2 ** -20, atol=0, err_msg=name)
        # dequantised file weights equal the fake-quantised ones (to float32 rounding of k*s - 7*s)
        np.testing.assert_allclose(codes * scale[:, None], trained, rtol=0, atol=2 ** -20 * float(step.max()) * 8,
                                   err_msg=name)


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
