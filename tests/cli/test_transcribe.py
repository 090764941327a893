"""`rt-keras transcribe`: any WAV the reader accepts, resampled to the model's rate; bad
files are named and the others still transcribed."""

import json
import pathlib

import numpy as np
import pytest

from rt_keras.cli import main
from rt_keras.core.vocabulary import DIGITS
from tests.helpers import requires_fsdd

STARTER = pathlib.Path(__file__).parents[2] / "android_demo/app/src/main/assets"


def _cli(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@requires_fsdd
def test_transcribe_cli_reads_any_wav_and_names_bad_files(tiny_converted, real_audio, tmp_path, capsys):
    import soundfile

    from converters.runner import TFLiteModel
    from rt_keras.core.contracts import greedy_decode

    model = tmp_path / "model.tflite"
    model.write_bytes(tiny_converted.shipped["qat-int8"])
    clip = (real_audio[0][0] * 32767).astype(np.int16)
    soundfile.write(tmp_path / "mono16k.wav", clip, 16000, subtype="PCM_16")
    # the same speech as 44.1 kHz stereo: resampled and averaged by the reader
    import soxr

    stereo = soxr.resample(clip.astype(np.float32) / 32767, 16000, 44100)
    soundfile.write(tmp_path / "stereo44k.wav", np.stack([stereo, stereo], 1), 44100, subtype="PCM_16")
    (tmp_path / "notes.wav").write_text("not audio")
    status, stdout, stderr = _cli(
        capsys,
        "transcribe",
        model,
        tmp_path / "mono16k.wav",
        tmp_path / "stereo44k.wav",
        tmp_path / "notes.wav",
        "--json",
    )
    assert status == 1 and "notes.wav" in stderr
    results = json.loads(stdout)
    expected = DIGITS.decode(greedy_decode(TFLiteModel(model)(clip[None].astype(np.float32) / 32767)[0]))
    assert results[0]["transcript"] == expected and results[0]["error"] is None
    assert results[0]["seconds"] == pytest.approx(clip.size / 16000) and results[0]["latency_ms"] > 0
    assert isinstance(results[1]["transcript"], str) and results[1]["seconds"] == pytest.approx(
        clip.size / 16000, abs=1e-3
    )
    assert results[2]["transcript"] is None and "notes.wav" in results[2]["error"]

    bare = tmp_path / "bare.tflite"
    bare.write_bytes(tiny_converted.raw["float32"])  # converter output: no metadata
    status, _, stderr = _cli(capsys, "transcribe", bare, tmp_path / "mono16k.wav")
    assert status == 2 and "no vocabulary in its metadata" in stderr


def test_transcribe_decodes_with_the_floor_the_file_carries_or_the_one_asked_for(capsys):
    """The demo's file on its sample: no floor in its metadata (converted before the floor was
    recorded), so the words as before; a floor asked for drops the words never that probable,
    exactly as greedy_decode does; a damaged floor in the model info is named."""
    from converters.metadata import read_metadata
    from converters.runner import TFLiteModel
    from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
    from rt_keras.data.audio import read_wav
    from rt_keras.export.transcribe import TranscribeError, min_token_probability

    model, sample = STARTER / "models/rt-qat-int8.tflite", STARTER / "sample.wav"
    assert min_token_probability(read_metadata(model.read_bytes()), model) == 0
    log_probs = TFLiteModel(model)(pcm_to_float(float_to_pcm(read_wav(sample)))[None])[0]
    best = log_probs.argmax(-1)
    peaks = sorted(np.exp(log_probs[best == token, token].max()) for token in set(best.tolist()) - {0})
    floor = float(peaks[0]) + 1e-4  # just above the least probable word's peak
    transcripts = {}
    for asked in ([], ["--min-token-probability", floor]):
        status, stdout, _ = _cli(capsys, "transcribe", model, sample, "--json", *asked)
        assert status == 0
        transcripts[bool(asked)] = json.loads(stdout)[0]["transcript"]
    assert transcripts[False] == DIGITS.decode(greedy_decode(log_probs)) != ""
    assert transcripts[True] == DIGITS.decode(greedy_decode(log_probs, min_probability=floor))
    assert len(transcripts[True].split()) < len(transcripts[False].split())
    with pytest.raises(SystemExit):
        _cli(capsys, "transcribe", model, sample, "--min-token-probability", "1")
    assert "expected a probability in [0, 1), got 1" in capsys.readouterr().err
    with pytest.raises(TranscribeError, match="x.tflite: damaged model info: min_token_probability='0.5'"):
        min_token_probability({"info": {"min_token_probability": "0.5"}}, "x.tflite")


@requires_fsdd
def test_a_converted_file_carries_its_decoding_floor(tiny_converted):
    import dataclasses

    from converters.metadata import read_metadata
    from rt_keras.export.package import package
    from rt_keras.export.transcribe import min_token_probability

    config = dataclasses.replace(tiny_converted.config, decode=dataclasses.replace(
        tiny_converted.config.decode, min_token_probability=0.4))
    for floor, used in ((0.0, tiny_converted.config), (0.4, config)):
        metadata = read_metadata(package(tiny_converted.raw["qat-int8"], used, "qat-int8", vocabulary=DIGITS)[0])
        assert metadata["info"]["min_token_probability"] == floor
        assert min_token_probability(metadata, "m.tflite") == floor
