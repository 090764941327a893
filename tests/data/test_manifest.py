"""The user's own data: manifests (JSON Lines and CSV), speaker-disjoint splits and any
vocabulary through materialise. Fixtures (tests/conftest.py) are phrases spoken by
espeak-ng voices at test time."""

import json

import pytest

from rt_keras.cli import main
from rt_keras.core import run_config
from rt_keras.core.vocabulary import Vocabulary
from rt_keras.data import manifest
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import evaluation_splits, load_split, read_manifest
from tests.helpers import PHRASES, ROOT, config_for, write_manifest


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
        tiny = str(ROOT / "configs" / "tiny.yaml")
        assert main(["data", "--config", tiny, *arguments, "--set", f"data.cache_dir={tmp_path}"]) == 2
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1, error


def test_cli_split_by_utterance_carves_single_recordings(spoken, tmp_path, capsys):
    directory, rows = spoken
    train = write_manifest(tmp_path / "train.jsonl", [{**r, "audio": str(directory / r["audio"])} for r in rows])
    settings = ["data.source=manifest", f"data.manifests={{train: {train}}}", f"data.cache_dir={tmp_path}",
                "data.validation_fraction=0.2", "data.test_fraction=0.2"]
    arguments = ["data", "--config", str(ROOT / "configs" / "tiny.yaml"), "--split-by", "utterance", "--json"]
    assert main(arguments + [part for setting in settings for part in ("--set", setting)]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["data_config"]["split_by"] == "utterance"
    # which rows land where follows a hash of their paths (pytest's temporary directories), so a
    # word may occur only outside train and its rows be skipped: count them with their split
    skipped = [entry.split(":")[0] for entry in described["skipped"]["files"]]
    assert [s["utterances"] + skipped.count(name) for name, s in described["splits"].items()] == [18, 6, 6]


