package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

/** What Netty adds when it turns HTTP/2 frames into HTTP/1.1 objects, which must not travel on. */
final class Http2Conversion {
    /** Once: {@code values()} copies its array at every call, and this runs for every stream. */
    private static final AsciiString[] NOTES = java.util.Arrays.stream(HttpConversionUtil.ExtensionHeaderNames.values())
            .map(HttpConversionUtil.ExtensionHeaderNames::text).toArray(AsciiString[]::new);
    private static final AsciiString PREFIX = AsciiString.cached("x-http2-");

    private Http2Conversion() {
    }

    /** Removes Netty's notes on the conversion (x-http2-stream-id and the like), which no peer sent. */
    static void stripNotes(HttpHeaders h) {
        for (AsciiString n : NOTES) {
            h.remove(n);
        }
    }

    /** Whether {@code name} is one of those notes' names (checked without a look-up for all other names). */
    static boolean isNote(CharSequence name) {
        if (name.length() <= PREFIX.length() || !AsciiString.regionMatches(name, true, 0, PREFIX, 0,
                PREFIX.length())) {
            return false;
        }
        for (AsciiString n : NOTES) {
            if (n.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}
