package io.sluice.health;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The standard gRPC health check, {@code grpc.health.v1.Health/Check}, over one HTTP/2 stream on the probe
 * connection: passes only on grpc-status 0 with status SERVING. No gRPC library: the request and response
 * messages have one field each, encoded here by hand (protobuf field 1: the service name, a string; the
 * serving status, an enum).
 */
final class GrpcHealthCheck extends Http2ChannelDuplexHandler {
    static final String PATH = "/grpc.health.v1.Health/Check";
    /** HealthCheckResponse.ServingStatus.SERVING. */
    static final int SERVING = 1;
    /** A health response is a few bytes; anything longer is not one. */
    private static final int MAX_MESSAGE = 1024;
    private static final String[] STATUS_NAMES = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

    private final Prober.Attempt attempt;
    private final ByteBuf body;

    private GrpcHealthCheck(Channel ch, Prober.Attempt attempt) {
        this.attempt = attempt;
        this.body = ch.alloc().buffer(64);
    }

    /** Puts HTTP/2 on the (connected, maybe TLS) probe channel and sends the Check call for {@code service}. */
    static void start(Channel ch, String authority, String service, Prober.Attempt attempt) {
        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().build();
        GrpcHealthCheck check = new GrpcHealthCheck(ch, attempt);
        ch.pipeline().addLast(codec, check);
        Http2FrameStream stream = check.newStream();
        Http2Headers h = new DefaultHttp2Headers().method("POST").scheme(ch.pipeline().get(SslHandler.class) != null ? "https" : "http")
                .path(PATH).authority(authority)
                .add("content-type", "application/grpc").add("te", "trailers")
                .add("user-agent", "sluice-health-check");
        ch.write(new DefaultHttp2HeadersFrame(h).stream(stream));
        ch.writeAndFlush(new DefaultHttp2DataFrame(request(ch, service), true).stream(stream)).addListener(w -> {
            if (!w.isSuccess()) {
                attempt.finish(ProbeResult.failure("write failed: " + w.cause().getMessage()));
            }
        });
    }

    /** One gRPC message (uncompressed) holding HealthCheckRequest{service}. */
    static ByteBuf request(Channel ch, String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        int fieldLength = name.length == 0 ? 0 : 1 + varintSize(name.length) + name.length;
        ByteBuf b = ch.alloc().buffer(5 + fieldLength);
        b.writeByte(0).writeInt(fieldLength);
        if (name.length > 0) {
            b.writeByte(0x0a); // field 1, length-delimited
            writeVarint(b, name.length);
            b.writeBytes(name);
        }
        return b;
    }

    private static int varintSize(int v) {
        int n = 1;
        while ((v >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    private static void writeVarint(ByteBuf b, int v) {
        while ((v & ~0x7f) != 0) {
            b.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        b.writeByte(v);
    }

    /**
     * The serving status in a HealthCheckResponse message, 0 (UNKNOWN) when the field is absent (protobuf
     * leaves out a zero), or -1 when the bytes are not a well-formed message.
     */
    static int servingStatus(ByteBuf m) {
        int status = 0;
        while (m.isReadable()) {
            long key = readVarint(m);
            if (key < 0) {
                return -1;
            }
            int wire = (int) (key & 7);
            long field = key >>> 3;
            switch (wire) {
                case 0 -> {
                    long v = readVarint(m);
                    if (v < 0) {
                        return -1;
                    }
                    if (field == 1) {
                        status = (int) v;
                    }
                }
                case 1, 5 -> {
                    int n = wire == 1 ? 8 : 4;
                    if (m.readableBytes() < n) {
                        return -1;
                    }
                    m.skipBytes(n);
                }
                case 2 -> {
                    long n = readVarint(m);
                    if (n < 0 || n > m.readableBytes()) {
                        return -1;
                    }
                    m.skipBytes((int) n);
                }
                default -> {
                    return -1;
                }
            }
        }
        return status;
    }

    /** A varint of up to 10 bytes, or -1 when cut short or too long. */
    private static long readVarint(ByteBuf m) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!m.isReadable()) {
                return -1;
            }
            byte b = m.readByte();
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return v;
            }
        }
        return -1;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame f) {
                onHeaders(f.headers(), f.isEndStream());
            } else if (msg instanceof Http2DataFrame d) {
                if (body.readableBytes() + d.content().readableBytes() > MAX_MESSAGE + 5) {
                    attempt.finish(ProbeResult.failure("health response larger than " + MAX_MESSAGE + " bytes"));
                    return;
                }
                body.writeBytes(d.content());
                if (d.isEndStream()) {
                    attempt.finish(ProbeResult.failure("no grpc-status from the server"));
                }
            } else if (msg instanceof Http2ResetFrame r) {
                attempt.finish(ProbeResult.failure("stream reset by the server, error " + r.errorCode()));
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHeaders(Http2Headers h, boolean end) {
        CharSequence httpStatus = h.status();
        if (httpStatus != null && !"200".contentEquals(httpStatus)) {
            attempt.finish(ProbeResult.failure("HTTP status " + httpStatus));
            return;
        }
        CharSequence grpcStatus = h.get("grpc-status");
        if (grpcStatus == null) {
            if (end) {
                attempt.finish(ProbeResult.failure("no grpc-status from the server"));
            }
            return;
        }
        if (!"0".contentEquals(grpcStatus)) {
            CharSequence message = h.get("grpc-message");
            attempt.finish(ProbeResult.failure("grpc-status " + grpcStatus
                    + (message == null ? "" : ": " + message)));
            return;
        }
        // Trailers with status OK: the message came before them.
        if (body.readableBytes() < 5 || body.getByte(0) != 0
                || body.getInt(1) != body.readableBytes() - 5) {
            attempt.finish(ProbeResult.failure("no health response message"));
            return;
        }
        int servingStatus = servingStatus(body.skipBytes(5));
        if (servingStatus == SERVING) {
            attempt.finish(ProbeResult.OK);
        } else {
            attempt.finish(ProbeResult.failure(servingStatus < 0 ? "malformed health response"
                    : "serving status " + (servingStatus < STATUS_NAMES.length
                    ? STATUS_NAMES[servingStatus] : Integer.toString(servingStatus))));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        attempt.finish(ProbeResult.failure("closed before a health response"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        attempt.finish(ProbeResult.failure(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        body.release();
    }
}
