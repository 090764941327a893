import numpy as np
import pytest
import soundfile

from rt_keras.core.run_config import AugmentConfig
from rt_keras.data.audio import AudioError, read_wav
from rt_keras.data.augment import add_noise, augment, change_speed, telephone_band


def _tone(seconds=0.5, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_reads_common_rates_mono_and_stereo_and_resamples_to_16k(tmp_path, rate, channels):
    tone = _tone(0.5, rate)
    data = np.stack([tone] * channels, axis=1) if channels == 2 else tone
    path = tmp_path / "x.wav"
    soundfile.write(path, data, rate, subtype="PCM_16")
    audio = read_wav(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16000 / audio.size - 440) < 5  # still a 440 Hz tone


def _write(path, data, rate=16000, subtype="PCM_16"):
    soundfile.write(path, data, rate, subtype=subtype)
    return path


@pytest.mark.parametrize("case,needle", [
    ("empty", "empty audio"),
    ("zeros", "all samples are zero"),
    ("nan", "NaN/Inf"),
    ("garbage", "unreadable audio file"),
    ("truncated", "truncated WAV"),
    ("ulaw", "unsupported sample format ULAW"),
    ("long", "3.00 s is longer than the maximum of 2.00 s (data.max_seconds)"),
    ("huge float", "float samples reach 3e+29; a float WAV holds [-1, 1]"),
    ("cancelling", "its 2 channels cancel when averaged to mono"),
    ("one sample", "1 samples (0.06 ms) is too short to hold speech"),
    ("sparse", "36000.00 s is longer than the maximum of 2.00 s"),
])
def test_bad_audio_gets_an_error_naming_the_file(tmp_path, case, needle):
    path = tmp_path / f"{case}.wav"
    if case == "empty":
        _write(path, np.zeros(0, np.float32))
    elif case == "zeros":
        _write(path, np.zeros(4000, np.float32))
    elif case == "nan":
        data = _tone()
        data[100] = np.nan
        _write(path, data, subtype="FLOAT")
    elif case == "garbage":
        path.write_bytes(b"this is not audio at all" * 10)
    elif case == "truncated":
        full = _write(tmp_path / "full.wav", _tone()).read_bytes()
        path.write_bytes(full[: len(full) // 2])
    elif case == "ulaw":
        _write(path, _tone(), subtype="ULAW")
    elif case == "long":
        _write(path, _tone(3.0))
    elif case == "huge float":
        _write(path, _tone() * 1e30, subtype="FLOAT")
    elif case == "cancelling":
        _write(path, np.stack([_tone(), -_tone() + 1e-6], axis=1), subtype="FLOAT")
    elif case == "one sample":
        _write(path, np.array([0.5], np.float32))
    elif case == "sparse":  # a header that declares 10 hours over a sparse file: refused unread
        header = _write(tmp_path / "h.wav", _tone()).read_bytes()[:44]
        frames = 16000 * 36000
        header = header[:40] + (2 * frames).to_bytes(4, "little")
        with open(path, "wb") as f:
            f.write(header[:4] + (36 + 2 * frames).to_bytes(4, "little") + header[8:])
            f.truncate(44 + 2 * frames)
    with pytest.raises(AudioError) as error:
        read_wav(path, max_seconds=2.0)
    assert str(path) in str(error.value) and needle in str(error.value)


def test_augmentations_keep_length_scale_and_are_seeded():
    rng = np.random.default_rng(0)
    x = _tone(1.0)
    noisy = add_noise(x, snr_db=10.0, rng=rng)
    snr = 10 * np.log10(np.mean(x ** 2) / np.mean((noisy - x) ** 2))
    assert abs(snr - 10.0) < 0.1
    assert abs(change_speed(x, 1.1).size - x.size / 1.1) < 20
    narrow = telephone_band(x)  # 440 Hz is inside the 300-3400 Hz band: kept
    assert narrow.size == x.size and 0.85 < np.std(narrow[2000:-2000]) / np.std(x[2000:-2000]) < 1.15
    t = np.arange(16000) / 16000
    high = (0.3 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    assert np.std(telephone_band(high)) < 0.01 * np.std(high)  # 6 kHz is removed
    low = (0.3 * np.sin(2 * np.pi * 80 * t)).astype(np.float32)
    assert np.std(telephone_band(low)[2000:-2000]) < 0.3 * np.std(low)  # 80 Hz is cut (below 300 Hz)
    a = augment(x, np.random.default_rng(5), AugmentConfig())
    b = augment(x, np.random.default_rng(5), AugmentConfig())
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a)) <= 1.0
