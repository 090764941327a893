"""The Android demo's committed starter set (android_demo/app/src/main/assets): each file
matches its manifest (sha256, bytes), is committed, and each model loads in LiteRT and
transcribes the committed sample to its known words with the host runner. A wrong sha256
or a wrong transcript fails (shown on copies). Refreshed by `make android-assets`
(benchmarks/android_assets.py)."""

import json
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from benchmarks.android_assets import MANIFEST, SAMPLE, AssetsError, load_manifest, refresh, transcribe, verify
from tests.helpers import FSDD, requires_fsdd

ROOT = pathlib.Path(__file__).parents[2]
ASSETS = pathlib.Path(os.environ.get("RT_KERAS_ANDROID_ASSETS", ROOT / "android_demo/app/src/main/assets"))


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(ASSETS)


def entries(manifest, kind):
    return [entry for entry in manifest["files"] if entry["kind"] == kind]


def test_committed_files_match_their_manifest(manifest):
    assert verify(ASSETS, manifest) == []
    (sample,) = entries(manifest, "sample")
    assert sample["path"] == SAMPLE and sample["words"]
    assert "CC BY-SA 4.0" in sample["attribution"] and "Zohar Jackson and contributors" in sample["attribution"]
    models = entries(manifest, "model")
    assert models and all(m["path"].startswith("models/") and m["path"].endswith(".tflite") for m in models)
    # both of make demo's files: the whole-utterance one and the streaming one the app opens by default
    assert sorted(m["model"]["streaming"] for m in models if m["command"] == "make demo") == [False, True]
    for model in models:
        assert model["command"] and re.fullmatch(r"[0-9a-f]{40}", model["commit"] or ""), model
        e = model["evaluation"]
        assert e["split"] == "test_real" and e["words"] > 0
        assert 0 <= e["ci95"][0] <= e["wer"] <= e["ci95"][1] <= 1 + 1e-9


def test_every_asset_is_committed_and_listed(manifest):
    if not (ROOT / ".git").exists() or not ASSETS.resolve().is_relative_to(ROOT.resolve()):
        pytest.skip("not a git checkout (or RT_KERAS_ANDROID_ASSETS points outside it)")
    listed = {entry["path"] for entry in manifest["files"]}
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--", str(ASSETS)], capture_output=True,
                             text=True, check=True).stdout.split()
    tracked = {str(pathlib.Path(ROOT / p).relative_to(ASSETS).as_posix()) for p in tracked}
    assert tracked - {MANIFEST} == listed, "committed assets and the manifest differ (make android-assets, commit)"
    for path in listed:  # never dropped by .gitignore again
        ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(ASSETS / path)])
        assert ignored.returncode == 1, f"{path} is ignored by .gitignore"


def test_each_starter_model_transcribes_the_committed_sample(manifest):
    (sample,) = entries(manifest, "sample")
    samples, rate = soundfile.read(ASSETS / SAMPLE, dtype="int16")
    assert rate == 16000 and samples.ndim == 1 and soundfile.info(str(ASSETS / SAMPLE)).subtype == "PCM_16"
    for model in entries(manifest, "model"):
        transcript = transcribe(ASSETS / model["path"], ASSETS / SAMPLE)  # loads it in LiteRT
        assert transcript == sample["words"] == model["sample_transcript"], model["path"]


def test_a_wrong_sha256_or_a_wrong_transcript_fails(manifest, tmp_path):
    copy = tmp_path / "assets"
    shutil.copytree(ASSETS, copy)
    wrong = json.loads(json.dumps(manifest))
    wrong["files"][0]["sha256"] = "0" * 64
    (problem,) = verify(copy, wrong)
    assert problem.startswith(f"{wrong['files'][0]['path']}: sha256 ") and problem.endswith("0" * 64)
    (copy / manifest["files"][-1]["path"]).write_bytes(b"truncated")
    assert len(verify(copy, manifest)) == 2  # size and sha256
    (copy / manifest["files"][-1]["path"]).unlink()
    assert verify(copy, manifest) == [f"{manifest['files'][-1]['path']}: missing"]
    # a recording that does not say the words: the same check gives another transcript
    (sample,) = entries(manifest, "sample")
    noise = (np.random.default_rng(0).normal(0, 300, 16000)).astype(np.int16)
    soundfile.write(tmp_path / "noise.wav", noise, 16000, subtype="PCM_16")
    for model in entries(manifest, "model"):
        assert transcribe(ASSETS / model["path"], tmp_path / "noise.wav") != sample["words"]


@requires_fsdd
def test_refreshing_writes_the_manifest_and_refuses_a_model_that_misses_the_words(manifest, tmp_path):
    """`make android-assets` on a stand-in run directory holding the committed model."""
    run = tmp_path / "runs" / "rt"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("name: rt\n")
    model = run / "model-qat-int8.tflite"
    shutil.copy(ASSETS / "models" / "rt-qat-int8.tflite", model)
    evaluation = {"test_real": {"wer": 0.125, "ci95": [0.1, 0.15], "errors": 10, "words": 80, "utterances": 30}}
    pathlib.Path(f"{model}.evaluation.json").write_text(json.dumps(evaluation))
    clip = pathlib.Path(FSDD) / "recordings" / "7_theo_3.wav"
    out = tmp_path / "assets"
    written = refresh(out, [(model, "rt-qat-int8.tflite", "make demo")], clip, "seven")
    assert json.loads((out / MANIFEST).read_text()) == written and verify(out) == []
    sample, entry = written["files"]
    assert sample["sha256"] == entries(manifest, "sample")[0]["sha256"]  # the committed sample, reproduced
    assert entry["evaluation"] == {"split": "test_real", **evaluation["test_real"]}
    assert entry["sample_transcript"] == "seven" and entry["command"] == "make demo"
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    other = shutil.copy(ASSETS / "models" / "rt-streaming-qat-int8.tflite", tmp_path / "other.tflite")
    with pytest.raises(AssetsError, match="transcribes 7_theo_3.wav as 'seven', not 'eight'"):
        refresh(out, [(other, "rt-qat-int8.tflite", "make demo")], clip, "eight")
    # a refused model (other bytes than the set's) leaves the set as it was: no file replaced, none added
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    # the same when the first model passes and the second has no evaluation to record
    second = shutil.copy(other, run / "model-streaming.tflite")
    with pytest.raises(AssetsError, match="model-streaming.tflite.evaluation.json not found"):
        refresh(out, [(model, "rt-qat-int8.tflite", "make demo"), (second, "other.tflite", "make demo")], clip,
                "seven")
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
