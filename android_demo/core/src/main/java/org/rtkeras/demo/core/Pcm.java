package org.rtkeras.demo.core;

/** PCM conversion and resampling to the model's float input at the model's sample rate. */
public final class Pcm {
    /** The model was trained on int16 samples divided by 32767 (rt_keras.task.PCM_SCALE). */
    public static final float PCM16_SCALE = 32767f;
    /** For models without a sample rate in their metadata (rt-keras models record theirs). */
    public static final int DEFAULT_SAMPLE_RATE = 16000;
    /** The front-end window of rt-keras models converted before the metadata recorded it. */
    public static final int DEFAULT_FRAME_LENGTH = 512;

    private Pcm() {
    }

    public static float[] toFloat(short[] samples) {
        float[] out = new float[samples.length];
        for (int i = 0; i < samples.length; i++) {
            out[i] = samples[i] / PCM16_SCALE;
        }
        return out;
    }

    /**
     * Linear-interpolation resampling (the same as numpy.interp at t = i * from / to).
     * The microphone records at the model's rate directly; this is for WAV files at other rates.
     */
    public static float[] resample(float[] x, int fromRate, int toRate) {
        if (fromRate <= 0 || toRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive, got " + fromRate + " -> " + toRate);
        }
        if (fromRate == toRate || x.length == 0) {
            return x.clone();
        }
        int n = (int) ((long) x.length * toRate / fromRate);
        float[] out = new float[n];
        double step = (double) fromRate / toRate;
        for (int i = 0; i < n; i++) {
            double t = i * step;
            int left = (int) Math.floor(t);
            if (left >= x.length - 1) {
                out[i] = x[x.length - 1];
            } else {
                double frac = t - left;
                out[i] = (float) (x[left] + (x[left + 1] - x[left]) * frac);
            }
        }
        return out;
    }

    /** Mono float input for a model at {@code modelRate} from int16 PCM at any rate. */
    public static float[] modelInput(short[] samples, int sampleRate, int modelRate) {
        return resample(toFloat(samples), sampleRate, modelRate);
    }

    /** {@code audio} with trailing silence up to {@code minimum} samples (itself when long enough). */
    public static float[] padToMinimum(float[] audio, int minimum) {
        if (audio.length >= minimum) {
            return audio;
        }
        float[] padded = new float[minimum];
        System.arraycopy(audio, 0, padded, 0, audio.length);
        return padded;
    }
}
