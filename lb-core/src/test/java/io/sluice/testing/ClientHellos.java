package io.sluice.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * ClientHello bytes for the passthrough tests: the one a JDK client really sends, the same message framed
 * into many TLS records, and hand-made ones the JDK does not send (a post-quantum X25519MLKEM768 key share,
 * a hello too large for one record, one over the proxy's limit).
 */
public final class ClientHellos {
    /** The X25519MLKEM768 hybrid group (draft-ietf-tls-ecdhe-mlkem): 1184 bytes of ML-KEM-768 + 32 of X25519. */
    public static final int X25519_MLKEM768 = 0x11EC;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ClientHellos() {
    }

    /**
     * The first flight of a JDK TLS client for {@code serverName} (null: no SNI): one record holding its
     * ClientHello.
     */
    public static byte[] jdk(String serverName) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine engine = ctx.createSSLEngine(serverName, 443);
        engine.setUseClientMode(true);
        if (serverName != null) {
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(serverName)));
            engine.setSSLParameters(p);
        }
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }

    /** The handshake message of a single-record hello, without the record header. */
    public static byte[] message(byte[] record) {
        return Arrays.copyOfRange(record, 5, record.length);
    }

    /** A handshake message framed into records that carry at most {@code payload} bytes each. */
    public static byte[] records(byte[] message, int payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int at = 0; at < message.length; at += payload) {
            int n = Math.min(payload, message.length - at);
            out.write(0x16);
            out.write(0x03);
            out.write(0x01);
            out.write(n >> 8);
            out.write(n);
            out.write(message, at, n);
        }
        return out.toByteArray();
    }

    /**
     * A TLS 1.3 ClientHello message as a browser sends it today: SNI, supported_groups and a key_share with an
     * X25519MLKEM768 share (1216 bytes) and an X25519 one, plus a padding extension of {@code padding} bytes
     * (0 for none) to make it as large as a test needs.
     */
    public static byte[] postQuantum(String serverName, int padding) {
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        byte[] name = serverName.getBytes(StandardCharsets.US_ASCII);
        extension(ext, 0, concat(u16(name.length + 3), new byte[] {0}, u16(name.length), name));
        extension(ext, 10, concat(u16(4), u16(X25519_MLKEM768), u16(0x001d))); // supported_groups
        extension(ext, 43, new byte[] {2, 0x03, 0x04}); // supported_versions: TLS 1.3
        extension(ext, 13, concat(u16(2), u16(0x0403))); // signature_algorithms: ecdsa_secp256r1_sha256
        byte[] mlkem = random(1216);
        byte[] x25519 = random(32);
        byte[] shares = concat(u16(X25519_MLKEM768), u16(mlkem.length), mlkem, u16(0x001d), u16(32), x25519);
        extension(ext, 51, concat(u16(shares.length), shares)); // key_share
        if (padding > 0) {
            extension(ext, 21, new byte[padding]);
        }
        byte[] extensions = ext.toByteArray();
        byte[] body = concat(new byte[] {0x03, 0x03}, random(32), new byte[] {32}, random(32),
                u16(6), u16(0x1301), u16(0x1302), u16(0x1303), new byte[] {1, 0}, u16(extensions.length), extensions);
        return concat(new byte[] {1, (byte) (body.length >> 16), (byte) (body.length >> 8), (byte) body.length}, body);
    }

    private static void extension(ByteArrayOutputStream out, int type, byte[] data) {
        out.writeBytes(u16(type));
        out.writeBytes(u16(data.length));
        out.writeBytes(data);
    }

    public static byte[] u16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    public static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
