"""Streaming (rt_keras/model/streaming.py, `convert --streaming`, `transcribe --stream`): the
chunks of a real utterance through the step model — in Keras and as a .tflite whose state
layout is read from its metadata — give the full chunked model's log-probabilities."""

import copy
import json
import pathlib

import numpy as np
import pytest
import soundfile

from converters.flatbuffer import load_model
from converters.metadata import read_metadata
from converters.runner import StreamingTFLiteModel
from converters.weights import weights
from rt_keras.cli import main
from rt_keras.core import run_config
from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
from rt_keras.core.vocabulary import DIGITS
from rt_keras.data.audio import read_wav
from rt_keras.model.asr import build_asr_model
from rt_keras.model.saving import save_model
from rt_keras.model.streaming import StreamingShapes, copy_weights, stream, streaming_step_model
from tests.helpers import FSDD, requires_fsdd

pytestmark = requires_fsdd
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def chunked(tiny_config, tmp_path_factory):
    """A chunked tiny run directory (random weights: exactness does not need training;
    the tiny data, for int8 calibration), a real FSDD utterance, and the full model's
    log-probabilities on it."""
    config = run_config.load(ROOT / "configs" / "tiny.yaml", [
        f"data.cache_dir={tiny_config.data.cache_dir}", "name=tiny-streaming", "encoder.chunk_frames=3",
        "encoder.left_context_frames=4"])
    model = build_asr_model(config, len(DIGITS))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    run = tmp_path_factory.mktemp("chunked-run")
    run_config.save(config, run / "config.yaml")
    save_model(model, run / "model.keras")
    shapes = StreamingShapes.of(config)
    audio = np.concatenate([read_wav(f"{FSDD}/recordings/{name}.wav")  # "seven one four nine"
                            for name in ("7_theo_3", "1_theo_5", "4_theo_10", "9_theo_2")])
    soundfile.write(run / "utterance.wav", float_to_pcm(audio), 16000, subtype="PCM_16")
    chunks = -(-audio.size // shapes.chunk_samples)
    padded = np.pad(audio, (shapes.audio_tail, chunks * shapes.chunk_samples - audio.size))  # silence in front
    return run, config, model, audio, model(padded[None]).numpy()


def test_keras_step_streams_the_full_models_output(chunked):
    _, config, model, audio, full = chunked
    step = streaming_step_model(config, len(DIGITS))
    copy_weights(model, step)
    streamed = stream(lambda xs: [o.numpy() for o in step(xs)], audio, StreamingShapes.of(config))
    assert streamed.shape == full.shape and full.shape[1] >= 24
    np.testing.assert_allclose(streamed, full, rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def chunked_qat(chunked):
    """``chunked`` after quantisation-aware fine-tuning (RUN/qat), its QAT model's output on
    the utterance (chunk mask, silence in front as the stream has it)."""
    from rt_keras.runs.qat import finetune, load_qat_model

    run, config, _, audio, _ = chunked
    finetune(run, progress=False)
    shapes = StreamingShapes.of(config)
    chunks = -(-audio.size // shapes.chunk_samples)
    padded = np.pad(audio, (shapes.audio_tail, chunks * shapes.chunk_samples - audio.size))
    qat_model = load_qat_model(run)
    return qat_model, qat_model(padded[None]).numpy()


def test_quantization_aware_step_streams_the_qat_models_output(chunked, chunked_qat):
    """The QAT step carries the QAT run's weights and ranges; tfmot's rewrite must not
    reorder its inputs (it swapped a model Input to the end of a Concatenate: the state
    and the new chunk, before each input got its own Identity)."""
    from rt_keras.model.streaming import quantization_aware_step

    _, config, model, audio, _ = chunked
    qat_model, qat_full = chunked_qat
    step = streaming_step_model(config, len(DIGITS))
    copy_weights(model, step)
    quantized = quantization_aware_step(step, qat_model)
    joins = [quantized.get_layer(f"quant_stream_{name}") for name in ("features", "conv1")]
    assert [layer.input[0].name.split("/")[0] for layer in joins] == ["quant_feature_tail_in", "quant_conv1_tail_in"]
    # Every range the QAT run fine-tuned is in use: tfmot drops the output quantiser of a
    # layer that feeds a Concatenate, so new keys and values reach their caches through an Identity.
    for layer in quantized.layers:
        if layer.name in {source.name for source in qat_model.layers}:
            fine_tuned = {w.name.split("/")[-1] for w in qat_model.get_layer(layer.name).weights}
            assert fine_tuned <= {w.name.split("/")[-1] for w in layer.weights}, layer.name
    streamed = stream(lambda xs: [o.numpy() for o in quantized(xs)], audio, StreamingShapes.of(config))
    assert streamed.shape == qat_full.shape
    np.testing.assert_allclose(streamed, qat_full, rtol=0, atol=1e-4)


@pytest.mark.parametrize("mode,atol", [("float32", 1e-4), ("dynamic", None), ("int8", None), ("qat-int8", None)])
def test_streaming_tflite_matches_and_stores_shared_matrices_once(chunked, tmp_path, capsys, mode, atol, request):
    run, config, model, audio, full = chunked
    out = tmp_path / f"streaming-{mode}.tflite"
    if mode == "qat-int8":
        _, full = request.getfixturevalue("chunked_qat")  # compared with the QAT model
    assert main(["convert", str(run), "--streaming", "--mode", mode, "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    layout = read_metadata(out.read_bytes())["info"]["streaming"]
    shapes = StreamingShapes.of(config)
    assert layout["chunk_samples"] == shapes.chunk_samples == report["streaming"]["chunk_samples"]
    assert [(s["name"], tuple(s["shape"])) for s in layout["state"]] == list(shapes.state().items())
    assert layout["algorithmic_latency_ms"] == pytest.approx(1000 * shapes.chunk_samples / 16000)
    # each shared W_g is one constant read by the K=2 layers of its group
    shared = [w for w in weights(load_model(out.read_bytes())) if w.group == "shared"]
    assert len(shared) == 6 * config.encoder.num_groups
    assert all(w.readers.count("FULLY_CONNECTED") == 2 for w in shared)

    model_file = StreamingTFLiteModel(out)
    chunks = -(-audio.size // model_file.chunk_samples)
    padded = np.pad(audio, (0, chunks * model_file.chunk_samples - audio.size))
    streamed = np.concatenate([model_file(padded[i * model_file.chunk_samples:(i + 1) * model_file.chunk_samples])
                               for i in range(chunks)], axis=1)
    if atol:
        np.testing.assert_allclose(streamed, full, rtol=0, atol=atol)
    else:  # int8 weights (and activations): the same best label in nearly every frame
        agree = np.mean(np.argmax(streamed[0], -1) == np.argmax(full[0], -1))
        assert agree >= 0.9, agree

    status = main(["transcribe", str(out), str(run / "utterance.wav"), "--stream", "--json"])
    partials = json.loads(capsys.readouterr().out)["partials"]
    assert status == 0 and len(partials) == chunks
    assert [p["seconds"] for p in partials] == pytest.approx([(i + 1) * shapes.chunk_samples / 16000
                                                              for i in range(chunks)])
    heard = pcm_to_float(float_to_pcm(read_wav(run / "utterance.wav")))  # as transcribe reads a WAV
    model_file.reset()
    heard = np.pad(heard, (0, chunks * model_file.chunk_samples - heard.size))
    expected = np.concatenate([model_file(heard[i * model_file.chunk_samples:(i + 1) * model_file.chunk_samples])
                               for i in range(chunks)], axis=1)
    assert partials[-1]["transcript"] == DIGITS.decode(greedy_decode(expected[0]))
    assert len(partials[-1]["transcript"].split()) >= 1


def test_evaluate_feeds_a_streaming_file_each_utterance_from_a_fresh_state(chunked, tmp_path, capsys):
    from rt_keras.core.contracts import output_frames
    from rt_keras.core.wer_stats import edit_distance
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.evaluate import evaluate_run

    run, config = chunked[0], chunked[1]
    out = tmp_path / "streaming.tflite"
    assert main(["convert", str(run), "--streaming", "--mode", "float32", "--out", str(out)]) == 0
    capsys.readouterr()
    result = evaluate_run(run, ["test_real"], tflite=out)[0]["test_real"]
    split = load_split(data_directory(config), "test_real")
    expected = []
    for audio, reference in zip(split.audio, split.transcripts):
        log_probs = StreamingTFLiteModel(out).utterance(pcm_to_float(audio)[None])[0]  # a new interpreter each time
        hypothesis = DIGITS.decode(greedy_decode(log_probs, output_frames(audio.size, config.frontend)))
        expected.append(edit_distance(reference.split(), hypothesis.split()))
    assert result["utterance_errors"] == expected and result["words"] == sum(len(t.split()) for t in split.transcripts)
    with pytest.raises(ValueError, match=r"one utterance at a time: expected audio \[1, samples\], got \[2, 800\]"):
        StreamingTFLiteModel(out).utterance(np.zeros((2, 800), np.float32))


def test_streaming_needs_a_chunked_run(tiny_run, tmp_path, capsys):
    out = str(tmp_path / "a.tflite")
    assert main(["convert", str(tiny_run), "--streaming", "--mode", "float32", "--out", out]) == 2
    assert "needs a chunked encoder: train with encoder.chunk_frames > 0" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_lookahead_step_streams_the_full_models_output(chunked, tmp_path, capsys):
    """With 2 frames of look-ahead: the Keras step and its float32 file, fed the chunks and
    one more of silence, give the chunked model's log-probabilities on that audio (the
    stream's first 2 frames dropped); the metadata carries the look-ahead, which adds to
    the algorithmic latency; transcribe --stream flushes the stream."""
    run, config, _, audio, _ = chunked
    config = copy.deepcopy(config)
    config.encoder = config.encoder.replace(lookahead_frames=2)
    model = build_asr_model(config, len(DIGITS))
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    lookahead_run = tmp_path / "lookahead-run"
    lookahead_run.mkdir()
    run_config.save(config, lookahead_run / "config.yaml")
    save_model(model, lookahead_run / "model.keras")
    shapes = StreamingShapes.of(config)
    assert shapes.state()["lookahead"] == (1, 2, config.encoder.d_model)
    chunks = -(-audio.size // shapes.chunk_samples) + 1  # the flush
    padded = np.pad(audio, (shapes.audio_tail, chunks * shapes.chunk_samples - audio.size))
    full = model(padded[None]).numpy()[:, :-2]

    step = streaming_step_model(config, len(DIGITS))
    copy_weights(model, step)
    streamed = stream(lambda xs: [o.numpy() for o in step(xs)], audio, shapes)
    assert streamed.shape == full.shape
    np.testing.assert_allclose(streamed, full, rtol=0, atol=1e-5)

    out = tmp_path / "lookahead.tflite"
    assert main(["convert", str(lookahead_run), "--streaming", "--mode", "float32", "--out", str(out)]) == 0
    layout = read_metadata(out.read_bytes())["info"]["streaming"]
    assert layout["lookahead_frames"] == 2
    assert layout["algorithmic_latency_ms"] == pytest.approx(1000 * (shapes.chunk_samples + 2 * 4 * 160) / 16000)
    np.testing.assert_allclose(StreamingTFLiteModel(out).utterance(audio[None]), full, rtol=0, atol=1e-4)

    capsys.readouterr()
    assert main(["transcribe", str(out), str(run / "utterance.wav"), "--stream", "--json"]) == 0
    partials = json.loads(capsys.readouterr().out)["partials"]
    assert len(partials) == chunks
    heard = pcm_to_float(float_to_pcm(read_wav(run / "utterance.wav")))
    assert partials[-1]["transcript"] == DIGITS.decode(
        greedy_decode(StreamingTFLiteModel(out).utterance(heard[None])[0])
    )
    assert len(partials[-1]["transcript"].split()) >= 1


def test_footprint_measures_a_streaming_model_per_chunk(chunked, tmp_path, capsys):
    from converters.footprint import footprint, validate

    out = tmp_path / "streaming.tflite"
    assert main(["convert", str(chunked[0]), "--streaming", "--mode", "float32", "--out", str(out)]) == 0
    capsys.readouterr()
    report = footprint(out, seconds=1.0, runs=2, warmup=1)
    validate(report)
    shapes = StreamingShapes.of(chunked[1])
    assert report["streaming"]["state_bytes"] == 4 * sum(int(np.prod(s)) for s in shapes.state().values())
    runtime = report["runtime"]
    assert runtime["status"] == "ok", runtime["error"]
    assert runtime["chunk_latency_ms"]["chunks"] == 16000 // shapes.chunk_samples
    assert runtime["audio_seconds"] == pytest.approx(
        runtime["chunk_latency_ms"]["chunks"] * shapes.chunk_samples / 16000
    )
    assert 0 < runtime["chunk_latency_ms"]["median"] <= runtime["latency_ms"]["median"]


def test_a_step_without_left_context_attends_within_its_chunk_only():
    config = run_config.from_dict({"encoder": {"preset": "tiny", "chunk_frames": 2, "dropout": 0.0}})
    model = build_asr_model(config, len(DIGITS))
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    step = streaming_step_model(config, len(DIGITS))
    copy_weights(model, step)
    shapes = StreamingShapes.of(config)
    assert list(shapes.state()) == ["audio_tail", "feature_tail", "conv1_tail", "offset"]  # no caches
    audio = (0.1 * rng.normal(size=4 * shapes.chunk_samples)).astype(np.float32)
    streamed = stream(lambda xs: [o.numpy() for o in step(xs)], audio, shapes)
    full = model(np.pad(audio, (shapes.audio_tail, 0))[None]).numpy()
    np.testing.assert_allclose(streamed, full, rtol=0, atol=1e-5)
