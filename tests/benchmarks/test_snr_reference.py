"""benchmarks/snr_reference.py: the active-to-mean power gap of utterances with known pauses."""

import numpy as np

from benchmarks import snr_reference
from rt_keras.data import storage


def _tone(seconds: float, pause_fraction: float) -> np.ndarray:
    """A 16 kHz tone whose last ``pause_fraction`` is silence (whole 20 ms frames)."""
    n = int(seconds * 16000)
    x = (8000 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.int16)
    x[int(n * (1 - pause_fraction)) // 320 * 320:] = 0
    return x


def test_gap_is_the_pause_share_and_the_table_reports_it(tmp_path, capsys):
    # Half silence halves the mean power and leaves the active power: 10 log10(2) = 3.01 dB;
    # a quarter of silence: 10 log10(4/3) = 1.25 dB; no pause: 0 dB. A silent clip is skipped.
    audio = [_tone(1.0, 0.5), _tone(2.0, 0.25), _tone(1.0, 0.0), np.zeros(16000, np.int16)]
    gaps = snr_reference.level_gaps_db(audio)
    np.testing.assert_allclose(gaps, [3.01, 1.25, 0.0], atol=0.02)

    storage.save_split(tmp_path, "dev_clean", storage.Split(audio, ["one"] * 4, ["a"] * 4))
    assert snr_reference.main(["--data", str(tmp_path), "--splits", "dev_clean"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert row == "| dev_clean | 3 | 1.25 | 0.25 | 2.66 |"
    assert snr_reference.main(["--data", str(tmp_path), "--splits", "test_real"]) == 2
    assert "test_real" in capsys.readouterr().err
