package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A whole plain response of a server, head and Content-Length body, as {@link ResponseHeadParser} read it: the
 * head's fields over a copy of its bytes ({@link HeadFields}), the body a slice of the read buffer. A server
 * connection's codec keeps one and reuses it, so a keep-alive connection allocates nothing per response for it.
 *
 * <p>Reuse is safe because of who holds it: from the decode it is {@link #lent()} (to the exchange, then to
 * the client's encoder), and whoever is done with it releases it, as any message; Netty's encoder releases it
 * once it wrote it. Each retain through it counts as one more holder. The codec refills it only when no one
 * holds it; while someone does, the next response gets a new one.
 */
final class PlainResponse extends DefaultHttpResponse implements FullHttpResponse {
    /** Fields of a response head at first (a few plus the ones Sluice adds); the table grows past it. */
    private static final int FIRST_FIELDS = 2;

    private final HeadBuffer head;
    private ByteBuf content = Unpooled.EMPTY_BUFFER;
    /** Holders: 1 from the decode, one more per retain, one less per release. */
    private int holders;

    private PlainResponse(HeadBuffer head) {
        super(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, head.fields());
        this.head = head;
    }

    /** {@code firstHead}: the length of the first head, what the copy of its bytes needs at first. */
    static PlainResponse create(int firstHead) {
        return new PlainResponse(new HeadBuffer(firstHead, FIRST_FIELDS));
    }

    /** Someone holds it: not to be refilled. */
    boolean lent() {
        return holders > 0;
    }

    /** Empties the fields, for a head of {@code length} bytes; returns where to copy its bytes. Not while lent. */
    byte[] refill(int length) {
        if (holders > 0) {
            throw new IllegalStateException("response still held");
        }
        return head.refill(length);
    }

    HeadFields fields() {
        return head.fields();
    }

    /** The fields are in: from now it is the decoder's output, held once. */
    PlainResponse lend(HttpVersion version, HttpResponseStatus status, ByteBuf body) {
        setProtocolVersion(version);
        setStatus(status);
        setDecoderResult(DecoderResult.SUCCESS);
        content = body;
        holders = 1;
        return this;
    }

    @Override
    public ByteBuf content() {
        return content;
    }

    /** A Content-Length body has none. */
    @Override
    public HttpHeaders trailingHeaders() {
        return EmptyHttpHeaders.INSTANCE;
    }

    @Override
    public int refCnt() {
        return content.refCnt();
    }

    @Override
    public PlainResponse retain() {
        content.retain();
        holders++;
        return this;
    }

    @Override
    public PlainResponse retain(int increment) {
        content.retain(increment);
        holders += increment;
        return this;
    }

    @Override
    public PlainResponse touch() {
        content.touch();
        return this;
    }

    @Override
    public PlainResponse touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        boolean freed = content.release(decrement);
        holders = Math.max(0, holders - decrement);
        return freed;
    }

    @Override
    public PlainResponse setProtocolVersion(HttpVersion version) {
        super.setProtocolVersion(version);
        return this;
    }

    @Override
    public PlainResponse setStatus(HttpResponseStatus status) {
        super.setStatus(status);
        return this;
    }

    // Copies are ordinary Netty messages with their own header table: only this object is reused.

    @Override
    public FullHttpResponse copy() {
        return replace(content.copy());
    }

    @Override
    public FullHttpResponse duplicate() {
        return replace(content.duplicate());
    }

    @Override
    public FullHttpResponse retainedDuplicate() {
        return replace(content.retainedDuplicate());
    }

    @Override
    public FullHttpResponse replace(ByteBuf newContent) {
        FullHttpResponse r = new DefaultFullHttpResponse(protocolVersion(), status(), newContent,
                headers().copy(), EmptyHttpHeaders.INSTANCE.copy());
        r.setDecoderResult(decoderResult());
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
