"""The user's own data: manifests (JSON Lines and CSV), speaker-disjoint splits, any
vocabulary, through materialise, training, conversion and evaluation. Fixtures are
phrases spoken by espeak-ng voices at test time."""

import json
import pathlib

import numpy as np
import pytest
import soundfile

from rt_keras.cli import main
from rt_keras.core import run_config
from rt_keras.core.vocabulary import Vocabulary
from rt_keras.data import manifest
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import evaluation_splits, load_split, read_manifest

ROOT = pathlib.Path(__file__).parents[2]
PHRASES = ("turn on the light", "stop", "next song", "volume up", "what's the time")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """Six espeak-ng voices saying five phrases, as WAVs and a JSON Lines manifest."""
    from rt_keras.data import espeak_voices

    directory = tmp_path_factory.mktemp("commands")
    voices = espeak_voices.sample_voices(6, held_out=False, seed=5)
    rows = []
    for v, (voice, clips) in enumerate(zip(voices, espeak_voices.synthesize_clips(voices, PHRASES))):
        for p, clip in enumerate(clips):
            path = directory / "audio" / f"{v}-{p}.wav"
            path.parent.mkdir(exist_ok=True)
            soundfile.write(path, np.concatenate([np.zeros(1600, np.int16), clip, np.zeros(1600, np.int16)]), 16000)
            rows.append({"audio": f"audio/{v}-{p}.wav", "text": PHRASES[p].upper() + "!", "speaker": f"voice{v}"})
    return directory, rows


def write_manifest(path: pathlib.Path, rows, fmt="jsonl") -> pathlib.Path:
    if fmt == "csv":
        lines = ["audio,text,speaker"] + [f"{r['audio']},{r['text']},{r.get('speaker', '')}" for r in rows]
    else:
        lines = [json.dumps(r) if isinstance(r, dict) else r for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def config_for(train_manifest, cache, *overrides):
    return run_config.load(ROOT / "configs" / "tiny.yaml", [
        "data.source=manifest", f"data.manifests={{train: {train_manifest}}}", f"data.cache_dir={cache}",
        "data.validation_fraction=0.2", "data.test_fraction=0.2", *overrides])


# -- reading manifests ------------------------------------------------------------------
def test_jsonl_and_csv_rows_are_read_alike_and_text_is_normalised(spoken):
    directory, rows = spoken
    jsonl, _ = manifest.read_rows(write_manifest(directory / "m.jsonl", rows))
    csv_rows, _ = manifest.read_rows(write_manifest(directory / "m.csv", rows, "csv"))
    assert [(r.audio, r.text, r.speaker) for r in jsonl] == [(r.audio, r.text, r.speaker) for r in csv_rows]
    assert len(jsonl) == 30 and jsonl[0].text == "turn on the light" and jsonl[4].text == "what's the time"
    assert jsonl[0].audio == (directory / "audio" / "0-0.wav").resolve()


def test_bad_rows_are_skipped_counted_and_named(spoken):
    directory, rows = spoken
    bad = rows[:3] + [rows[0], {"audio": "audio/none.wav", "text": "stop"}, {"audio": "audio/3-1.wav", "text": "?!"}]
    kept, skipped = manifest.read_rows(write_manifest(directory / "bad.jsonl", bad))
    assert len(kept) == 3
    assert skipped == ["bad.jsonl line 4: repeats 0-0.wav of line 1",
                       f"bad.jsonl line 5: audio file {(directory / 'audio' / 'none.wav').resolve()} not found",
                       "bad.jsonl line 6: empty transcript '?!'"]


@pytest.mark.parametrize("lines, message", [
    (['{"audio": "audio/0-0.wav", "text": "stop"}', "{not json"], r"bad.jsonl line 2: not JSON"),
    (['{"audio": "audio/0-0.wav"}'], r"bad.jsonl line 1: no 'text' field"),
    (['["audio/0-0.wav", "stop"]'], r"bad.jsonl line 1: expected a JSON object, got list"),
    (['{"audio": 3, "text": "stop"}'], r"line 1: audio and text must be strings"),
    (['{"audio": "audio/none.wav", "text": "stop"}'], r"bad.jsonl: no usable rows \(1 skipped, first: .*not found\)"),
])
def test_malformed_manifests_raise_one_clear_error(spoken, lines, message):
    directory, _ = spoken
    with pytest.raises(manifest.ManifestError, match=message):
        manifest.read_rows(write_manifest(directory / "bad.jsonl", lines))


def test_csv_without_the_columns_and_paths_outside_the_tree(spoken, tmp_path):
    directory, rows = spoken
    (tmp_path / "bad.csv").write_text("file,transcript\na.wav,stop\n")
    with pytest.raises(manifest.ManifestError, match=r"CSV header \['file', 'transcript'\] lacks \['audio', 'text'\]"):
        manifest.read_rows(tmp_path / "bad.csv")
    outside = write_manifest(tmp_path / "outside.jsonl", [{**rows[0], "audio": str(directory / rows[0]["audio"])}])
    assert len(manifest.read_rows(outside)[0]) == 1  # absolute paths are fine by default
    with pytest.raises(manifest.ManifestError, match=r"outside.jsonl line 1: .* is outside the manifest's directory"):
        manifest.read_rows(outside, strict_paths=True)


def test_carving_by_speaker_keeps_speakers_apart_and_is_stable(spoken):
    directory, rows = spoken
    kept, _ = manifest.read_rows(write_manifest(directory / "m.jsonl", rows))
    carved = manifest.carve(kept, "speaker", {"validation": 0.2, "test": 0.2}, seed=0)
    speakers = {name: {r.speaker for r in split} for name, split in carved.items()}
    assert [len(speakers[n]) for n in ("train", "validation", "test")] == [4, 1, 1]
    assert not (speakers["train"] & speakers["test"]) and not (speakers["validation"] & speakers["test"])
    assert sum(len(s) for s in carved.values()) == 30
    # more rows from a new speaker move no earlier speaker
    extra = [manifest.Row(r.audio, r.text, "newcomer", r.where) for r in kept[:5]]
    again = manifest.carve(kept + extra, "speaker", {"validation": 0.2, "test": 0.2}, seed=0)
    assert {r.speaker for r in again["test"]} - {"newcomer"} <= speakers["test"] | speakers["validation"] \
        | speakers["train"]
    by_utterance = manifest.carve(kept, "utterance", {"validation": 0.2, "test": 0.2}, seed=0)
    assert [len(by_utterance[n]) for n in ("train", "validation", "test")] == [18, 6, 6]


def test_carving_needs_speakers(spoken):
    directory, rows = spoken
    kept, _ = manifest.read_rows(write_manifest(directory / "m.jsonl", [{**r, "speaker": ""} for r in rows]))
    with pytest.raises(manifest.ManifestError, match=r"no speaker; data.split_by=speaker needs a speaker .*30 rows"):
        manifest.carve(kept, "speaker", {"validation": 0.1}, seed=0)
    two = [manifest.Row(r.audio, r.text, f"s{i % 2}", r.where) for i, r in enumerate(kept)]
    with pytest.raises(manifest.ManifestError, match="2 speaker\\(s\\) cannot make train and validation, test"):
        manifest.carve(two, "speaker", {"validation": 0.1, "test": 0.1}, seed=0)


# -- materialised splits ----------------------------------------------------------------
@pytest.fixture(scope="module")
def char_data(spoken, tmp_path_factory):
    directory, rows = spoken
    broken = directory / "audio" / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    broken = {"audio": "audio/broken.wav", "text": "stop", "speaker": "voice0"}
    train = write_manifest(directory / "train.jsonl", rows + [broken])
    config = config_for(train, tmp_path_factory.mktemp("cache"), "data.vocabulary=char")
    return config, materialise(config, progress=False)


def test_one_manifest_gives_speaker_disjoint_splits_and_a_char_vocabulary(char_data):
    config, data_dir = char_data
    described = read_manifest(data_dir)
    assert list(described["splits"]) == ["train", "validation", "test"] and evaluation_splits(data_dir) == ["test"]
    splits = {name: load_split(data_dir, name) for name in described["splits"]}
    assert [len(s) for s in splits.values()] == [20, 5, 5]
    assert not set(splits["train"].sources) & (set(splits["test"].sources) | set(splits["validation"].sources))
    vocabulary = Vocabulary.load(data_dir)
    assert vocabulary.kind == "char" and described["vocabulary"] == list(vocabulary.tokens)
    assert set(vocabulary.tokens[2:]) == set("turnoheligtspxvmwa'")
    assert splits["train"].vocabulary == vocabulary
    assert described["skipped"]["count"] == 1 and "broken.wav" in described["skipped"]["files"][0]
    assert splits["test"].transcripts[0] in PHRASES


def test_a_changed_manifest_is_new_data_and_leaks_between_splits_are_refused(spoken, char_data, tmp_path):
    config, data_dir = char_data
    directory, rows = spoken
    changed = write_manifest(tmp_path / "train.jsonl", [{**r, "audio": str(directory / r["audio"])} for r in rows[:-1]])
    assert (
        run_config.load(
            ROOT / "configs" / "tiny.yaml", ["data.source=manifest", f"data.manifests={{train: {changed}}}"]
        ).data_key()
        != config.data_key()
    )
    test = write_manifest(tmp_path / "test.jsonl", [{**rows[0], "audio": str(directory / rows[0]["audio"])}])
    leaky = config_for(changed, tmp_path / "cache", f"data.manifests={{train: {changed}, test: {test}}}")
    with pytest.raises(manifest.ManifestError, match=r"0-0.wav is in two splits \(train.jsonl line 1 and test.jsonl"):
        materialise(leaky, progress=False)


def test_bad_manifest_configs_exit_2_with_one_line(spoken, tmp_path, capsys):
    directory, _ = spoken
    cases = [
        (["--set", "data.source=manifest"], "data.source=manifest needs at least {train: PATH}"),
        (
            ["--set", "data.source=manifest", "--set", f"data.manifests={{train: {tmp_path / 'none.jsonl'}}}"],
            "none.jsonl not found",
        ),
        (["--set", "data.source=manifest", "--set", "data.manifests={train: x, dev: y}"], "['dev']: keys are"),
        (["--set", f"data.manifests={{train: {directory / 'train.jsonl'}}}"], "set data.source=manifest"),
        (["--set", "data.vocabulary=letters"], "allowed: word, char, subword"),
    ]
    for arguments, message in cases:
        assert (
            main(
                [
                    "data",
                    "--config",
                    str(ROOT / "configs" / "tiny.yaml"),
                    *arguments,
                    "--set",
                    f"data.cache_dir={tmp_path}",
                ]
            )
            == 2
        )
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1, error


def test_cli_split_by_utterance_carves_single_recordings(spoken, tmp_path, capsys):
    directory, rows = spoken
    train = write_manifest(tmp_path / "train.jsonl", [{**r, "audio": str(directory / r["audio"])} for r in rows])
    assert (
        main(
            [
                "data",
                "--config",
                str(ROOT / "configs" / "tiny.yaml"),
                "--set",
                "data.source=manifest",
                "--set",
                f"data.manifests={{train: {train}}}",
                "--set",
                f"data.cache_dir={tmp_path}",
                "--set",
                "data.validation_fraction=0.2",
                "--set",
                "data.test_fraction=0.2",
                "--split-by",
                "utterance",
                "--json",
            ]
        )
        == 0
    )
    described = json.loads(capsys.readouterr().out)
    assert described["data_config"]["split_by"] == "utterance"
    assert [s["utterances"] for s in described["splits"].values()] == [18, 6, 6]


# -- sharded TFRecord storage -------------------------------------------------------------
@pytest.fixture(scope="module")
def sharded_data(char_data, tmp_path_factory):
    config, memory_dir = char_data
    sharded = config_for(
        config.data.manifests["train"],
        tmp_path_factory.mktemp("sharded"),
        "data.vocabulary=char",
        "data.storage=shards",
        "data.shard_utterances=7",
    )
    return memory_dir, materialise(sharded, progress=False), sharded


def test_shards_hold_the_same_splits_as_memory(sharded_data):
    from rt_keras.data import shards

    memory_dir, shard_dir, _ = sharded_data
    in_memory, sharded = read_manifest(memory_dir)["splits"], read_manifest(shard_dir)["splits"]
    assert {n: s["sha256"] for n, s in sharded.items()} == {n: s["sha256"] for n, s in in_memory.items()}
    assert sharded["train"]["shards"] == 3 and len(shards.shard_paths(shard_dir, "train")) == 3  # 20 = 7 + 7 + 6
    assert not list(shard_dir.glob("*.npz")) and not list(shard_dir.glob(".*tmp"))
    for name in in_memory:
        a, b = load_split(memory_dir, name), load_split(shard_dir, name)
        assert b.transcripts == a.transcripts and b.sources == a.sources and b.vocabulary == a.vocabulary
        assert all(np.array_equal(x, y) for x, y in zip(a.audio, b.audio)) and len(a.audio) == len(b.audio)


def test_streamed_batches_cover_each_utterance_once_per_epoch_and_workers_split_by_shard(sharded_data):
    from rt_keras.core.contracts import output_frames, target_frames, target_labels
    from rt_keras.data.batches import batches, training_split
    from rt_keras.data.shards import sharded_batches

    _, shard_dir, config = sharded_data
    split = load_split(shard_dir, "train")
    expected = sorted((t, output_frames(a.size, config.frontend)) for a, t in zip(split.audio, split.transcripts))

    def epoch(dataset):
        seen = []
        for audio, targets in dataset:
            assert audio.shape[0] <= 4
            for labels, frames in zip(target_labels(targets.numpy()), target_frames(targets.numpy())):
                seen.append((split.vocabulary.decode([int(i) for i in labels if i >= 0]), int(frames)))
        return sorted(seen)

    dataset = batches(training_split(shard_dir), 4, config.frontend, shuffle=True, seed=3)
    assert epoch(dataset) == expected and epoch(dataset) == expected  # every epoch, reshuffled
    halves = [epoch(sharded_batches(shard_dir, "train", 4, config.frontend, True, worker=(i, 2))) for i in (0, 1)]
    assert sorted(halves[0] + halves[1]) == expected and len(halves[0]) == 7 + 6 and len(halves[1]) == 7
    with pytest.raises(FileNotFoundError, match="no shards of split 'train' for worker 3 of 4"):
        sharded_batches(shard_dir, "train", 4, config.frontend, False, worker=(3, 4))


def test_each_worker_of_a_multi_worker_strategy_reads_its_own_shards(sharded_data):
    from types import SimpleNamespace

    from rt_keras.backend import tf
    from rt_keras.data.shards import sharded_batches
    from rt_keras.training.train import input_worker

    def strategy(kind, index, **cluster):
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), task_type=kind, task_id=index
        )
        return SimpleNamespace(cluster_resolver=resolver)

    workers = {"worker": ["a:1", "b:1", "c:1"]}
    assert [input_worker(strategy("worker", i, **workers)) for i in range(3)] == [(0, 3), (1, 3), (2, 3)]
    assert input_worker(strategy("worker", 0, chief=["x:1"], **workers)) == (1, 4)
    assert input_worker(strategy("chief", 0, chief=["x:1"], **workers)) == (0, 4)
    assert input_worker(tf.distribute.get_strategy()) == (0, 1)
    # sharded by file above: tf.data must not shard again (its FILE policy cannot see through the buckets)
    _, shard_dir, config = sharded_data
    options = sharded_batches(shard_dir, "train", 4, config.frontend, True, worker=(1, 3)).options()
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF


def test_sampling_a_sharded_split_streams_it(sharded_data):
    from rt_keras.data.batches import training_split
    from rt_keras.data.shards import ShardedSplit
    from rt_keras.data.storage import sample_audio

    _, shard_dir, _ = sharded_data
    streamed = training_split(shard_dir)
    assert isinstance(streamed, ShardedSplit)
    picks = sample_audio(streamed, 5, seed=1)
    assert len(picks) == 5 and all(p.dtype == np.int16 for p in picks)
    assert all(np.array_equal(a, b) for a, b in zip(picks, sample_audio(streamed, 5, seed=1)))
    train = load_split(shard_dir, "train").audio
    assert all(any(np.array_equal(p, a) for a in train) for p in picks)
    assert len(sample_audio(streamed, 50)) == 20


# -- a run on the user's data, through the .tflite ----------------------------------------
@pytest.mark.parametrize("kind", ["subword", "char-shards"])  # (char in memory: the shard tests compare them)
def test_a_run_trains_converts_and_evaluates_with_its_own_vocabulary(spoken, kind, tmp_path):
    from converters.metadata import read_metadata
    from rt_keras.export.transcribe import transcribe_wav_files
    from rt_keras.runs.convert import export_run
    from rt_keras.runs.evaluate import evaluate_run
    from rt_keras.runs.train import train

    directory, rows = spoken
    kind, _, storage = kind.partition("-")
    config = config_for(
        write_manifest(directory / "train.jsonl", rows),
        tmp_path / "cache",
        f"data.vocabulary={kind}",
        "data.subword_pieces=24",
        "train.epochs=1",
        f"data.storage={storage or 'memory'}",
        "data.shard_utterances=8",
    )
    train(config, tmp_path / "run", progress=False)
    vocabulary = Vocabulary.load(tmp_path / "run")
    assert vocabulary.kind == kind and vocabulary == Vocabulary.load(materialise(config, progress=False))

    export_run(tmp_path / "run", "float32", tmp_path / "model.tflite")
    assert read_metadata((tmp_path / "model.tflite").read_bytes())["vocabulary"] == list(vocabulary.tokens)
    keras_result, _ = evaluate_run(tmp_path / "run")
    tflite_result, _ = evaluate_run(tmp_path / "run", tflite=tmp_path / "model.tflite")
    test = load_split(materialise(config, progress=False), "test")
    for result in (keras_result["test"], tflite_result["test"]):
        assert result["words"] == sum(len(t.split()) for t in test.transcripts)
        assert result["cer"]["characters"] == sum(len(t) for t in test.transcripts)
    assert tflite_result["test"]["utterance_errors"] == keras_result["test"]["utterance_errors"]
    assert tflite_result["test"]["cer"]["errors"] == keras_result["test"]["cer"]["errors"]
    # the CLI's transcript is the .tflite's best path read with the run's vocabulary
    from converters.runner import TFLiteModel
    from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
    from rt_keras.data.audio import read_wav

    transcript = transcribe_wav_files(tmp_path / "model.tflite", [directory / rows[0]["audio"]])[0]
    audio = pcm_to_float(float_to_pcm(read_wav(directory / rows[0]["audio"])))
    log_probs = TFLiteModel(tmp_path / "model.tflite")(audio[None])[0]
    assert transcript["error"] is None and transcript["transcript"] == vocabulary.decode(greedy_decode(log_probs))
