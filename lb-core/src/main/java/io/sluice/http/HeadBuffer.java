package io.sluice.http;

/**
 * A connection's room for one head at a time: a copy of the head's bytes and the {@link HeadFields} table over
 * them, refilled for each head once no one reads the previous one ({@link PlainRequest}, {@link PlainResponse}
 * say when). Grows to the largest head seen on the connection.
 */
final class HeadBuffer {
    private final HeadFields fields;
    private byte[] bytes;

    /** {@code firstBytes}, {@code firstFields}: room at first. */
    HeadBuffer(int firstBytes, int firstFields) {
        this.bytes = new byte[firstBytes];
        this.fields = new HeadFields(bytes, firstFields);
    }

    /** Empties the fields, for a head of {@code length} bytes; returns where to copy its bytes. */
    byte[] refill(int length) {
        if (bytes.length < length) {
            bytes = new byte[Math.max(length, 2 * bytes.length)];
        }
        fields.reuse(bytes);
        return bytes;
    }

    HeadFields fields() {
        return fields;
    }
}
