package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Server;
import java.util.ArrayDeque;

/**
 * One stream to an HTTP/2 server, on one of its pool's multiplexed connections: what an attempt borrows, and
 * uses as it would an HTTP/1.1 connection. No channel of its own: its request parts become frames written on
 * the connection ({@link Http2RequestFrames}), the server's frames come from the connection's handler
 * ({@link Http2ServerConnection}) and reach the attempt as HTTP/1.1 objects ({@link Http2ResponseHeads}).
 *
 * <p>Reading works as on a channel with autoRead off: {@link #read} lets frames through until the next
 * read-complete (the end of the connection's read, or at once when the frames were queued), frames that come
 * meanwhile wait here. The server's DATA is acknowledged (WINDOW_UPDATE, through Netty's local flow controller)
 * only at the next {@link #read}, when the attempt's client took what came before: a stalled stream's server
 * stops after the stream window. What was never acknowledged returns to the connection window when the stream
 * closes.
 *
 * <p>Two ends: the attempt's ({@link #closed}, after which it hears nothing more) and Netty's stream state (the
 * CLOSED event); the stream holds its place in the connection's stream count until both are over, so that a
 * new stream never finds Netty's count still full.
 */
final class Http2Stream extends BackendConnection {
    final Http2ServerConnection connection;
    private final Http2FrameStream stream;
    /** Netty's stream, once the request's HEADERS went. */
    private io.netty.handler.codec.http2.Http2Stream h2;
    /** The request's head, written with what follows it: END_STREAM on it when there is no body. */
    private Http2Headers head;
    /** Frames that came while the attempt was not reading; null until the first. */
    private ArrayDeque<Http2StreamFrame> inbound;
    private boolean reading;
    private boolean delivering;
    boolean readCompletePending;
    /** DATA bytes the attempt took since its last read: acknowledged at its next. */
    private int unacknowledged;
    private boolean receivedEnd;
    /** Netty closed the stream (both ends done, a reset, GOAWAY, the connection closed). */
    private boolean streamClosed;
    /** The attempt's end: no more events for it. */
    private boolean closed;
    private boolean countReleased;
    /** The server ended the exchange early (RST_STREAM NO_ERROR after its whole response): the rest of the request is dropped. */
    private boolean requestStopped;

    Http2Stream(Http2ServerConnection connection, Http2FrameStream stream, Server server, Http2Pool pool) {
        super(connection.channel, server, pool);
        this.connection = connection;
        this.stream = stream;
        this.requests = 1;
    }

    // The request, from the attempt.

    @Override
    void write(Object part) {
        if (closed || requestStopped) {
            ReferenceCountUtil.release(part);
            return;
        }
        if (part instanceof HttpRequest r) {
            head = Http2RequestFrames.head(r, connection.scheme);
            if (!(part instanceof HttpContent)) {
                return;
            }
        }
        if (part instanceof HttpContent c) {
            writeContent(c);
        } else {
            ReferenceCountUtil.release(part);
        }
    }

    private void writeContent(HttpContent c) {
        ByteBuf data = c.content();
        boolean last = c instanceof LastHttpContent;
        HttpHeaders trailers = last ? ((LastHttpContent) c).trailingHeaders() : null;
        boolean hasTrailers = trailers != null && !trailers.isEmpty();
        if (head != null) {
            boolean bodyless = last && !data.isReadable() && !hasTrailers;
            if (!writeHead(bodyless) || bodyless) {
                c.release();
                return;
            }
        }
        if (closed) {
            c.release();
            return;
        }
        if (data.isReadable() || (last && !hasTrailers)) {
            Http2DataFrame d = new DefaultHttp2DataFrame(data, last && !hasTrailers).stream(stream);
            if (d.isEndStream()) {
                connection.writeLast(this, d);
            } else {
                connection.write(d); // fails only on a stream already closed: its CLOSED event tells the attempt
            }
        } else {
            c.release();
        }
        if (hasTrailers) {
            connection.writeLast(this,
                    new DefaultHttp2HeadersFrame(Http2RequestFrames.trailers(trailers), true).stream(stream));
        }
    }

    /** Opens the stream: Netty gives it its id now. False when that failed (then it is closed). */
    private boolean writeHead(boolean endStream) {
        Http2Headers h = head;
        head = null;
        if (!connection.openStream(this, new DefaultHttp2HeadersFrame(h, endStream).stream(stream))) {
            close(false); // openStream marked it refused: nothing left Sluice, it may go elsewhere
            return false;
        }
        return true;
    }

    /**
     * Netty refused the request's first HEADERS: nothing left Sluice, so the request may go elsewhere whatever
     * its method, and the server is not to blame.
     */
    void failedLocally(boolean refusedUnsent) {
        refused |= refusedUnsent;
        local = true;
    }

    /** The HEADERS went into Netty: its stream, if Netty made one. */
    void opened(io.netty.handler.codec.http2.Http2Stream nettyStream) {
        h2 = nettyStream;
    }

    int id() {
        return stream.id();
    }

    Http2FrameStream frameStream() {
        return stream;
    }

    @Override
    void flush() {
        if (head != null && !closed) {
            writeHead(false);
        }
        connection.flush();
    }

    @Override
    boolean isWritable() {
        if (closed) {
            return false;
        }
        if (requestStopped) {
            return true; // what is left of the request is dropped: nothing to hold the client back for
        }
        return h2 == null ? connection.channel.isWritable() : connection.isWritable(h2);
    }

    /** Netty's flow controller says the stream's writability changed. */
    void writabilityChanged() {
        UpstreamRequest a = attempt;
        if (a != null && isWritable()) {
            a.onWritable();
        }
    }

    // The response, from the connection's handler.

    @Override
    void read() {
        if (closed) {
            return;
        }
        if (unacknowledged > 0) {
            int n = unacknowledged;
            unacknowledged = 0;
            connection.consumed(h2, n);
        }
        reading = true;
        if (inbound != null && !inbound.isEmpty()) {
            deliverQueued();
        }
    }

    /** A HEADERS or DATA frame of the stream (the stream owns it now). */
    void onFrame(Http2StreamFrame f) {
        if (closed) {
            ReferenceCountUtil.release(f);
            return;
        }
        if (f instanceof Http2DataFrame d ? d.isEndStream() : ((Http2HeadersFrame) f).isEndStream()) {
            receivedEnd = true;
        }
        if (reading && (inbound == null || inbound.isEmpty()) && !delivering) {
            deliver(f);
            if (!closed) {
                readCompleteSoon();
            }
        } else {
            if (inbound == null) {
                inbound = new ArrayDeque<>(4);
            }
            inbound.add(f);
        }
    }

    private void deliverQueued() {
        if (delivering) {
            return; // a read from inside a delivery: the loop below goes on
        }
        delivering = true;
        try {
            while (reading && !closed && !inbound.isEmpty()) {
                Http2StreamFrame f;
                while (reading && !closed && (f = inbound.poll()) != null) {
                    deliver(f);
                }
                if (closed) {
                    return;
                }
                if (connection.inRead) {
                    readCompleteSoon();
                    break;
                }
                readComplete(); // may ask for more: the loop goes on
            }
        } finally {
            delivering = false;
        }
        if (streamClosed && !closed && inbound.isEmpty()) {
            close(false); // everything the server sent was taken
        }
    }

    private void readCompleteSoon() {
        if (connection.inRead) {
            connection.readCompleteLater(this);
        } else {
            readComplete();
        }
    }

    /** The end of a read: the attempt flushes to its client, and asks for more if the client can take it. */
    void readComplete() {
        readCompletePending = false;
        if (closed) {
            return;
        }
        reading = false;
        UpstreamRequest a = attempt;
        if (a != null) {
            a.onReadComplete();
        }
    }

    private void deliver(Http2StreamFrame f) {
        HttpObject msg;
        if (f instanceof Http2DataFrame d) {
            unacknowledged += d.initialFlowControlledBytes();
            msg = d.isEndStream() ? new DefaultLastHttpContent(d.content()) : new DefaultHttpContent(d.content());
        } else {
            Http2HeadersFrame h = (Http2HeadersFrame) f;
            try {
                msg = Http2ResponseHeads.of(h.headers(), h.isEndStream());
            } catch (Http2Exception | RuntimeException e) {
                connection.debug("invalid response head on stream {}: {}", id(), e.toString());
                reset(Http2Error.PROTOCOL_ERROR);
                return;
            }
        }
        UpstreamRequest a = attempt;
        if (a == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        a.onResponse(msg);
    }

    /** The server reset the stream: its code goes to the client; REFUSED_STREAM means it may go elsewhere. */
    void onReset(long code) {
        if (code == Http2Error.NO_ERROR.code() && receivedEnd) {
            // The server answered in full and needs no more of the request (RFC 9113 8.1): the response must not
            // be discarded. What is queued drains as at a normal end, the request's rest goes nowhere.
            requestStopped = true;
            return;
        }
        resetCode = code;
        refused = code == Http2Error.REFUSED_STREAM.code();
        close(false);
    }

    /** Above a GOAWAY's last-stream-id: the server never saw the request. */
    void refusedByGoAway() {
        refused = true;
        close(false);
    }

    /** A stream error Netty found in what the server sent, or the exchange threw: the stream is reset with it. */
    void failed(Http2Error error) {
        if (closed && !streamClosed && h2 != null
                && h2.state() != io.netty.handler.codec.http2.Http2Stream.State.CLOSED) {
            // The attempt's end came first (or threw half-way): Netty's stream must still end, or its place
            // on the connection is never given back.
            connection.reset(this, error.code());
            return;
        }
        reset(error);
    }

    /** A request frame with its own promise failed (trailers Netty could not encode): a local failure. */
    void writeFailed(Throwable cause) {
        if (closed || streamClosed || requestStopped) {
            return; // failed because the stream had ended: the attempt hears of that end
        }
        connection.debug("request frame on stream {} failed: {}", id(), cause.toString());
        failedLocally(false);
        reset(Http2Error.INTERNAL_ERROR);
    }

    private void reset(Http2Error error) {
        if (!closed) {
            try {
                close(false);
            } finally {
                connection.reset(this, error.code()); // even when the attempt threw on hearing of the end
            }
        }
    }

    /** Netty's stream is CLOSED: what was queued is still the attempt's to read, then the attempt hears of it. */
    void onStreamClosed() {
        if (streamClosed) {
            return;
        }
        streamClosed = true;
        if (closed) {
            releaseCount();
        } else if (inbound == null || inbound.isEmpty()) {
            close(false);
        }
    }

    /**
     * The attempt is done with the stream: a stream not over is reset (CANCEL). Over is Netty's view: a request
     * whose end still waits for the server's window is not over even when the response is, and a server that
     * answered early may never open that window.
     */
    void cancel() {
        if (closed) {
            return;
        }
        io.netty.handler.codec.http2.Http2Stream.State st = h2 == null ? null : h2.state();
        boolean over = h2 == null || st == io.netty.handler.codec.http2.Http2Stream.State.CLOSED
                || (st == io.netty.handler.codec.http2.Http2Stream.State.HALF_CLOSED_LOCAL && receivedEnd);
        close(!over);
    }

    /**
     * The attempt's end of the stream: queued frames go, the pool gets its place back once Netty's stream is
     * closed too, and the attempt (when it still holds the stream) hears of it.
     */
    private void close(boolean resetIfOpen) {
        if (closed) {
            return;
        }
        if (readCompletePending) {
            readComplete(); // what the attempt took reaches its client before the end does
            if (closed) {
                return;
            }
        }
        closed = true;
        reading = false;
        head = null;
        if (inbound != null) {
            Http2StreamFrame f;
            while ((f = inbound.poll()) != null) {
                ReferenceCountUtil.release(f);
            }
        }
        if (h2 == null || streamClosed || h2.state() == io.netty.handler.codec.http2.Http2Stream.State.CLOSED) {
            streamClosed = true;
            connection.forget(this);
            releaseCount();
        } else if (resetIfOpen) {
            connection.reset(this, Http2Error.CANCEL.code()); // Netty closes its stream once the reset is out
        }
        UpstreamRequest a = attempt;
        if (a != null) {
            a.onClosed();
        }
    }

    private void releaseCount() {
        if (!countReleased) {
            countReleased = true;
            pool.closed(this);
        }
    }

    boolean isClosed() {
        return closed;
    }
}
