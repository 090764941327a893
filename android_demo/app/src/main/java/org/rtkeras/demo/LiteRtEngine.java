package org.rtkeras.demo;

import java.nio.ByteBuffer;

import org.rtkeras.demo.core.InferenceEngine;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.TensorFlowLite;

/** The only class that touches the LiteRT API. */
final class LiteRtEngine implements InferenceEngine {
    private final Interpreter interpreter;
    private final int threads;
    private int inputLength = -1;

    /** {@code model} is the memory-mapped .tflite (see ModelFile). */
    LiteRtEngine(ByteBuffer model, int threads) {
        this.threads = threads;
        this.interpreter = new Interpreter(model, new Interpreter.Options().setNumThreads(threads));
    }

    /** Resize the input to {@code samples} and allocate tensors (the "after allocate" stage). */
    void prepare(int samples) {
        if (samples != inputLength) {
            interpreter.resizeInput(0, new int[] {1, samples});
            interpreter.allocateTensors();
            inputLength = samples;
        }
    }

    @Override
    public float[][] run(float[] audio) {
        prepare(audio.length);
        int[] shape = interpreter.getOutputTensor(0).shape(); // [1, frames, vocabulary]
        float[][][] output = new float[1][shape[1]][shape[2]];
        interpreter.run(new float[][] {audio}, output);
        return output[0];
    }

    @Override
    public String runtimeVersion() {
        return "LiteRT " + TensorFlowLite.runtimeVersion();
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public void close() {
        interpreter.close();
    }
}
