package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the footprint report in the schema of `rt-keras footprint` (docs/footprint-schema.md),
 * so a phone report and a host report can be compared with `rt-keras footprint --compare`.
 */
public final class FootprintReport {
    public static final String SCHEMA = "rt-keras-footprint/1";

    private final Map<String, Object> model = new LinkedHashMap<String, Object>();
    private final Map<String, Object> memory = new LinkedHashMap<String, Object>();
    private final Map<String, Object> runtime = new LinkedHashMap<String, Object>();
    private final Map<String, Object> device = new LinkedHashMap<String, Object>();
    private Map<String, Object> metadata;
    private boolean weightCache;
    private Long weightCacheBytes;

    public FootprintReport model(String path, long fileBytes, String sha256, String name, String version, String mode) {
        model.put("path", path);
        model.put("file_bytes", fileBytes);
        model.put("sha256", sha256);
        model.put("name", name);
        model.put("version", version);
        model.put("mode", mode);
        return this;
    }

    public FootprintReport metadata(int sampleRate, List<String> vocabulary) {
        metadata = new LinkedHashMap<String, Object>();
        metadata.put("sample_rate", sampleRate);
        metadata.put("vocabulary", new ArrayList<Object>(vocabulary));
        return this;
    }

    /** One memory snapshot: /proc/self/status fields plus Debug.MemoryInfo PSS (null if unknown). */
    public FootprintReport memory(String stage, Map<String, Long> procStatus, Long pssTotalKb, Long pssNativeKb) {
        Map<String, Object> snapshot = new LinkedHashMap<String, Object>(procStatus);
        snapshot.put("pss_total_kb", pssTotalKb);
        snapshot.put("pss_native_kb", pssNativeKb);
        memory.put(stage, snapshot);
        return this;
    }

    /**
     * How the weights were packed: {@code enabled} when the model ran on CompiledModel with
     * XNNPACK's weight cache in a file, {@code cacheBytes} that file's size after loading (the
     * packed weights the cache holds; null without a cache). Call before runtime() or failed().
     */
    public FootprintReport weightCache(boolean enabled, Long cacheBytes) {
        weightCache = enabled;
        weightCacheBytes = enabled ? cacheBytes : null;
        return this;
    }

    private void putWeightCache() {
        runtime.put("xnnpack_weight_cache", weightCache);
        runtime.put("weight_cache_bytes", weightCacheBytes);
    }

    public FootprintReport runtime(String runtimeVersion, int threads, double audioSeconds, int warmup,
                                   double loadMs, double[] latenciesMs) {
        runtime.put("status", "ok");
        runtime.put("error", null);
        runtime.put("runtime", runtimeVersion);
        putWeightCache();
        runtime.put("threads", threads);
        runtime.put("audio_seconds", audioSeconds);
        runtime.put("runs", latenciesMs.length);
        runtime.put("warmup", warmup);
        runtime.put("load_ms", loadMs);
        runtime.put("memory_kb", memory);
        Map<String, Object> latency = new LinkedHashMap<String, Object>();
        latency.put("median", Statistics.median(latenciesMs));
        latency.put("p90", Statistics.percentile(latenciesMs, 90));
        latency.put("min", Statistics.min(latenciesMs));
        runtime.put("latency_ms", latency);
        runtime.put("real_time_factor", Statistics.median(latenciesMs) / (1000.0 * audioSeconds));
        return this;
    }

    /**
     * A streaming step's per-call times (call after runtime()): runtime.chunk_latency_ms as the
     * host writes it, {@code chunks} calls per inference of audio_seconds.
     */
    public FootprintReport chunkLatency(double[] chunkMs, int chunks) {
        Map<String, Object> latency = new LinkedHashMap<String, Object>();
        latency.put("median", Statistics.median(chunkMs));
        latency.put("p90", Statistics.percentile(chunkMs, 90));
        latency.put("chunks", chunks);
        runtime.put("chunk_latency_ms", latency);
        return this;
    }

    public FootprintReport failed(String stage, String message, int threads, double audioSeconds, int runs, int warmup) {
        runtime.clear();
        runtime.put("status", "failed");
        runtime.put("error", stage + ": " + message);
        putWeightCache();
        runtime.put("threads", threads);
        runtime.put("audio_seconds", audioSeconds);
        runtime.put("runs", runs);
        runtime.put("warmup", warmup);
        runtime.put("memory_kb", memory);
        return this;
    }

    public FootprintReport device(String deviceModel, String cpu, String abi, String os) {
        device.put("kind", "android");
        device.put("model", deviceModel);
        device.put("cpu", cpu);
        device.put("abi", abi);
        device.put("os", os);
        return this;
    }

    /** One line for the screen: threads and median latency, or why it failed. */
    public String summary() {
        Object threads = runtime.get("threads");
        if (!"ok".equals(runtime.get("status"))) {
            return threads + " thread(s): failed, " + runtime.get("error");
        }
        Object median = ((Map<?, ?>) runtime.get("latency_ms")).get("median");
        return String.format(java.util.Locale.ROOT, "%s thread(s): median %.1f ms per %.1f s, real-time factor %.3f",
                threads, (Double) median, (Double) runtime.get("audio_seconds"), (Double) runtime.get("real_time_factor"));
    }

    /** Several reports (e.g. one per thread count) as one JSON array, as `rt-keras footprint --json` writes them. */
    public static String toJson(List<FootprintReport> reports) {
        List<Object> maps = new ArrayList<Object>();
        for (FootprintReport report : reports) {
            maps.add(report.toMap());
        }
        return Json.write(maps);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> report = new LinkedHashMap<String, Object>();
        report.put("schema", SCHEMA);
        report.put("source", "android");
        report.put("model", model);
        report.put("weights", null); // weight groups come from the flatbuffer: measured on the host
        report.put("ops", null);
        report.put("signature", null);
        report.put("metadata", metadata);
        report.put("runtime", runtime.isEmpty() ? null : runtime);
        report.put("device", device);
        return report;
    }

    public String toJson() {
        return Json.write(toMap());
    }
}
