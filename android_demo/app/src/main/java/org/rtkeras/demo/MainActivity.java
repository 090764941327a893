package org.rtkeras.demo;

import android.Manifest;
import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.database.Cursor;
import android.net.Uri;
import android.os.Bundle;
import android.provider.OpenableColumns;
import android.view.View;
import android.view.WindowInsets;
import android.view.WindowManager;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
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
import java.util.List;
import java.util.concurrent.Callable;

import org.rtkeras.demo.core.CtcGreedyDecoder;
import org.rtkeras.demo.core.FootprintReport;
import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.StreamingTranscriber;
import org.rtkeras.demo.core.WavReader;

/**
 * Record or pick a bundled WAV, transcribe it with the chosen model, and measure the model's
 * footprint (shared as JSON in the rt-keras footprint schema).
 *
 * Rotation does not recreate the activity (android:configChanges in the manifest), so a
 * recording survives it; leaving the app (onStop) stops the microphone.
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

    private final AudioRecorder recorder = new AudioRecorder();
    /** Set while a streaming model transcribes the recording live (see startLiveTranscript). */
    private volatile StreamingTranscriber live;
    private LiteRtEngine.Streaming liveEngine;
    private Spinner models;
    private Spinner threadPicker;
    private Button recordButton;
    private Button[] workButtons;
    private TextView transcript;
    private TextView level;
    private TextView footprint;
    /** Written by the benchmark thread, read on the UI thread. */
    private volatile String lastReport;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        LinearLayout layout = new LinearLayout(this);
        layout.setOrientation(LinearLayout.VERTICAL);
        models = new Spinner(this);
        threadPicker = new Spinner(this);
        threadPicker.setAdapter(new ArrayAdapter<Integer>(this, android.R.layout.simple_spinner_item, THREAD_CHOICES));
        recordButton = button("Record", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                toggleRecording();
            }
        });
        transcript = new TextView(this);
        transcript.setTextSize(24);
        level = new TextView(this);
        footprint = new TextView(this);
        Button sampleButton = button("Transcribe bundled WAV", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                transcribeSample();
            }
        });
        Button benchmarkButton = button("Benchmark", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                benchmark();
            }
        });
        Button openButton = button("Transcribe a WAV file…", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                openWav();
            }
        });
        workButtons = new Button[] {recordButton, sampleButton, openButton, benchmarkButton};
        layout.addView(models);
        layout.addView(label("Interpreter threads for transcription:"));
        layout.addView(threadPicker);
        layout.addView(recordButton);
        layout.addView(level);
        layout.addView(sampleButton);
        layout.addView(openButton);
        layout.addView(benchmarkButton);
        layout.addView(button("Share report", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                shareReport();
            }
        }));
        layout.addView(transcript);
        layout.addView(footprint);
        ScrollView scroll = new ScrollView(this);
        scroll.addView(layout);
        // targetSdk 35 draws edge to edge on Android 15: keep the controls clear of the system bars.
        scroll.setOnApplyWindowInsetsListener(new View.OnApplyWindowInsetsListener() {
            @Override
            public WindowInsets onApplyWindowInsets(View view, WindowInsets insets) {
                view.setPadding(insets.getSystemWindowInsetLeft(), insets.getSystemWindowInsetTop(),
                        insets.getSystemWindowInsetRight(), insets.getSystemWindowInsetBottom());
                return insets;
            }
        });
        setContentView(scroll);
        try {
            String[] names = ModelFile.list(getAssets());
            models.setAdapter(new ArrayAdapter<String>(this, android.R.layout.simple_spinner_item, names));
            if (names.length == 0) {
                transcript.setText("No models in assets/models: run `make android-assets` and rebuild.");
            }
        } catch (IOException e) {
            transcript.setText("Cannot list the bundled models: " + e.getMessage());
        }
        String requested = getIntent().getStringExtra(EXTRA_BENCHMARK);
        if (state == null && requested != null) { // once: not again when the activity is recreated
            getIntent().removeExtra(EXTRA_BENCHMARK);
            benchmarkFromIntent(requested);
        }
        models.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            private int shown = models.getSelectedItemPosition();

            @Override
            public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
                if (position == shown) {
                    return; // the spinner's first layout reports the initial selection
                }
                shown = position;
                footprint.setText("");
            }

            @Override
            public void onNothingSelected(AdapterView<?> parent) {
            }
        });
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

    private void toggleRecording() {
        if (checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, RECORD_REQUEST);
            return;
        }
        if (!recorder.isRecording()) {
            String model = selectedModel();
            if (model == null) {
                transcript.setText("No model selected");
                return;
            }
            try {
                ModelFile file = ModelFile.open(getAssets(), model);
                startLiveTranscript(file);
                recorder.start(this, file.metadata.sampleRate(),
                        new AudioRecorder.Listener() {
                            @Override
                            public void onAudio(short[] block, int count) {
                                feedLiveTranscript(block, count);
                            }

                            @Override
                            public void onLevel(final float rms) {
                                runOnUiThread(new Runnable() {
                                    @Override
                                    public void run() {
                                        if (recorder.isRecording()) { // not a last chunk after Stop
                                            level.setText(meter(rms));
                                        }
                                    }
                                });
                            }

                            @Override
                            public void onEndOfSpeech() {
                                runOnUiThread(new Runnable() {
                                    @Override
                                    public void run() {
                                        if (recorder.isRecording()) { // not stopped by hand meanwhile
                                            toggleRecording();
                                        }
                                    }
                                });
                            }

                            @Override
                            public void onError(final String message) {
                                runOnUiThread(new Runnable() {
                                    @Override
                                    public void run() {
                                        stopRecording(); // the recorder has stopped: reset the buttons
                                        closeLiveTranscript();
                                        transcript.setText("Recording stopped: " + message);
                                    }
                                });
                            }
                        });
                recordButton.setText("Stop and transcribe");
                setBusy(true);
            } catch (IOException | RuntimeException | LinkageError e) { // SecurityException if the permission was
                closeLiveTranscript();                                     // revoked; LiteRT's native library missing
                transcript.setText("Cannot record: " + e.getMessage());
            }
            return;
        }
        short[] samples = stopRecording();
        if (liveEngine != null) { // the recorder thread has stopped: finish the live transcript
            finishLiveTranscript();
            return;
        }
        if (recorder.droppedSeconds() > 0) {
            footprint.setText(String.format(java.util.Locale.ROOT, "Only the last %d s were kept (%.1f s dropped).",
                    AudioRecorder.MAX_SECONDS, recorder.droppedSeconds()));
        }
        transcribeRecording(samples, recorder.sampleRate());
    }

    /**
     * A streaming model (its metadata has a state layout) transcribes while the user speaks:
     * every whole chunk the microphone delivers runs on the recorder thread (a chunk costs
     * about a millisecond on the host, `rt-keras footprint`) and the transcript so far is
     * shown; Stop runs the last, zero-padded chunk. Other models transcribe after Stop.
     */
    private void startLiveTranscript(ModelFile file) {
        closeLiveTranscript();
        if (file.metadata.streamingLayout() == null) {
            return;
        }
        liveEngine = new LiteRtEngine.Streaming(file, selectedThreads());
        live = new StreamingTranscriber(liveEngine.layout(), liveEngine, file.metadata.vocabulary());
        transcript.setText("…");
    }

    /** Called on the recorder thread. */
    private void feedLiveTranscript(short[] block, int count) {
        StreamingTranscriber transcriber = live;
        if (transcriber == null) {
            return;
        }
        float[] samples = Pcm.toFloat(java.util.Arrays.copyOf(block, count));
        int before = transcriber.chunks();
        String text;
        try {
            text = transcriber.accept(samples, 0, samples.length);
        } catch (RuntimeException e) { // never let the recorder thread die: that would end the app
            live = null; // no more chunks; the engine is closed on the UI thread after the recorder stops
            showLive(transcriber, "Cannot transcribe live: " + e.getMessage());
            return;
        }
        if (transcriber.chunks() != before) {
            showLive(transcriber, text.isEmpty() ? "…" : text);
        }
    }

    /** A partial transcript, unless the recording it belongs to has ended meanwhile (its final text stays). */
    private void showLive(final StreamingTranscriber from, final String text) {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                if (live == from || (live == null && liveEngine != null)) {
                    transcript.setText(text);
                }
            }
        });
    }

    private void finishLiveTranscript() {
        String text;
        try {
            if (live == null) { // a step failed while recording; its message is on screen
                closeLiveTranscript();
                return;
            }
            String words = live.finish();
            text = (words.isEmpty() ? "(nothing recognised)" : words) + String.format(java.util.Locale.ROOT,
                    "\n(streamed; algorithmic latency %.0f ms)", liveEngine.layout().algorithmicLatencyMs);
        } catch (RuntimeException e) {
            text = "Cannot transcribe the recording: " + e.getMessage();
        }
        closeLiveTranscript();
        transcript.setText(text);
    }

    private void closeLiveTranscript() {
        live = null;
        if (liveEngine != null) {
            liveEngine.close();
            liveEngine = null;
        }
    }

    /** Stops the microphone (if recording) and returns what it recorded. */
    private short[] stopRecording() {
        recordButton.setText("Record");
        level.setText("");
        setBusy(false);
        try {
            return recorder.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new short[0];
        }
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

    @Override
    protected void onStop() {
        super.onStop();
        if (recorder.isRecording()) { // never keep the microphone in the background
            stopRecording();
            closeLiveTranscript();
            transcript.setText("Recording stopped: the app left the screen.");
        }
    }

    /** While a recording, transcription or benchmark runs, the other actions wait. */
    private void setBusy(boolean busy) {
        if (busy) { // a benchmark behind the lock screen runs throttled (and adb runs it unattended)
            getWindow().addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        } else {
            getWindow().clearFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON);
        }
        for (Button button : workButtons) {
            button.setEnabled(!busy || (button == recordButton && recorder.isRecording()));
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
            toggleRecording();
        } else {
            transcript.setText("Microphone permission denied: recording is off. "
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
            transcript.setText("No file picker on this device.");
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

    private void transcribeRecording(final short[] samples, final int rate) {
        if (samples.length == 0) {
            transcript.setText("No audio recorded");
            return;
        }
        transcribe("the recording", new Callable<WavReader>() {
            @Override
            public WavReader call() {
                return WavReader.fromSamples(rate, samples);
            }
        });
    }

    /**
     * Reads {@code audio} and transcribes it, both on a worker thread, resampled to the rate in
     * the model's metadata; at most MAX_TRANSCRIBE_SECONDS.
     */
    private void transcribe(final String what, final Callable<WavReader> audio) {
        final String model = selectedModel();
        if (model == null) {
            transcript.setText("No model selected");
            return;
        }
        transcript.setText("…");
        setBusy(true);
        final int threads = selectedThreads();
        new Thread(new Runnable() {
            @Override
            public void run() {
                String text;
                LiteRtEngine engine = null;
                try {
                    WavReader wav = audio.call();
                    String cut = "";
                    short[] samples = wav.samples;
                    if (samples.length > MAX_TRANSCRIBE_SECONDS * wav.sampleRate) {
                        samples = java.util.Arrays.copyOf(samples, MAX_TRANSCRIBE_SECONDS * wav.sampleRate);
                        cut = "\n(only the first " + MAX_TRANSCRIBE_SECONDS + " s)";
                    }
                    ModelFile file = ModelFile.open(getAssets(), model);
                    float[] input = Pcm.modelInput(samples, wav.sampleRate, file.metadata.sampleRate());
                    engine = new LiteRtEngine(file, threads);
                    long started = System.nanoTime();
                    float[][] logProbs = engine.run(input);
                    double ms = (System.nanoTime() - started) / 1e6;
                    double seconds = input.length / (double) file.metadata.sampleRate();
                    String words = new CtcGreedyDecoder(file.metadata.vocabulary()).decode(logProbs);
                    text = (words.isEmpty() ? "(nothing recognised)" : words) + String.format(java.util.Locale.ROOT,
                            "\n%.0f ms for %.2f s of audio (real-time factor %.3f, %d threads)", ms, seconds,
                            ms / 1000 / seconds, threads) + cut;
                } catch (Exception e) {
                    text = "Cannot transcribe " + what + ": " + e.getMessage();
                } catch (OutOfMemoryError | LinkageError e) { // a huge file; LiteRT's native library missing
                    text = "Cannot transcribe " + what + ": " + e;
                } finally {
                    if (engine != null) {
                        engine.close();
                    }
                    idle();
                }
                show(transcript, text);
            }
        }, "transcribe").start();
    }

    private void idle() {
        runOnUiThread(new Runnable() {
            @Override
            public void run() {
                setBusy(false);
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
     */
    private void benchmark(final String model, final boolean toFile) {
        footprint.setText("Measuring " + model + " …");
        setBusy(true);
        new Thread(new Runnable() {
            @Override
            public void run() {
                StringBuilder text = new StringBuilder(model).append('\n');
                try {
                    List<FootprintReport> reports = new ArrayList<FootprintReport>();
                    for (int threads : THREAD_CHOICES) {
                        FootprintReport report = DeviceFootprint.measure(getAssets(), model, threads);
                        reports.add(report);
                        text.append(report.summary()).append('\n');
                        show(footprint, text.toString());
                    }
                    lastReport = FootprintReport.toJson(reports);
                    if (toFile) {
                        text.append("written to ").append(writeReport(lastReport)).append('\n');
                    }
                    text.append("\nShare the report and compare it on the host: rt-keras footprint --compare "
                            + "host.json phone.json --threads N");
                } catch (IOException | RuntimeException e) {
                    text.append("Benchmark failed: ").append(e.getMessage());
                } catch (OutOfMemoryError | LinkageError e) {
                    text.append("Benchmark failed: ").append(e);
                } finally {
                    idle();
                }
                show(footprint, text.toString());
            }
        }, "benchmark").start();
    }

    /** Atomically (temporary file, then rename) into getExternalFilesDir: adb can pull it without root. */
    private String writeReport(String json) throws IOException {
        File directory = getExternalFilesDir(null);
        if (directory == null) {
            throw new IOException("no app files directory on external storage");
        }
        File partial = new File(directory, REPORT_FILE + ".partial");
        FileOutputStream out = new FileOutputStream(partial);
        try {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        } finally {
            out.close();
        }
        File done = new File(directory, REPORT_FILE);
        if (!partial.renameTo(done)) {
            throw new IOException("cannot rename " + partial + " to " + done);
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
