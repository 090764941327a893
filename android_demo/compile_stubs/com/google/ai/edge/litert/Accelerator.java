package com.google.ai.edge.litert;

/** Compile-only stub (see CompiledModel): Common.kt's enum class Accelerator. */
public enum Accelerator {
    NONE, CPU, GPU, NPU
}
