package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * {@code Upgrade: h2c} on a cleartext HTTP/1.1 connection (RFC 7540 3.2), with Netty's upgrade handler between
 * the HTTP/1.1 codec and {@link HttpFrontHandler}: a request that may switch gets {@code 101}, the connection
 * becomes HTTP/2 and the request itself is answered on stream 1. Only requests without a body switch (curl
 * upgrades only those; RFC 9113 dropped the mechanism, so a body would be the one case worth buffering, and
 * it is not): any other request, a malformed head, or one behind a request still being served stays HTTP/1.1
 * and is served there (the upgrade is not forwarded, see {@link ClientRequest}).
 */
final class H2cUpgrade extends HttpServerUpgradeHandler {
    private final HttpFrontHandler front;
    private final int maxHeaders;

    H2cUpgrade(SourceCodec http1, UpgradeCodecFactory http2, HttpFrontHandler front, int maxHeaders) {
        // Nothing to aggregate: requests with a body never switch.
        super(http1, http2, 0);
        this.front = front;
        this.maxHeaders = maxHeaders;
    }

    @Override
    protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
        return front.idle()
                && req.decoderResult().isSuccess()
                && RequestValidator.check(req, maxHeaders) == null
                && asksForH2c(req)
                && HttpUtil.getContentLength(req, 0L) == 0
                && !req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING);
    }

    private static boolean asksForH2c(HttpRequest req) {
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && AsciiString.contentEqualsIgnoreCase(upgrade.trim(),
                Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME)
                && req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && req.headers().contains(Http2CodecUtil.HTTP_UPGRADE_SETTINGS_HEADER);
    }

    /**
     * An upgrade Netty's handler declined after all (an unreadable HTTP2-Settings) comes out as one full
     * request; the front handler takes a head and then body parts, so it is split back.
     */
    @Override
    protected void decode(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        super.decode(ctx, msg, out);
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) instanceof FullHttpRequest full) {
                DefaultHttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(),
                        full.headers());
                head.setDecoderResult(full.decoderResult());
                out.set(i, head);
                out.add(i + 1, new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
                i++;
            }
        }
    }
}
