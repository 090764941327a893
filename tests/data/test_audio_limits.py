"""The WAV reader's limits (issue 32, finding 8): a sample size it does not read is refused
(a 7-bit header was decoded as 8-bit, twice the real length), float samples beyond
MAX_FLOAT_AMPLITUDE are refused (15-16x full scale passed), and the longest file leaves
room for the interpreter's memory (an hour passed; the model then needed hundreds of GB).
The WAVs of ../shared/fuzz (its README.md) are refused with one line; its white noise is
the model's business, not the reader's, and is not tested here."""

import pathlib
import struct

import numpy as np
import pytest
import soundfile

from rt_keras.data.audio import MAX_DECODED_BYTES, MAX_FILE_SECONDS, MAX_FLOAT_AMPLITUDE, AudioError, read_wav

FUZZ = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "fuzz"


def _tone(seconds=0.5, rate=16000, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _refused(path, needle, **kwargs):
    with pytest.raises(AudioError) as error:
        read_wav(path, **kwargs)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and needle in message and "\n" not in message, message
    return message


def _patch_fmt(path, offset, fmt, value):
    """Overwrite a field of the (first) fmt chunk of a plain 44-byte-header WAV."""
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"fmt "
    struct.pack_into(fmt, data, 20 + offset, value)
    path.write_bytes(bytes(data))


def test_a_header_declaring_a_sample_size_the_reader_does_not_read_is_refused(tmp_path):
    path = tmp_path / "bits7.wav"
    soundfile.write(path, _tone(rate=8000), 8000, subtype="PCM_U8")
    _patch_fmt(path, 14, "<H", 7)  # bits per sample: libsndfile reads it as 8-bit
    _refused(path, "unsupported sample size: its header declares 7-bit PCM samples (supported: 8, 16, 24, 32-bit PCM)")
    for bits in (4, 12, 20):  # read by libsndfile as 8, 16 and 24-bit
        _patch_fmt(path, 14, "<H", bits)
        _refused(path, f"declares {bits}-bit PCM samples")


def test_a_header_whose_block_size_disagrees_with_its_sample_size_is_refused(tmp_path):
    path = tmp_path / "block.wav"
    soundfile.write(path, _tone(rate=8000), 8000, subtype="PCM_U8")
    _patch_fmt(path, 14, "<H", 16)  # 16-bit samples in 1-byte blocks
    _refused(path, "damaged WAV header: 1 channel(s) of 16-bit samples take 2 bytes per frame; it declares 1")


@pytest.mark.parametrize("subtype,channels", [("PCM_U8", 1), ("PCM_16", 2), ("PCM_24", 1), ("PCM_32", 6),
                                              ("FLOAT", 1), ("DOUBLE", 2)])
def test_the_sample_formats_read_still_read(tmp_path, subtype, channels):
    path = tmp_path / "ok.wav"
    soundfile.write(path, np.stack([_tone()] * channels, axis=1), 16000, subtype=subtype)  # 6 channels: EXTENSIBLE
    assert read_wav(path).shape == (8000,)


def test_float_samples_beyond_the_stated_limit_are_refused(tmp_path):
    assert MAX_FLOAT_AMPLITUDE == 2.0
    path = tmp_path / "loud.wav"
    soundfile.write(path, _tone(amplitude=1.9), 16000, subtype="FLOAT")
    assert np.abs(read_wav(path)).max() == pytest.approx(1.9, abs=0.01)  # overs of up to +6 dBFS pass (clipped later)
    soundfile.write(path, _tone(amplitude=2.5), 16000, subtype="FLOAT")
    _refused(path, "float samples reach 2.5; a float WAV holds [-1, 1] (up to 2 is accepted and clipped")


def _declaring(path, seconds, rate=8000, channels=1):
    """A 16-bit WAV whose header declares ``seconds`` over a sparse file (nothing written)."""
    frames = int(seconds * rate)
    soundfile.write(path, np.zeros((10, channels), np.float32) + 0.1, rate, subtype="PCM_16")
    written = path.read_bytes()
    assert written[36:40] == b"data"
    header = bytearray(written[:44])
    size = 2 * channels * frames
    struct.pack_into("<I", header, 4, 36 + size)
    struct.pack_into("<I", header, 40, size)
    with open(path, "wb") as f:
        f.write(bytes(header) + written[44:])  # ten frames of sound, then zeros
        f.truncate(44 + size)
    return path


def test_the_longest_file_read_leaves_room_for_the_interpreter(tmp_path):
    assert MAX_FILE_SECONDS == 120.0  # the demo model needs 369 MB at 120 s (an hour used to pass)
    _refused(_declaring(tmp_path / "hour.wav", 3600), "3600.00 s is longer than the maximum of 120.00 s")
    _refused(_declaring(tmp_path / "long.wav", 121), "121.00 s is longer than the maximum of 120.00 s")
    assert read_wav(_declaring(tmp_path / "ok.wav", 3)).size == 48000


def test_many_channels_are_refused_before_they_are_decoded(tmp_path):
    seconds = 100
    path = _declaring(tmp_path / "many.wav", seconds, rate=48000, channels=16)
    assert 4 * 16 * 48000 * seconds > MAX_DECODED_BYTES
    _refused(path, "16 channels of 100.00 s decode to 293 MB; at most 256 MB")


@pytest.mark.skipif(not FUZZ.is_dir(), reason=f"{FUZZ.resolve()} is absent: the damaged files of issue 32")
@pytest.mark.parametrize("name,needle", [
    ("bits_7", "its header declares 7-bit PCM samples"),
    ("float_peak_15", "float samples reach 15;"),
    ("float_peak_16", "float samples reach 16;"),
])
def test_the_damaged_wavs_of_the_fuzz_corpus_are_refused_with_one_line(name, needle):
    _refused(FUZZ / f"{name}.wav", needle)
