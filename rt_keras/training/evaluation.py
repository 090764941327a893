"""Word and character error rates of a model on materialised splits, overall and per
voice, each with its 95% bootstrap confidence interval and word (character) count."""

from __future__ import annotations

import numpy as np

from rt_keras.backend import tf
from rt_keras.core.contracts import greedy_decode, output_frames
from rt_keras.core.splits import voice_group
from rt_keras.core.wer_stats import edit_distance, error_counts, wer_interval
from rt_keras.data.batches import batch_order, pad_audio


def graph_forward(model):
    """``model(audio, training=False)`` in one graph for every batch shape from the second
    on (``reduce_retracing``), for a model called over many batches: called eagerly it takes
    about 4 s on a 300-utterance split, in a graph under 1 s after two traces."""
    return tf.function(lambda audio, training=False: model(audio, training=False), reduce_retracing=True)


def split_log_probs(model, split, frontend, batch_size: int = 32):
    """Per-frame log-probabilities of every utterance of ``split`` (in split order, each cut
    to its own output frames). ``model`` is a Keras model or anything called the same way
    (``converters.runner.TFLiteModel`` with ``batch_size=1``)."""
    out = [None] * len(split)
    order = batch_order([a.size for a in split.audio], batch_size, np.random.default_rng(0), shuffle=False)
    for indices in order:
        audio, lengths = pad_audio(split, indices)
        log_probs = np.asarray(model(audio, training=False))  # eagerly: pass graph_forward(model) for many batches
        if log_probs.shape[-1] != len(split.vocabulary):
            raise ValueError(f"the model predicts {log_probs.shape[-1]} tokens but the data's {split.vocabulary.kind} "
                             f"vocabulary has {len(split.vocabulary)}: it was trained on other data")
        for row, (index, length) in enumerate(zip(indices, lengths)):
            out[index] = log_probs[row, :output_frames(length, frontend)]
    return out


def decode_log_probs(log_probs, vocabulary, min_probability: float = 0.0) -> list[str]:
    return [vocabulary.decode(greedy_decode(lp, min_probability=min_probability)) for lp in log_probs]


def decode_split(model, split, frontend, batch_size: int = 32, min_probability: float = 0.0) -> list[str]:
    """Greedy CTC transcripts of every utterance of ``split`` (in split order)."""
    return decode_log_probs(split_log_probs(model, split, frontend, batch_size), split.vocabulary, min_probability)


def score(references: list[str], hypotheses: list[str], sources: list[str]) -> dict:
    """WER with CI overall and per voice group, its substitutions, deletions and insertions
    (a model that drops words it takes for noise deletes; one that hears words in noise
    inserts), plus the per-utterance errors that a paired comparison with another model needs."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    counts = np.array([error_counts(r.split(), h.split()) for r, h in zip(references, hypotheses)]).reshape(-1, 3)
    errors = counts.sum(axis=1)
    words = np.array([len(r.split()) for r in references])
    groups = np.array([voice_group(s) for s in sources])
    by_voice = {group: wer_interval(errors[groups == group], words[groups == group])
                for group in sorted(set(groups)) if words[groups == group].sum()}  # noise alone has no words
    # CER over the characters of the transcripts, spaces included (as in ESPnet and jiwer)
    char_errors = [edit_distance(list(r), list(h)) for r, h in zip(references, hypotheses)]
    cer = wer_interval(char_errors, [len(r) for r in references])
    cer = {"cer": cer.pop("wer"), "characters": cer.pop("words"), **cer}
    kinds = dict(zip(("substitutions", "deletions", "insertions"), map(int, counts.sum(axis=0))))
    return {**wer_interval(errors, words), **kinds, "by_voice": by_voice, "cer": cer,
            "utterance_errors": errors.tolist(), "utterance_words": words.tolist(),
            "examples": [{"reference": r, "hypothesis": h} for r, h in list(zip(references, hypotheses))[:5]]}


def evaluate_split(model, split, frontend, batch_size: int = 32, min_probability: float = 0.0) -> dict:
    return score(split.transcripts, decode_split(model, split, frontend, batch_size, min_probability), split.sources)
