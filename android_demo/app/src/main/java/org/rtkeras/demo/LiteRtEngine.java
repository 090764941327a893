package org.rtkeras.demo;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

import org.rtkeras.demo.core.InferenceEngine;
import org.rtkeras.demo.core.LogProbabilities;
import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.StreamingLayout;
import org.rtkeras.demo.core.StreamingStep;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.TensorFlowLite;

/**
 * The only class that touches the LiteRT API (with its nested {@link Streaming}). Its call order is the one the host replays in
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

    /**
     * A streaming model (`rt-keras convert --streaming`) called one chunk at a time through its
     * signature, as the host does (converters/runner.py StreamingTFLiteModel): input "audio" and
     * the state inputs of the layout in the model's metadata; output "output_0" (the chunk's
     * log-probabilities) and the state outputs the layout names. No shape is hard-coded.
     */
    static final class Streaming implements StreamingStep {
        private final Interpreter interpreter;
        private final StreamingLayout layout;
        private final String signature;
        private final int classes;
        private final int frames;

        /** Checks the model's signature against its layout, so a mismatch fails here and not mid-recording. */
        Streaming(ModelFile file, int threads) {
            this.layout = file.metadata.streamingLayout();
            if (layout == null) {
                throw new IllegalArgumentException(file.name + " is not a streaming model (no streaming state in "
                        + "its metadata; convert with rt-keras convert --streaming)");
            }
            this.classes = file.metadata.vocabulary().size();
            this.interpreter = new Interpreter(file.buffer, new Interpreter.Options().setNumThreads(threads));
            try {
                String[] keys = interpreter.getSignatureKeys();
                if (keys.length != 1) {
                    throw new IllegalArgumentException(file.name + ": expected one signature, found " + keys.length);
                }
                signature = keys[0];
                Map<String, Integer> inputs = new HashMap<String, Integer>();
                inputs.put(StreamingLayout.AUDIO, layout.chunkSamples);
                Map<String, Integer> outputs = new HashMap<String, Integer>();
                for (StreamingLayout.StateTensor tensor : layout.state) {
                    inputs.put(tensor.name, tensor.size());
                    outputs.put(tensor.output, tensor.size());
                }
                check(file.name, "input", inputs, interpreter.getSignatureInputs(signature), true);
                outputs.put(StreamingLayout.LOG_PROBS, null); // its size: whole frames, checked below
                check(file.name, "output", outputs, interpreter.getSignatureOutputs(signature), false);
                int values = interpreter.getOutputTensorFromSignature(StreamingLayout.LOG_PROBS, signature)
                        .numElements();
                if (values == 0 || values % classes != 0) {
                    throw new IllegalArgumentException(file.name + ": " + StreamingLayout.LOG_PROBS + " holds "
                            + values + " values, not whole frames of " + classes + " classes");
                }
                frames = values / classes;
            } catch (RuntimeException e) {
                interpreter.close();
                throw e;
            }
        }

        private void check(String model, String kind, Map<String, Integer> expected, String[] actual,
                boolean inputs) {
            if (!new java.util.HashSet<String>(java.util.Arrays.asList(actual)).equals(expected.keySet())) {
                throw new IllegalArgumentException(model + ": the signature's " + kind + "s are "
                        + java.util.Arrays.toString(actual) + ", its metadata's state layout names "
                        + expected.keySet());
            }
            for (Map.Entry<String, Integer> entry : expected.entrySet()) {
                if (entry.getValue() == null) {
                    continue;
                }
                int size = (inputs ? interpreter.getInputTensorFromSignature(entry.getKey(), signature)
                        : interpreter.getOutputTensorFromSignature(entry.getKey(), signature)).numElements();
                if (size != entry.getValue()) {
                    throw new IllegalArgumentException(model + ": " + kind + " " + entry.getKey() + " holds " + size
                            + " values, the state layout says " + entry.getValue());
                }
            }
        }

        StreamingLayout layout() {
            return layout;
        }

        @Override
        public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
            Map<String, Object> inputs = new HashMap<String, Object>();
            inputs.put(StreamingLayout.AUDIO, FloatBuffer.wrap(chunk));
            Map<String, Object> outputs = new HashMap<String, Object>();
            FloatBuffer logProbs = FloatBuffer.allocate(frames * classes);
            outputs.put(StreamingLayout.LOG_PROBS, logProbs);
            Map<String, FloatBuffer> states = new HashMap<String, FloatBuffer>();
            for (StreamingLayout.StateTensor tensor : layout.state) {
                inputs.put(tensor.name, FloatBuffer.wrap(state.get(tensor.name)));
                FloatBuffer out = FloatBuffer.allocate(tensor.size());
                outputs.put(tensor.output, out);
                states.put(tensor.output, out);
            }
            interpreter.runSignature(inputs, outputs, signature);
            for (Map.Entry<String, FloatBuffer> entry : states.entrySet()) {
                nextState.put(entry.getKey(), entry.getValue().array());
            }
            float[][] rows = new float[frames][classes];
            for (int f = 0; f < frames; f++) {
                System.arraycopy(logProbs.array(), f * classes, rows[f], 0, classes);
            }
            return rows;
        }

        void close() {
            interpreter.close();
        }
    }
}
