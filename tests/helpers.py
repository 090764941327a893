"""Helpers shared by the tests."""

import json
import pathlib

import pytest

from rt_keras.backend import keras
from rt_keras.data.fsdd import default_fsdd_dir

ROOT = pathlib.Path(__file__).resolve().parents[1]
FSDD = default_fsdd_dir()
# what the espeak-ng voices of the `spoken` fixture say (your-own-data tests)
PHRASES = ("turn on the light", "stop", "next song", "volume up", "what's the time")
# Tests that need the real recordings (CI has them; see docs/data.md "Getting FSDD").
requires_fsdd = pytest.mark.skipif(FSDD is None, reason="FSDD not found (set RT_KERAS_FSDD)")


class InterruptAfterEpoch(keras.callbacks.Callback):
    """Raise KeyboardInterrupt after epoch ``epoch`` finished (after BackupAndRestore
    saved), like a process killed between epochs."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated kill")


def write_manifest(path: pathlib.Path, rows, fmt="jsonl") -> pathlib.Path:
    if fmt == "csv":
        lines = ["audio,text,speaker"] + [f"{r['audio']},{r['text']},{r.get('speaker', '')}" for r in rows]
    else:
        lines = [json.dumps(r) if isinstance(r, dict) else r for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def config_for(train_manifest, cache, *overrides):
    from rt_keras.core import run_config

    return run_config.load(ROOT / "configs" / "tiny.yaml", [
        "data.source=manifest", f"data.manifests={{train: {train_manifest}}}", f"data.cache_dir={cache}",
        "data.validation_fraction=0.2", "data.test_fraction=0.2", *overrides])
