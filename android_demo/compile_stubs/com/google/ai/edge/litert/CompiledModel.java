package com.google.ai.edge.litert;

import android.content.res.AssetManager;

import java.util.Map;

/**
 * Compile-only stub of the LiteRT 2.3.0 CompiledModel signatures LiteRtEngine uses, as Java
 * sees the Kotlin class (com.google.ai.edge.litert:litert:2.3.0). Never packaged: Gradle builds
 * use the real artifact.
 *
 * Checked against google-ai-edge/LiteRT litert/kotlin/src/main/kotlin/com/google/ai/edge/litert/
 * Model.kt at commit f67457790c9c2ab67347d6fe53270e8d3df20868 (main, 2026-08-21, the 2.3.0
 * development line: litert/version.bzl LITERT_EXPERIMENTAL_VERSION = "2.3.0"; the snapshot
 * holds no v2.3.0 tag) and at tag v2.2.0 (145c7523ff08d5e57ab5c582141775eea47da9c7): Model.kt,
 * TensorBuffer.kt, Common.kt and LiteRtException.kt are identical at both. Kotlin-to-Java:
 * create(...) is @JvmStatic @JvmOverloads; CpuOptions has no @JvmOverloads, so Java calls its
 * full (Integer, Integer, String) constructor; Options.cpuOptions is a var (setCpuOptions);
 * run(Map, Map, String) has no overloads. There is no input-resize method at that commit.
 */
public final class CompiledModel extends JniHandle {
    private CompiledModel() {
    }

    /** Kotlin data class CpuOptions(numThreads: Int?, xnnPackFlags: Int?, xnnPackWeightCachePath: String?). */
    public static final class CpuOptions {
        public CpuOptions(Integer numThreads, Integer xnnPackFlags, String xnnPackWeightCachePath) {
            throw new UnsupportedOperationException("compile stub");
        }
    }

    /** Kotlin class Options(accelerators: Set<Accelerator>) with the vararg constructor and var cpuOptions. */
    public static final class Options {
        public Options(Accelerator... accelerators) {
            throw new UnsupportedOperationException("compile stub");
        }

        public void setCpuOptions(CpuOptions options) {
            throw new UnsupportedOperationException("compile stub");
        }
    }

    /** companion object: @Throws(LiteRtException::class) @JvmOverloads @JvmStatic fun create(AssetManager, String, Options, Environment?). */
    public static CompiledModel create(AssetManager assetManager, String assetName, Options options)
            throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    /** @Throws(LiteRtException::class) fun createInputBuffer(inputName: String, signature: String = ""). */
    public TensorBuffer createInputBuffer(String inputName, String signature) throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    /** @Throws(LiteRtException::class) fun createOutputBuffer(outputName: String, signature: String = ""). */
    public TensorBuffer createOutputBuffer(String outputName, String signature) throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    /** @Throws(LiteRtException::class) fun run(inputs: Map<String, TensorBuffer>, outputs: Map<String, TensorBuffer>, signature: String = ""). */
    public void run(Map<String, TensorBuffer> inputs, Map<String, TensorBuffer> outputs, String signature)
            throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    /** fun getInputTensorType(inputName: String, signature: String = ""): TensorType (no @Throws). */
    public TensorType getInputTensorType(String inputName, String signature) {
        throw new UnsupportedOperationException("compile stub");
    }

    /** fun getOutputTensorType(outputName: String, signature: String = ""): TensorType (no @Throws). */
    public TensorType getOutputTensorType(String outputName, String signature) {
        throw new UnsupportedOperationException("compile stub");
    }

    @Override
    protected void destroy() {
        throw new UnsupportedOperationException("compile stub");
    }
}
