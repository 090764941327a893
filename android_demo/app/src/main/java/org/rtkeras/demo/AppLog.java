package org.rtkeras.demo;

import android.util.Log;

/** Every log line of the app under one logcat tag: `adb logcat -s rt-keras`. */
final class AppLog {
    static final String TAG = "rt-keras";

    private AppLog() {
    }

    static void i(String message) {
        Log.i(TAG, message);
    }

    static void w(String message, Throwable error) {
        Log.w(TAG, message, error);
    }
}
