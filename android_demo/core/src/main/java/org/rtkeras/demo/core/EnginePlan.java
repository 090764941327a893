package org.rtkeras.demo.core;

import java.util.Locale;

/**
 * Which LiteRT API runs a model on this device, and why (the app shows and logs the reason).
 *
 * <ul>
 *   <li>A streaming step (fixed shapes: one chunk plus state per call) runs on LiteRT's
 *       CompiledModel with XNNPACK's weight cache in a file, which packs a constant read by
 *       several operators (a shared W_g) once; the Interpreter packs it once per reader.</li>
 *   <li>A whole-utterance model takes any length, and CompiledModel cannot resize an input in
 *       LiteRT 2.3.0's Kotlin/Java API (Model.kt has no resize method), so it stays on the
 *       Interpreter, without the weight cache.</li>
 *   <li>Creating a CompiledModel creates a LiteRT environment, which tries to load the GPU
 *       accelerator library whatever accelerators the options ask for
 *       (litert/c/litert_environment.cc calls TriggerAcceleratorAutomaticRegistration;
 *       gpu_registry.cc dlopens libLiteRtGpuAccelerator.so / libLiteRtClGlAccelerator.so /
 *       libLiteRtOpenClAccelerator.so). The Python wheel's GPU library uses ARMv8.1 atomics and
 *       dies with SIGILL on ARMv8.0 cores, so on ARM the CompiledModel is used only where every
 *       core lists {@code atomics} in /proc/cpuinfo; elsewhere the Interpreter runs the model.
 *       Not verified on a device.</li>
 * </ul>
 */
public final class EnginePlan {
    public enum Api { COMPILED_MODEL, INTERPRETER }

    public final Api api;
    public final String reason;

    private EnginePlan(Api api, String reason) {
        this.api = api;
        this.reason = reason;
    }

    public boolean weightCache() {
        return api == Api.COMPILED_MODEL;
    }

    /**
     * @param streaming the model is a streaming step (its metadata has a state layout)
     * @param abi the process's ABI (Build.SUPPORTED_ABIS[0]: arm64-v8a, armeabi-v7a, x86_64, ...)
     * @param cpuinfo the text of /proc/cpuinfo, or null if it could not be read
     */
    public static EnginePlan choose(boolean streaming, String abi, String cpuinfo) {
        if (!streaming) {
            return new EnginePlan(Api.INTERPRETER, "whole utterances have any length and LiteRT 2.3.0's "
                    + "CompiledModel cannot resize an input: Interpreter, no weight cache");
        }
        String lower = abi == null ? "" : abi.toLowerCase(Locale.ROOT);
        if (lower.startsWith("arm")) {
            if (cpuinfo == null) {
                return new EnginePlan(Api.INTERPRETER, "/proc/cpuinfo unreadable, ARMv8.1 atomics unknown: "
                        + "Interpreter, no weight cache");
            }
            if (!hasAtomics(cpuinfo)) {
                return new EnginePlan(Api.INTERPRETER, "no ARMv8.1 atomics on every core (/proc/cpuinfo "
                        + "Features): Interpreter, no weight cache (CompiledModel loads a GPU library "
                        + "that needs them)");
            }
        }
        return new EnginePlan(Api.COMPILED_MODEL, "streaming step: CompiledModel with XNNPACK's weight cache");
    }

    /**
     * True when /proc/cpuinfo has at least one Features line and every one lists {@code atomics}
     * (arm64 kernels print a Features line per core; a thread may run on any of them).
     */
    public static boolean hasAtomics(String cpuinfo) {
        int lines = 0;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || !line.substring(0, colon).trim().equals("Features")) {
                continue;
            }
            lines++;
            boolean found = false;
            for (String flag : line.substring(colon + 1).trim().split("\\s+")) {
                found |= flag.equals("atomics");
            }
            if (!found) {
                return false;
            }
        }
        return lines > 0;
    }

    /**
     * The weight-cache file of a bundled model. XNNPACK finds packed weights in the file by the
     * model's buffers, so a file must never be reused for another model: the name carries the
     * model's name, its size and a stamp of the installed APK (its lastUpdateTime), so an
     * update that replaces the model starts a new file.
     */
    public static String weightCacheFileName(String model, long bytes, long stamp) {
        StringBuilder safe = new StringBuilder();
        for (char c : model.toCharArray()) {
            safe.append(Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' ? c : '_');
        }
        return safe + "-" + bytes + "-" + stamp + ".xnnpack_cache";
    }

    @Override
    public String toString() {
        return api + ": " + reason;
    }
}
