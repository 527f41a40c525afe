package io.sluice.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.util.Map;

/**
 * An HTTP/2 server's HEADERS as the HTTP/1.1 objects the forwarder takes, the way Netty's
 * {@code Http2StreamFrameToHttpObjectCodec} makes them (a 1xx or a HEADERS that ends the stream is a full
 * response, HEADERS without :status that end the stream are trailers, a head without Content-Length says
 * chunked) but without its notes ({@code x-http2-stream-id}) or header translations, which a response never needs.
 * The fields go into {@link HeadFields}, as an HTTP/1.1 server's do: checked there once, and an HTTP/2 client
 * gets them through {@link Http2ClientResponseHeads}' quick way (the decoder's AsciiString values as they are).
 */
final class Http2ResponseHeads {
    private Http2ResponseHeads() {
    }

    /**
     * The head, or the trailers ({@link LastHttpContent}) when there is no :status and the stream ends.
     *
     * @throws Http2Exception a :status that is not a status, 101 (not in HTTP/2), or a head in the middle
     */
    static HttpObject of(Http2Headers h, boolean endStream) throws Http2Exception {
        CharSequence status = h.status();
        if (status == null) {
            if (!endStream) {
                throw Http2Exception.connectionError(io.netty.handler.codec.http2.Http2Error.PROTOCOL_ERROR,
                        "HEADERS without :status that do not end the stream");
            }
            LastHttpContent trailers = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, HeadFields.factory());
            copy(h, trailers.trailingHeaders());
            return trailers;
        }
        HttpResponseStatus st = HttpConversionUtil.parseStatus(status);
        HttpResponse r;
        if (endStream || st.codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
            r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, st, Unpooled.EMPTY_BUFFER, HeadFields.factory(),
                    HeadFields.factory());
            copy(h, r.headers());
        } else {
            r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, st, HeadFields.factory());
            HttpHeaders out = r.headers();
            copy(h, out);
            int code = st.code();
            if (code != 204 && code != 304 && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        return r;
    }

    /**
     * All but the pseudo-headers and Transfer-Encoding (framing, which cannot be in HTTP/2 anyway). Trailer stays:
     * it announces the trailers to the client, as Netty's conversion kept it.
     */
    private static void copy(Http2Headers in, HttpHeaders out) {
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
                continue;
            }
            out.add(name, e.getValue());
        }
    }
}
