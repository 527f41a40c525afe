package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/** What Sluice needs to know of gRPC over HTTP: which requests are gRPC, and its header encodings. */
final class Grpc {
    static final AsciiString CONTENT_TYPE = AsciiString.cached("application/grpc");
    static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

    private Grpc() {
    }

    /** A gRPC request: its content-type is application/grpc, alone or with a suffix (+proto, +json, ;...). */
    static boolean isGrpc(HttpHeaders h) {
        String type = h.get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
                && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
    }

    /** grpc-message is UTF-8 with every byte outside printable ASCII, and '%', percent-encoded. */
    static String percentEncode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(utf8.length + 8);
        for (byte b : utf8) {
            int c = b & 0xff;
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append((char) HEX[c >> 4]).append((char) HEX[c & 0xf]);
            }
        }
        return out.toString();
    }
}
