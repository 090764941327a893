package org.rtkeras.demo;

import android.content.res.AssetManager;
import android.os.Build;
import android.os.Debug;
import android.os.SystemClock;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.util.Map;

import org.rtkeras.demo.core.BenchmarkSignal;
import org.rtkeras.demo.core.FootprintReport;
import org.rtkeras.demo.core.ProcStatus;

/**
 * Measures a bundled model on the phone and writes the rt-keras footprint report, on the
 * host's signal and run counts (BenchmarkSignal). Unlike the host, which measures every model
 * in a fresh process, this runs in the app's process: before_load already holds the app and
 * its UI, and VmHWM is the process's peak since it started — compare differences between
 * stages, not absolute values.
 */
final class DeviceFootprint {
    private DeviceFootprint() {
    }

    static String procStatus() throws IOException {
        StringBuilder text = new StringBuilder();
        BufferedReader reader = new BufferedReader(new FileReader("/proc/self/status"));
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                text.append(line).append('\n');
            }
        } finally {
            reader.close();
        }
        return text.toString();
    }

    private static void snapshot(FootprintReport report, String stage) throws IOException {
        Debug.MemoryInfo info = new Debug.MemoryInfo();
        Debug.getMemoryInfo(info);
        Map<String, Long> status = ProcStatus.parse(procStatus());
        report.memory(stage, status, (long) info.getTotalPss(), (long) info.nativePss);
    }

    /** Load, allocate and run BenchmarkSignal.RUNS timed inferences of BenchmarkSignal.SECONDS of audio. */
    static FootprintReport measure(AssetManager assets, String model, int threads) throws IOException {
        int runs = BenchmarkSignal.RUNS;
        int warmup = BenchmarkSignal.WARMUP;
        double seconds = BenchmarkSignal.SECONDS;
        FootprintReport report = new FootprintReport();
        report.device(Build.MANUFACTURER + " " + Build.MODEL, Build.HARDWARE, Build.SUPPORTED_ABIS[0],
                "Android " + Build.VERSION.RELEASE + " (API " + Build.VERSION.SDK_INT + ")");
        String sha256 = ModelFile.sha256(assets, model); // outside the load timer
        snapshot(report, "before_load");
        long started = SystemClock.elapsedRealtimeNanos();
        ModelFile file = ModelFile.open(assets, model);
        report.model("assets/" + ModelFile.DIRECTORY + "/" + model, file.bytes, sha256,
                file.metadata.name(), file.metadata.version(), file.metadata.mode());
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
            return report.runtime(engine.runtimeVersion(), threads, seconds, warmup, loadMs, latencies);
        } catch (RuntimeException e) {
            return report.failed("invoke", e.getMessage(), threads, seconds, runs, warmup);
        } finally {
            engine.close();
        }
    }
}
