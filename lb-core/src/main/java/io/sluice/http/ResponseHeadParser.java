package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The fast way to read a server's response, the counterpart of {@link RequestHeadParser}: a whole plain
 * response already in the buffer (a final status other than 204 and 304 with its standard reason phrase, plain
 * field lines as {@link HeadLines} reads them, exactly one Content-Length and no Transfer-Encoding, the whole
 * body there and at most {@link HttpFrontCodecs#MAX_CHUNK}) becomes one {@link PlainResponse}, the
 * connection's own, refilled. Anything else (interim and bodiless responses, the answer to a HEAD, chunked or
 * close-delimited bodies, a head or body split over reads, anything near a limit) is left to Netty's strict
 * decoder, untouched, so its refusals stay Netty's. One per server connection; its event loop only.
 */
final class ResponseHeadParser {
    private static final int STATUS_LINE_MIN = "HTTP/1.1 200 OK\r\n".length();

    private final int maxLine;
    private final int maxHeaderSize;
    /** The connection's response, refilled while no one holds it. */
    private PlainResponse response;

    ResponseHeadParser(int maxLine, int maxHeaderSize) {
        this.maxLine = maxLine;
        this.maxHeaderSize = maxHeaderSize;
    }

    /**
     * The whole response at the reader index (consumed: head and body), or null (nothing consumed).
     * {@code headRequest}: it answers a HEAD request, whose response has no body whatever its head says.
     */
    PlainResponse parse(ByteBuf in, boolean headRequest) {
        if (headRequest) {
            return null;
        }
        int start = in.readerIndex();
        int available = in.writerIndex() - start;
        PlainResponse r = response;
        if (r != null && !r.lent()) {
            // Read from a copy of as many bytes as the connection's heads took so far: no pass over the buffer to
            // find the head's end first. A longer head (or one not plain) is looked for in the buffer below.
            byte[] b = r.refill(0);
            int n = Math.min(available, b.length);
            in.getBytes(start, b, 0, n);
            PlainResponse done = read(in, start, b, n, r);
            if (done != null || n == available) {
                return done;
            }
        }
        int end = HeadLines.headEnd(in, start, in.writerIndex(), maxLine, maxHeaderSize);
        if (end < 0) {
            return null;
        }
        int length = end - start;
        if (r == null || r.lent()) {
            r = PlainResponse.create(length);
            response = r;
        }
        byte[] b = r.refill(length);
        in.getBytes(start, b, 0, length);
        return read(in, start, b, length, r);
    }

    /** The response whose head is at the start of {@code b[0, n)} (a copy of {@code in} from {@code start}), or null. */
    private PlainResponse read(ByteBuf in, int start, byte[] b, int n, PlainResponse r) {
        HttpVersion version = HeadLines.version(b, 0, n);
        HttpResponseStatus status = version == null ? null : status(b, n);
        if (status == null) {
            return null;
        }
        HeadFields fields = r.fields();
        int firstLf = HeadLines.indexOf(b, 0, n, '\r') + 1;
        int length = HeadLines.fields(b, firstLf + 1, n, fields, true);
        if (length < 0 || !HeadLines.withinLimits(firstLf, length, maxLine, maxHeaderSize)
                || fields.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null;
        }
        int end = start + length;
        long contentLength = fields.number(HttpHeaderNames.CONTENT_LENGTH);
        if (contentLength < 0 || contentLength > HttpFrontCodecs.MAX_CHUNK
                || in.writerIndex() - end < contentLength) {
            return null;
        }
        in.readerIndex(end + (int) contentLength);
        return r.lend(version, status, in.retainedSlice(end, (int) contentLength));
    }

    /**
     * The status of "HTTP/1.x ddd Reason" CRLF when it is a final status with a body (not 204 or 304) and its
     * standard reason phrase, else null.
     */
    private static HttpResponseStatus status(byte[] b, int length) {
        if (length < STATUS_LINE_MIN || b[8] != ' ' || b[12] != ' ') {
            return null;
        }
        String code = HeadWords.code(b, 9, 3);
        int cr = HeadLines.indexOf(b, 13, length, '\r');
        if (code == null || cr < 0 || cr + 1 >= length || b[cr + 1] != '\n'
                || HeadWords.reason(code, b, 13, cr - 13) == null) {
            return null;
        }
        int c = Integer.parseInt(code);
        return c < 200 || c == 204 || c == 304 ? null : HttpResponseStatus.valueOf(c);
    }
}
