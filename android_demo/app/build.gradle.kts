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
}

dependencies {
    implementation(project(":core"))
    implementation("com.google.ai.edge.litert:litert:1.4.1")
}
