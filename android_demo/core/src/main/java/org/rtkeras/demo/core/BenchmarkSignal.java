package org.rtkeras.demo.core;

/**
 * What a footprint measures by default, defined once for the phone and the host
 * (converters/footprint_probe.py BENCHMARK and test_audio; tests/test_android_core.py checks
 * that both agree sample for sample): 2 s of a slow chirp plus noise from a 32-bit LCG,
 * 3 warm-up and 20 timed runs, 1 interpreter thread.
 */
public final class BenchmarkSignal {
    public static final double SECONDS = 2.0;
    public static final int THREADS = 1;
    public static final int RUNS = 20;
    public static final int WARMUP = 3;

    private BenchmarkSignal() {
    }

    /** {@code samples} samples at {@code sampleRate} Hz: 0.3 sin(2 pi (200 + 400 t) t) + 0.01 uniform noise. */
    public static float[] generate(int samples, int sampleRate) {
        float[] out = new float[samples];
        long state = 1;
        for (int i = 0; i < samples; i++) {
            double t = i / (double) sampleRate;
            state = (1664525L * state + 1013904223L) & 0xFFFFFFFFL;
            double noise = 0.01 * (2.0 * (state / 4294967296.0) - 1.0);
            out[i] = (float) (0.3 * Math.sin(2 * Math.PI * (200 + 400 * t) * t) + noise);
        }
        return out;
    }
}
