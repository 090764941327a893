"""Names of the materialised splits and how their sources group into voices (no heavy
imports: the CLI reads them)."""

SPLITS = ("train", "validation", "test_real", "test_real_perturbed", "test_synthetic", "test_tts_unseen")
TEST_SPLITS = SPLITS[2:]
# Opt-in robustness splits (data.dev_splits, data.dev_shifted, data.dev_levels, data.noisy_test_snrs,
# data.channel_test, data.noise_only_utterances; docs/robustness.md): development splits choose,
# test splits report.
DEV_SPLITS = ("dev_clean", "dev_noisy")
DEV_SHIFTED = "dev_shifted"  # data.dev_shifted: dev_clean under conditions neither training nor testing uses
DEV_LEVELS = "dev_levels"  # data.dev_levels: dev_clean with a level drifting within each utterance
NOISE_ONLY = "noise_only"  # no words: scored as words emitted per minute, not as a WER
DEV_NOISE_ONLY = "dev_noise_only"  # its development counterpart (data.dev_shifted), in dev_shifted's noise kinds


def is_noise_only(name: str) -> bool:
    return name in (NOISE_ONLY, DEV_NOISE_ONLY)


def noise_source(kind: str) -> str:
    """The source name of an utterance of noise alone (no words, an empty transcript)."""
    return f"noise:{kind}"


def is_noise_source(source: str) -> bool:
    return source.startswith("noise:")


def noisy_test_split(snr_db: float) -> str:
    return f"test_real_noisy_{snr_db:g}db"


def keeps_every_utterance(name: str) -> bool:
    """Test splits (and the noise-only splits) keep what a model cannot learn from: they only score."""
    return name.startswith("test") or is_noise_only(name)


def voice_group(source: str) -> str:
    """The voice a source belongs to, for per-voice tables: an espeak-ng source
    (``en-us+f4@150wpm/p30``) groups by its variant (``espeak-ng:f4``); FSDD speakers,
    pseudo-speakers and flite/festival voices are their own group."""
    if "+" in source and ":" not in source:
        return "espeak-ng:" + source.split("+", 1)[1].split("@", 1)[0]
    return source
