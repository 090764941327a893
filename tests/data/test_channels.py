import numpy as np
import pytest
import scipy.signal

from rt_keras.data import channels

RATE = 16000


def _voice(seconds=1.0, noise=0.05):
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(140 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 30)) * 0.3
    x = x + noise * np.random.default_rng(0).normal(size=t.size)  # some energy above 4 kHz
    x[: RATE // 5] = 0
    return x.astype(np.float32)


def _high_band(x):
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    return spectrum[np.fft.rfftfreq(x.size, 1 / RATE) > 4200].sum() / spectrum.sum()


def test_rt60_measurement_reads_a_known_decay():
    t = np.arange(RATE) / RATE
    response = np.random.default_rng(0).normal(size=t.size) * np.exp(-6.9 * t / 0.5)
    assert channels.measure_rt60(response) == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize("rt60, dims", [(0.1, [2.2, 1.8, 1.5]), (0.3, [5.0, 4.0, 3.0]), (0.6, [7.0, 5.0, 3.0]),
                                        (1.0, [12.0, 9.0, 4.0])])
def test_image_method_room_reverberates_as_long_as_asked(rt60, dims):
    response, measured = channels.room_response(rt60, dims, np.random.default_rng(1))
    assert channels.measure_rt60(response) == pytest.approx(measured)
    assert measured == pytest.approx(rt60, rel=0.15)
    assert np.argmax(np.abs(response)) < 10  # the direct path first: no added delay
    x = np.random.default_rng(2).normal(size=RATE).astype(np.float32)
    assert channels.convolve(x, response).shape == x.shape


def test_room_bank_is_a_pure_function_of_its_key():
    a = channels.room_bank((0, 1), 2, (0.2, 0.3), ((3.0, 3.0, 2.5), (4.0, 4.0, 3.0)))
    channels.room_bank.cache_clear()
    b = channels.room_bank((0, 1), 2, (0.2, 0.3), ((3.0, 3.0, 2.5), (4.0, 4.0, 3.0)))
    c = channels.room_bank((0, 2), 2, (0.2, 0.3), ((3.0, 3.0, 2.5), (4.0, 4.0, 3.0)))
    for (ra, ma), (rb, mb) in zip(a, b):
        np.testing.assert_array_equal(ra, rb)
        assert ma == mb and 0.15 < ma < 0.36
    assert a[0][0].size != c[0][0].size or not np.array_equal(a[0][0], c[0][0])


@pytest.mark.parametrize("frequency, gain", [(300.0, 8.0), (2500.0, -10.0)])
def test_peaking_filter_has_the_asked_gain_at_its_frequency(frequency, gain):
    sos = channels.peaking(frequency, gain, 1.0)
    _, response = scipy.signal.sosfreqz(sos, worN=[frequency], fs=RATE)
    assert 20 * np.log10(np.abs(response[0])) == pytest.approx(gain, abs=0.05)


def test_random_eq_colours_the_spectrum_keeping_length_and_level():
    x = _voice()
    y = channels.random_eq(x, np.random.default_rng(3))
    np.testing.assert_array_equal(y, channels.random_eq(x, np.random.default_rng(3)))
    assert y.shape == x.shape and np.mean(y ** 2) == pytest.approx(np.mean(x ** 2), rel=1e-3)
    _, px = scipy.signal.welch(x, RATE, nperseg=512)
    _, py = scipy.signal.welch(y, RATE, nperseg=512)
    assert np.sqrt(np.mean((10 * np.log10(py[4:200] / px[4:200])) ** 2)) > 2.0  # dB of colouration


def test_clipping_and_low_levels():
    x = _voice()
    y = channels.clip(x, 0.3)
    assert y.shape == x.shape
    assert np.max(np.abs(y)) == pytest.approx(0.3 * np.max(np.abs(x)))
    assert np.mean(np.abs(y) >= 0.3 * np.max(np.abs(x)) - 1e-7) > 0.01  # a share of samples is flat-topped
    quiet = channels.set_peak_level(x, -40.0)
    assert 20 * np.log10(np.max(np.abs(quiet))) == pytest.approx(-40.0, abs=0.01)


@pytest.mark.parametrize("codec", ["mulaw", "alaw", "gsm", "amr-nb", "ima-adpcm", "vorbis"])
def test_codec_round_trip_keeps_length_and_band_limits(codec):
    x = _voice()
    y = channels.CODECS[codec](x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _high_band(x) > 0.01 and _high_band(y) < 1e-3 * _high_band(x)  # an 8 kHz channel
    band = channels._from_phone(channels._to_phone(x), x.size)
    snr = 10 * np.log10(np.mean(band ** 2) / np.mean((y - band) ** 2))
    if codec in ("mulaw", "alaw"):
        assert 30 < snr < 45  # 8-bit companding: about 38 dB
    else:  # GSM, AMR, ADPCM and Vorbis are lossy; the frame energies follow the input's
        assert snr < 30
        energy = [np.log10(np.mean(s[: s.size // 160 * 160].reshape(-1, 160) ** 2, axis=1) + 1e-9) for s in (band, y)]
        assert np.corrcoef(*energy)[0, 1] > 0.8


def test_missing_sox_names_the_package(monkeypatch):
    monkeypatch.setattr(channels.shutil, "which", lambda name: None)
    with pytest.raises(channels.CodecError, match="apt-get install sox"):
        channels.gsm(_voice(0.2))
