"""Conversion (issue: QAT and TFLite conversion): every mode stores each shared matrix once
and quantises what it promises, the dedup pass is idempotent and exact, the float model
matches Keras on real audio, metadata travels with the model, bad requests fail clearly."""

import json

import numpy as np
import pytest

from converters.dedup import dedup_bytes
from converters.flatbuffer import load_model
from converters.metadata import metadata_bytes, read_metadata
from converters.runner import TFLiteModel, run_tflite
from converters.weights import weights
from rt_keras.backend import keras, tf
from rt_keras.cli import main
from rt_keras.core.modes import MODES
from rt_keras.core.vocabulary import DIGITS
from rt_keras.data.storage import data_directory, load_split
from rt_keras.export.keras_to_tflite import ConversionError, audio_signature, convert
from rt_keras.model.asr import build_asr_model
from rt_keras.model.compress import materialize
from rt_keras.training.evaluation import evaluate_split
from tests.helpers import requires_fsdd

pytestmark = requires_fsdd


def _shared_layers(config):
    return [f"shared{g:02d}_{m}" for g in range(config.encoder.num_groups) for m in
            ("attn_q", "attn_k", "attn_v", "attn_o", "ffn_in", "ffn_out")]


@pytest.mark.parametrize("mode", MODES)
def test_each_shared_matrix_is_stored_once_and_read_by_its_k_layers(tiny_converted, mode):
    config = tiny_converted.config
    parsed = load_model(tiny_converted.shipped[mode])
    inventory = weights(parsed)
    for layer in _shared_layers(config):
        stored = [w for w in inventory if layer in w.layers and len(w.shape) >= 2]
        assert len(stored) == 1, (layer, [(w.name, w.shape) for w in stored])
        matrix = stored[0]
        assert matrix.group == "shared"
        assert matrix.readers.count("FULLY_CONNECTED") == config.encoder.group_size, (layer, matrix.readers)
        contents = bytes(np.asarray(parsed.buffers[matrix.buffer].data, np.uint8))
        same = [b for b, buffer in enumerate(parsed.buffers)
                if buffer.data is not None and bytes(np.asarray(buffer.data, np.uint8)) == contents]
        assert same == [matrix.buffer]  # no second copy anywhere in the file


@pytest.mark.parametrize("mode", ["dynamic", "int8", "qat-int8"])
def test_weight_matrices_are_int8(tiny_converted, mode):
    matrices = [w for w in weights(load_model(tiny_converted.shipped[mode])) if len(w.shape) >= 2]
    frontend = [w for w in matrices if "frontend_logmel" in w.layers]
    # Dynamic-range quantisation skips tensors under 1,024 elements (a converter rule);
    # the full-integer modes quantise every matrix except the float front-end's mel filterbank.
    large = [w for w in matrices if w not in frontend and (w.elements >= 1024 if mode == "dynamic" else w.bytes > 1024)]
    assert large and all(w.type == "INT8" for w in large), [(w.name, w.type, w.shape) for w in large
                                                            if w.type != "INT8"]
    assert any(w.group == "shared" for w in large) and any(w.group == "low_rank" for w in matrices)
    mel_filterbank = max(frontend, key=lambda w: w.elements)
    assert mel_filterbank.type == ("INT8" if mode == "dynamic" else "FLOAT32")


@pytest.mark.parametrize("mode", ["int4", "int4-shared"])
def test_int4_modes_store_the_promised_matrices_in_four_bits(tiny_converted, real_audio, mode):
    matrices = [w for w in weights(load_model(tiny_converted.shipped[mode])) if len(w.shape) >= 2]
    types = {group: {w.type for w in matrices if w.group == group} for group in ("shared", "low_rank")}
    assert types["shared"] == {"INT4"}
    assert types["low_rank"] == ({"INT8"} if mode == "int4-shared" else {"INT4"})
    mel_filterbank = max((w for w in matrices if "frontend_logmel" in w.layers), key=lambda w: w.elements)
    assert mel_filterbank.type == "FLOAT32"
    # 4-bit weights, float activations: close to the float model on real audio
    model = tiny_converted.model
    for audio in real_audio:
        (frames,) = run_tflite(tiny_converted.shipped[mode], audio)
        reference = model(audio).numpy()
        assert frames.shape == reference.shape
        assert np.mean(np.argmax(frames, -1) == np.argmax(reference, -1)) >= 0.8


@pytest.mark.parametrize("mode", MODES)
def test_dedup_is_idempotent_and_bit_exact_on_real_audio(tiny_converted, real_audio, mode):
    raw, shipped = tiny_converted.raw[mode], tiny_converted.shipped[mode]
    again, report = dedup_bytes(shipped)
    assert again == shipped and report.bytes_saved == 0
    for audio in real_audio:
        (before,) = run_tflite(raw, audio)
        (after,) = run_tflite(shipped, audio)
        assert np.array_equal(before, after)


def test_float32_tflite_matches_keras_on_real_audio(tiny_converted, real_audio):
    model = tiny_converted.model
    tflite = TFLiteModel(tiny_converted.shipped["float32"])
    for audio in real_audio:
        expected = model(audio, training=False).numpy()
        got = tflite(audio)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)  # measured: ~2e-6 here, 1.4e-5 on the demo model


def test_metadata_names_vocabulary_and_sample_rate(tiny_converted):
    config = tiny_converted.config
    for mode in MODES:
        metadata = read_metadata(tiny_converted.shipped[mode])
        assert metadata["vocabulary"] == list(DIGITS.tokens)
        assert metadata["sample_rate"] == config.frontend.sample_rate == 16000 and metadata["channels"] == 1
        assert metadata["info"]["mode"] == mode and metadata["info"]["encoder"]["group_size"] == 2
        assert metadata["name"] == config.name and metadata["version"]
        # What the metadata costs: the metadata flatbuffer plus both associated files, no more.
        raw, shipped = tiny_converted.raw[mode], tiny_converted.shipped[mode]
        files = len("\n".join(DIGITS.tokens)) + len(json.dumps(metadata["info"]))
        assert metadata_bytes(raw) == 0 and files < metadata_bytes(shipped) < files + 4096


def test_materialize_keeps_outputs_and_stores_every_layer_matrix(tiny_converted, real_audio):
    config, model = tiny_converted.config, tiny_converted.model
    flat, flat_config = materialize(model, config)
    assert flat_config.encoder.group_size == 1 and flat_config.encoder.rank == 0
    np.testing.assert_allclose(flat(real_audio[0]).numpy(), model(real_audio[0]).numpy(), atol=1e-4)
    inventory = weights(load_model(convert(flat, "float32", audio_signature())))
    per_layer = [w for w in inventory if w.layers and w.layers[0].startswith("shared") and len(w.shape) == 2]
    assert len(per_layer) == 6 * config.encoder.num_layers  # one matrix per layer, nothing shared
    assert all(w.readers.count("FULLY_CONNECTED") == 1 for w in per_layer)


def _cli(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_convert_cli_writes_a_model_and_refuses_bad_requests(tiny_converted, tmp_path, capsys):
    run_dir = tiny_converted.run_dir
    out = tmp_path / "model.tflite"
    status, stdout, stderr = _cli(capsys, "convert", run_dir, "--mode", "float16", "--out", out, "--json")
    assert status == 0, stderr
    report = json.loads(stdout)
    assert report["bytes"] == out.stat().st_size and report["mode"] == "float16"

    status, _, stderr = _cli(capsys, "convert", run_dir, "--mode", "qat-int8", "--materialize", "--out",
                             tmp_path / "x.tflite")
    assert status == 2 and "--materialize" in stderr
    status, _, stderr = _cli(capsys, "convert", tmp_path / "nothing", "--out", tmp_path / "y.tflite")
    assert status == 2 and "not a finished run directory" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]

    status, stdout, stderr = _cli(capsys, "evaluate", run_dir, "--tflite", out, "--splits", "test_real", "--json")
    assert status == 0, stderr
    result = json.loads(stdout)["test_real"]
    config, model = tiny_converted.config, tiny_converted.model
    split = load_split(data_directory(config), "test_real")
    keras_result = evaluate_split(model, split, config.frontend)
    # the float16 file transcribes (almost) every utterance as the Keras model does
    assert result["words"] == keras_result["words"] == sum(len(t.split()) for t in split.transcripts)
    assert abs(result["errors"] - keras_result["errors"]) <= 2


def test_a_failed_conversion_leaves_no_file(tiny_converted, tmp_path, monkeypatch):
    from rt_keras.export import package as export
    from rt_keras.runs.convert import export_run

    def broken(*args, **kwargs):
        raise RuntimeError("metadata writer failed")
    monkeypatch.setattr(export, "convert", lambda *args, **kwargs: tiny_converted.raw["float32"])
    monkeypatch.setattr(export, "add_metadata", broken)
    with pytest.raises(RuntimeError, match="metadata writer failed"):
        export_run(tiny_converted.run_dir, "float32", tmp_path / "model.tflite")
    assert list(tmp_path.iterdir()) == []


def test_a_vocabulary_that_does_not_fit_the_model_is_refused_before_converting(tiny_run, tmp_path):
    import shutil

    from rt_keras.runs.convert import export_run

    run = tmp_path / "run"
    run.mkdir()
    for name in ("model.keras", "config.yaml"):
        shutil.copy(tiny_run / name, run / name)
    (run / "vocabulary.txt").write_text("<blank>\n\u2581\na\nb\n")
    refused = r"the model predicts 11 tokens but the run's vocabulary has 4 \(vocabulary.txt"
    with pytest.raises(ValueError, match=refused):
        export_run(run, "float32", tmp_path / "model.tflite")
    assert not (tmp_path / "model.tflite").exists()


def test_ops_outside_the_builtin_set_are_named_in_the_error():
    inputs = keras.Input((8,), name="x")
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: tf.math.bessel_i1e(x))(inputs))
    with pytest.raises(ConversionError, match=r"outside the TFLite builtin set: tf\.BesselI1e.*builtin ops only"):
        convert(model)


def _operators(flatbuffer: bytes) -> dict:
    import collections

    from converters.weights import operator_names

    return collections.Counter(operator_names(load_model(flatbuffer)))


SHAPE_BOOKKEEPING = ("SHAPE", "GATHER", "REDUCE_PROD", "PACK", "CONCATENATION")


def test_a_model_of_any_length_has_no_per_layer_shape_arithmetic(tiny_converted):
    """Two more layers add the same operators to the any-length graph as to a fixed-length
    one: each projection is one FULLY_CONNECTED, each attention reshape a constant one."""
    config = tiny_converted.config
    counts = {}
    for layers in (2, 4):
        model = build_asr_model(_with_encoder(config, num_layers=layers, group_size=2), len(DIGITS))
        counts[layers] = {
            length: _operators(convert(model, "float32", audio_signature(length))) for length in (None, 16000)
        }
    dynamic_growth = sum(counts[4][None].values()) - sum(counts[2][None].values())
    fixed_growth = sum(counts[4][16000].values()) - sum(counts[2][16000].values())
    assert dynamic_growth == fixed_growth > 0
    assert all(counts[4][None][op] == counts[2][None][op] for op in SHAPE_BOOKKEEPING)
    assert (
        sum(counts[4][None][op] for op in SHAPE_BOOKKEEPING) <= 20
    )  # front-end, subsampling, positions: once (17 here)
    projections = 4 * 6 * 3  # 4 layers x 6 matrices x (shared + low-rank pair), plus the head and subsampling
    assert counts[4][None]["FULLY_CONNECTED"] == counts[4][16000]["FULLY_CONNECTED"] >= projections


def _with_encoder(config, **changes):
    import dataclasses

    return dataclasses.replace(config, encoder=config.encoder.replace(**changes))


def test_any_length_model_stores_a_real_input_shape(tiny_converted):
    for mode, shipped in tiny_converted.shipped.items():
        subgraph = load_model(shipped).subgraphs[0]
        audio = subgraph.tensors[subgraph.inputs[0]]
        assert list(audio.shapeSignature) == [1, -1] and list(audio.shape) == [1, 16000], mode


@pytest.mark.parametrize("mode", MODES)
def test_samples_fixes_the_input_length_in_every_mode(tiny_converted, real_audio, mode, tmp_path, capsys):
    run_dir, model = tiny_converted.run_dir, tiny_converted.model
    out = tmp_path / f"{mode}.tflite"
    status, stdout, stderr = _cli(capsys, "convert", run_dir, "--mode", mode, "--samples", 16000, "--out", out)
    assert status == 0, stderr
    subgraph = load_model(out.read_bytes()).subgraphs[0]
    audio_input = subgraph.tensors[subgraph.inputs[0]]
    assert audio_input.shapeSignature is None and list(audio_input.shape) == [1, 16000]  # nothing dynamic
    audio = np.pad(real_audio[0][:, :16000], [[0, 0], [0, max(0, 16000 - real_audio[0].shape[1])]])
    frames = run_tflite(out.read_bytes(), audio)[0]
    assert frames.shape == tuple(model(audio).shape)  # the same frames as Keras at that length
    assert np.isfinite(frames).all()


def test_samples_shorter_than_one_window_are_refused(tiny_converted, tmp_path, capsys):
    run_dir, config = tiny_converted.run_dir, tiny_converted.config
    status, _, stderr = _cli(capsys, "convert", run_dir, "--samples", 100, "--out", tmp_path / "x.tflite")
    assert status == 2 and f"frame_length={config.frontend.frame_length}" in stderr
    assert not (tmp_path / "x.tflite").exists()


def test_the_same_model_packages_to_the_same_bytes(tiny_converted):
    import time

    from rt_keras.export.package import package

    config = tiny_converted.config
    raw = tiny_converted.raw["float32"]
    first = package(raw, config, "float32", vocabulary=DIGITS)[0]
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    assert package(raw, config, "float32", vocabulary=DIGITS)[0] == first
    assert read_metadata(first)["vocabulary"] == list(DIGITS.tokens)


def test_short_names_shrink_the_file_and_keep_outputs_and_weight_roles(tiny_converted, real_audio, tmp_path, capsys):
    from converters.flatbuffer import tensor_name
    from converters.footprint import static_report

    run_dir = tiny_converted.run_dir
    long, short = tmp_path / "long.tflite", tmp_path / "short.tflite"
    assert main(["convert", str(run_dir), "--mode", "dynamic", "--out", str(long)]) == 0
    assert main(["convert", str(run_dir), "--mode", "dynamic", "--short-names", "--out", str(short)]) == 0
    capsys.readouterr()
    assert short.stat().st_size < long.stat().st_size - 5000
    subgraph = load_model(short.read_bytes()).subgraphs[0]
    io = {int(t) for t in list(subgraph.inputs) + list(subgraph.outputs)}
    names = [tensor_name(t) for i, t in enumerate(subgraph.tensors) if i not in io]
    assert names and all(
        name == f"t{i}" for i, name in zip((i for i in range(len(subgraph.tensors)) if i not in io), names)
    )
    np.testing.assert_array_equal(
        run_tflite(short.read_bytes(), real_audio[0])[0], run_tflite(long.read_bytes(), real_audio[0])[0]
    )
    by_role = static_report(short)["weights"]["by_group"]
    assert by_role == static_report(long)["weights"]["by_group"] and by_role["shared"] > 0 and by_role["low_rank"] > 0
