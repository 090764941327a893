"""Vocabularies: words, characters and sentencepiece subwords; the one decoding rule the
host and the Android core share; files in run directories and in the .tflite metadata."""

import json
import pathlib

import numpy as np
import pytest

from rt_keras.core import vocabulary as vocabulary_lib
from rt_keras.core.contracts import ctc_frames_needed, greedy_decode
from rt_keras.core.vocabulary import DIGITS, Vocabulary, VocabularyError, decode_ids, normalise

ROOT = pathlib.Path(__file__).parents[2]
PHRASES = [normalise(p) for p in ("Turn on the light!", "turn OFF the light", "What’s the time?", "next song",
                                  "volume up", "volume down", "stop", "call mom")]


def test_normalise_keeps_letters_digits_and_apostrophes():
    assert normalise("  What’s   the TIME?\tIt's 5-past!") == "what's the time it's 5 past"
    assert normalise("Größe café_au_lait") == "grösse café au lait"  # case-folded, underscores split
    assert normalise("?!") == ""


@pytest.mark.parametrize("kind", vocabulary_lib.KINDS)
def test_every_kind_spells_and_reads_back_its_training_transcripts(kind):
    vocabulary = vocabulary_lib.build(kind, PHRASES * 4, subword_pieces=40)
    assert vocabulary.kind == kind and vocabulary.tokens[0] == "<blank>"
    for text in PHRASES:
        ids = vocabulary.encode(text)
        assert ids and 0 not in ids
        assert vocabulary.decode(ids) == text
    # built twice from the same transcripts: the same tokens (runs are reproducible)
    assert vocabulary_lib.build(kind, PHRASES * 4, subword_pieces=40) == vocabulary


def test_char_vocabulary_is_the_training_characters_and_a_boundary_mark():
    vocabulary = vocabulary_lib.build("char", PHRASES)
    assert vocabulary.tokens[:3] == ("<blank>", "\u2581", "'")
    assert "".join(vocabulary.tokens[3:]) == "acdefghilmnoprstuvwx"
    assert vocabulary.encode("on it") == [vocabulary.tokens.index(c) for c in "on\u2581it"]


def test_what_a_vocabulary_cannot_spell_is_named():
    with pytest.raises(VocabularyError, match=r"'turn on the radio': \['radio'\] not in the word vocabulary"):
        vocabulary_lib.build("word", PHRASES).encode("turn on the radio")
    with pytest.raises(VocabularyError, match=r"\['b', 'z'\] not in the char vocabulary"):
        vocabulary_lib.build("char", PHRASES).encode("zebra")
    with pytest.raises(VocabularyError, match=r"\['b', 'z'\] not in the subword vocabulary"):
        vocabulary_lib.build("subword", PHRASES * 4, subword_pieces=40).encode("zebra")
    with pytest.raises(VocabularyError, match="no training transcripts"):
        vocabulary_lib.build("char", ["", ""])


def test_decoding_rule_word_boundary_mark_or_spaces():
    assert decode_ids(DIGITS.tokens, [5, 2]) == "four one"
    subwords = ("<blank>", "\u2581t", "ur", "n", "\u2581", "\u2581on")
    assert decode_ids(subwords, [1, 2, 3, 4, 5]) == "turn on"
    chars = ("<blank>", "\u2581", "i", "n", "o", "t", "s", "p")
    assert decode_ids(chars, [4, 3, 1, 2, 5, 1]) == "on it"
    # the vocabulary decides, not the tokens emitted: one word of characters stays one word
    assert decode_ids(chars, [6, 5, 4, 7]) == "stop"
    assert decode_ids(chars, []) == ""


def test_malformed_token_lists_are_refused():
    with pytest.raises(VocabularyError, match="'<blank>' at index 0"):
        Vocabulary(("a", "b"))
    with pytest.raises(VocabularyError, match="unique and contain no whitespace"):
        Vocabulary(("<blank>", "a b"))
    with pytest.raises(VocabularyError, match="must have tokens with the word-boundary mark"):
        Vocabulary(("<blank>", "a"), "char")
    with pytest.raises(VocabularyError, match="needs its sentencepiece model"):
        Vocabulary(("<blank>", "\u2581a"), "subword")


@pytest.mark.parametrize("kind", vocabulary_lib.KINDS)
def test_saved_vocabulary_loads_back_equal(kind, tmp_path):
    vocabulary = vocabulary_lib.build(kind, PHRASES * 4, subword_pieces=40)
    vocabulary.save(tmp_path)
    loaded = Vocabulary.load(tmp_path)
    assert loaded == vocabulary
    assert loaded.encode("turn on the light") == vocabulary.encode("turn on the light")


def test_a_run_from_before_vocabularies_predicts_digits(tmp_path):
    assert Vocabulary.load(tmp_path) is DIGITS and len(DIGITS) == 11


def test_ctc_needs_a_blank_between_equal_neighbours():
    assert ctc_frames_needed([3, 4, 5]) == 3
    assert ctc_frames_needed([3, 3, 4, 4, 4]) == 8
    assert ctc_frames_needed([]) == 0


def test_committed_subword_fixture_is_what_the_python_decoder_reads():
    """The Java GoldenTest decodes this file (tests/test_android_core.py runs it)."""

    from benchmarks.android_golden import SUBWORD_OUT, subword_fixture

    committed = json.loads(SUBWORD_OUT.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(subword_fixture()))
    tokens = committed["vocabulary"]
    assert committed["transcript"] == "turn on the light" == decode_ids(
        tokens, greedy_decode(np.array(committed["log_probs"])))
    assert any(len(t) > 2 and t.startswith("\u2581") for t in tokens)  # real multi-letter pieces
