"""Names of the materialised splits and how their sources group into voices (no heavy
imports: the CLI reads them)."""

SPLITS = ("train", "validation", "test_real", "test_real_perturbed", "test_synthetic", "test_tts_unseen")
TEST_SPLITS = SPLITS[2:]


def voice_group(source: str) -> str:
    """The voice a source belongs to, for per-voice tables: an espeak-ng source
    (``en-us+f4@150wpm/p30``) groups by its variant (``espeak-ng:f4``); FSDD speakers,
    pseudo-speakers and flite/festival voices are their own group."""
    if "+" in source and ":" not in source:
        return "espeak-ng:" + source.split("+", 1)[1].split("@", 1)[0]
    return source
