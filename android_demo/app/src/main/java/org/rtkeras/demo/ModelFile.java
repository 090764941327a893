package org.rtkeras.demo;

import android.content.res.AssetFileDescriptor;
import android.content.res.AssetManager;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import org.rtkeras.demo.core.ModelMetadata;

/** A bundled model: memory-mapped from the (uncompressed) APK asset, with its metadata. */
final class ModelFile {
    static final String DIRECTORY = "models";

    final String name;
    final MappedByteBuffer buffer;
    final long bytes;
    final ModelMetadata metadata;

    private ModelFile(String name, MappedByteBuffer buffer, long bytes) {
        this.name = name;
        this.buffer = buffer;
        this.bytes = bytes;
        this.metadata = ModelMetadata.read(buffer);
    }

    static String[] list(AssetManager assets) throws IOException {
        return assets.list(DIRECTORY);
    }

    static ModelFile open(AssetManager assets, String name) throws IOException {
        AssetFileDescriptor descriptor = assets.openFd(DIRECTORY + "/" + name);
        FileInputStream stream = new FileInputStream(descriptor.getFileDescriptor());
        try {
            FileChannel channel = stream.getChannel();
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, descriptor.getStartOffset(),
                    descriptor.getDeclaredLength());
            return new ModelFile(name, buffer, descriptor.getDeclaredLength());
        } finally {
            stream.close();
            descriptor.close();
        }
    }

    static String sha256(AssetManager assets, String name) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        InputStream in = assets.open(DIRECTORY + "/" + name);
        try {
            byte[] chunk = new byte[65536];
            int n;
            while ((n = in.read(chunk)) > 0) {
                digest.update(chunk, 0, n);
            }
        } finally {
            in.close();
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : digest.digest()) {
            hex.append(String.format("%02x", b & 0xff));
        }
        return hex.toString();
    }
}
