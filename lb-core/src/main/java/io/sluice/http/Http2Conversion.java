package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;

/** What Netty adds when it turns HTTP/2 frames into HTTP/1.1 objects, which must not travel on. */
final class Http2Conversion {
    private Http2Conversion() {
    }

    /** Removes Netty's notes on the conversion (x-http2-stream-id and the like), which no peer sent. */
    static void stripNotes(HttpHeaders h) {
        for (HttpConversionUtil.ExtensionHeaderNames n : HttpConversionUtil.ExtensionHeaderNames.values()) {
            h.remove(n.text());
        }
    }
}
