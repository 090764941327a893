plugins {
    id("com.android.application")
}

android {
    namespace = "org.rtkeras.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.rtkeras.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_1_8
        targetCompatibility = JavaVersion.VERSION_1_8
    }

    // Models stay uncompressed in the APK so the interpreter can memory-map them.
    androidResources {
        noCompress += "tflite"
    }

    // Native libraries (LiteRT's) stored uncompressed in the APK and loaded from it without
    // extraction; AGP (8.5.1 and later) places them at 16 KB-aligned offsets, which Android 15+
    // devices with 16 KB pages need (checked by benchmarks/apk_alignment.py and zipalign -c -P 16
    // in .github/workflows/android.yml).
    packaging {
        jniLibs {
            useLegacyPackaging = false
        }
    }

    lint {
        abortOnError = true // `./gradlew lint` fails on errors; warnings are reported only
    }
}

dependencies {
    implementation(project(":core"))
    // 2.3.0 matches the host interpreter (ai-edge-litert 2.3.0); its AAR still packages the
    // org.tensorflow.lite.Interpreter API (google-ai-edge/LiteRT litert/kotlin/BUILD, copied_from_tflite).
    implementation("com.google.ai.edge.litert:litert:2.3.0")
}
