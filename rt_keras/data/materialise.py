"""Generate every split of a run config once into its cache directory: the digit task
(rt_keras.data.digits) or the user's manifests (rt_keras.data.manifest), written by
rt_keras.data.storage."""

from __future__ import annotations

import pathlib

from converters.files import atomic_write_json
from rt_keras.core import run_config as run_config_lib
from rt_keras.core import vocabulary as vocabulary_lib
from rt_keras.data import digits
from rt_keras.data.audio import MODEL_SAMPLE_RATE
from rt_keras.data.manifest import manifest_splits
from rt_keras.data.storage import MANIFEST, data_directory, write_split


def materialise(run_config, progress: bool = True, force: bool = False) -> pathlib.Path:
    """Generate every split once into the cache; a no-op when its manifest exists.

    Splits are written atomically and the manifest last, so an interrupted run leaves
    no split that looks complete. The splits are a pure function of the data config
    (and, for ``data.source: manifest``, of the manifests' contents): the manifest (with
    a hash of every split's audio, transcripts and sources) is the same wherever and
    whenever they are generated. The vocabulary is built from the training transcripts
    (the digit task's word vocabulary is fixed) and saved beside the splits."""
    config = run_config.data
    directory = data_directory(run_config)
    if (directory / MANIFEST).is_file() and not force:
        return directory
    skipped: list[str] = []
    generate = manifest_splits if config.source == "manifest" else digits.digit_splits
    summary, sources, vocabulary = {}, {}, None
    for name, transcripts, utterances, split_sources in generate(config, progress, skipped):
        if vocabulary is None:  # the first split is train
            vocabulary = vocabulary_lib.DIGITS if config.source == "digits" and config.vocabulary == "word" else \
                vocabulary_lib.build(config.vocabulary, transcripts, config.subword_pieces)
            directory.mkdir(parents=True, exist_ok=True)
            vocabulary.save(directory)
        summary[name] = write_split(directory, name, utterances, vocabulary, run_config, skipped)
        sources.update(split_sources)
    data_config = run_config_lib.data_record(config)  # fields added later appear only when set
    for machine_specific in ("cache_dir", "fsdd_dir"):
        data_config.pop(machine_specific)
    described = digits.describe(config) if config.source == "digits" else {}
    atomic_write_json(directory / MANIFEST, {
        "data_config": data_config, "sample_rate": MODEL_SAMPLE_RATE,
        "vocabulary": list(vocabulary.tokens), "vocabulary_kind": vocabulary.kind, "splits": summary,
        **described, "sources": dict(sorted(sources.items())),
        "skipped": {"count": len(skipped), "files": skipped},
    })
    return directory


