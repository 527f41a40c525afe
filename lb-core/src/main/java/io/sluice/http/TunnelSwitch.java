package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.sluice.cluster.Server;
import io.sluice.l4.Tunnel;

/** After a 101: both connections leave HTTP and become one byte tunnel (the L4 relay). */
final class TunnelSwitch {
    private TunnelSwitch() {
    }

    /**
     * The order matters: the encoder goes first, so that bytes the decoders still hold (and pass on as they
     * are removed) are written raw.
     */
    static void replaceHttp(Channel client, HttpFrontCodecs.ResponseEncoder encoder, HttpFrontHandler front,
                            BackendConnection backend, Server server) {
        ChannelPipeline p = client.pipeline();
        p.remove(encoder);
        Tunnel.install(client, backend.channel, server.bytesSent(), server.bytesReceived());
        backend.removeHttpHandlers();
        p.remove(front);
        p.remove(ByteWatcher.class);
        p.remove(HttpFrontCodecs.RequestDecoder.class);
        Tunnel.start(client, backend.channel);
    }
}
