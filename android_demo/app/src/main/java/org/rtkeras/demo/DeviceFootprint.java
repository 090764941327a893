package org.rtkeras.demo;

import android.content.Context;
import android.os.Build;
import android.os.Debug;
import android.os.SystemClock;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.rtkeras.demo.core.BenchmarkSignal;
import org.rtkeras.demo.core.EnginePlan;
import org.rtkeras.demo.core.FootprintReport;
import org.rtkeras.demo.core.ProcStatus;
import org.rtkeras.demo.core.StreamingLayout;

/**
 * Measures a bundled model on the phone and writes the rt-keras footprint report, on the
 * host's signal and run counts (BenchmarkSignal). Unlike the host, which measures every model
 * in a fresh process, this runs in the app's process: before_load already holds the app and
 * its UI, and VmHWM is the process's peak since it started — compare differences between
 * stages, not absolute values. Every measurement loads the model afresh (the app's loaded
 * engines are released first), on the API the app uses for it (EnginePlan): a streaming step
 * with the weight cache packs into a new cache file, whose size after loading is
 * runtime.weight_cache_bytes, and is timed chunk by chunk as the host does.
 */
final class DeviceFootprint {
    private DeviceFootprint() {
    }

    private static void snapshot(FootprintReport report, String stage) throws IOException {
        Debug.MemoryInfo info = new Debug.MemoryInfo();
        Debug.getMemoryInfo(info);
        Map<String, Long> status = ProcStatus.parse(LoadedModel.readText("/proc/self/status"));
        report.memory(stage, status, (long) info.getTotalPss(), (long) info.nativePss);
    }

    /** Load, allocate and run BenchmarkSignal.RUNS timed inferences of BenchmarkSignal.SECONDS of audio. */
    static FootprintReport measure(Context context, String model, int threads) throws IOException {
        int runs = BenchmarkSignal.RUNS;
        int warmup = BenchmarkSignal.WARMUP;
        double seconds = BenchmarkSignal.SECONDS;
        FootprintReport report = new FootprintReport();
        report.device(Build.MANUFACTURER + " " + Build.MODEL, Build.HARDWARE, Build.SUPPORTED_ABIS[0],
                "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ")");
        String sha256 = ModelFile.sha256(context.getAssets(), model); // outside the load timer
        snapshot(report, "before_load");
        long started = SystemClock.elapsedRealtimeNanos();
        ModelFile file = ModelFile.open(context.getAssets(), model);
        report.model("assets/" + ModelFile.DIRECTORY + "/" + model, file.bytes, sha256,
                file.metadata.name(), file.metadata.version(), file.metadata.mode());
        EnginePlan plan = LoadedModel.plan(file);
        report.weightCache(plan.weightCache(), null);
        AppLog.i("benchmark " + model + " at " + threads + " threads: " + plan);
        if (file.metadata.streamingLayout() != null) {
            return measureStreaming(context, report, file, plan, threads, started);
        }
        LiteRtEngine engine;
        try {
            engine = new LiteRtEngine(file, threads);
        } catch (RuntimeException e) {
            return report.failed("load", e.getMessage(), threads, seconds, runs, warmup);
        }
        double loadMs = (SystemClock.elapsedRealtimeNanos() - started) / 1e6;
        report.metadata(file.metadata.sampleRate(), file.metadata.vocabulary());
        int rate = file.metadata.sampleRate();
        float[] audio = BenchmarkSignal.generate((int) Math.round(seconds * rate), rate);
        try {
            snapshot(report, "after_load");
            engine.prepare(audio.length);
            snapshot(report, "after_allocate");
            double[] latencies = new double[runs];
            for (int i = 0; i < warmup + runs; i++) {
                long t = SystemClock.elapsedRealtimeNanos();
                engine.run(audio);
                if (i >= warmup) {
                    latencies[i - warmup] = (SystemClock.elapsedRealtimeNanos() - t) / 1e6;
                }
            }
            snapshot(report, "after_runs"); // a snapshot after the timed runs; VmHWM in it is the process peak
            return report.runtime(engine.runtimeVersion() + " Interpreter", threads, seconds, warmup, loadMs, latencies);
        } catch (RuntimeException e) {
            return report.failed("invoke", e.getMessage(), threads, seconds, runs, warmup);
        } finally {
            engine.close();
        }
    }

    /**
     * A streaming step: the signal cut into whole chunks, each run with the state the previous
     * one returned (zero state per inference); an inference is the sum of its chunks, as
     * converters/footprint_probe.py measures it.
     */
    private static FootprintReport measureStreaming(Context context, FootprintReport report, ModelFile file,
            EnginePlan plan, int threads, long started) throws IOException {
        int runs = BenchmarkSignal.RUNS;
        int warmup = BenchmarkSignal.WARMUP;
        StreamingLayout layout = file.metadata.streamingLayout();
        int rate = file.metadata.sampleRate();
        int chunk = layout.chunkSamples;
        int count = Math.max(1, (int) Math.round(BenchmarkSignal.SECONDS * rate) / chunk);
        double seconds = count * chunk / (double) rate;
        File cache = new File(LoadedModel.cacheDirectory(context), "benchmark-"
                + EnginePlan.weightCacheFileName(file.name, file.bytes, LoadedModel.installStamp(context)));
        if (cache.exists() && !cache.delete()) { // a fresh cache: the load packs the weights, as on first use
            throw new IOException("cannot delete " + cache);
        }
        LiteRtEngine.StreamingEngine engine;
        try {
            engine = LiteRtEngine.StreamingEngine.open(context.getAssets(), file, threads, plan, cache);
        } catch (RuntimeException e) {
            return report.failed("load", e.getMessage(), threads, seconds, runs, warmup);
        }
        double loadMs = (SystemClock.elapsedRealtimeNanos() - started) / 1e6;
        report.weightCache(engine.weightCache(), engine.weightCacheBytes()); // the Interpreter if CompiledModel failed
        report.metadata(rate, file.metadata.vocabulary());
        float[] audio = BenchmarkSignal.generate(count * chunk, rate);
        try {
            snapshot(report, "after_load");
            snapshot(report, "after_allocate"); // buffers are created with the engine
            double[] totals = new double[runs];
            List<Double> chunkTimes = new ArrayList<Double>();
            for (int i = 0; i < warmup + runs; i++) {
                Map<String, float[]> state = new HashMap<String, float[]>();
                for (StreamingLayout.StateTensor tensor : layout.state) {
                    state.put(tensor.name, new float[tensor.size()]);
                }
                double total = 0;
                for (int c = 0; c < count; c++) {
                    float[] piece = java.util.Arrays.copyOfRange(audio, c * chunk, (c + 1) * chunk);
                    Map<String, float[]> next = new HashMap<String, float[]>();
                    long t = SystemClock.elapsedRealtimeNanos();
                    engine.step(piece, state, next);
                    double ms = (SystemClock.elapsedRealtimeNanos() - t) / 1e6;
                    total += ms;
                    if (i >= warmup) {
                        chunkTimes.add(ms);
                    }
                    state = new HashMap<String, float[]>();
                    for (StreamingLayout.StateTensor tensor : layout.state) {
                        state.put(tensor.name, next.get(tensor.output));
                    }
                }
                if (i >= warmup) {
                    totals[i - warmup] = total;
                }
            }
            snapshot(report, "after_runs");
            double[] perChunk = new double[chunkTimes.size()];
            for (int i = 0; i < perChunk.length; i++) {
                perChunk[i] = chunkTimes.get(i);
            }
            return report.runtime(engine.runtime(), threads, seconds, warmup, loadMs, totals)
                    .chunkLatency(perChunk, count);
        } catch (RuntimeException e) {
            return report.failed("invoke", e.getMessage(), threads, seconds, runs, warmup);
        } finally {
            engine.close();
            if (cache.exists() && !cache.delete()) {
                AppLog.i("could not delete " + cache);
            }
        }
    }
}
