"""Quantisation-aware training (rt_keras/model/quantize.py, rt_keras/runs/qat.py): the QAT run directory and its no-op
rerun, one fake-quantised wrapper per shared matrix, a forced rerun that starts over."""

import json
import shutil

import numpy as np
import pytest

from rt_keras.core import run_config
from rt_keras.core.vocabulary import DIGITS
from rt_keras.data.storage import data_directory, load_split
from rt_keras.model.asr import build_asr_model
from rt_keras.runs.qat import finetune, load_qat_model
from rt_keras.training.evaluation import evaluate_split
from tests.helpers import requires_fsdd

pytestmark = requires_fsdd


def test_qat_run_writes_its_subdirectory_and_a_rerun_is_a_no_op(tiny_qat_run):
    qat_dir = tiny_qat_run / "qat"
    metrics = json.loads((qat_dir / "metrics.json").read_text())
    assert metrics["finished"] and metrics["source"] == str(tiny_qat_run)
    # the recorded WERs are those of the saved QAT weights and of the float run
    config = run_config.load_resolved(tiny_qat_run / "config.yaml")
    validation = load_split(data_directory(config), "validation")
    assert metrics["validation_wer"] == evaluate_split(load_qat_model(tiny_qat_run), validation, config.frontend)["wer"]
    assert metrics["float_validation_wer"] == json.loads((tiny_qat_run / "metrics.json").read_text())["validation_wer"]
    for name in ("config.yaml", "history.csv", "model.weights.h5", "checkpoints/best.weights.h5"):
        assert (qat_dir / name).is_file(), name
    stamp = (qat_dir / "model.weights.h5").stat().st_mtime_ns
    assert finetune(tiny_qat_run, progress=False) == metrics  # finished: nothing trained again
    assert (qat_dir / "model.weights.h5").stat().st_mtime_ns == stamp


def test_qat_model_wraps_each_shared_matrix_once_and_keeps_the_trained_weights(tiny_converted, real_audio):
    config, model = tiny_converted.config, tiny_converted.model
    shared = {
        layer.name: len(layer.inbound_nodes) for layer in tiny_converted.qat_model.layers if "shared" in layer.name
    }
    assert len(shared) == 6 * config.encoder.num_groups
    assert set(shared.values()) == {config.encoder.group_size}  # one wrapper, K call sites
    # the raw-PCM input is not fake-quantised (the front-end is float)
    assert all(
        layer.quantizer is None for layer in tiny_converted.qat_model.layers if type(layer).__name__ == "QuantizeLayer"
    )
    # Fine-tuned from the float weights: far closer to the float model than a fresh model.
    reference = model(real_audio[0]).numpy()
    fresh = np.mean(np.abs(build_asr_model(config, len(DIGITS))(real_audio[0]).numpy() - reference))
    assert np.mean(np.abs(tiny_converted.qat_model(real_audio[0]).numpy() - reference)) < 0.5 * fresh


def test_forced_qat_starts_over_and_repeats_the_first_run(tiny_qat_run, tmp_path):
    """A finished QAT run leaves an empty backup directory; --force must not take it for
    a run to resume (that skipped the range calibration) and gives the same weights."""
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_qat_run, run_dir)
    assert (run_dir / "qat" / "backup").is_dir() and not any((run_dir / "qat" / "backup").iterdir())
    first = load_qat_model(run_dir).get_weights()
    finetune(run_dir, force=True, progress=False)
    again = load_qat_model(run_dir).get_weights()
    assert len(first) == len(again)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_a_chunked_streaming_encoder_takes_qat():
    """The causal subsampling's padding layers are annotated like the rest; outputs stay
    close to the float model's (fake quantisation only)."""
    from rt_keras.model.quantize import quantize_model

    config = run_config.from_dict({"encoder": {"preset": "tiny", "chunk_frames": 2, "left_context_frames": 2}})
    model = build_asr_model(config, len(DIGITS))
    audio = np.random.default_rng(0).normal(scale=0.1, size=(1, 8000)).astype(np.float32)
    quantized = quantize_model(model)
    assert any(layer.name.endswith("subsample_pad1") for layer in quantized.layers)
    difference = np.abs(quantized(audio).numpy() - model(audio).numpy())
    assert difference.mean() < 0.1 * np.abs(model(audio).numpy()).mean(), difference.mean()


def test_leading_silence_goes_through_qat_and_the_frame_contract():
    """frontend.leading_silence_seconds: the model and its QAT copy give output_frames frames for
    every length (training's CTC targets and decoding trim by it)."""
    from rt_keras.core.contracts import output_frames
    from rt_keras.model.quantize import quantize_model

    config = run_config.from_dict({"encoder": {"preset": "tiny"}, "frontend": {"leading_silence_seconds": 0.1}})
    model = build_asr_model(config, len(DIGITS))
    quantized = quantize_model(model)
    rng = np.random.default_rng(0)
    for samples in (512, 4000, 8123):
        audio = rng.normal(scale=0.1, size=(1, samples)).astype(np.float32)
        frames = output_frames(samples, config.frontend)
        assert frames == (1 + (samples + 1600 - 512) // 160 + 3) // 4
        assert model(audio).shape[1] == quantized(audio).shape[1] == frames
    assert output_frames(4000, run_config.from_dict({}).frontend) == (1 + (4000 - 512) // 160 + 3) // 4


def test_4bit_qat_wraps_each_shared_matrix_once_with_weights_on_15_levels(tiny_converted):
    """--weight-bits 4: one wrapper (one scale per output channel) for each W_g and its K
    call sites; every Dense kernel's fake-quantised values are -7..7 steps of its channel
    and each diagonal has at most 15 values; the 8-bit QAT model keeps 8 bits."""
    from rt_keras.backend import keras
    from rt_keras.model.quantize import fake_quantized_weights

    config, qat4 = tiny_converted.config, tiny_converted.qat4_model
    shared = {layer.name: len(layer.inbound_nodes) for layer in qat4.layers if "shared" in layer.name}
    assert len(shared) == 6 * config.encoder.num_groups and set(shared.values()) == {config.encoder.group_size}
    fake = fake_quantized_weights(qat4)
    dense = [w for w in qat4.layers if isinstance(getattr(w, "layer", None), keras.layers.Dense)]
    assert {w.name for w in dense} >= set(shared) and any("_lr_b" in w.name for w in dense)
    for wrapper in dense:
        ((kernel, quantizer, ranges),) = wrapper._weight_vars
        assert (quantizer.num_bits, quantizer.per_axis, quantizer.symmetric, quantizer.narrow_range) == (4, True, True,
                                                                                                         True)
        assert ranges["max_var"].shape == (kernel.shape[-1],)  # one scale per output channel
        step = (ranges["max_var"].numpy() - ranges["min_var"].numpy()) / 14
        values = fake[wrapper.layer.name]["kernel"]
        levels = values / np.where(step > 0, step, 1)
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-3, err_msg=wrapper.name)
        top = np.abs(np.round(levels)).max(axis=0)
        assert np.all(top[step > 0] == 7), wrapper.name  # each channel's largest weight on the top level
        assert max(np.unique(column).size for column in values.T) <= 15
        if wrapper.name in shared:  # the trained (latent) matrix is not on the grid: the quantiser is what did it
            assert max(np.unique(column).size for column in kernel.numpy().T) > 15
    diagonals = [w for w in qat4.layers if type(getattr(w, "layer", None)).__name__ == "DiagonalScale"]
    assert diagonals
    for wrapper in diagonals:
        ((_, quantizer, _),) = wrapper._weight_vars
        assert quantizer.num_bits == 4 and not quantizer.per_axis
        assert np.unique(fake[wrapper.layer.name]["diagonal"]).size <= 15
    eight = [w for w in tiny_converted.qat_model.layers if isinstance(getattr(w, "layer", None), keras.layers.Dense)]
    assert {w._weight_vars[0][1].num_bits for w in eight} == {8}


@pytest.mark.parametrize("weight_bits", [8, 4])
def test_a_dense_feeding_a_relu_keeps_its_weight_quantiser(weight_bits):
    """Without low-rank and diagonal terms (the baseline) the FFN input matrix is a Dense
    straight into the ReLU; tfmot's ReLU layout transform gave it a no-op config that left
    its kernel unquantised (and 4-bit QAT files could not be exported)."""
    from rt_keras.backend import keras
    from rt_keras.model.quantize import ReLUFusedDenseQuantizeConfig, fake_quantized_weights, quantize_model

    encoder = {"preset": "tiny", "group_size": 1, "rank": 0, "diagonal": False}
    model = build_asr_model(run_config.from_dict({"encoder": encoder}), len(DIGITS))
    quantized = quantize_model(model, weight_bits)
    dense = [w for w in quantized.layers if isinstance(getattr(w, "layer", None), keras.layers.Dense)]
    fused = [w for w in dense if isinstance(w.quantize_config, ReLUFusedDenseQuantizeConfig)]
    assert sorted(w.layer.name for w in fused) == [f"shared{i:02d}_ffn_in" for i in range(4)]
    assert all(len(w._weight_vars) == 1 and w._weight_vars[0][1].num_bits == weight_bits for w in dense)
    assert {w._weight_vars[0][1].per_axis for w in fused} == {weight_bits == 4}  # 8 bits: tfmot's default, per tensor
    quantized(np.zeros((1, 8000), np.float32), training=True)  # records the ranges
    kernel = fake_quantized_weights(quantized)["shared00_ffn_in"]["kernel"]
    assert max(np.unique(column).size for column in kernel.T) <= 2 ** weight_bits - 1


def test_a_qat_run_saved_before_that_fix_is_refused_with_the_command_that_redoes_it(tmp_path):
    """Its weights file lacks those kernels' ranges: loading names the rerun instead of failing
    on a weight count inside Keras."""
    from rt_keras.model.saving import save_model
    from rt_keras.runs.qat import load_qat_model
    from rt_keras.runs.run_dir import RunDir

    run = RunDir(tmp_path / "baseline")
    config = run_config.from_dict({"encoder": {"preset": "tiny", "group_size": 1, "rank": 0, "diagonal": False}})
    run.path.mkdir()
    run.save_config(config)
    save_model(build_asr_model(config, len(DIGITS)), run.model)
    run.qat.path.mkdir()
    run.qat.weights.write_bytes(b"saved by an older rt-keras")
    run.qat.metrics.write_text(json.dumps({"finished": True, "weight_bits": 8}))  # no qat_scheme: scheme 1
    with pytest.raises(ValueError, match=r"made before QAT quantised shared00_ffn_in's kernel .* --force$"):
        load_qat_model(run.path)


def test_float_activations_keep_every_weight_quantiser_and_no_other():
    """quantize_model(..., float_activations=True): what a 4-bit dynamic-range file computes,
    weights on the 4-bit grid, activations float (benchmarks/qat_cost.py's qat4:act=float)."""
    from rt_keras.model.quantize import quantize_model

    model = build_asr_model(run_config.from_dict({"encoder": {"preset": "tiny"}}), len(DIGITS))
    both, weights_only = quantize_model(model, 4), quantize_model(model, 4, float_activations=True)

    def quantisers(qat_model):
        wrappers = [layer for layer in qat_model.layers if hasattr(layer, "_weight_vars")]
        return ({w.layer.name: [q.num_bits for _, q, _ in w._weight_vars] for w in wrappers},
                sum(len(w._output_quantizers) + len(w._quantize_activations) for w in wrappers))

    (weights_a, others_a), (weights_b, others_b) = quantisers(both), quantisers(weights_only)
    assert weights_a == weights_b and sum(map(len, weights_b.values())) > 0
    assert others_a > 0 and others_b == 0
    audio = np.random.default_rng(0).normal(scale=0.1, size=(1, 8000)).astype(np.float32)
    assert np.isfinite(weights_only(audio).numpy()).all()


def test_weight_bits_other_than_4_or_8_are_refused():
    from rt_keras.model.quantize import quantize_model

    with pytest.raises(run_config.ConfigError, match="allowed: 4, 8"):
        run_config.from_dict({"qat": {"weight_bits": 6}})
    assert run_config.from_dict({}).qat.weight_bits == 8
    model = build_asr_model(run_config.from_dict({"encoder": {"preset": "tiny"}}), len(DIGITS))
    with pytest.raises(ValueError, match="weight_bits=6"):
        quantize_model(model, 6)
