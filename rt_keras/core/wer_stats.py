"""Word error rates with their uncertainty: bootstrap confidence intervals over
utterances, and the paired bootstrap for "is model A better than model B on this test
set" (Bisani & Ney 2004). Fixed seeds: the same errors always give the same interval."""

from __future__ import annotations

import operator

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95


def _resampled_rates(errors, words, resamples, seed):
    errors, words = np.asarray(errors, np.float64), np.asarray(words, np.float64)
    if errors.shape != words.shape or errors.ndim != 1 or not errors.size:
        raise ValueError(f"need equal-length, non-empty per-utterance errors and words "
                         f"(got {errors.shape} and {words.shape})")
    picks = np.random.default_rng(seed).integers(0, errors.size, size=(resamples, errors.size))
    return errors[picks].sum(axis=1) / np.maximum(words[picks].sum(axis=1), 1)


def wer_interval(errors, words, resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> dict:
    """Corpus WER (sum of edits / sum of words) of per-utterance ``errors`` and ``words``
    with its ``level`` percentile-bootstrap interval over utterances."""
    total_words = int(np.sum(words))
    if total_words <= 0:
        raise ValueError("references contain no words")
    rates = _resampled_rates(errors, words, resamples, seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(rates, [tail, 100 - tail])
    return {"wer": float(np.sum(errors)) / total_words, "ci95": [float(low), float(high)],
            "errors": int(np.sum(errors)), "words": total_words, "utterances": int(np.size(words))}


def paired_bootstrap(errors_a, errors_b, words, resamples: int = RESAMPLES, seed: int = 0,
                     level: float = LEVEL) -> dict:
    """WER(A) - WER(B) on the same utterances, with its paired-bootstrap interval; the
    difference is significant when the interval excludes 0. ``p_a_not_better`` is the
    share of resamples in which A is not better than B."""
    errors_a, errors_b, words = (np.asarray(v, np.float64) for v in (errors_a, errors_b, words))
    if not errors_a.shape == errors_b.shape == words.shape:
        raise ValueError(f"paired comparison needs the same utterances: {errors_a.shape}, "
                         f"{errors_b.shape}, {words.shape}")
    rates = _resampled_rates(errors_a - errors_b, words, resamples, seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(rates, [tail, 100 - tail])
    difference = float((errors_a.sum() - errors_b.sum()) / words.sum())
    significant = bool(low > 0 or high < 0)
    verdict = ("inside noise" if not significant else
               "A is better" if difference < 0 else "B is better")
    return {"difference": difference, "ci95": [float(low), float(high)], "significant": significant,
            "p_a_not_better": float(np.mean(rates >= 0)), "verdict": verdict, "words": int(words.sum()),
            "utterances": int(words.size)}


def format_wer(result: dict) -> str:
    """``12.34% [10.1, 14.6]`` for a ``wer_interval`` result."""
    low, high = result["ci95"]
    return f"{100 * result['wer']:6.2f}% [{100 * low:5.1f}, {100 * high:5.1f}]"


def mean_and_sd(values) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def edit_distance(reference: list, hypothesis: list) -> int:
    """Levenshtein distance (substitutions, deletions, insertions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def alignment(reference: list, hypothesis: list) -> list[str]:
    """The operations of one minimal alignment, in order: "match", "substitution",
    "deletion" (a reference word the hypothesis lacks) or "insertion". Of equally short
    alignments the one with substitutions is kept."""
    rows, columns = len(reference) + 1, len(hypothesis) + 1
    cost = np.zeros((rows, columns), np.int64)
    cost[:, 0], cost[0, :] = np.arange(rows), np.arange(columns)
    step = np.full((rows, columns), "", object)
    step[1:, 0], step[0, 1:] = "deletion", "insertion"
    for i in range(1, rows):
        for j in range(1, columns):
            differs = reference[i - 1] != hypothesis[j - 1]
            # ties go to the first: a substitution (or match), then a deletion, then an insertion
            cost[i, j], step[i, j] = min((cost[i - 1, j - 1] + differs, "substitution" if differs else "match"),
                                         (cost[i - 1, j] + 1, "deletion"), (cost[i, j - 1] + 1, "insertion"),
                                         key=operator.itemgetter(0))
    operations, i, j = [], rows - 1, columns - 1
    while i or j:
        operations.append(step[i, j])
        i, j = i - (step[i, j] != "insertion"), j - (step[i, j] != "deletion")
    return operations[::-1]


def error_counts(reference: list, hypothesis: list) -> tuple[int, int, int]:
    """(substitutions, deletions, insertions) of ``alignment``; they sum to ``edit_distance``."""
    operations = alignment(reference, hypothesis)
    return tuple(operations.count(kind) for kind in ("substitution", "deletion", "insertion"))


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: total word edits / total reference words."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    words = sum(len(r.split()) for r in references)
    if not words:
        raise ValueError("references contain no words")
    return sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses)) / words
