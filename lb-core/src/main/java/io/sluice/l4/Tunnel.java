package io.sluice.l4;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.LongAdder;

/**
 * The L4 relay for two channels that were connected for something else, such as an HTTP connection after a
 * {@code 101 Switching Protocols}: from then on, bytes pass as they do on a TCP listener.
 */
public final class Tunnel {
    private Tunnel() {
    }

    /**
     * Adds the relay handlers at the end of both pipelines. Both channels must be on the same event loop. The
     * caller then removes its own handlers (bytes they still hold flow into the relay) and calls {@link #start}.
     *
     * @param sent     counts bytes from client to server
     * @param received counts bytes from server to client
     */
    public static void install(Channel client, Channel server, LongAdder sent, LongAdder received) {
        RelayHandler.HalfClose halfClose = new RelayHandler.HalfClose(client);
        client.pipeline().addLast("relay", new RelayHandler(server, sent, halfClose));
        server.pipeline().addLast("relay", new RelayHandler(client, received, halfClose));
    }

    public static void start(Channel client, Channel server) {
        client.flush();
        server.flush();
        // The relay's backpressure runs through autoRead, on while the other side can take more.
        RelayHandler.autoRead(client, server.isWritable());
        RelayHandler.autoRead(server, client.isWritable());
    }
}
