"""`rt-keras transcribe`: any WAV the reader accepts, resampled to the model's rate; bad
files are named and the others still transcribed."""

import json

import numpy as np
import pytest

from rt_keras.cli import main
from rt_keras.core.vocabulary import DIGITS
from tests.helpers import requires_fsdd


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
