package org.rtkeras.demo;

import android.content.res.AssetManager;

import java.io.File;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.ai.edge.litert.Accelerator;
import com.google.ai.edge.litert.CompiledModel;
import com.google.ai.edge.litert.LiteRtException;
import com.google.ai.edge.litert.TensorBuffer;
import com.google.ai.edge.litert.TensorType;
import org.rtkeras.demo.core.EnginePlan;
import org.rtkeras.demo.core.InferenceEngine;
import org.rtkeras.demo.core.LogProbabilities;
import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.StreamingLayout;
import org.rtkeras.demo.core.StreamingStep;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.TensorFlowLite;

/**
 * The only class that touches the LiteRT API (with its nested streaming engines). A whole
 * utterance runs on the Interpreter (LiteRT 2.3.0's CompiledModel cannot resize an input); its
 * call order is the one the host replays in tests/android/test_android_core.py: the
 * constructor allocates at the model's stored input shape, each new length is resized and
 * allocated, then invoke, and the output (whose frame count depends on the length) is read
 * after invoke. A streaming step runs on {@link CompiledStreaming} (CompiledModel with XNNPACK's
 * weight cache in a file) or {@link Streaming} (Interpreter), as {@link EnginePlan} decides.
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
    static final class Streaming extends StreamingEngine {
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

        @Override
        StreamingLayout layout() {
            return layout;
        }

        @Override
        String runtime() {
            return "LiteRT " + TensorFlowLite.runtimeVersion() + " Interpreter";
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

        @Override
        void close() {
            interpreter.close();
        }
    }

    /** A streaming step on either API; {@link #open} picks the one {@link EnginePlan} chose. */
    abstract static class StreamingEngine implements StreamingStep {
        abstract StreamingLayout layout();

        /** E.g. "LiteRT 2.3.0 CompiledModel, XNNPACK weight cache in a file". */
        abstract String runtime();

        /** The weight-cache file's size after loading: the packed weights it holds; null without a cache. */
        Long weightCacheBytes() {
            return null;
        }

        /** True when this engine runs with XNNPACK's weight cache (CompiledModel). */
        boolean weightCache() {
            return false;
        }

        abstract void close();

        /**
         * {@code cacheFile}: where XNNPACK keeps the packed weights of this model (one file per
         * model: EnginePlan.weightCacheFileName); used only on the CompiledModel path. A kept
         * cache file that cannot be loaded (cut short by a crash while packing) is deleted and
         * the model loaded once more; if CompiledModel still cannot load it (or its native
         * library is missing), the Interpreter runs the step, as on a CPU without atomics. A
         * SIGILL cannot be caught: that is what EnginePlan's atomics check is for.
         */
        static StreamingEngine open(AssetManager assets, ModelFile file, int threads, EnginePlan plan,
                File cacheFile) {
            if (!plan.weightCache()) {
                return new Streaming(file, threads);
            }
            try {
                try {
                    return new CompiledStreaming(assets, file, threads, cacheFile);
                } catch (RuntimeException e) {
                    if (!cacheFile.isFile()) {
                        throw e;
                    }
                    AppLog.w(file.name + ": CompiledModel failed with a kept weight cache; deleting it, once more", e);
                    if (!cacheFile.delete()) {
                        throw e;
                    }
                    return new CompiledStreaming(assets, file, threads, cacheFile);
                }
            } catch (RuntimeException | LinkageError e) {
                AppLog.w(file.name + ": CompiledModel cannot run it; the Interpreter does, without the weight cache", e);
                return new Streaming(file, threads);
            }
        }
    }

    /**
     * A streaming step on LiteRT's CompiledModel (com.google.ai.edge.litert, 2.3.0) with
     * XNNPACK's weight cache in a file: a constant read by several operators (a shared W_g) is
     * packed once, where the Interpreter packs it once per reader. Fixed shapes only: one chunk
     * plus state per call, by name through the model's first signature (""). The model is read
     * from its asset (CompiledModel.create copies it into memory). Not run on a device yet.
     */
    static final class CompiledStreaming extends StreamingEngine {
        private final CompiledModel model;
        private final StreamingLayout layout;
        private final int classes;
        private final int frames;
        private final File cacheFile;
        private final Long cacheBytes;
        private final Map<String, TensorBuffer> inputs = new LinkedHashMap<String, TensorBuffer>();
        private final Map<String, TensorBuffer> outputs = new LinkedHashMap<String, TensorBuffer>();

        CompiledStreaming(AssetManager assets, ModelFile file, int threads, File cacheFile) {
            this.layout = file.metadata.streamingLayout();
            if (layout == null) {
                throw new IllegalArgumentException(file.name + " is not a streaming model");
            }
            this.classes = file.metadata.vocabulary().size();
            this.cacheFile = cacheFile;
            File directory = cacheFile.getParentFile();
            if (directory != null && !directory.isDirectory() && !directory.mkdirs()) {
                throw new IllegalStateException("cannot create " + directory);
            }
            CompiledModel.Options options = new CompiledModel.Options(Accelerator.CPU);
            options.setCpuOptions(new CompiledModel.CpuOptions(threads, null, cacheFile.getPath()));
            try {
                model = CompiledModel.create(assets, ModelFile.DIRECTORY + "/" + file.name, options);
            } catch (LiteRtException e) {
                throw new IllegalStateException(file.name + ": CompiledModel: " + e.getMessage(), e);
            }
            try {
                check(file.name, StreamingLayout.AUDIO, elements(model.getInputTensorType(StreamingLayout.AUDIO, "")),
                        layout.chunkSamples);
                inputs.put(StreamingLayout.AUDIO, model.createInputBuffer(StreamingLayout.AUDIO, ""));
                for (StreamingLayout.StateTensor tensor : layout.state) {
                    check(file.name, tensor.name, elements(model.getInputTensorType(tensor.name, "")), tensor.size());
                    check(file.name, tensor.output, elements(model.getOutputTensorType(tensor.output, "")),
                            tensor.size());
                    inputs.put(tensor.name, model.createInputBuffer(tensor.name, ""));
                    outputs.put(tensor.output, model.createOutputBuffer(tensor.output, ""));
                }
                int values = elements(model.getOutputTensorType(StreamingLayout.LOG_PROBS, ""));
                if (values == 0 || values % classes != 0) {
                    throw new IllegalArgumentException(file.name + ": " + StreamingLayout.LOG_PROBS + " holds "
                            + values + " values, not whole frames of " + classes + " classes");
                }
                frames = values / classes;
                outputs.put(StreamingLayout.LOG_PROBS, model.createOutputBuffer(StreamingLayout.LOG_PROBS, ""));
            } catch (Exception e) { // LiteRtException (a name the signature lacks) or a size mismatch
                close();
                throw e instanceof RuntimeException ? (RuntimeException) e
                        : new IllegalArgumentException(file.name + ": " + e.getMessage(), e);
            }
            cacheBytes = cacheFile.isFile() ? cacheFile.length() : null;
        }

        private static int elements(TensorType type) {
            TensorType.Layout shape = type.getLayout();
            if (shape == null) {
                return -1;
            }
            int count = 1;
            for (Integer dimension : shape.getDimensions()) {
                count *= dimension;
            }
            return count;
        }

        private static void check(String model, String tensor, int size, int expected) {
            if (size != expected) {
                throw new IllegalArgumentException(model + ": tensor " + tensor + " holds " + size
                        + " values, the state layout in its metadata says " + expected);
            }
        }

        @Override
        StreamingLayout layout() {
            return layout;
        }

        @Override
        String runtime() {
            return "LiteRT " + TensorFlowLite.runtimeVersion() + " CompiledModel, XNNPACK weight cache in a file";
        }

        @Override
        Long weightCacheBytes() {
            return cacheBytes;
        }

        @Override
        boolean weightCache() {
            return true;
        }

        File cacheFile() {
            return cacheFile;
        }

        @Override
        public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
            try {
                inputs.get(StreamingLayout.AUDIO).writeFloat(chunk);
                for (StreamingLayout.StateTensor tensor : layout.state) {
                    inputs.get(tensor.name).writeFloat(state.get(tensor.name));
                }
                model.run(inputs, outputs, "");
                for (StreamingLayout.StateTensor tensor : layout.state) {
                    nextState.put(tensor.output, outputs.get(tensor.output).readFloat());
                }
                float[] logProbs = outputs.get(StreamingLayout.LOG_PROBS).readFloat();
                float[][] rows = new float[frames][classes];
                for (int f = 0; f < frames; f++) {
                    System.arraycopy(logProbs, f * classes, rows[f], 0, classes);
                }
                return rows;
            } catch (LiteRtException e) {
                throw new IllegalStateException("CompiledModel run: " + e.getMessage(), e);
            }
        }

        @Override
        void close() {
            List<TensorBuffer> buffers = new ArrayList<TensorBuffer>(inputs.values());
            buffers.addAll(outputs.values());
            for (TensorBuffer buffer : buffers) {
                buffer.close();
            }
            inputs.clear();
            outputs.clear();
            if (model != null) {
                model.close();
            }
        }
    }
}
