// The pure-Java core: no Android imports, Java 8 language level and API (CI also compiles and
// tests it with plain javac and Debian's JUnit: `make android-core-test`). `./gradlew :core:test`
// runs the same JUnit tests with the fixtures in src/test/resources.
plugins {
    `java-library`
}

tasks.withType<JavaCompile>().configureEach {
    options.release.set(8) // Java 8 API too, not only its syntax (javac --release 8, as the Makefile)
    options.encoding = "UTF-8"
}

tasks.test {
    testLogging {
        events("failed", "skipped")
        exceptionFormat = org.gradle.api.tasks.testing.logging.TestExceptionFormat.FULL
    }
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}
