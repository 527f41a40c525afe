package io.sluice.net;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/** What {@code Sluice} needs from a bound listener, whatever protocol it speaks. */
public interface Listener {
    String name();

    /** The settings new connections are accepted under. */
    io.sluice.config.ListenerConfig config();

    /** Binds the socket; blocks the calling (non event-loop) thread until bound or failed. */
    void start(EventLoopGroup workers) throws InterruptedException;

    /** Stops accepting and starts draining (HTTP tells its keep-alive connections); open connections carry on. */
    void stopAccepting();

    /**
     * Closes the listening socket only, so that another listener can bind the address; nothing else changes,
     * and {@link #resumeAccepting} binds again if that other listener could not.
     */
    void pauseAccepting();

    /** Binds the listening socket again after {@link #pauseAccepting}. */
    void resumeAccepting(EventLoopGroup workers) throws InterruptedException;

    /** Closes every open connection, client and server side, and waits until they are closed. */
    void closeConnections();

    InetSocketAddress localAddress();

    boolean bound();

    ListenerStats stats();

    /** Releases what the listener holds besides sockets (log writers); after its connections are gone. */
    default void close() {
    }
}
