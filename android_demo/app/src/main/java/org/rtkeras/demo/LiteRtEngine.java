package org.rtkeras.demo;

import java.nio.ByteOrder;

import org.rtkeras.demo.core.InferenceEngine;
import org.rtkeras.demo.core.LogProbabilities;
import org.rtkeras.demo.core.Pcm;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.TensorFlowLite;

/**
 * The only class that touches the LiteRT API. Its call order is the one the host replays in
 * tests/test_convert.py: the constructor allocates at the model's stored input shape, each new
 * length is resized and allocated, then invoke, and the output (whose frame count depends on
 * the length) is read after invoke.
 */
final class LiteRtEngine implements InferenceEngine {
    private final Interpreter interpreter;
    private final int threads;
    private final int classes;
    private final int minimumSamples;
    private int inputLength = -1;

    /** {@code file}: a memory-mapped .tflite with rt-keras metadata (see ModelFile). */
    LiteRtEngine(ModelFile file, int threads) {
        this.threads = threads;
        this.classes = file.metadata.vocabulary().size();
        this.minimumSamples = file.metadata.minimumSamples();
        this.interpreter = new Interpreter(file.buffer, new Interpreter.Options().setNumThreads(threads));
    }

    /** Resize the input to {@code samples} and allocate tensors (the "after allocate" stage). */
    void prepare(int samples) {
        int length = Math.max(samples, minimumSamples);
        if (length != inputLength) {
            interpreter.resizeInput(0, new int[] {1, length});
            interpreter.allocateTensors();
            inputLength = length;
        }
    }

    @Override
    public float[][] run(float[] audio) {
        float[] input = Pcm.padToMinimum(audio, minimumSamples);
        prepare(input.length);
        interpreter.run(new float[][] {input}, null); // output read below, after invoke
        return LogProbabilities.fromBuffer(interpreter.getOutputTensor(0).asReadOnlyBuffer()
                .order(ByteOrder.nativeOrder()).asFloatBuffer(), classes);
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
