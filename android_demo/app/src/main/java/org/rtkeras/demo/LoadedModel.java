package org.rtkeras.demo;

import android.content.Context;
import android.content.pm.PackageManager;
import android.os.Build;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.io.IOException;

import org.rtkeras.demo.core.EngineCache;
import org.rtkeras.demo.core.EnginePlan;

/**
 * A bundled model loaded for transcription, kept by the app's EngineCache per (model, threads)
 * for the app's lifetime: a streaming model holds its streaming step (CompiledModel with the
 * weight cache, or the Interpreter; {@link #plan} says which and why), any other model its
 * whole-utterance Interpreter.
 */
final class LoadedModel {
    final ModelFile file;
    final int threads;
    final EnginePlan plan;
    /** Exactly one of these two is set. */
    final LiteRtEngine utterance;
    final LiteRtEngine.StreamingEngine streaming;

    private LoadedModel(ModelFile file, int threads, EnginePlan plan, LiteRtEngine utterance,
            LiteRtEngine.StreamingEngine streaming) {
        this.file = file;
        this.threads = threads;
        this.plan = plan;
        this.utterance = utterance;
        this.streaming = streaming;
    }

    String runtime() {
        return streaming != null ? streaming.runtime() : utterance.runtimeVersion() + " Interpreter";
    }

    void close() {
        if (streaming != null) {
            streaming.close();
        } else {
            utterance.close();
        }
    }

    /** The plan for {@code file} on this device (the screen shows its reason before anything loads). */
    static EnginePlan plan(ModelFile file) {
        return EnginePlan.choose(file.metadata.streamingLayout() != null, Build.SUPPORTED_ABIS[0], cpuinfo());
    }

    /** /proc/cpuinfo, or null if it cannot be read. */
    static String cpuinfo() {
        try {
            return readText("/proc/cpuinfo");
        } catch (IOException e) {
            return null;
        }
    }

    static String readText(String path) throws IOException {
        StringBuilder text = new StringBuilder();
        BufferedReader reader = new BufferedReader(new FileReader(path));
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

    /** The directory of the XNNPACK weight-cache files: the app's cache directory (the system may clear it). */
    static File cacheDirectory(Context context) {
        return new File(context.getCacheDir(), "xnnpack");
    }

    /** A stamp of the installed APK: a new install or update (new models) starts new cache files. */
    static long installStamp(Context context) {
        try {
            return context.getPackageManager().getPackageInfo(context.getPackageName(), 0).lastUpdateTime;
        } catch (PackageManager.NameNotFoundException e) {
            return 0;
        }
    }

    /** Deletes cache files of earlier installs (their models may differ from the bundled ones). */
    static void deleteStaleCaches(Context context) {
        File[] files = cacheDirectory(context).listFiles();
        String current = "-" + installStamp(context) + ".xnnpack_cache";
        if (files != null) {
            for (File f : files) {
                if (!f.getName().endsWith(current) && f.delete()) {
                    AppLog.i("deleted stale weight cache " + f.getName());
                }
            }
        }
    }

    /** What EngineCache loads engines with: the app's assets and its cache directory. */
    static EngineCache.Factory<LoadedModel> factory(final Context context) {
        return new EngineCache.Factory<LoadedModel>() {
            @Override
            public LoadedModel open(String model, int threads) throws IOException {
                ModelFile file = ModelFile.open(context.getAssets(), model);
                EnginePlan plan = plan(file);
                LoadedModel loaded;
                if (file.metadata.streamingLayout() != null) {
                    File cache = new File(cacheDirectory(context),
                            EnginePlan.weightCacheFileName(model, file.bytes, installStamp(context)));
                    loaded = new LoadedModel(file, threads, plan, null,
                            LiteRtEngine.StreamingEngine.open(context.getAssets(), file, threads, plan, cache));
                } else {
                    loaded = new LoadedModel(file, threads, plan, new LiteRtEngine(file, threads), null);
                }
                AppLog.i("loaded " + model + " at " + threads + " threads: " + plan + "; " + loaded.runtime()
                        + (loaded.streaming != null && loaded.streaming.weightCacheBytes() != null
                        ? ", weight cache " + loaded.streaming.weightCacheBytes() + " bytes" : ""));
                return loaded;
            }

            @Override
            public void close(LoadedModel engine) {
                AppLog.i("released " + engine.file.name + " at " + engine.threads + " threads");
                engine.close();
            }
        };
    }
}
