import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from rt_keras.core import run_config
from rt_keras.core.contracts import output_frames
from rt_keras.core.splits import SPLITS
from rt_keras.core.vocabulary import DIGITS
from rt_keras.data import espeak_voices
from rt_keras.data.batches import batches
from rt_keras.data.digits import _ClipPool
from rt_keras.data.fsdd import index_fsdd, speakers
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import data_directory, load_split, read_manifest
from tests.helpers import FSDD, requires_fsdd

TINY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "configs", "tiny.yaml"))


@requires_fsdd
def test_fsdd_index_of_the_real_recordings():
    clips = index_fsdd(FSDD)
    assert len(clips) == 2500
    assert speakers(clips) == ["george", "jackson", "nicolas", "theo", "yweweler"]
    assert {c.digit for c in clips} == set(range(10))


def test_fsdd_missing_directory_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="no recordings/ folder"):
        index_fsdd(tmp_path)
    with pytest.raises(FileNotFoundError, match="clone github.com/Jakobovski/free-spoken-digit-dataset"):
        index_fsdd(None)


@requires_fsdd
def test_splits_are_speaker_disjoint_and_test_voices_held_out(tiny_config):
    directory = data_directory(tiny_config)
    splits = {name: load_split(directory, name) for name in SPLITS}
    train, validation = splits["train"], splits["validation"]
    assert set(splits["test_real"].sources) == {"theo"}
    assert set(splits["test_real_perturbed"].sources) == {"theo~vt1.18-f0210", "theo~vt1.32-f0290", "theo~vt0.90-f090"}
    assert set(splits["test_tts_unseen"].sources) == {"flite:slt", "festival:cmu_us_slt_arctic_hts"}
    sources = read_manifest(directory)["sources"]
    for split in (train, validation):
        for source in split.sources:
            info = sources[source]
            assert info["voice"] != "theo" and "slt" not in info["voice"]
            if info["engine"] == "espeak-ng":
                assert source.split("+")[1].split("@")[0] not in espeak_voices.HELD_OUT_VARIANTS
    for source in splits["test_synthetic"].sources:
        assert source.split("+")[1].split("@")[0] in espeak_voices.HELD_OUT_VARIANTS
    engines = {sources[s]["engine"] for s in train.sources}
    assert engines == {"fsdd", "espeak-ng", "flite", "festival"}  # every kind of voice in training
    assert any("formant_ratio" in sources[s] and sources[s]["engine"] == "fsdd" for s in train.sources)
    assert any(s in tiny_config.data.train_speakers for s in train.sources)  # and the real speakers as recorded
    assert sources["theo~vt1.18-f0210"] == {"engine": "fsdd", "voice": "theo", "formant_ratio": 1.18, "pitch_hz": 210.0}
    for split in splits.values():
        for audio, transcript in zip(split.audio, split.transcripts):
            words = transcript.split()
            assert 1 <= len(words) <= tiny_config.data.max_digits
            assert all(w in DIGITS.tokens[1:] for w in words)
            assert audio.dtype == np.int16 and audio.size / 16000 <= tiny_config.data.max_seconds


@requires_fsdd
def test_materialise_is_a_no_op_when_cached(tiny_config):
    directory = data_directory(tiny_config)
    stamps = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    assert materialise(tiny_config, progress=False) == directory
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir()} == stamps
    manifest = read_manifest(directory)
    assert manifest["splits"]["train"]["utterances"] == len(load_split(directory, "train"))
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


@requires_fsdd
def test_splits_are_a_pure_function_of_the_config(tiny_config, tmp_path):
    """Regenerated from another working directory into another cache: the same manifest,
    whose per-split hashes cover every sample, transcript and source."""
    code = ("import sys, json; from rt_keras.core import run_config\n"
            "from rt_keras.data.materialise import materialise\n"
            "if __name__ == '__main__':\n"
            f"    c = run_config.load({TINY!r}, ['data.cache_dir=' + sys.argv[1]])\n"
            "    print(materialise(c, progress=False))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cache")], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    assert read_manifest(out) == read_manifest(data_directory(tiny_config))
    assert read_manifest(out)["splits"]["train"]["sha256"]


def test_every_clip_is_dealt_before_any_is_dealt_twice():
    pool = _ClipPool()
    for digit in range(10):
        for take in range(3):
            pool.add("s", digit, np.full(4, 10 * digit + take, np.int16), {"engine": "test"})
    pool.shuffle_decks(np.random.default_rng(0))
    dealt = [int(pool.deal("s")[1][0]) for _ in range(60)]
    assert sorted(dealt[:30]) == sorted(dealt[30:]) == [10 * d + t for d in range(10) for t in range(3)]
    assert dealt[:30] != sorted(dealt[:30])  # shuffled


@requires_fsdd
def test_batches_pack_lengths_and_labels(tiny_config):
    split = load_split(data_directory(tiny_config), "validation")
    audio, targets = next(iter(batches(split, 4, tiny_config.frontend, shuffle=False)))
    audio, targets = audio.numpy(), targets.numpy()
    assert audio.shape[0] == 4 and targets.shape[0] == 4
    for row in range(4):
        labels = targets[row, 1:][targets[row, 1:] >= 0]
        assert 1 <= labels.size and np.all(labels >= 1)  # 0 is the blank, never a label
        assert 0 < targets[row, 0] <= output_frames(audio.shape[1], tiny_config.frontend)


def _espeak_hash():
    # f2, f5 and whisper breathe: espeak-ng draws their noise from a generator it seeds from the clock
    code = ("from rt_keras.data import espeak_voices; import hashlib; V = espeak_voices.Voice;"
            "v = [V('en', 'f2', 180, 50), V('en-gb-x-gbclan', 'whisper', 200, 30), V('en-us', 'f5', 220, 60)];"
            "clips = espeak_voices.synthesize_clips(v);"
            "print(hashlib.sha256(b''.join(c.tobytes() for w in clips for c in w)).hexdigest())")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_synthetic_speech_is_deterministic_for_a_seed():
    first = _espeak_hash()
    time.sleep(1.1)  # espeak-ng's own seed is the clock in seconds
    assert _espeak_hash() == first
    voices = espeak_voices.sample_voices(2, False, 7)
    clips = espeak_voices.synthesize_clips(voices)
    assert len(clips) == 2 and len(clips[0]) == 10
    assert all(c.size > 1600 and np.abs(c).max() > 1000 for c in clips[0])  # real speech, >0.1 s


@requires_fsdd
def test_bad_fsdd_recordings_are_skipped_with_a_counted_warning(tmp_path):
    recordings = tmp_path / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    for clip in index_fsdd(FSDD):
        if clip.speaker in ("jackson", "theo") and clip.take < 4:
            os.symlink(clip.path, recordings / os.path.basename(clip.path))
    (recordings / "5_jackson_1.wav").unlink()
    (recordings / "5_jackson_1.wav").write_bytes(b"RIFF garbage")
    (recordings / "6_jackson_2.wav").unlink()
    soundfile.write(recordings / "6_jackson_2.wav", np.zeros(800, np.float32), 8000)
    config = run_config.from_dict({"data": {
        "fsdd_dir": str(tmp_path / "fsdd"), "cache_dir": str(tmp_path / "cache"), "train_speakers": ["jackson"],
        "test_speakers": ["theo"], "validation_takes": 1, "synthetic_voices": 4, "held_out_voices": 2,
        "train_utterances": 6, "validation_utterances": 2, "test_utterances": 2, "max_digits": 2}})
    with pytest.warns(UserWarning, match="skipping"):
        directory = materialise(config, progress=False)
    skipped = read_manifest(directory)["skipped"]
    assert skipped["count"] == 2
    assert any("5_jackson_1.wav" in f and "unreadable" in f for f in skipped["files"])
    assert any("6_jackson_2.wav" in f and "all samples are zero" in f for f in skipped["files"])


@requires_fsdd
def test_unknown_speaker_and_overlapping_splits_are_rejected(tmp_path):
    for data, needle in [({"test_speakers": ["alice"]}, "speaker(s) ['alice'] not in FSDD"),
                         ({"test_speakers": ["jackson"]}, "share ['jackson']")]:
        config = run_config.from_dict({"data": {"cache_dir": str(tmp_path), **data}})
        with pytest.raises(ValueError, match=re.escape(needle)):
            materialise(config, progress=False)
