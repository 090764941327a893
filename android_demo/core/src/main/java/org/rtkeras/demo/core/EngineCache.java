package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loaded engines kept for the app's lifetime, one per (model, threads): loading (and the
 * weight packing it does) happens once, not on every tap. Released on a model switch
 * ({@link #releaseOthers}) and when the activity is destroyed ({@link #releaseAll}).
 * Thread-safe; loading runs under the cache's lock, so two callers never load the same
 * engine twice.
 */
public final class EngineCache<E> {
    /** Opens and closes engines; the app's one is LiteRT, the tests' a counting fake. */
    public interface Factory<E> {
        E open(String model, int threads) throws Exception;

        void close(E engine);
    }

    /** A cached engine with the time its load took and the inference times measured on it. */
    public static final class Entry<E> {
        public final String model;
        public final int threads;
        public final E engine;
        public final double loadMs;
        public final RunTimes times = new RunTimes();

        Entry(String model, int threads, E engine, double loadMs) {
            this.model = model;
            this.threads = threads;
            this.engine = engine;
            this.loadMs = loadMs;
        }
    }

    private final Factory<E> factory;
    private final Map<String, Entry<E>> entries = new LinkedHashMap<String, Entry<E>>();

    public EngineCache(Factory<E> factory) {
        this.factory = factory;
    }

    private static String key(String model, int threads) {
        return threads + "\u0000" + model;
    }

    /** The engine for (model, threads), loading it if it is not cached; a failed load caches nothing. */
    public synchronized Entry<E> get(String model, int threads) throws Exception {
        Entry<E> cached = entries.get(key(model, threads));
        if (cached != null) {
            return cached;
        }
        long started = System.nanoTime();
        E engine = factory.open(model, threads);
        Entry<E> entry = new Entry<E>(model, threads, engine, (System.nanoTime() - started) / 1e6);
        entries.put(key(model, threads), entry);
        return entry;
    }

    public synchronized boolean isLoaded(String model, int threads) {
        return entries.containsKey(key(model, threads));
    }

    public synchronized int size() {
        return entries.size();
    }

    /** Closes every engine of another model (the user switched models); returns how many. */
    public synchronized int releaseOthers(String model) {
        return release(model);
    }

    /** Closes every engine (onDestroy); returns how many. */
    public synchronized int releaseAll() {
        return release(null);
    }

    private int release(String keep) {
        List<E> closing = new ArrayList<E>();
        Iterator<Entry<E>> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry<E> entry = it.next();
            if (keep == null || !keep.equals(entry.model)) {
                closing.add(entry.engine);
                it.remove();
            }
        }
        for (E engine : closing) {
            factory.close(engine);
        }
        return closing.size();
    }
}
