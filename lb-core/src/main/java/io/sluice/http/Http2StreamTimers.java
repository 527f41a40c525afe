package io.sluice.http;

import io.netty.util.concurrent.EventExecutor;

/**
 * The two timeouts of an HTTP/2 stream (its response timeout and its stall timeout), handed on to the
 * connection's next stream when it ends. A {@link LazyTimeout} touches the event loop's timer queue only when
 * it has no task pending early enough; new ones per stream would schedule and cancel two Netty tasks for every
 * request (heap operations on the queue of all the loop's timers, and a task object each). Reused, they behave
 * as on an HTTP/1.1 keep-alive connection: arming mostly writes a deadline.
 *
 * <p>A stream holds them from its start to its end; while it does, their expiry reaches it and no one else.
 * Event loop only.
 */
final class Http2StreamTimers {
    final LazyTimeout response;
    final LazyTimeout stall;
    /** The stream they serve now; null while they wait for the next one. */
    private Http2StreamDownstream stream;

    Http2StreamTimers(EventExecutor loop, Http2FrontConnection connection) {
        this.response = new LazyTimeout(loop, () -> {
            Http2StreamDownstream s = stream;
            if (s != null) {
                try {
                    s.responseTimedOut();
                } catch (Throwable e) {
                    connection.failed(s, e);
                }
            }
        });
        this.stall = new LazyTimeout(loop, () -> {
            if (stream != null) {
                connection.stalled();
            }
        });
    }

    void serve(Http2StreamDownstream s) {
        stream = s;
    }

    /** The stream ended: nothing may expire for it any more; a task pending stays for the next stream. */
    void release() {
        stream = null;
        response.disarm();
        stall.disarm();
    }

    /** The connection ended: no task may keep them, or what they reach, alive. */
    void close() {
        stream = null;
        response.close();
        stall.close();
    }
}
