package org.rtkeras.demo.core;

import java.nio.FloatBuffer;

/**
 * The model's output read after invoke: its frame count depends on the input length (the
 * output signature is [1, -1, vocabulary + 1]), so it is known only once the model has run.
 */
public final class LogProbabilities {
    private LogProbabilities() {
    }

    /** [frames][classes] from the output tensor's float data (frames = floats / classes). */
    public static float[][] fromBuffer(FloatBuffer data, int classes) {
        if (classes <= 0) {
            throw new IllegalArgumentException("classes must be positive, got " + classes);
        }
        int floats = data.remaining();
        if (floats % classes != 0) {
            throw new IllegalStateException("the model's output holds " + floats + " floats, not a whole number of "
                    + classes + "-class frames: the model's vocabulary does not match its output");
        }
        float[][] frames = new float[floats / classes][classes];
        for (float[] frame : frames) {
            data.get(frame);
        }
        return frames;
    }
}
