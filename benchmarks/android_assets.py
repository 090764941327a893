"""The Android demo's committed starter set: models from `make demo`'s run directory and one
FSDD recording as assets/sample.wav, with a manifest beside them (assets/MANIFEST.json, not
under assets/models/, which the app lists as models) that records for each file where it
came from (the command and the commit), its sha256 and bytes, and for a model its WER with
the 95% interval and word count on test_real from FILE.tflite.evaluation.json and the
sample's transcript by the host runner.

    make android-assets        # runs/rt/model-qat-int8.tflite + FSDD's 7_theo_3.wav ("seven")
    python -m benchmarks.android_assets --assets DIR --model SRC NAME COMMAND [--model ...] \
        --sample WAV --words "seven" [--extra SRC NAME ...]
    python -m benchmarks.android_assets --assets DIR --verify

Refreshing fails when a model does not transcribe the sample to its words. ``--extra``
files (the baseline models) are copied for the app but are neither committed nor required
(.gitignore); the manifest lists them apart. ``--verify`` checks the committed files
against the manifest (tests/android/test_starter_assets.py does that and more).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

MANIFEST = "MANIFEST.json"
MODELS = "models"  # assets/models/: every file there is offered as a model by the app
SAMPLE = "sample.wav"
SPLIT = "test_real"
SAMPLE_RATE = 16000
FSDD_ATTRIBUTION = ("Free Spoken Digit Dataset (FSDD), Zohar Jackson and contributors, CC BY-SA 4.0 "
                    "(creativecommons.org/licenses/by-sa/4.0); resampled to 16 kHz with soxr. An APK bundling "
                    "it carries share-alike content.")


class AssetsError(RuntimeError):
    """What is missing or wrong, and how to fix it."""


def _contracts():
    """The project's CTC decoding and PCM scaling: (greedy_decode, pcm_to_float, float_to_pcm,
    decode_ids), imported when used (rt_keras.core needs no TensorFlow)."""
    from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
    from rt_keras.core.vocabulary import decode_ids

    return greedy_decode, pcm_to_float, float_to_pcm, decode_ids


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def run_commit(model: pathlib.Path) -> dict:
    """The commit the run was made from: the last commit before its config.yaml was written
    (the run records no commit itself; uncommitted changes at that time are not known)."""
    config = model.parent / "config.yaml"
    started = config.stat().st_mtime if config.is_file() else model.stat().st_mtime
    commit = git("log", "-1", "--format=%H", f"--before=@{int(started)}", "HEAD")
    when = datetime.datetime.fromtimestamp(started, datetime.timezone.utc)
    return {"commit": commit or None, "run_started": when.isoformat(timespec="seconds"),
            "commit_note": "last commit before the run started (its config.yaml's time); the run does not record "
                           "uncommitted changes"}


def evaluation(model: pathlib.Path, split: str = SPLIT) -> dict:
    """The model file's WER on ``split`` with its interval, from FILE.tflite.evaluation.json."""
    report = pathlib.Path(f"{model}.evaluation.json")
    if not report.is_file():
        raise AssetsError(f"{report} not found: evaluate the file first (`rt-keras evaluate RUN --tflite {model}`; "
                          "`make demo` does it)")
    result = json.loads(report.read_text()).get(split)
    if not result:
        raise AssetsError(f"{report} has no {split} result")
    return {"split": split, "wer": result["wer"], "ci95": result["ci95"], "words": result["words"],
            "utterances": result.get("utterances"), "errors": result.get("errors")}


def read_pcm16(path) -> tuple:
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="int16")
    return samples, rate


def transcribe(model_path, wav_path) -> str:
    """The host runner's greedy transcript of a 16-bit WAV at the model's rate (a streaming
    model fed chunk by chunk, as the app does), with the vocabulary in the model's metadata."""
    import numpy as np

    from converters.metadata import read_metadata
    from converters.runner import StreamingTFLiteModel, TFLiteModel

    greedy_decode, pcm_to_float, _, decode_ids = _contracts()
    data = pathlib.Path(model_path).read_bytes()
    metadata = read_metadata(data) or {}
    vocabulary = metadata.get("vocabulary")
    if not vocabulary:
        raise AssetsError(f"{model_path}: no vocabulary in its metadata")
    samples, rate = read_pcm16(wav_path)
    if rate != (metadata.get("sample_rate") or SAMPLE_RATE) or samples.ndim != 1:
        raise AssetsError(f"{wav_path}: {rate} Hz, {samples.ndim} dimension(s); the model takes mono "
                          f"{metadata.get('sample_rate')} Hz")
    audio = pcm_to_float(samples)
    info = metadata.get("info") or {}
    if info.get("streaming"):
        log_probs = StreamingTFLiteModel(data).utterance(audio[None])[0]
    else:
        window = info.get("frame_length", 512)
        audio = np.pad(audio, (0, max(0, window - audio.size)))  # shorter input cannot be prepared
        log_probs = TFLiteModel(data)(audio[None])[0]
    return decode_ids(vocabulary, greedy_decode(log_probs))


def write_sample(source: pathlib.Path, target: pathlib.Path) -> None:
    """An FSDD clip resampled to the models' 16 kHz with soxr, as training reads it."""
    import soundfile

    from rt_keras.data.audio import read_wav

    float_to_pcm = _contracts()[2]
    soundfile.write(str(target), float_to_pcm(read_wav(str(source), target_rate=SAMPLE_RATE)), SAMPLE_RATE,
                    subtype="PCM_16")


def file_entry(path: pathlib.Path, assets: pathlib.Path) -> dict:
    return {"path": path.relative_to(assets).as_posix(), "sha256": sha256(path), "bytes": path.stat().st_size}


def refresh(assets, models, sample, words: str, extras=(), split: str = SPLIT) -> dict:
    """Copy ``models`` [(source, name, command)] and ``sample`` into ``assets``, check each
    model transcribes the sample to ``words`` and write the manifest. Returns it. Every file
    is staged, checked and described first (transcript, evaluation, metadata) and only then
    installed, so a refused model, or a missing evaluation, leaves the committed set as it was."""
    import tempfile

    from converters.files import atomic_path, atomic_write_text

    assets = pathlib.Path(assets)
    sample = pathlib.Path(sample)
    if not sample.is_file():
        raise AssetsError(f"{sample} not found: set FSDD=DIR (the FSDD checkout, README)")
    for source, _, _ in [*models, *((s, n, None) for s, n in extras)]:
        if not pathlib.Path(source).is_file():
            raise AssetsError(f"{source} not found: run `make demo` first")
    head = git("rev-parse", "HEAD") or None
    with tempfile.TemporaryDirectory() as staging:
        staging = pathlib.Path(staging)
        (staging / MODELS).mkdir()
        write_sample(sample, staging / SAMPLE)
        files = [{**file_entry(staging / SAMPLE, staging), "kind": "sample", "words": words,
                  "source": f"FSDD recordings/{sample.name}", "command": "make android-assets", "commit": head,
                  "attribution": FSDD_ATTRIBUTION}]
        for source, name, command in models:
            source, staged = pathlib.Path(source), staging / MODELS / name
            shutil.copyfile(source, staged)  # the bytes checked are the bytes installed
            transcript = transcribe(staged, staging / SAMPLE)
            if transcript != words:
                raise AssetsError(f"{source} transcribes {sample.name} as {transcript!r}, not {words!r}: "
                                  "not a starter model (the starter set is unchanged)")
            shown = source.resolve().relative_to(ROOT) if source.resolve().is_relative_to(ROOT) else source
            files.append({**file_entry(staged, staging), "kind": "model", "source": str(shown), "command": command,
                          **run_commit(source), "model": _metadata(staged), "evaluation": evaluation(source, split),
                          "sample_transcript": transcript})
        extra_entries = []
        for source, name in extras:
            shutil.copyfile(source, staging / MODELS / name)
            extra_entries.append({**file_entry(staging / MODELS / name, staging), "kind": "model",
                                  "source": str(source)})
        (assets / MODELS).mkdir(parents=True, exist_ok=True)
        for entry in [*files, *extra_entries]:
            with atomic_path(assets / entry["path"]) as tmp:
                shutil.copyfile(staging / entry["path"], tmp)
    manifest = {"about": "The Android demo's starter set, committed so a fresh clone builds and runs; refreshed by "
                         "`make android-assets` and checked by tests/android/test_starter_assets.py. 'extras' are "
                         "copied for the app but not committed (.gitignore).",
                "refreshed_at_commit": head, "files": files, "extras": extra_entries}
    atomic_write_text(assets / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def _metadata(path: pathlib.Path) -> dict:
    from converters.metadata import read_metadata

    metadata = read_metadata(path.read_bytes()) or {}
    info = metadata.get("info") or {}
    return {"name": metadata.get("name"), "version": metadata.get("version"), "mode": info.get("mode"),
            "streaming": bool(info.get("streaming")), "sample_rate": metadata.get("sample_rate")}


def load_manifest(assets) -> dict:
    path = pathlib.Path(assets) / MANIFEST
    if not path.is_file():
        raise AssetsError(f"{path} not found: run `make android-assets` (after `make demo`) and commit the set")
    return json.loads(path.read_text())


def verify(assets, manifest: dict | None = None) -> list[str]:
    """Problems: a listed file missing, or its sha256 or size not the manifest's."""
    assets = pathlib.Path(assets)
    manifest = load_manifest(assets) if manifest is None else manifest
    problems = []
    if not manifest.get("files"):
        problems.append("the manifest lists no files")
    for entry in manifest.get("files", []):
        path = assets / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        if path.stat().st_size != entry["bytes"]:
            problems.append(f"{entry['path']}: {path.stat().st_size} bytes, the manifest says {entry['bytes']}")
        if sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 {sha256(path)}, the manifest says {entry['sha256']}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", default=str(ROOT / "android_demo/app/src/main/assets"))
    parser.add_argument("--model", nargs=3, action="append", default=[], metavar=("SRC", "NAME", "COMMAND"),
                        help="a starter model: the run's file, its name in assets/models, the command that made it")
    parser.add_argument("--extra", nargs=2, action="append", default=[], metavar=("SRC", "NAME"),
                        help="a model copied for the app but not committed")
    parser.add_argument("--sample", help="the FSDD recording bundled as sample.wav")
    parser.add_argument("--words", help="what the sample says (every starter model must transcribe it so)")
    parser.add_argument("--verify", action="store_true", help="only check the files against the manifest")
    args = parser.parse_args(argv)
    try:
        if args.verify:
            problems = verify(args.assets)
            for problem in problems:
                print(f"android-assets: {problem}", file=sys.stderr)
            print(f"{args.assets}/{MANIFEST}: {'matches' if not problems else f'{len(problems)} problem(s)'}")
            return 1 if problems else 0
        if not args.model or not args.sample or not args.words:
            parser.error("--model, --sample and --words are needed to refresh the set")
        manifest = refresh(args.assets, args.model, args.sample, args.words, args.extra)
    except AssetsError as error:
        print(f"android-assets: {error}", file=sys.stderr)
        return 2
    for entry in manifest["files"] + manifest["extras"]:
        line = f"{entry['path']}: {entry['bytes']} bytes, sha256 {entry['sha256'][:12]}…"
        if entry.get("evaluation"):
            e = entry["evaluation"]
            line += (f", {e['split']} WER {100 * e['wer']:.1f}% [{100 * e['ci95'][0]:.1f}, {100 * e['ci95'][1]:.1f}] "
                     f"on {e['words']} words, sample -> {entry['sample_transcript']!r}")
        print(line)
    print(f"manifest: {pathlib.Path(args.assets) / MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
