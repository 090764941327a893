package org.rtkeras.demo.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** 16-bit PCM WAV (mono or stereo, any rate) -> mono samples and rate. */
public final class WavReader {
    public final int sampleRate;
    public final short[] samples;

    private WavReader(int sampleRate, short[] samples) {
        this.sampleRate = sampleRate;
        this.samples = samples;
    }

    public static WavReader read(byte[] bytes, String name) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || buffer.getInt(0) != 0x46464952 || buffer.getInt(8) != 0x45564157) {
            throw new IllegalArgumentException(name + ": not a RIFF/WAVE file");
        }
        int channels = 0;
        int rate = 0;
        int bits = 0;
        int offset = 12;
        while (offset + 8 <= bytes.length) {
            int id = buffer.getInt(offset);
            int size = buffer.getInt(offset + 4);
            int body = offset + 8;
            if (id == 0x20746d66) { // "fmt "
                int format = buffer.getShort(body) & 0xffff;
                channels = buffer.getShort(body + 2);
                rate = buffer.getInt(body + 4);
                bits = buffer.getShort(body + 14);
                if (format != 1 || bits != 16) {
                    throw new IllegalArgumentException(name + ": expected 16-bit PCM, got format " + format + ", "
                            + bits + " bits");
                }
            } else if (id == 0x61746164) { // "data"
                if (channels <= 0) {
                    throw new IllegalArgumentException(name + ": data chunk before fmt chunk");
                }
                int available = Math.min(size, bytes.length - body);
                int frames = available / (2 * channels);
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
            offset = body + size + (size & 1);
        }
        throw new IllegalArgumentException(name + ": no data chunk");
    }
}
