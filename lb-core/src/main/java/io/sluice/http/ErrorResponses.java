package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Responses Sluice writes itself: short plain text that says what went wrong, or for a gRPC client a gRPC
 * error it can read.
 */
final class ErrorResponses {
    private ErrorResponses() {
    }

    static FullHttpResponse plain(ByteBufAllocator alloc, HttpResponseStatus status, String text, boolean close) {
        byte[] body = (status.code() + " " + status.reasonPhrase() + ": " + text + "\n")
                .getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                alloc.buffer(body.length).writeBytes(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }

    /**
     * A gRPC "trailers-only" answer: HTTP 200 with the status in the head and no body, which HTTP/2 sends as one
     * HEADERS frame ending the stream. gRPC clients read an HTTP error status as a status of their own guessing,
     * so Sluice says what it means.
     */
    static FullHttpResponse grpc(GrpcStatus status, String message, boolean close) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, Grpc.CONTENT_TYPE);
        r.headers().set(GrpcStatus.GRPC_STATUS, Integer.toString(status.code()));
        r.headers().set(GrpcStatus.GRPC_MESSAGE, Grpc.percentEncode(message));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (close) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return r;
    }
}
