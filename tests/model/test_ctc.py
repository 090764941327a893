import jiwer
import numpy as np
import pytest

from rt_keras.backend import tf
from rt_keras.core.contracts import greedy_decode
from rt_keras.core.wer_stats import edit_distance, word_error_rate
from rt_keras.model.ctc import CTCLoss


def _log_probs(best_path, vocab=5):
    logits = np.full((len(best_path), vocab), -5.0, np.float32)
    logits[np.arange(len(best_path)), best_path] = 5.0
    return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


def test_greedy_decode_collapses_repeats_and_drops_blanks():
    assert greedy_decode(_log_probs([0, 3, 3, 0, 3, 1, 1, 0])) == [3, 3, 1]
    assert greedy_decode(_log_probs([2, 2, 2])) == [2]
    assert greedy_decode(_log_probs([0, 0])) == []
    assert greedy_decode(_log_probs([4, 0, 4, 2]), frames=2) == [4]  # padded frames ignored


def test_confidence_gate_drops_only_tokens_never_probable_enough():
    """A run of one token is kept if any of its frames reaches the floor; a token below it on
    every frame is dropped, with repeats and blanks decoded as before."""
    probabilities = np.full((7, 4), 0.05)
    best = [(2, 0.9), (2, 0.4), (0, 0.8), (3, 0.45), (3, 0.55), (0, 0.9), (1, 0.42)]
    for frame, (token, p) in enumerate(best):
        probabilities[frame, token] = p
    log_probs = np.log(probabilities)
    assert greedy_decode(log_probs) == [2, 3, 1]
    assert greedy_decode(log_probs, min_probability=0.5) == [2, 3]  # 3 reaches 0.55 on its second frame
    assert greedy_decode(log_probs, min_probability=0.6) == [2]
    assert greedy_decode(log_probs, min_probability=0.95) == []
    assert greedy_decode(log_probs, min_probability=0.4) == [2, 3, 1]  # the last run, at 0.42
    assert greedy_decode(log_probs, min_probability=0.42) == [2, 3, 1]  # reaching the floor is enough
    assert greedy_decode(log_probs, frames=6, min_probability=0.4) == [2, 3]
    assert greedy_decode(log_probs[:0], min_probability=0.5) == []
    # A gated token between two equal ones leaves them two words, as a blank would.
    assert greedy_decode(np.log(np.array([[.1, .8, .1], [.1, .2, .7], [.1, .8, .1]])), min_probability=0.75) == [1, 1]
    with pytest.raises(ValueError, match="min_probability=1.5"):
        greedy_decode(log_probs, min_probability=1.5)


@pytest.mark.parametrize("ref,hyp,edits", [
    ("one two three", "one two three", 0),
    ("one two three", "one three", 1),
    ("one two", "one two two", 1),
    ("one two three four", "four three two one", 4),
    ("five", "", 1),
])
def test_edit_distance_known_pairs(ref, hyp, edits):
    assert edit_distance(ref.split(), hyp.split()) == edits


def test_word_error_rate_matches_jiwer():
    refs = ["one two three", "four five", "six seven eight nine", "zero"]
    hyps = ["one two", "four four five", "six eight nine nine", "one"]
    assert word_error_rate(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps))
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_error_rate(["a", "b"], ["a"])


def test_ctc_loss_handles_padded_batches():
    rng = np.random.default_rng(0)
    log_probs = tf.nn.log_softmax(rng.normal(size=(2, 9, 5)).astype(np.float32)).numpy()
    # Example 0: 6 valid frames, labels [1, 2]; example 1: 9 frames, labels [3, 3, 4].
    y_true = np.array([[6, 1, 2, -1], [9, 3, 3, 4]], np.int32)
    loss = CTCLoss().call(tf.constant(y_true), tf.constant(log_probs)).numpy()
    for row, (frames, labels) in enumerate([(6, [1, 2]), (9, [3, 3, 4])]):
        single = tf.nn.ctc_loss(tf.constant([labels]), tf.constant(log_probs[row:row + 1, :frames]),
                                tf.constant([len(labels)]), tf.constant([frames]),
                                logits_time_major=False, blank_index=0).numpy()[0]
        assert loss[row] == pytest.approx(single, rel=1e-5)
    # Frames beyond the valid length do not matter.
    changed = log_probs.copy()
    changed[0, 6:] = tf.nn.log_softmax(rng.normal(size=(3, 5)).astype(np.float32)).numpy()
    assert CTCLoss().call(tf.constant(y_true), tf.constant(changed)).numpy()[0] == pytest.approx(loss[0], rel=1e-6)


@pytest.mark.parametrize("labels", [[[], [3, 3, 4]], [[], []]])
def test_ctc_loss_of_an_utterance_without_words_is_the_all_blank_path(labels):
    """A noise-only training utterance (empty transcript, data.augment.noise_only_probability),
    alone or in a batch of only such utterances (targets one column wide): its loss is
    -sum(log p(blank)) over its valid frames."""
    from rt_keras.core.contracts import pack_targets

    rng = np.random.default_rng(1)
    log_probs = tf.nn.log_softmax(rng.normal(size=(2, 9, 5)).astype(np.float32)).numpy()
    y_true = pack_targets([6, 9], labels)
    assert y_true.shape[1] == 1 + max(map(len, labels))
    loss = CTCLoss().call(tf.constant(y_true), tf.constant(log_probs)).numpy()
    assert loss[0] == pytest.approx(-log_probs[0, :6, 0].sum(), rel=1e-5)
    assert np.all(np.isfinite(loss))
