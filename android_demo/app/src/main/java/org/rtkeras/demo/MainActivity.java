package org.rtkeras.demo;

import android.Manifest;
import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.ClipData;
import android.content.ClipboardManager;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.database.Cursor;
import android.media.AudioAttributes;
import android.media.AudioFormat;
import android.media.AudioTrack;
import android.net.Uri;
import android.os.Bundle;
import android.provider.OpenableColumns;
import android.view.View;
import android.view.WindowInsets;
import android.view.WindowManager;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.HorizontalScrollView;
import android.widget.LinearLayout;
import android.widget.ScrollView;
import android.widget.Spinner;
import android.widget.TextView;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.rtkeras.demo.core.ContinuousRecognizer;
import org.rtkeras.demo.core.CtcGreedyDecoder;
import org.rtkeras.demo.core.EngineCache;
import org.rtkeras.demo.core.EnginePlan;
import org.rtkeras.demo.core.FootprintReport;
import org.rtkeras.demo.core.ModelMetadata;
import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.RunTimes;
import org.rtkeras.demo.core.StreamingStep;
import org.rtkeras.demo.core.StreamingTranscriber;
import org.rtkeras.demo.core.TranscriptHistory;
import org.rtkeras.demo.core.UtteranceSegmenter;
import org.rtkeras.demo.core.VocabularyHint;
import org.rtkeras.demo.core.WavReader;

/**
 * Listen continuously and transcribe every utterance (the VAD's endpoint closes one and the
 * next starts without a tap), or transcribe a bundled or picked WAV; finished utterances go to
 * a scrolling, copyable history and the last one can be played back. A streaming model shows
 * its partial transcript while the user speaks. Measures the model's footprint (shared as JSON
 * in the rt-keras footprint schema).
 *
 * Models are loaded once per (model, threads) and kept (EngineCache) until the user picks
 * another model or the activity is destroyed; how each runs (CompiledModel with XNNPACK's
 * weight cache, or the Interpreter) is EnginePlan's choice, shown on screen. Log lines go to
 * logcat under one tag (AppLog.TAG). Rotation does not recreate the activity
 * (android:configChanges in the manifest), so listening survives it; leaving the app (onStop)
 * stops the microphone.
 */
public class MainActivity extends Activity {
    /** `adb shell am start ... --es benchmark MODEL.tflite`: benchmark it and write REPORT_FILE (make android-device-report). */
    static final String EXTRA_BENCHMARK = "benchmark";
    static final String REPORT_FILE = "footprint-report.json";
    private static final int RECORD_REQUEST = 1;
    private static final int OPEN_WAV_REQUEST = 2;
    private static final int MAX_TRANSCRIBE_SECONDS = 60;
    /** Larger WAV files are refused rather than read into memory (10 min of 16 kHz stereo). */
    private static final int MAX_WAV_BYTES = 40 * 1024 * 1024;
    private static final String SAMPLE_WAV = "sample.wav";
    /** Interpreter threads offered; the benchmark measures each (the host default is BenchmarkSignal.THREADS). */
    private static final Integer[] THREAD_CHOICES = {1, 2, 4};
    /** Silence after speech that ends an utterance (EnergyVad). */
    static final int TRAILING_SILENCE_MS = 800;
    /** Audio kept before the speech the VAD heard. */
    static final int PRE_ROLL_MS = 300;
    /** An utterance that never pauses is closed here (noise the VAD takes for speech). */
    static final int MAX_UTTERANCE_SECONDS = 20;
    private static final int HISTORY_SIZE = 500;

    private final AudioRecorder recorder = new AudioRecorder();
    private final TranscriptHistory history = new TranscriptHistory(HISTORY_SIZE);
    /**
     * Model loads, whole-utterance inference, the benchmark and engine releases, one at a time
     * (an Interpreter is not thread-safe, and a release waits for the inference using it). A
     * streaming step runs on the recorder thread instead, which is stopped before any release.
     */
    private final ExecutorService inference = Executors.newSingleThreadExecutor();
    private EngineCache<LoadedModel> engines;
    /** The listening session: set on the UI thread, fed on the recorder thread. */
    private volatile Session session;
    /** The last finished utterance (or transcribed WAV) and its rate, for playback. */
    private volatile short[] lastAudio;
    private volatile int lastAudioRate;
    private AudioTrack player;
    private Spinner models;
    private Spinner threadPicker;
    private Button recordButton;
    private Button playButton;
    private Button[] workButtons;
    private TextView hint;
    private TextView engineStatus;
    private TextView level;
    private TextView partial;
    private TextView historyView;
    private TextView footprint;
    private ScrollView historyScroll;
    /** Between onStart and onStop (UI thread only). */
    private boolean visible;
    /** Written by the benchmark thread, read on the UI thread. */
    private volatile String lastReport;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        engines = new EngineCache<LoadedModel>(LoadedModel.factory(getApplicationContext()));
        LoadedModel.deleteStaleCaches(this);
        LinearLayout layout = new LinearLayout(this);
        layout.setOrientation(LinearLayout.VERTICAL);
        models = new Spinner(this);
        threadPicker = new Spinner(this);
        threadPicker.setAdapter(new ArrayAdapter<Integer>(this, android.R.layout.simple_spinner_item, THREAD_CHOICES));
        hint = new TextView(this);
        engineStatus = new TextView(this);
        recordButton = button("Listen", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                toggleListening();
            }
        });
        playButton = button("Play last", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                playLast();
            }
        });
        Button copyButton = button("Copy", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                copyHistory();
            }
        });
        Button clearButton = button("Clear", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                history.clear();
                historyView.setText("");
            }
        });
        level = new TextView(this);
        partial = new TextView(this);
        partial.setTextSize(24);
        historyView = new TextView(this);
        historyView.setTextIsSelectable(true); // long-press selects and copies any part
        historyView.setTextSize(18);
        footprint = new TextView(this);
        footprint.setTextIsSelectable(true);
        Button sampleButton = button("Bundled WAV", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                transcribeSample();
            }
        });
        Button openButton = button("WAV file…", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                openWav();
            }
        });
        Button benchmarkButton = button("Benchmark", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                benchmark();
            }
        });
        Button shareButton = button("Share report", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                shareReport();
            }
        });
        workButtons = new Button[] {recordButton, playButton, sampleButton, openButton, benchmarkButton};
        layout.addView(models);
        LinearLayout threadRow = row(label("Threads:"), threadPicker);
        layout.addView(threadRow);
        layout.addView(hint);
        layout.addView(engineStatus);
        layout.addView(row(recordButton, playButton, copyButton, clearButton));
        layout.addView(level);
        layout.addView(partial);
        // The history scrolls on its own and takes the room left; the benchmark's lines go below it.
        LinearLayout scrolled = new LinearLayout(this);
        scrolled.setOrientation(LinearLayout.VERTICAL);
        scrolled.addView(historyView);
        scrolled.addView(footprint);
        historyScroll = new ScrollView(this);
        historyScroll.addView(scrolled);
        layout.addView(historyScroll, new LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, 0, 1f));
        HorizontalScrollView more = new HorizontalScrollView(this);
        more.addView(row(sampleButton, openButton, benchmarkButton, shareButton));
        layout.addView(more);
        // targetSdk 35 draws edge to edge on Android 15: keep the controls clear of the system bars.
        layout.setOnApplyWindowInsetsListener(new View.OnApplyWindowInsetsListener() {
            @Override
            public WindowInsets onApplyWindowInsets(View view, WindowInsets insets) {
                view.setPadding(insets.getSystemWindowInsetLeft(), insets.getSystemWindowInsetTop(),
                        insets.getSystemWindowInsetRight(), insets.getSystemWindowInsetBottom());
                return insets;
            }
        });
        setContentView(layout);
        String[] names = new String[0];
        try {
            names = ModelFile.list(getAssets());
            models.setAdapter(new ArrayAdapter<String>(this, android.R.layout.simple_spinner_item, names));
            if (names.length == 0) {
                hint.setText("No models in assets/models: run `make android-assets` and rebuild.");
            }
        } catch (IOException e) {
            hint.setText("Cannot list the bundled models: " + e.getMessage());
        }
        String requested = getIntent().getStringExtra(EXTRA_BENCHMARK);
        if (state == null && requested != null) { // once: not again when the activity is recreated
            getIntent().removeExtra(EXTRA_BENCHMARK);
            benchmarkFromIntent(requested);
        } else if (names.length > 0) {
            models.setSelection(defaultModel(names)); // a streaming model by default: live transcripts
        }
        showModel(selectedModel());
        models.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            private int shown = models.getSelectedItemPosition();

            @Override
            public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
                if (position == shown) {
                    return; // the spinner's first layout reports the initial selection
                }
                shown = position;
                footprint.setText("");
                final String chosen = selectedModel();
                inference.execute(new Runnable() { // after any inference still using the old engines
                    @Override
                    public void run() {
                        engines.releaseOthers(chosen);
                    }
                });
                showModel(chosen);
            }

            @Override
            public void onNothingSelected(AdapterView<?> parent) {
            }
        });
    }

    /** The first streaming model (it transcribes while the user speaks), else the first model. */
    private int defaultModel(String[] names) {
        for (int i = 0; i < names.length; i++) {
            try {
                if (ModelFile.open(getAssets(), names[i]).metadata.streamingLayout() != null) {
                    return i;
                }
            } catch (IOException | RuntimeException e) {
                AppLog.w("cannot read " + names[i], e);
            }
        }
        return 0;
    }

    /** What the chosen model recognises (from its metadata) and how it will run here. */
    private void showModel(String model) {
        if (model == null) {
            return;
        }
        try {
            ModelFile file = ModelFile.open(getAssets(), model);
            EnginePlan plan = LoadedModel.plan(file);
            hint.setText(VocabularyHint.describe(file.metadata.vocabulary()));
            engineStatus.setText((file.metadata.streamingLayout() != null ? "Streaming model: live transcript. "
                    : "Whole-utterance model: transcribed after each pause. ") + "Runs on "
                    + (plan.weightCache() ? "CompiledModel (weight cache)" : "Interpreter") + ": " + plan.reason);
            AppLog.i("model " + model + ": " + plan);
        } catch (IOException | RuntimeException e) {
            hint.setText("Cannot read " + model + ": " + e.getMessage());
        }
    }

    private LinearLayout row(View... views) {
        LinearLayout row = new LinearLayout(this);
        row.setOrientation(LinearLayout.HORIZONTAL);
        for (View view : views) {
            row.addView(view);
        }
        return row;
    }

    private TextView label(String text) {
        TextView view = new TextView(this);
        view.setText(text);
        return view;
    }

    private int selectedThreads() {
        Object item = threadPicker.getSelectedItem();
        return item == null ? THREAD_CHOICES[0] : (Integer) item;
    }

    private Button button(String label, View.OnClickListener listener) {
        Button button = new Button(this);
        button.setText(label);
        button.setOnClickListener(listener);
        return button;
    }

    private String selectedModel() {
        Object item = models.getSelectedItem();
        return item == null ? null : item.toString();
    }

    private void toggleListening() {
        if (session != null) {
            stopListening(null);
            return;
        }
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, RECORD_REQUEST);
            return;
        }
        final String model = selectedModel();
        if (model == null) {
            partial.setText("No model selected");
            return;
        }
        final int threads = selectedThreads();
        setBusy(true);
        partial.setText(engines.isLoaded(model, threads) ? "…" : "Loading " + model + " …");
        inference.execute(new Runnable() { // loading (and packing weights) off the UI thread, once
            @Override
            public void run() {
                final EngineCache.Entry<LoadedModel> entry;
                try {
                    entry = engines.get(model, threads);
                } catch (Exception | LinkageError e) { // LiteRT's native library missing: LinkageError
                    AppLog.w("cannot load " + model, e);
                    show(partial, "Cannot load " + model + ": " + e.getMessage());
                    idle();
                    return;
                }
                runOnUiThread(new Runnable() {
                    @Override
                    public void run() {
                        startListening(entry);
                    }
                });
            }
        });
    }

    private void startListening(EngineCache.Entry<LoadedModel> entry) {
        showEngine(entry);
        if (!visible) { // the app left the screen while the model loaded: no microphone in the background
            partial.setText("");
            setBusy(false);
            return;
        }
        int rate = entry.engine.file.metadata.sampleRate();
        final Session started = new Session(entry, rate);
        session = started;
        try {
            recorder.start(this, rate, new AudioRecorder.Listener() {
                @Override
                public void onAudio(short[] block, int count) {
                    started.accept(block, count);
                }

                @Override
                public void onLevel(final float rms) {
                    runOnUiThread(new Runnable() {
                        @Override
                        public void run() {
                            if (session == started) { // not a last block after Stop
                                level.setText(meter(rms) + (started.inUtterance() ? "  speech" : ""));
                            }
                        }
                    });
                }

                @Override
                public void onError(final String message) {
                    runOnUiThread(new Runnable() {
                        @Override
                        public void run() {
                            if (session == started) {
                                stopListening("Listening stopped: " + message);
                            }
                        }
                    });
                }
            });
        } catch (RuntimeException e) { // SecurityException if the permission was revoked meanwhile
            session = null;
            partial.setText("Cannot record: " + e.getMessage());
            setBusy(false);
            return;
        }
        recordButton.setText("Stop");
        setBusy(true);
        partial.setText(entry.engine.streaming != null ? "Listening… (speak; each pause ends an utterance)"
                : "Listening… (each pause ends an utterance, then it is transcribed)");
        AppLog.i("listening with " + entry.model + " at " + entry.threads + " threads");
    }

    /** Stops the microphone; what was said since the last endpoint becomes the last utterance. */
    private void stopListening(String message) {
        Session stopping = session;
        try {
            recorder.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        session = null;
        recordButton.setText("Listen");
        level.setText("");
        setBusy(false);
        if (stopping != null) {
            stopping.stop();
        }
        partial.setText(message == null ? "" : message);
        AppLog.i("stopped listening" + (message == null ? "" : ": " + message));
    }

    /**
     * One listening session: a ContinuousRecognizer (core) cuts the microphone's blocks at the
     * VAD's endpoints; a streaming model transcribes every block as it comes (partial transcript
     * on screen) and finishes at each endpoint, a whole-utterance model transcribes each
     * finished utterance on the inference thread.
     */
    private final class Session implements ContinuousRecognizer.Listener {
        final EngineCache.Entry<LoadedModel> entry;
        final int rate;
        final ContinuousRecognizer recognizer;

        Session(EngineCache.Entry<LoadedModel> entry, int rate) {
            this.entry = entry;
            this.rate = rate;
            LiteRtEngine.StreamingEngine streaming = entry.engine.streaming;
            ModelMetadata metadata = entry.engine.file.metadata;
            StreamingTranscriber live = streaming == null ? null : new StreamingTranscriber(streaming.layout(),
                    timed(streaming, entry.times), metadata.vocabulary(), metadata.minTokenProbability());
            this.recognizer = new ContinuousRecognizer(
                    new UtteranceSegmenter(rate, TRAILING_SILENCE_MS, PRE_ROLL_MS, MAX_UTTERANCE_SECONDS), live, this);
        }

        /** On the recorder thread. Never throws: that would end the app. */
        void accept(short[] block, int count) {
            try {
                recognizer.accept(block, count);
            } catch (RuntimeException e) {
                AppLog.w("listening failed", e);
                showPartial(this, "Listening failed: " + e.getMessage());
            }
        }

        /** On the UI thread, after the recorder thread has stopped. */
        void stop() {
            recognizer.stop();
        }

        boolean inUtterance() {
            return recognizer.inUtterance();
        }

        @Override
        public void partial(String text) {
            showPartial(this, text.isEmpty() ? "…" : text);
        }

        @Override
        public void failed(RuntimeException error) {
            AppLog.w("live transcription failed", error);
            showPartial(this, "Cannot transcribe live: " + error.getMessage());
        }

        @Override
        public void finished(UtteranceSegmenter.Utterance utterance, String text) {
            lastAudio = utterance.samples;
            lastAudioRate = rate;
            double seconds = utterance.samples.length / (double) rate;
            String cut = utterance.cut ? " (cut: no pause)" : "";
            if (text == null) {
                transcribeUtterance(entry, utterance.samples, rate, seconds, cut);
                return;
            }
            addToHistory(text, seconds, String.format(Locale.ROOT, "streamed, algorithmic latency %.0f ms",
                    entry.engine.streaming.layout().algorithmicLatencyMs) + cut, entry);
            showPartial(this, "…");
        }
    }

    /** A streaming step that records each call's time as the engine's inference times. */
    private static StreamingStep timed(final LiteRtEngine.StreamingEngine engine, final RunTimes times) {
        return new StreamingStep() {
            @Override
            public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
                long started = System.nanoTime();
                float[][] out = engine.step(chunk, state, nextState);
                times.add((System.nanoTime() - started) / 1e6);
                return out;
            }
        };
    }

    /** A finished utterance of a whole-utterance model, transcribed on the inference thread. */
    private void transcribeUtterance(final EngineCache.Entry<LoadedModel> entry, final short[] samples,
            final int rate, final double seconds, final String note) {
        inference.execute(new Runnable() {
            @Override
            public void run() {
                String text;
                String detail;
                try {
                    float[] input = Pcm.modelInput(samples, rate, entry.engine.file.metadata.sampleRate());
                    long started = System.nanoTime();
                    float[][] logProbs = entry.engine.utterance.run(input);
                    double ms = (System.nanoTime() - started) / 1e6;
                    entry.times.add(ms);
                    ModelMetadata metadata = entry.engine.file.metadata;
                    text = new CtcGreedyDecoder(metadata.vocabulary(), metadata.minTokenProbability()).decode(logProbs);
                    detail = String.format(Locale.ROOT, "%.0f ms, real-time factor %.3f", ms, ms / 1000 / seconds);
                } catch (RuntimeException e) {
                    AppLog.w("transcription failed", e);
                    text = "(failed: " + e.getMessage() + ")";
                    detail = "";
                }
                addToHistory(text, seconds, detail + note, entry);
            }
        });
    }

    private void addToHistory(String text, double seconds, String detail, final EngineCache.Entry<LoadedModel> entry) {
        final TranscriptHistory.Entry added = history.add(text, seconds, detail);
        AppLog.i("utterance " + added.line() + " [" + entry.model + ", " + entry.threads + " threads; " + detail + "]");
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                historyView.setText(history.toText());
                historyScroll.post(new Runnable() {
                    @Override
                    public void run() {
                        historyScroll.fullScroll(View.FOCUS_DOWN);
                    }
                });
                showEngine(entry);
            }
        });
    }

    /** Load time, first inference and steady state of the engine in use (loaded once, kept). */
    private void showEngine(EngineCache.Entry<LoadedModel> entry) {
        LoadedModel loaded = entry.engine;
        Long cacheBytes = loaded.streaming == null ? null : loaded.streaming.weightCacheBytes();
        engineStatus.setText(entry.model + ", " + entry.threads + " threads on " + loaded.runtime()
                + (cacheBytes != null ? String.format(Locale.ROOT, " (%.1f MB packed)", cacheBytes / 1e6) : "")
                + "\n" + entry.times.summary(entry.loadMs) + (loaded.streaming != null ? " per chunk" : " per utterance"));
    }

    /** A partial transcript, unless its session has ended meanwhile. */
    private void showPartial(final Session from, final String text) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                if (session == from) {
                    partial.setText(text);
                }
            }
        });
    }

    /** A text level meter: 20 steps over -60..0 dBFS. */
    static String meter(float rms) {
        double db = 20 * Math.log10(Math.max(rms, 1e-6));
        int bars = (int) Math.round(Math.max(0, Math.min(20, (db + 60) / 3)));
        StringBuilder text = new StringBuilder("level ");
        for (int i = 0; i < 20; i++) {
            text.append(i < bars ? '|' : '.');
        }
        return text.toString();
    }

    /** Plays the last finished utterance (or the last transcribed WAV) through the speaker. */
    private void playLast() {
        short[] samples = lastAudio;
        if (samples == null || samples.length == 0) {
            partial.setText("Nothing recorded yet.");
            return;
        }
        releasePlayer();
        try {
            AudioTrack track = new AudioTrack.Builder()
                    .setAudioAttributes(new AudioAttributes.Builder().setUsage(AudioAttributes.USAGE_MEDIA)
                            .setContentType(AudioAttributes.CONTENT_TYPE_SPEECH).build())
                    .setAudioFormat(new AudioFormat.Builder().setSampleRate(lastAudioRate)
                            .setEncoding(AudioFormat.ENCODING_PCM_16BIT)
                            .setChannelMask(AudioFormat.CHANNEL_OUT_MONO).build())
                    .setTransferMode(AudioTrack.MODE_STATIC)
                    .setBufferSizeInBytes(2 * samples.length)
                    .build();
            track.write(samples, 0, samples.length);
            track.play();
            player = track;
            AppLog.i(String.format(Locale.ROOT, "playing the last %.1f s", samples.length / (double) lastAudioRate));
        } catch (RuntimeException e) { // IllegalStateException / UnsupportedOperationException from AudioTrack
            AppLog.w("playback failed", e);
            partial.setText("Cannot play: " + e.getMessage());
        }
    }

    private void releasePlayer() {
        if (player != null) {
            player.release();
            player = null;
        }
    }

    private void copyHistory() {
        String text = history.toText();
        if (text.isEmpty()) {
            partial.setText("The history is empty.");
            return;
        }
        ClipboardManager clipboard = (ClipboardManager) getSystemService(CLIPBOARD_SERVICE);
        clipboard.setPrimaryClip(ClipData.newPlainText("rt-keras transcripts", text));
        partial.setText("Copied " + history.size() + " utterances.");
    }

    @Override
    protected void onStart() {
        super.onStart();
        visible = true;
    }

    @Override
    protected void onStop() {
        super.onStop();
        visible = false;
        if (session != null) { // never keep the microphone in the background
            stopListening("Listening stopped: the app left the screen.");
        }
        releasePlayer();
    }

    @Override
    protected void onDestroy() {
        super.onDestroy();
        if (session != null) {
            stopListening(null);
        }
        inference.execute(new Runnable() { // after the queued inference, every loaded model is released
            @Override
            public void run() {
                AppLog.i("released " + engines.releaseAll() + " loaded model(s)");
            }
        });
        inference.shutdown();
    }

    /** While listening, transcribing or benchmarking, the other actions wait. */
    private void setBusy(boolean busy) {
        if (busy) { // a benchmark behind the lock screen runs throttled (and adb runs it unattended)
            getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        } else {
            getWindow().clearFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        }
        for (Button button : workButtons) {
            button.setEnabled(!busy || (button == recordButton && session != null));
        }
        models.setEnabled(!busy);
        threadPicker.setEnabled(!busy);
    }

    @Override
    public void onRequestPermissionsResult(int request, String[] permissions, int[] results) {
        if (request != RECORD_REQUEST) {
            return;
        }
        if (results.length > 0 && results[0] == PackageManager.PERMISSION_GRANTED) {
            toggleListening();
        } else {
            partial.setText("Microphone permission denied: listening is off. "
                    + "You can still transcribe the bundled WAV.");
        }
    }

    private WavReader sampleAudio() throws IOException {
        return WavReader.read(readAll(getAssets().open(SAMPLE_WAV), SAMPLE_WAV), SAMPLE_WAV);
    }

    /** Reads and closes {@code in}; refuses more than MAX_WAV_BYTES. */
    private static byte[] readAll(InputStream in, String name) throws IOException {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] chunk = new byte[65536];
            int n;
            while ((n = in.read(chunk)) > 0) {
                bytes.write(chunk, 0, n);
                if (bytes.size() > MAX_WAV_BYTES) {
                    throw new IOException(name + " is larger than " + MAX_WAV_BYTES / (1024 * 1024) + " MB");
                }
            }
            return bytes.toByteArray();
        } finally {
            in.close();
        }
    }

    /** Pick a WAV with the system file picker (Storage Access Framework; no storage permission needed). */
    private void openWav() {
        Intent pick = new Intent(Intent.ACTION_OPEN_DOCUMENT);
        pick.addCategory(Intent.CATEGORY_OPENABLE);
        pick.setType("audio/*");
        try {
            startActivityForResult(pick, OPEN_WAV_REQUEST);
        } catch (ActivityNotFoundException e) {
            partial.setText("No file picker on this device.");
        }
    }

    private String displayName(Uri uri) {
        Cursor cursor = getContentResolver().query(uri, new String[] {OpenableColumns.DISPLAY_NAME}, null, null, null);
        if (cursor != null) {
            try {
                if (cursor.moveToFirst() && !cursor.isNull(0)) {
                    return cursor.getString(0);
                }
            } finally {
                cursor.close();
            }
        }
        return uri.getLastPathSegment();
    }

    @Override
    protected void onActivityResult(int request, int result, Intent data) {
        super.onActivityResult(request, result, data);
        if (request != OPEN_WAV_REQUEST || result != RESULT_OK || data == null || data.getData() == null) {
            return;
        }
        final Uri uri = data.getData();
        final String name = displayName(uri);
        transcribe(name, new Callable<WavReader>() {
            @Override
            public WavReader call() throws IOException {
                InputStream in = getContentResolver().openInputStream(uri); // may download: off the UI thread
                if (in == null) {
                    throw new IOException("the file could not be opened");
                }
                return WavReader.read(readAll(in, name), name);
            }
        });
    }

    private void transcribeSample() {
        transcribe(SAMPLE_WAV, new Callable<WavReader>() {
            @Override
            public WavReader call() throws IOException {
                return sampleAudio();
            }
        });
    }

    /**
     * Reads {@code audio} and transcribes it on the inference thread with the loaded model
     * (loading it once if needed), resampled to the rate in the model's metadata; at most
     * MAX_TRANSCRIBE_SECONDS. A streaming model runs it chunk by chunk. The transcript goes to
     * the history; the audio becomes the one "Play last" plays.
     */
    private void transcribe(final String what, final Callable<WavReader> audio) {
        final String model = selectedModel();
        if (model == null) {
            partial.setText("No model selected");
            return;
        }
        partial.setText("Transcribing " + what + " …");
        setBusy(true);
        final int threads = selectedThreads();
        inference.execute(new Runnable() {
            @Override
            public void run() {
                try {
                    WavReader wav = audio.call();
                    String cut = "";
                    short[] samples = wav.samples;
                    if (samples.length > MAX_TRANSCRIBE_SECONDS * wav.sampleRate) {
                        samples = Arrays.copyOf(samples, MAX_TRANSCRIBE_SECONDS * wav.sampleRate);
                        cut = ", only the first " + MAX_TRANSCRIBE_SECONDS + " s";
                    }
                    EngineCache.Entry<LoadedModel> entry = engines.get(model, threads);
                    LoadedModel loaded = entry.engine;
                    int rate = loaded.file.metadata.sampleRate();
                    float[] input = Pcm.modelInput(samples, wav.sampleRate, rate);
                    double seconds = input.length / (double) rate;
                    long started = System.nanoTime();
                    String words;
                    if (loaded.streaming != null) {
                        StreamingTranscriber transcriber = new StreamingTranscriber(loaded.streaming.layout(),
                                timed(loaded.streaming, entry.times), loaded.file.metadata.vocabulary(),
                                loaded.file.metadata.minTokenProbability());
                        transcriber.accept(input, 0, input.length);
                        words = transcriber.finish();
                    } else {
                        float[][] logProbs = loaded.utterance.run(input);
                        words = new CtcGreedyDecoder(loaded.file.metadata.vocabulary(),
                                loaded.file.metadata.minTokenProbability()).decode(logProbs);
                    }
                    double ms = (System.nanoTime() - started) / 1e6;
                    if (loaded.streaming == null) {
                        entry.times.add(ms);
                    }
                    lastAudio = samples;
                    lastAudioRate = wav.sampleRate;
                    addToHistory(words, seconds, String.format(Locale.ROOT, "%s: %.0f ms, real-time factor %.3f%s",
                            what, ms, ms / 1000 / seconds, cut), entry);
                    show(partial, "");
                } catch (Exception e) {
                    AppLog.w("cannot transcribe " + what, e);
                    show(partial, "Cannot transcribe " + what + ": " + e.getMessage());
                } catch (OutOfMemoryError | LinkageError e) { // a huge file; LiteRT's native library missing
                    AppLog.w("cannot transcribe " + what, e);
                    show(partial, "Cannot transcribe " + what + ": " + e);
                } finally {
                    idle();
                }
            }
        });
    }

    private void idle() {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                setBusy(session != null);
            }
        });
    }

    private void benchmarkFromIntent(String model) {
        for (int i = 0; i < models.getCount(); i++) {
            if (model.equals(models.getItemAtPosition(i))) {
                models.setSelection(i);
                benchmark(model, true);
                return;
            }
        }
        footprint.setText("No bundled model " + model + " (assets/" + ModelFile.DIRECTORY + ")");
    }

    private void benchmark() {
        String model = selectedModel();
        if (model != null) {
            benchmark(model, false);
        }
    }

    /**
     * The footprint at 1, 2 and 4 threads on the host's benchmark signal; shared as one JSON
     * array, and with {@code toFile} also written to the app's files directory for adb pull.
     * The loaded models are released first, so each measurement loads its own.
     */
    private void benchmark(final String model, final boolean toFile) {
        footprint.setText("Measuring " + model + " …");
        setBusy(true);
        inference.execute(new Runnable() {
            @Override
            public void run() {
                StringBuilder text = new StringBuilder(model).append('\n');
                try {
                    AppLog.i("benchmark: released " + engines.releaseAll() + " loaded model(s) first");
                    List<FootprintReport> reports = new ArrayList<FootprintReport>();
                    for (int threads : THREAD_CHOICES) {
                        FootprintReport report = DeviceFootprint.measure(getApplicationContext(), model, threads);
                        reports.add(report);
                        text.append(report.summary()).append('\n');
                        AppLog.i("benchmark " + report.summary());
                        show(footprint, text.toString());
                    }
                    lastReport = FootprintReport.toJson(reports);
                    if (toFile) {
                        text.append("written to ").append(writeReport(lastReport)).append('\n');
                    }
                    text.append("\nShare the report and compare it on the host: rt-keras footprint --compare "
                            + "host.json phone.json --threads N");
                } catch (IOException | RuntimeException e) {
                    AppLog.w("benchmark failed", e);
                    text.append("Benchmark failed: ").append(e.getMessage());
                } catch (OutOfMemoryError | LinkageError e) {
                    AppLog.w("benchmark failed", e);
                    text.append("Benchmark failed: ").append(e);
                } finally {
                    idle();
                }
                show(footprint, text.toString());
            }
        });
    }

    /** Atomically (temporary file, then rename) into getExternalFilesDir: adb can pull it without root. */
    private String writeReport(String json) throws IOException {
        File directory = getExternalFilesDir(null);
        if (directory == null) {
            throw new IOException("no app files directory on external storage");
        }
        File partialFile = new File(directory, REPORT_FILE + ".partial");
        FileOutputStream out = new FileOutputStream(partialFile);
        try {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        } finally {
            out.close();
        }
        File done = new File(directory, REPORT_FILE);
        if (!partialFile.renameTo(done)) {
            throw new IOException("cannot rename " + partialFile + " to " + done);
        }
        return done.getPath();
    }

    private void shareReport() {
        if (lastReport == null) {
            footprint.setText("Run the benchmark first.");
            return;
        }
        Intent share = new Intent(Intent.ACTION_SEND);
        share.setType("text/plain"); // EXTRA_TEXT is plain text; JSON is not a text type share targets accept
        share.putExtra(Intent.EXTRA_TEXT, lastReport);
        startActivity(Intent.createChooser(share, "Footprint report"));
    }

    private void show(final TextView view, final String text) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                view.setText(text);
            }
        });
    }
}
