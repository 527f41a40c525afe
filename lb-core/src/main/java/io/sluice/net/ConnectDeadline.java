package io.sluice.net;

import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The connect timeout of the server connection a client connection opens, kept on the client's
 * {@link ConnectionClock} instead of a Netty task per connect: Netty schedules one for every connect with a
 * timeout and cancels it when the connect completes, two heap operations on a timer queue that holds every
 * connection's timers. On the client's clock the deadline is one more timer, in its loop's lane for the cluster's
 * connect timeout, which the connection's close takes out. On expiry it does what Netty does: fails the connect with a {@link ConnectTimeoutException} and closes the
 * channel. One per client connection, re-armed for each attempt; only the client's event loop may use it.
 */
public final class ConnectDeadline extends ConnectionClock.Timer {
    private ChannelPromise connecting;
    private SocketAddress remote;
    private long millis;
    private long startNanos;

    public ConnectDeadline(ConnectionClock clock) {
        super(clock);
    }

    /** Fails {@code connect} (to {@code remote}) unless it completes within {@code millis}; 0 waits for ever. */
    void watch(ChannelPromise connect, SocketAddress remote, long millis) {
        if (millis <= 0 || connect.isDone()) {
            return;
        }
        this.connecting = connect;
        this.remote = remote;
        this.millis = millis;
        this.startNanos = LoopTime.nanoTime();
        arm(millis * 1_000_000L);
    }

    /** The connect completed (or was given up): nothing to time out any more. */
    public void done() {
        connecting = null;
        remote = null;
        disarm();
    }

    /** A connect is in flight: its channel, when the client goes away meanwhile, is not waited for. */
    public ChannelPromise pending() {
        return connecting != null && !connecting.isDone() ? connecting : null;
    }

    /**
     * The client connection closed while its connect is in flight, and its clock with it: the connect keeps its
     * deadline all the same, as it had with Netty's task (closing it now would charge the server a failed
     * connect that was the client's doing). A task of its own: the closed connection's clock runs no more.
     */
    public void outliveClient() {
        ChannelPromise p = pending();
        if (p != null) {
            disarm();
            long left = Math.max(0, millis * 1_000_000L - (LoopTime.nanoTime() - startNanos));
            p.channel().eventLoop().schedule(this::timeOut, left, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    protected void expired() {
        timeOut();
    }

    private void timeOut() {
        ChannelPromise p = connecting;
        SocketAddress to = remote;
        connecting = null;
        remote = null;
        if (p != null && p.tryFailure(new ConnectTimeoutException("connection timed out after " + millis + " ms: "
                + to))) {
            p.channel().close();
        }
    }
}
