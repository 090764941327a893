"""Word error rate of a model on materialised splits, overall and per source."""

from __future__ import annotations

import numpy as np

from rt_keras.ctc import greedy_decode, word_error_rate
from rt_keras.data.dataset import VOCABULARY
from rt_keras.data.pipeline import batch_order, pad_batch


def transcribe(model, split, frontend, batch_size: int = 32) -> list[str]:
    """Greedy CTC transcripts of every utterance of ``split`` (in split order). ``model``
    is a Keras model or anything called the same way (``converters.runner.TFLiteModel``
    with ``batch_size=1``)."""
    hypotheses = [None] * len(split)
    order = batch_order([a.size for a in split.audio], batch_size, np.random.default_rng(0), shuffle=False)
    for indices in order:
        audio, targets = pad_batch(split, indices, frontend)
        log_probs = np.asarray(model(audio, training=False))  # eager: no retracing per batch shape
        for row, index in enumerate(indices):
            ids = greedy_decode(np.asarray(log_probs[row]), int(targets[row, 0]))
            hypotheses[index] = " ".join(VOCABULARY[i] for i in ids)
    return hypotheses


def evaluate_split(model, split, frontend, batch_size: int = 32) -> dict:
    hypotheses = transcribe(model, split, frontend, batch_size)
    by_source = {}
    for source in sorted(set(split.sources)):
        rows = [i for i, s in enumerate(split.sources) if s == source]
        by_source[source] = word_error_rate([split.transcripts[i] for i in rows], [hypotheses[i] for i in rows])
    return {"wer": word_error_rate(split.transcripts, hypotheses), "utterances": len(split),
            "words": sum(len(t.split()) for t in split.transcripts), "by_source": by_source,
            "examples": [{"reference": r, "hypothesis": h}
                         for r, h in list(zip(split.transcripts, hypotheses))[:5]]}
