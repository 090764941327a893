"""The Android app's CompiledModel path replayed on the host (issue 29): the app runs a
streaming step on LiteRT's CompiledModel with XNNPACK's weight cache in a file
(LiteRtEngine.CompiledStreaming). The same options go through ai-edge-litert's Python
CompiledModel (converters/footprint_probe.py ``app_compiled_model`` and
``compiled_streaming_runner``) on a small real model built here: one Dense layer instance
called three times (a shared W_g read by three operators), converted with the repo's
converter and deduplicated. The outputs must equal the Interpreter's chunk by chunk with
the state carried, and the cache file must hold the packed weights once (close to the
unique weight bytes), not once per reader; an unshared control holds three copies.
"""

import pathlib
import re

import numpy as np
import pytest

from converters.dedup import dedup_bytes
from converters.flatbuffer import load_model
from converters.footprint_probe import app_compiled_model, compiled_streaming_runner, probe
from converters.weights import summary, weights

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHUNK, FRAMES, WIDTH, CLASSES = 512, 4, 256, 11
LAYOUT = [{"name": "state_in", "output": "state_out", "shape": [1, WIDTH]}]
FC_WEIGHT_BYTES = 4 * WIDTH * WIDTH  # one float32 [256, 256] kernel


def streaming_step(shared: bool) -> bytes:
    """A streaming step with the app's tensor names: inputs "audio" [1, CHUNK] and a state,
    outputs "output_0" [1, FRAMES, CLASSES] (log-probabilities) and the next state. Its middle
    is three blocks of Dense(WIDTH) + ReLU + residual: one Dense instance for all three
    (``shared``) or one each."""
    from rt_keras.backend import keras, tf
    from rt_keras.export.keras_to_tflite import convert

    audio = keras.Input(batch_size=1, shape=(CHUNK,), name="audio")
    state = keras.Input(batch_size=1, shape=(WIDTH,), name="state_in")
    frames = keras.layers.Reshape((FRAMES, CHUNK // FRAMES))(audio)
    x = keras.layers.Dense(WIDTH, name="embed")(frames)
    x = keras.layers.Add()([x, keras.layers.Reshape((1, WIDTH))(state)])
    blocks = [keras.layers.Dense(WIDTH, name="w_g")] * 3 if shared else \
        [keras.layers.Dense(WIDTH, name=f"w_{i}") for i in range(3)]
    for dense in blocks:
        x = keras.layers.Add()([x, keras.layers.ReLU()(dense(x))])
    log_probs = keras.layers.Softmax()(keras.layers.Dense(CLASSES, name="head")(x))
    next_state = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model([audio, state], {"output_0": log_probs, "state_out": next_state})
    rng = np.random.default_rng(29)
    model.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32) for w in model.get_weights()])
    flatbuffer = convert(model, "float32", input_signature=[tf.TensorSpec([1, CHUNK], tf.float32, name="audio"),
                                                             tf.TensorSpec([1, WIDTH], tf.float32, name="state_in")])
    deduplicated, _ = dedup_bytes(flatbuffer)
    return deduplicated


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    directory = tmp_path_factory.mktemp("weight-cache")
    paths = {}
    for shared in (True, False):
        path = directory / ("shared.tflite" if shared else "unshared.tflite")
        path.write_bytes(streaming_step(shared))
        paths[shared] = path
    return paths


def interpreter_stream(path, chunks):
    """What the app's Interpreter path (LiteRtEngine.Streaming, runSignature) computes."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path), num_threads=1).get_signature_runner()
    state, outputs = np.zeros([1, WIDTH], np.float32), []
    for chunk in chunks:
        out = runner(audio=chunk, state_in=state)
        outputs.append(out["output_0"])
        state = out["state_out"]
    return outputs


def compiled_stream(step, chunks):
    state, outputs = {"state_in": np.zeros([1, WIDTH], np.float32)}, []
    for chunk in chunks:
        log_probs, state = step(chunk, state)
        outputs.append(log_probs)
    return outputs


def unique_weight_bytes(path) -> int:
    return summary(weights(load_model(pathlib.Path(path).read_bytes())))["unique_bytes"]


def test_the_apps_compiled_model_options_give_the_interpreters_outputs_and_pack_a_shared_weight_once(steps, tmp_path):
    chunks = [np.random.default_rng(i).uniform(-0.3, 0.3, [1, CHUNK]).astype(np.float32) for i in range(4)]
    packed = {}
    for shared, path in steps.items():
        expected = interpreter_stream(path, chunks)
        for threads in (1, 2):
            cache = tmp_path / f"{path.stem}-{threads}.xnnpack_cache"
            model = app_compiled_model(path, threads, cache)
            assert cache.is_file()  # written while loading: its size is what the app reports
            packed[shared, threads] = cache.stat().st_size
            got = compiled_stream(compiled_streaming_runner(model, LAYOUT), chunks)
            for g, e in zip(got, expected):
                assert g.shape == e.shape == (1, FRAMES, CLASSES)
                np.testing.assert_allclose(g, e, rtol=0, atol=1e-6)
            # The app keeps the file: the next launch loads the packed weights from it.
            again = app_compiled_model(path, threads, cache)
            assert cache.stat().st_size == packed[shared, threads]
            for g, e in zip(compiled_stream(compiled_streaming_runner(again, LAYOUT), chunks), expected):
                np.testing.assert_allclose(g, e, rtol=0, atol=1e-6)
            model.close()
            again.close()
    unique = {shared: unique_weight_bytes(path) for shared, path in steps.items()}
    # The shared model stores W_g once: its unique weights are the unshared model's less two kernels.
    assert unique[False] - unique[True] == 2 * (FC_WEIGHT_BYTES + 4 * WIDTH)
    for threads in (1, 2):
        # Packed once: about the unique weight bytes (XNNPACK pads to its tiles and adds a header) ...
        assert unique[True] * 0.9 <= packed[True, threads] <= unique[True] * 1.1 + 16384, (packed, unique)
        # ... not once per reader: three readers of W_g would add two more kernels.
        assert packed[True, threads] < unique[True] + FC_WEIGHT_BYTES
        # The unshared control packs its three kernels, so the measure tells the two apart.
        assert packed[False, threads] - packed[True, threads] >= 2 * FC_WEIGHT_BYTES * 0.9


def test_the_probe_measures_a_streaming_step_with_the_weight_cache_as_the_app_does(steps):
    from converters.footprint_probe import BENCHMARK

    runtime = probe(str(steps[True]), seconds=0.5, sample_rate=16000, runs=2, warmup=1, threads=1,
                    streaming_state=LAYOUT, weight_cache=True)
    assert runtime["status"] == "ok", runtime["error"]
    assert runtime["xnnpack_weight_cache"] is True and "weight cache in a file" in runtime["runtime"]
    assert unique_weight_bytes(steps[True]) * 0.9 <= runtime["weight_cache_bytes"] \
        <= unique_weight_bytes(steps[True]) * 1.1 + 16384
    assert runtime["chunk_latency_ms"]["chunks"] == 8000 // CHUNK and runtime["latency_ms"]["median"] > 0
    plain = probe(str(steps[True]), seconds=0.5, sample_rate=16000, runs=2, warmup=1, threads=1,
                  streaming_state=LAYOUT)
    assert plain["status"] == "ok" and plain["xnnpack_weight_cache"] is False
    assert plain["weight_cache_bytes"] is None
    assert BENCHMARK["threads"] == 1


def test_the_app_calls_compiled_model_with_the_options_the_host_replays():
    """LiteRtEngine.CompiledStreaming and app_compiled_model / compiled_streaming_runner stay
    the same call: CPU only, the thread count, no XNNPACK flags, a cache file; buffers and run
    by name through the first signature ("")."""
    java = (ROOT / "android_demo" / "app" / "src" / "main" / "java" / "org" / "rtkeras" / "demo" /
            "LiteRtEngine.java").read_text()
    assert "new CompiledModel.Options(Accelerator.CPU)" in java
    assert "new CompiledModel.CpuOptions(threads, null, cacheFile.getPath())" in java
    assert re.search(r'model\.run\(inputs, outputs, ""\)', java)
    assert re.search(r'createInputBuffer\(StreamingLayout\.AUDIO, ""\)', java)
    assert re.search(r'createOutputBuffer\(StreamingLayout\.LOG_PROBS, ""\)', java)


def test_only_lite_rt_engine_touches_lite_rt():
    app = sorted((ROOT / "android_demo" / "app").rglob("*.java"))
    for package in ("org.tensorflow.lite", "com.google.ai.edge.litert"):
        assert [p.name for p in app if package in p.read_text()] == ["LiteRtEngine.java"], package
