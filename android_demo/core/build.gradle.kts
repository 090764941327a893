// The pure-Java core: no Android imports, Java 8 language level (CI compiles and tests it
// with plain javac and Debian's JUnit: `make android-core-test`).
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_1_8
    targetCompatibility = JavaVersion.VERSION_1_8
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}
