"""What the CTC head predicts: words, characters or subword pieces, with the blank at 0.

The token list is the contract with every reader of a shipped model: it is the
vocabulary file in the ``.tflite`` metadata (one token per line), and a transcript is read
back from token ids by one rule that needs nothing but that list (the Android core's
``CtcGreedyDecoder`` applies the same rule): when the vocabulary has tokens with the
word-boundary mark ``▁`` (character and subword vocabularies), the emitted tokens are
concatenated and each ``▁`` becomes a space; otherwise (word vocabularies) they are
joined by spaces.

Text is normalised the same way everywhere (``normalise``): Unicode NFKC, case-folded,
curly apostrophes made straight, anything that is not a letter, digit or apostrophe
becomes a space. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import re
import unicodedata

from converters.files import atomic_write_bytes, atomic_write_text
from rt_keras.core.contracts import BLANK, DIGIT_WORDS

BLANK_TOKEN = "<blank>"
WORD_BOUNDARY = "\u2581"  # "▁", as sentencepiece writes it
KINDS = ("word", "char", "subword")
FILE_NAME = "vocabulary.txt"  # in a run directory, and in a .tflite's metadata
SUBWORD_MODEL = "subword.model"  # the sentencepiece model, next to the materialised splits
_NOT_A_LETTER = re.compile(r"[^\w']|_")


class VocabularyError(ValueError):
    """A transcript that this vocabulary cannot spell, or a malformed token list."""


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(_NOT_A_LETTER.sub(" ", text).split())


def _marks_boundaries(tokens) -> bool:
    return any(WORD_BOUNDARY in token for token in tokens)


def decode_ids(tokens, ids) -> str:
    """Token ids -> transcript for the vocabulary ``tokens``, by the rule in the module
    docstring."""
    emitted = [tokens[i] for i in ids]
    if _marks_boundaries(tokens):
        return " ".join("".join(emitted).replace(WORD_BOUNDARY, " ").split())
    return " ".join(emitted)


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    tokens: tuple  # tokens[BLANK] is the blank
    kind: str = "word"
    subword_model: bytes | None = None  # sentencepiece's serialised model (kind "subword")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise VocabularyError(f"vocabulary kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if len(self.tokens) < 2 or self.tokens[BLANK] != BLANK_TOKEN:
            raise VocabularyError(f"a vocabulary needs {BLANK_TOKEN!r} at index {BLANK} and at least one token, "
                                  f"got {list(self.tokens)[:5]}")
        bad = [t for t in self.tokens if not t or any(c.isspace() for c in t)]
        if bad or len(set(self.tokens)) != len(self.tokens):
            raise VocabularyError(f"tokens must be unique and contain no whitespace: {bad[:5] or 'duplicates'}")
        if (self.kind != "word") != _marks_boundaries(self.tokens):
            raise VocabularyError(f"a {self.kind} vocabulary {'must' if self.kind != 'word' else 'must not'} "
                                  f"have tokens with the word-boundary mark {WORD_BOUNDARY!r}")
        if self.kind == "subword" and not self.subword_model:
            raise VocabularyError("a subword vocabulary needs its sentencepiece model")

    def __len__(self):
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Token ids of an already normalised transcript; VocabularyError names what is
        not in the vocabulary."""
        index = {token: i for i, token in enumerate(self.tokens)}
        if self.kind == "word":
            units = text.split()
        elif self.kind == "char":
            units = list(text.replace(" ", WORD_BOUNDARY))
        else:
            units = self._processor().encode(text, out_type=str)
        unknown = sorted({u for u in units if u not in index} | ({"<unk>"} & set(units)))
        if unknown or not units:
            raise VocabularyError(f"transcript {text!r}: " + (f"{unknown} not in the {self.kind} vocabulary"
                                                                if unknown else "no tokens"))
        return [index[u] for u in units]

    def decode(self, ids) -> str:
        return decode_ids(self.tokens, ids)

    def _processor(self):
        import sentencepiece

        if not hasattr(self, "_sp"):
            processor = sentencepiece.SentencePieceProcessor()
            processor.LoadFromSerializedProto(self.subword_model)
            object.__setattr__(self, "_sp", processor)
        return self._sp

    # -- files ---------------------------------------------------------------------------
    def save(self, directory) -> None:

        directory = pathlib.Path(directory)
        if self.subword_model:
            atomic_write_bytes(directory / SUBWORD_MODEL, self.subword_model)
        atomic_write_text(directory / FILE_NAME, "\n".join(self.tokens) + "\n")

    @classmethod
    def load(cls, directory) -> "Vocabulary":
        """The vocabulary saved in ``directory``; a run trained before vocabularies were
        configurable has none and predicts the ten digit words."""
        directory = pathlib.Path(directory)
        path = directory / FILE_NAME
        if not path.is_file():
            return DIGITS
        tokens = tuple(path.read_text(encoding="utf-8").split())
        model = directory / SUBWORD_MODEL
        if model.is_file():
            return cls(tokens, "subword", model.read_bytes())
        return cls(tokens, "char" if _marks_boundaries(tokens) else "word")


DIGITS = Vocabulary((BLANK_TOKEN, *DIGIT_WORDS), "word")


def build(kind: str, transcripts: list[str], subword_pieces: int = 64) -> Vocabulary:
    """A vocabulary of ``kind`` from normalised training transcripts: every word (``word``,
    sorted), every character (``char``, sorted, space as ``▁``), or ``subword_pieces``
    sentencepiece unigram pieces trained on them (``subword``)."""
    if kind not in KINDS:
        raise VocabularyError(f"data.vocabulary={kind!r}; expected one of {', '.join(KINDS)}")
    transcripts = [t for t in transcripts if t]
    if not transcripts:
        raise VocabularyError("no training transcripts to build the vocabulary from")
    if kind == "word":
        return Vocabulary((BLANK_TOKEN, *sorted({w for t in transcripts for w in t.split()})), "word")
    if kind == "char":
        characters = sorted({c for t in transcripts for c in t} - {" "})
        return Vocabulary((BLANK_TOKEN, WORD_BOUNDARY, *characters), "char")
    import sentencepiece

    model = io.BytesIO()
    try:
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(transcripts), model_writer=model, vocab_size=subword_pieces,
            model_type="unigram", character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0,
            num_threads=1, minloglevel=2, hard_vocab_limit=False)
    except RuntimeError as error:
        raise VocabularyError(f"sentencepiece could not build {subword_pieces} pieces from "
                              f"{len(transcripts)} transcripts: {error}") from None
    processor = sentencepiece.SentencePieceProcessor()
    processor.LoadFromSerializedProto(model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return Vocabulary((BLANK_TOKEN, *pieces), "subword", model.getvalue())
