package org.rtkeras.demo.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * 16-bit PCM WAV (WAVE_FORMAT_PCM or WAVE_FORMAT_EXTENSIBLE with PCM data; mono or up to 8
 * channels, any rate) -> mono samples and rate. Any malformed input (truncated chunks, sizes
 * past the end or above 2 GiB, other encodings) gives an IllegalArgumentException naming the
 * file and the problem; no input makes it loop or read out of bounds.
 */
public final class WavReader {
    private static final int FORMAT_PCM = 1;
    private static final int FORMAT_EXTENSIBLE = 0xFFFE;
    private static final int MAX_CHANNELS = 8;
    /** The host's read_wav range (rt_keras/data/audio.py): resampling anything else is nonsense or huge. */
    public static final int MIN_SAMPLE_RATE = 8000;
    public static final int MAX_SAMPLE_RATE = 192000;

    public final int sampleRate;
    public final short[] samples;

    private WavReader(int sampleRate, short[] samples) {
        this.sampleRate = sampleRate;
        this.samples = samples;
    }

    /** Samples that did not come from a file (the microphone). */
    public static WavReader fromSamples(int sampleRate, short[] samples) {
        return new WavReader(sampleRate, samples);
    }

    public static WavReader read(byte[] bytes, String name) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || buffer.getInt(0) != 0x46464952 || buffer.getInt(8) != 0x45564157) {
            throw new IllegalArgumentException(name + ": not a RIFF/WAVE file");
        }
        int channels = 0;
        int rate = 0;
        long offset = 12;
        while (offset + 8 <= bytes.length) {
            int at = (int) offset;
            int id = buffer.getInt(at);
            long size = buffer.getInt(at + 4) & 0xFFFFFFFFL; // chunk sizes are unsigned 32-bit
            int body = at + 8;
            if (id == 0x20746d66) { // "fmt "
                if (size < 16 || body + 16 > bytes.length) {
                    throw new IllegalArgumentException(name + ": truncated fmt chunk (" + size + " bytes declared, "
                            + (bytes.length - body) + " present; need 16)");
                }
                int format = buffer.getShort(body) & 0xffff;
                channels = buffer.getShort(body + 2) & 0xffff;
                rate = buffer.getInt(body + 4);
                int bits = buffer.getShort(body + 14) & 0xffff;
                if (format == FORMAT_EXTENSIBLE) {
                    if (size < 40 || body + 26 > bytes.length) {
                        throw new IllegalArgumentException(name + ": truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
                    }
                    format = buffer.getShort(body + 24) & 0xffff; // first two bytes of the SubFormat GUID
                }
                if (format != FORMAT_PCM || bits != 16) {
                    throw new IllegalArgumentException(name + ": expected 16-bit PCM, got format " + format + ", "
                            + bits + " bits (convert it, e.g. sox in.wav -b 16 -e signed-integer out.wav)");
                }
                if (channels < 1 || channels > MAX_CHANNELS) {
                    throw new IllegalArgumentException(name + ": " + channels + " channels; expected 1 to "
                            + MAX_CHANNELS);
                }
                if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
                    throw new IllegalArgumentException(name + ": sample rate " + (rate & 0xFFFFFFFFL)
                            + " Hz outside the supported " + MIN_SAMPLE_RATE + "-" + MAX_SAMPLE_RATE + " Hz");
                }
            } else if (id == 0x61746164) { // "data"
                if (channels == 0) {
                    throw new IllegalArgumentException(name + ": data chunk before fmt chunk");
                }
                long available = Math.min(size, (long) bytes.length - body);
                int frames = (int) (available / (2L * channels));
                if (frames == 0) {
                    throw new IllegalArgumentException(name + ": no audio samples");
                }
                short[] mono = new short[frames];
                for (int i = 0; i < frames; i++) {
                    int sum = 0;
                    for (int c = 0; c < channels; c++) {
                        sum += buffer.getShort(body + 2 * (i * channels + c));
                    }
                    mono[i] = (short) (sum / channels);
                }
                return new WavReader(rate, mono);
            }
            offset = body + size + (size & 1); // always moves forward: size is unsigned
        }
        throw new IllegalArgumentException(name + ": no data chunk");
    }
}
