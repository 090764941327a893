package org.rtkeras.demo;

import android.Manifest;
import android.app.Activity;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.os.Build;
import android.os.Bundle;
import android.view.View;
import android.widget.AdapterView;
import android.widget.ArrayAdapter;
import android.widget.Button;
import android.widget.LinearLayout;
import android.widget.ScrollView;
import android.widget.Spinner;
import android.widget.TextView;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

import org.rtkeras.demo.core.CtcGreedyDecoder;
import org.rtkeras.demo.core.FootprintReport;
import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.WavReader;

/**
 * Record or pick a bundled WAV, transcribe it with the chosen model, and measure the model's
 * footprint (shared as JSON in the rt-keras footprint schema).
 */
public class MainActivity extends Activity {
    private static final int RECORD_REQUEST = 1;
    private static final String SAMPLE_WAV = "sample.wav";
    private static final int BENCHMARK_RUNS = 20;

    private final AudioRecorder recorder = new AudioRecorder();
    private Spinner models;
    private Button recordButton;
    private TextView transcript;
    private TextView footprint;
    private boolean recording;
    private String lastReport;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        LinearLayout layout = new LinearLayout(this);
        layout.setOrientation(LinearLayout.VERTICAL);
        models = new Spinner(this);
        recordButton = button("Record", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                toggleRecording();
            }
        });
        transcript = new TextView(this);
        transcript.setTextSize(24);
        footprint = new TextView(this);
        layout.addView(models);
        layout.addView(recordButton);
        layout.addView(button("Transcribe bundled WAV", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                transcribeSample();
            }
        }));
        layout.addView(button("Benchmark", new View.OnClickListener() {
            @Override
            public void onClick(View v) {
                benchmark();
            }
        }));
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
        models.setOnItemSelectedListener(new AdapterView.OnItemSelectedListener() {
            @Override
            public void onItemSelected(AdapterView<?> parent, View view, int position, long id) {
                footprint.setText("");
            }

            @Override
            public void onNothingSelected(AdapterView<?> parent) {
            }
        });
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
        if (Build.VERSION.SDK_INT >= 23
                && checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(new String[] {Manifest.permission.RECORD_AUDIO}, RECORD_REQUEST);
            return;
        }
        if (!recording) {
            String model = selectedModel();
            if (model == null) {
                transcript.setText("No model selected");
                return;
            }
            try {
                recorder.start(ModelFile.open(getAssets(), model).metadata.sampleRate());
                recording = true;
                recordButton.setText("Stop and transcribe");
            } catch (IOException | RuntimeException e) {
                transcript.setText("Cannot record: " + e.getMessage());
            }
            return;
        }
        recording = false;
        recordButton.setText("Record");
        try {
            transcribe(recorder.stop(), recorder.sampleRate());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        InputStream in = getAssets().open(SAMPLE_WAV);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] chunk = new byte[65536];
            int n;
            while ((n = in.read(chunk)) > 0) {
                bytes.write(chunk, 0, n);
            }
            return WavReader.read(bytes.toByteArray(), SAMPLE_WAV);
        } finally {
            in.close();
        }
    }

    private void transcribeSample() {
        try {
            WavReader wav = sampleAudio();
            transcribe(wav.samples, wav.sampleRate);
        } catch (IOException | IllegalArgumentException e) {
            transcript.setText("Cannot read " + SAMPLE_WAV + ": " + e.getMessage());
        }
    }

    /** Transcribes PCM16 at {@code rate} Hz, resampled to the rate in the model's metadata. */
    private void transcribe(final short[] samples, final int rate) {
        final String model = selectedModel();
        if (model == null || samples.length == 0) {
            transcript.setText(model == null ? "No model selected" : "No audio recorded");
            return;
        }
        transcript.setText("…");
        new Thread(new Runnable() {
            @Override
            public void run() {
                String text;
                try {
                    ModelFile file = ModelFile.open(getAssets(), model);
                    float[] audio = Pcm.modelInput(samples, rate, file.metadata.sampleRate());
                    LiteRtEngine engine = new LiteRtEngine(file.buffer, 2);
                    try {
                        text = new CtcGreedyDecoder(file.metadata.vocabulary()).decode(engine.run(audio));
                    } finally {
                        engine.close();
                    }
                } catch (IOException | RuntimeException e) {
                    text = "Failed: " + e.getMessage();
                }
                show(transcript, text.isEmpty() ? "(nothing recognised)" : text);
            }
        }, "transcribe").start();
    }

    private void benchmark() {
        final String model = selectedModel();
        if (model == null) {
            return;
        }
        footprint.setText("Measuring " + model + " …");
        new Thread(new Runnable() {
            @Override
            public void run() {
                String text;
                try {
                    FootprintReport report = DeviceFootprint.measure(getAssets(), model, sampleAudio(),
                            BENCHMARK_RUNS, 3, 2);
                    lastReport = report.toJson();
                    text = lastReport;
                } catch (IOException | RuntimeException e) {
                    text = "Benchmark failed: " + e.getMessage();
                }
                show(footprint, text);
            }
        }, "benchmark").start();
    }

    private void shareReport() {
        if (lastReport == null) {
            footprint.setText("Run the benchmark first.");
            return;
        }
        Intent share = new Intent(Intent.ACTION_SEND);
        share.setType("application/json");
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
