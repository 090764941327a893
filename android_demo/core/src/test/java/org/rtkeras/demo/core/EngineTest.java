package org.rtkeras.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.Test;

/**
 * The app's engine decisions without a phone: which LiteRT API runs a model (EnginePlan on
 * sample /proc/cpuinfo texts), loading once per (model, threads) (EngineCache with a counting
 * fake), first-inference vs steady-state times, and the weight-cache field of the report.
 */
public class EngineTest {
    /** arm64 kernel, Cortex-A55 + A76 (ARMv8.2): every core lists atomics. */
    static final String ARMV82 = "processor\t: 0\nBogoMIPS\t: 52.00\n"
            + "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
            + "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd05\n\n"
            + "processor\t: 1\nBogoMIPS\t: 52.00\n"
            + "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
            + "CPU part\t: 0xd0b\n";
    /** arm64 kernel, Cortex-A53 (ARMv8.0): no atomics. */
    static final String ARMV80 = "processor\t: 0\nBogoMIPS\t: 38.40\n"
            + "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n"
            + "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd03\n\n"
            + "processor\t: 1\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n";
    /** One ARMv8.0 core among ARMv8.2 ones: a thread may land on it. */
    static final String MIXED = ARMV82 + "\nprocessor\t: 2\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n";
    /** A flag that merely contains the word is not the flag. */
    static final String LOOKALIKE = "processor\t: 0\nFeatures\t: fp asimd atomicsx notatomics\n";
    /** An x86_64 emulator. */
    static final String X86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme sse sse2 ssse3 sse4_1 avx2\n";

    @Test
    public void atomicsAreReadFromEveryFeaturesLine() {
        assertTrue(EnginePlan.hasAtomics(ARMV82));
        assertFalse(EnginePlan.hasAtomics(ARMV80));
        assertFalse(EnginePlan.hasAtomics(MIXED));
        assertFalse(EnginePlan.hasAtomics(LOOKALIKE));
        assertFalse(EnginePlan.hasAtomics(X86)); // no Features line at all
        assertFalse(EnginePlan.hasAtomics(""));
        assertTrue(EnginePlan.hasAtomics(ARMV82.replace("\n", "\r\n"))); // CRLF tolerated
    }

    @Test
    public void streamingStepsUseTheWeightCacheOnlyWhereItIsSafe() {
        assertEquals(EnginePlan.Api.COMPILED_MODEL, EnginePlan.choose(true, "arm64-v8a", ARMV82).api);
        assertTrue(EnginePlan.choose(true, "arm64-v8a", ARMV82).weightCache());
        assertEquals(EnginePlan.Api.INTERPRETER, EnginePlan.choose(true, "arm64-v8a", ARMV80).api);
        assertTrue(EnginePlan.choose(true, "arm64-v8a", ARMV80).reason.contains("atomics"));
        assertEquals(EnginePlan.Api.INTERPRETER, EnginePlan.choose(true, "arm64-v8a", MIXED).api);
        assertEquals(EnginePlan.Api.INTERPRETER, EnginePlan.choose(true, "arm64-v8a", null).api);
        assertEquals(EnginePlan.Api.INTERPRETER, EnginePlan.choose(true, "armeabi-v7a", "Features\t: half thumb vfp neon\n").api);
        assertEquals(EnginePlan.Api.COMPILED_MODEL, EnginePlan.choose(true, "x86_64", X86).api); // not ARM: no v8.1 question
    }

    @Test
    public void wholeUtterancesStayOnTheInterpreterBecauseCompiledModelCannotResize() {
        for (String cpuinfo : new String[] {ARMV82, ARMV80, X86}) {
            EnginePlan plan = EnginePlan.choose(false, cpuinfo == X86 ? "x86_64" : "arm64-v8a", cpuinfo);
            assertEquals(EnginePlan.Api.INTERPRETER, plan.api);
            assertFalse(plan.weightCache());
            assertTrue(plan.reason, plan.reason.contains("resize"));
        }
    }

    @Test
    public void weightCacheFilesAreNeverSharedBetweenModelsOrInstalls() {
        String a = EnginePlan.weightCacheFileName("rt-qat-int8.tflite", 1212011, 1700000000000L);
        assertEquals("rt-qat-int8.tflite-1212011-1700000000000.xnnpack_cache", a);
        assertFalse(a.equals(EnginePlan.weightCacheFileName("rt-qat-int8.tflite", 1212011, 1700000000001L)));
        assertFalse(a.equals(EnginePlan.weightCacheFileName("rt-qat-int8.tflite", 1212012, 1700000000000L)));
        assertFalse(a.equals(EnginePlan.weightCacheFileName("rt-streaming.tflite", 1212011, 1700000000000L)));
        assertEquals("a_b_c.tflite-1-2.xnnpack_cache", EnginePlan.weightCacheFileName("a/b c.tflite", 1, 2));
    }

    /** Counts opens and closes; each engine is a distinct object naming what it was opened for. */
    static final class CountingFactory implements EngineCache.Factory<String[]> {
        final List<String> opened = new ArrayList<String>();
        final List<String> closed = new ArrayList<String>();
        String failOn;

        @Override
        public String[] open(String model, int threads) throws Exception {
            if (model.equals(failOn)) {
                throw new IllegalStateException("cannot load " + model);
            }
            opened.add(model + "@" + threads);
            return new String[] {model + "@" + threads};
        }

        @Override
        public void close(String[] engine) {
            closed.add(engine[0]);
        }
    }

    @Test
    public void anEngineIsLoadedOncePerModelAndThreads() throws Exception {
        CountingFactory factory = new CountingFactory();
        EngineCache<String[]> cache = new EngineCache<String[]>(factory);
        EngineCache.Entry<String[]> first = cache.get("a.tflite", 1);
        for (int i = 0; i < 5; i++) {
            assertSame(first, cache.get("a.tflite", 1));
            assertSame(first.engine, cache.get("a.tflite", 1).engine);
        }
        assertEquals(Arrays.asList("a.tflite@1"), factory.opened);
        assertTrue(first.loadMs >= 0);
        EngineCache.Entry<String[]> twoThreads = cache.get("a.tflite", 2);
        assertNotSame(first.engine, twoThreads.engine);
        cache.get("b.tflite", 1);
        cache.get("a.tflite", 2);
        assertEquals(Arrays.asList("a.tflite@1", "a.tflite@2", "b.tflite@1"), factory.opened);
        assertTrue(cache.isLoaded("a.tflite", 2));
        assertEquals(3, cache.size());
        assertTrue(factory.closed.isEmpty());

        // A model switch releases the other model's engines, not the chosen one's.
        assertEquals(2, cache.releaseOthers("b.tflite"));
        assertEquals(Arrays.asList("a.tflite@1", "a.tflite@2"), factory.closed);
        assertFalse(cache.isLoaded("a.tflite", 1));
        assertTrue(cache.isLoaded("b.tflite", 1));
        // ... and a released engine is loaded anew when asked for again.
        assertNotSame(first.engine, cache.get("a.tflite", 1).engine);
        assertEquals(4, factory.opened.size());

        // onDestroy: everything is closed, each engine once.
        assertEquals(2, cache.releaseAll());
        assertEquals(0, cache.size());
        assertEquals(0, cache.releaseAll());
        assertEquals(4, factory.closed.size());
        assertEquals(factory.opened.size(), factory.closed.size());
    }

    @Test
    public void aFailedLoadIsNotCachedAndIsTriedAgain() throws Exception {
        CountingFactory factory = new CountingFactory();
        EngineCache<String[]> cache = new EngineCache<String[]>(factory);
        factory.failOn = "bad.tflite";
        for (int i = 0; i < 2; i++) {
            try {
                cache.get("bad.tflite", 1);
                fail("expected the load to fail");
            } catch (IllegalStateException expected) {
                assertEquals("cannot load bad.tflite", expected.getMessage());
            }
        }
        assertEquals(0, cache.size());
        factory.failOn = null;
        cache.get("bad.tflite", 1);
        assertEquals(Arrays.asList("bad.tflite@1"), factory.opened);
    }

    @Test
    public void concurrentCallersShareOneLoad() throws Exception {
        final CountingFactory factory = new CountingFactory();
        final EngineCache<String[]> cache = new EngineCache<String[]>(factory);
        Thread[] threads = new Thread[8];
        final Object[] engines = new Object[threads.length];
        for (int t = 0; t < threads.length; t++) {
            final int index = t;
            threads[t] = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        engines[index] = cache.get("a.tflite", 4).engine;
                    } catch (Exception e) {
                        engines[index] = e;
                    }
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(1, factory.opened.size());
        for (Object engine : engines) {
            assertSame(engines[0], engine);
        }
    }

    @Test
    public void firstInferenceIsKeptApartFromSteadyState() {
        RunTimes times = new RunTimes();
        assertNull(times.firstMs());
        assertTrue(Double.isNaN(times.steadyMedianMs()));
        assertEquals("load 120 ms (once)", times.summary(120));
        times.add(80);
        assertEquals(80.0, times.firstMs(), 0);
        assertEquals(0, times.steadyRuns());
        assertEquals("load 120 ms (once), first inference 80 ms", times.summary(120));
        times.add(30);
        times.add(40);
        times.add(31);
        assertEquals(3, times.steadyRuns());
        assertEquals(31.0, times.steadyMedianMs(), 1e-9);
        assertEquals("load 120 ms (once), first inference 80 ms, then median 31 ms over 3", times.summary(120));
        for (int i = 0; i < 3 * RunTimes.KEPT; i++) {
            times.add(5);
        }
        assertEquals(RunTimes.KEPT, times.steadyRuns()); // bounded: the most recent ones
        assertEquals(5.0, times.steadyMedianMs(), 0);
        assertEquals(80.0, times.firstMs(), 0);
    }

    @Test
    @SuppressWarnings("unchecked")
    public void theReportSaysWhatTheCacheHolds() {
        FootprintReport cached = new FootprintReport().weightCache(true, 263416L)
                .runtime("LiteRT 2.3.0 CompiledModel", 2, 2.0, 3, 10.0, new double[] {1, 2, 3});
        Map<String, Object> runtime = (Map<String, Object>) cached.toMap().get("runtime");
        assertEquals(Boolean.TRUE, runtime.get("xnnpack_weight_cache"));
        assertEquals(263416L, runtime.get("weight_cache_bytes"));
        assertTrue(cached.toJson().contains("\"weight_cache_bytes\": 263416,"));

        cached.chunkLatency(new double[] {1, 2, 3, 4}, 50);
        runtime = (Map<String, Object>) cached.toMap().get("runtime");
        Map<String, Object> chunks = (Map<String, Object>) runtime.get("chunk_latency_ms");
        assertEquals(2.5, (Double) chunks.get("median"), 1e-9);
        assertEquals(50, chunks.get("chunks"));

        FootprintReport plain = new FootprintReport().runtime("LiteRT 2.3.0", 1, 2.0, 3, 10.0, new double[] {1});
        runtime = (Map<String, Object>) plain.toMap().get("runtime");
        assertEquals(Boolean.FALSE, runtime.get("xnnpack_weight_cache"));
        assertTrue(runtime.containsKey("weight_cache_bytes"));
        assertNull(runtime.get("weight_cache_bytes"));

        // A cache that is off has no bytes, whatever the caller passed; a failed run keeps the field.
        FootprintReport failed = new FootprintReport().weightCache(false, 5L).failed("load", "x", 1, 2.0, 20, 3);
        runtime = (Map<String, Object>) failed.toMap().get("runtime");
        assertNull(runtime.get("weight_cache_bytes"));
        assertEquals(Boolean.FALSE, runtime.get("xnnpack_weight_cache"));
    }
}
