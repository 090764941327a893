package org.rtkeras.demo.core;

/** Fixed-capacity buffer of the most recent audio samples (the recorder writes, the UI reads). */
public final class RingBuffer {
    private final short[] data;
    private int next;
    private long written;

    public RingBuffer(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        data = new short[capacity];
    }

    public synchronized void write(short[] samples, int count) {
        for (int i = 0; i < count; i++) {
            data[next] = samples[i];
            next = (next + 1) % data.length;
        }
        written += count;
    }

    /** Samples held, at most the capacity. */
    public synchronized int size() {
        return (int) Math.min(written, data.length);
    }

    public synchronized long totalWritten() {
        return written;
    }

    /** The held samples, oldest first. */
    public synchronized short[] snapshot() {
        int size = size();
        short[] out = new short[size];
        int start = (next - size + data.length) % data.length;
        for (int i = 0; i < size; i++) {
            out[i] = data[(start + i) % data.length];
        }
        return out;
    }

    public synchronized void clear() {
        next = 0;
        written = 0;
    }
}
