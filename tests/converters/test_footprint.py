"""rt-keras footprint: the report follows its schema and is consistent with the file, the
runtime is measured in a child process, compare flags changes, bad input fails clearly."""

import copy
import json
import re

import jsonschema
import pytest

from converters.footprint import FootprintError, compare, footprint, format_table, load_report, validate
from rt_keras.backend import keras
from rt_keras.cli import main
from rt_keras.export.keras_to_tflite import audio_signature, convert
from tests.helpers import requires_fsdd

pytestmark = requires_fsdd


@pytest.fixture(scope="module")
def models(tiny_converted, tmp_path_factory):
    directory = tmp_path_factory.mktemp("footprint")
    paths = {}
    for mode in ("float32", "qat-int8"):
        paths[mode] = directory / f"tiny-{mode}.tflite"
        paths[mode].write_bytes(tiny_converted.shipped[mode])
    return paths


@pytest.fixture(scope="module")
def reports(models):
    return {mode: footprint(path, seconds=1.0, runs=3, warmup=1) for mode, path in models.items()}


def test_report_follows_the_schema_and_matches_the_file(models, reports):
    for mode, report in reports.items():
        validate(report)
        assert report["model"]["file_bytes"] == models[mode].stat().st_size
        weights = report["weights"]
        assert 0 < weights["unique_bytes"] <= weights["total_bytes"] < report["model"]["file_bytes"]
        assert sum(weights["by_group"].values()) == weights["unique_bytes"]
        assert weights["by_group"]["shared"] > 0 and weights["by_group"]["low_rank"] > 0
        assert report["model"]["mode"] == mode and report["metadata"]["sample_rate"] == 16000
        assert report["ops"]["FULLY_CONNECTED"] > 0
    # int8 shared matrices take a quarter of the float32 bytes
    shared = {mode: reports[mode]["weights"]["by_group"]["shared"] for mode in ("qat-int8", "float32")}
    assert shared["qat-int8"] * 4 == shared["float32"]


def test_runtime_section_is_measured_and_positive(reports):
    runtime = reports["qat-int8"]["runtime"]
    assert runtime["status"] == "ok" and runtime["error"] is None
    assert runtime["load_ms"] > 0 and runtime["real_time_factor"] > 0 and runtime["audio_seconds"] == 1.0
    assert 0 < runtime["latency_ms"]["min"] <= runtime["latency_ms"]["median"] <= runtime["latency_ms"]["p90"]
    memory = runtime["memory_kb"]
    assert memory["after_load"]["rss_kb"] > 0 and memory["after_runs"]["hwm_kb"] >= memory["after_allocate"]["rss_kb"]
    assert runtime["runtime"].startswith("ai-edge-litert")


def test_runtime_reports_the_activation_memory_of_the_measured_length(models, reports):
    from converters.activation_memory import activation_bytes

    activations = reports["float32"]["runtime"]["activations"]
    assert activations == activation_bytes(str(models["float32"]), 16000)
    assert 4 * 16000 < activations["peak_live_bytes"] < activations["intermediate_bytes"]
    header, row = format_table([reports["float32"]]).splitlines()[:2]
    assert "activations" in header.split()
    assert f"{activations['peak_live_bytes'] / 2 ** 20:.1f} MB" in row


def test_schema_rejects_a_broken_report(reports):
    broken = copy.deepcopy(reports["float32"])
    del broken["model"]["sha256"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_compare_flags_changed_fields(reports, tmp_path, capsys):
    a = reports["float32"]
    b = copy.deepcopy(a)
    b["runtime"]["latency_ms"]["median"] = 2 * a["runtime"]["latency_ms"]["median"]
    b["device"]["model"] = "Pixel 8"
    rows = {field: note for field, _, _, note in compare(a, b)}
    assert rows["runtime.latency_ms.median"] == "b/a = 2.000"
    assert rows["device.model"] == "changed"
    assert rows["model.file_bytes"] == "" and rows["weights.unique_bytes"] == ""
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    assert main(["footprint", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "Pixel 8" in out and "2 of" in out.splitlines()[-1]


def test_compare_picks_the_thread_count_from_the_apps_multi_thread_report(reports, tmp_path, capsys):
    host = reports["float32"]
    phone = []
    for threads in (1, 2, 4):
        report = copy.deepcopy(host)
        report["source"], report["runtime"]["threads"] = "android", threads
        report["runtime"]["latency_ms"]["median"] = 100.0 / threads
        phone.append(report)
    (tmp_path / "host.json").write_text(json.dumps(host))
    (tmp_path / "phone.json").write_text(json.dumps(phone))
    assert main(["footprint", "--compare", str(tmp_path / "host.json"), str(tmp_path / "phone.json"),
                 "--threads", "2", "--json"]) == 0
    rows = {row["field"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["runtime.latency_ms.median"]["b"] == 50.0 and rows["runtime.threads"]["b"] == 2
    with pytest.raises(FootprintError, match=r"holds 3 reports measured with threads \[1, 2, 4\]; choose one"):
        load_report(tmp_path / "phone.json", threads=8)


def test_cli_json_and_report_directory(models, tmp_path, capsys):
    status = main(["footprint", str(models["float32"]), str(models["qat-int8"]), "--seconds", "0.5", "--runs", "2",
                   "--json", "--report", str(tmp_path / "report")])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed) == 2
    for report in printed:
        validate(report)
    for name in ("README.md", "footprint.json", "weights.png", "runtime.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0, name
    assert (tmp_path / "report" / "weights.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_inputs_give_clear_errors(tmp_path, capsys):
    with pytest.raises(FootprintError, match="no such file"):
        footprint(tmp_path / "missing.tflite")
    text = tmp_path / "notes.tflite"
    text.write_text("not a model")
    with pytest.raises(FootprintError, match="notes.tflite"):
        footprint(text)
    assert main(["footprint", str(text)]) == 2 and "notes.tflite" in capsys.readouterr().err

    inputs = keras.Input((10, 4), name="features")  # features in, not audio
    features_model = tmp_path / "features.tflite"
    features_model.write_bytes(convert(keras.Model(inputs, keras.layers.Dense(3)(inputs))))
    with pytest.raises(FootprintError, match=r"input is not audio.*float32 tensor \[1, samples\]"):
        footprint(features_model)


def test_a_model_that_fails_to_allocate_is_reported_not_a_crash(tiny_converted, tmp_path):
    model = tiny_converted.model
    fixed = tmp_path / "fixed-1s.tflite"
    fixed.write_bytes(convert(model, "float32", audio_signature(16000)))
    assert footprint(fixed, runs=1, warmup=0)["runtime"]["status"] == "ok"  # its own length: 1 s
    report = footprint(fixed, seconds=2.0, runs=1, warmup=0)  # a length it was not built for
    validate(report)
    assert report["runtime"]["status"] == "failed" and report["runtime"]["error"].startswith("allocate")


def test_one_bad_file_among_several_is_named_and_the_others_are_measured(models, tmp_path, capsys):
    text = tmp_path / "notes.tflite"
    text.write_text("not a model")
    status = main(["footprint", str(models["float32"]), str(text), str(models["qat-int8"]), "--static", "--json"])
    captured = capsys.readouterr()
    assert status == 1 and captured.err.startswith(f"rt-keras footprint: {text}") and \
        len(captured.err.strip().splitlines()) == 1, captured.err
    measured = json.loads(captured.out)
    assert [r["model"]["path"] for r in measured] == [str(models["float32"]), str(models["qat-int8"])]


def test_table_columns_widen_to_paper_size_numbers(reports):
    """Paper-size figures (issue 18's table ran 57,013,700 and 56,623,104 together)."""
    big = copy.deepcopy(reports["float32"])
    big["model"]["file_bytes"], big["weights"]["unique_bytes"] = 58_302_216, 57_013_700
    big["weights"]["by_group"]["shared"], big["weights"]["by_group"]["low_rank"] = 56_623_104, 1_234_567
    header, small_row, big_row = format_table([reports["float32"], big]).splitlines()[:3]
    assert re.search(r"58,302,216\s{2,}57,013,700\s{2,}56,623,104\s{2,}1,234,567\s{2,}", big_row), big_row
    assert len(header) == len(small_row) == len(big_row)  # columns line up


def test_table_shows_a_dash_for_timings_left_out_not_nan(reports):
    emulated = copy.deepcopy(reports["float32"])
    runtime = emulated["runtime"]
    for field in ("load_ms", "real_time_factor"):
        runtime.pop(field)
    runtime["latency_ms"] = {}
    runtime["emulated"] = {"cpu": "cortex-a76", "emulator": "qemu", "timings": "left out"}
    header, row = format_table([emulated]).splitlines()[:2]
    cells = dict(zip(re.split(r"\s{2,}", header.strip()), re.split(r"\s{2,}", row.strip())))
    assert [cells[c] for c in ("load ms", "median ms", "p90 ms", "RTF")] == ["—"] * 4, row
    assert cells["RSS load"].endswith(" MB") and "nan" not in row


def test_weight_cache_runs_the_same_model_and_holds_the_packed_weights(models, reports):
    """--weight-cache (CompiledModel + XNNPACK's weight cache in a file, as the Android app
    uses it, which packs a shared W_g once instead of once per reader) computes what the
    Interpreter computes, and reports the packed weights the cache file holds."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from converters.footprint_probe import compiled_model, compiled_runner, test_audio

    audio = test_audio(24000, 16000)
    for mode, path in models.items():
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        (detail,) = interpreter.get_input_details()
        interpreter.resize_tensor_input(detail["index"], list(audio.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], audio)
        interpreter.invoke()
        expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        got = compiled_runner(compiled_model(str(path)), audio.shape[1])(audio)
        assert got.shape == expected.shape and expected.shape[1] == 37  # 1.5 s: 148 frames (25 ms every 10 ms) / 4
        if mode == "float32":
            np.testing.assert_allclose(got, expected, atol=1e-5)
        else:  # CompiledModel's XNNPACK settings round int8 differently; the best path is the same
            np.testing.assert_array_equal(got.argmax(-1), expected.argmax(-1))

    cached = footprint(models["qat-int8"], seconds=1.0, runs=2, warmup=1, weight_cache=True)
    validate(cached)
    runtime = cached["runtime"]
    assert runtime["status"] == "ok" and runtime["xnnpack_weight_cache"] is True
    assert "weight cache" in runtime["runtime"] and runtime["latency_ms"]["median"] > 0
    plain = reports["qat-int8"]["runtime"]
    assert plain["xnnpack_weight_cache"] is False
    assert plain["weight_cache_bytes"] is None
    # The file holds the packed weights once: about the unique weight bytes (int8 kernels packed
    # with their sums and padding; the float front-end is not packed), never a copy per reader.
    assert 0 < runtime["weight_cache_bytes"] < 2 * cached["weights"]["unique_bytes"]
