"""Digit words from speech synthesisers built on recordings of real people: Debian's
``flite`` (CMU voices kal, awb, rms, slt) and ``festival`` (kal_diphone, ked_diphone,
the HTS voice cmu_us_slt_arctic_hts). They sound far more like a person than espeak-ng's
formant synthesis, and ``slt`` is a woman.

A voice is named ``ENGINE:VOICE`` (``flite:slt``, ``festival:kal_diphone``). Both
engines are deterministic: the same word, voice and tempo give the same samples.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from rt_keras.data.audio import read_wav

ENGINES = {
    "flite": {"program": "flite", "package": "flite",
              "voices": {"kal": "flite", "awb": "flite", "rms": "flite", "slt": "flite", "kal16": "flite"}},
    "festival": {"program": "festival", "package": "festival",
                 "voices": {"kal_diphone": "festvox-kallpc16k", "ked_diphone": "festvox-kdlpc16k",
                            "cmu_us_slt_arctic_hts": "festvox-us-slt-hts"}},
}


class TTSError(RuntimeError):
    """A synthesiser or voice is missing or failed; the message names the package to install."""


def parse_voice(name: str) -> tuple[str, str]:
    engine, sep, voice = name.partition(":")
    if not sep or engine not in ENGINES or voice not in ENGINES[engine]["voices"]:
        known = [f"{e}:{v}" for e, spec in ENGINES.items() for v in spec["voices"]]
        raise ValueError(f"unknown TTS voice {name!r}; allowed: {', '.join(known)}")
    return engine, voice


def check_voice(name: str) -> None:
    """Raise TTSError naming the Debian package when ``name`` cannot be synthesised here."""
    engine, voice = parse_voice(name)
    spec = ENGINES[engine]
    if shutil.which(spec["program"]) is None:
        raise TTSError(f"TTS voice {name}: `{spec['program']}` not found; install the Debian package "
                       f"{spec['package']} (apt-get install {spec['package']} {spec['voices'][voice]}; "
                       "`make install` does it) or remove the voice from data.tts_voices / data.tts_test_voices")
    if engine == "festival" and not list(pathlib.Path("/usr/share/festival/voices").glob(f"*/{voice}")):
        raise TTSError(f"TTS voice {name}: festival voice {voice} not installed; "
                       f"apt-get install {spec['voices'][voice]} (`make install` does it)")


def _run(command: list[str], name: str, what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise TTSError(f"TTS voice {name} failed to speak {what}: {result.stderr.strip()[-300:]}")


def synthesize(name: str, words, stretch: float = 1.0) -> list[np.ndarray]:
    """Each of ``words`` spoken by voice ``name``, as float32 samples at 16 kHz.
    ``stretch`` > 1 speaks more slowly."""
    engine, voice = parse_voice(name)
    check_voice(name)
    with tempfile.TemporaryDirectory(prefix="rt-keras-tts-") as tmp:
        outputs = [f"{tmp}/{i}.wav" for i in range(len(words))]
        if engine == "flite":
            for word, out in zip(words, outputs):
                _run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch}", "-t", word, "-o", out],
                     name, repr(word))
        else:  # one festival process for all words: its start-up is most of the time
            script = pathlib.Path(tmp) / "speak.scm"
            script.write_text(f"(voice_{voice})\n(Parameter.set 'Duration_Stretch {stretch})\n" + "".join(
                f'(utt.save.wave (utt.synth (Utterance Text "{word}")) "{out}" \'riff)\n'
                for word, out in zip(words, outputs)))
            _run(["festival", "-b", str(script)], name, repr(list(words)))
        missing = [w for w, out in zip(words, outputs) if not pathlib.Path(out).is_file()]
        if missing:
            raise TTSError(f"TTS voice {name} wrote no audio for {missing}")
        return [read_wav(out) for out in outputs]
