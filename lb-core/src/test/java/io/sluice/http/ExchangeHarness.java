package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An HTTP listener's client connection and its server connections as EmbeddedChannels: the exchange's state
 * machine driven byte by byte, without sockets or threads. The client side has the listener's real pipeline;
 * each server connection has the pool's real codec and {@link BackendHandler}, handed out by {@link Pool}.
 */
final class ExchangeHarness implements AutoCloseable {
    final HttpListener listener;
    final Cluster cluster;
    final Pool pool = new Pool();
    final EmbeddedChannel client;

    ExchangeHarness() throws Exception {
        this("", "");
    }

    /**
     * {@code http}: the listener's http settings; {@code cluster}: more keys of the cluster, each ending in ","
     * (two servers unless it names its own).
     */
    ExchangeHarness(String http, String cluster) throws Exception {
        SluiceConfig config = ConfigLoader.parse("""
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { %s } }
                clusters:
                  - { name: app, %s }
                """.formatted(http, cluster.contains("servers:") ? cluster
                : cluster + " servers: [ { address: \"127.0.0.1:1\" }, { address: \"127.0.0.1:2\" } ]"));
        this.cluster = new Cluster(config.clusters().get(0));
        Transport transport = Transport.select(TransportKind.NIO);
        Upstream upstream = new Upstream(this.cluster, transport, UnpooledByteBufAllocator.DEFAULT,
                io.sluice.net.LoopIndex.ofSize(1));
        this.listener = new HttpListener(config.listeners().get(0), Map.of("app", upstream), transport,
                UnpooledByteBufAllocator.DEFAULT);
        HttpFrontCodecs.ResponseEncoder encoder = new HttpFrontCodecs.ResponseEncoder();
        HttpFrontHandler front = new HttpFrontHandler(listener, encoder, (u, s, loop) -> pool.forServer(s));
        HttpDecoderConfig decoder = HttpFrontCodecs.strict(new HttpDecoderConfig());
        this.client = new EmbeddedChannel(new ByteWatcher(front), new HttpFrontCodecs.RequestDecoder(decoder, encoder),
                encoder, front);
        pool.loop = client.eventLoop();
    }

    /** Bytes from the client. */
    void clientSends(String text) {
        client.writeInbound(ascii(text));
    }

    /** Everything written to the client so far. */
    String clientReceived() {
        return drain(client);
    }

    int errors(ErrorReason reason) {
        return (int) listener.httpStats().errors(reason);
    }

    /** No server keeps a request lease after the exchange is over: one per attempt, each given back. */
    void assertNoLeases() {
        for (Server s : cluster.servers()) {
            assertThat(s.activeRequests()).as("request leases of %s", s).isZero();
        }
    }

    @Override
    public void close() {
        client.finishAndReleaseAll();
        for (EmbeddedChannel b : pool.opened) {
            b.finishAndReleaseAll();
        }
    }

    static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    /** Flushed outbound bytes of a channel, as text. */
    static String drain(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /** How often a server connection was flushed. */
    static int flushes(EmbeddedChannel ch) {
        return ch.pipeline().get(FlushCounter.class).count;
    }

    static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }

    /**
     * A server's pool that answers as the test scripts it: an idle connection at once (the default), a reused
     * one, a connect under way, a connect failure at once, or every connection busy (a queued waiter).
     */
    static final class Pool implements ConnectionPool {
        enum Answer { IDLE, REUSED, CONNECTING, FAIL, BUSY }

        final ArrayDeque<Answer> script = new ArrayDeque<>();
        final List<EmbeddedChannel> opened = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        private final ArrayDeque<BackendPool.Waiter> pending = new ArrayDeque<>();
        private final ArrayDeque<Server> pendingServers = new ArrayDeque<>();
        private final List<Server> asked = new ArrayList<>();
        private Server server;
        /** The client's loop, where a queued waiter's deadline is timed, as a real pool's queue does. */
        io.netty.channel.EventLoop loop;

        ConnectionPool forServer(Server s) {
            server = s;
            return this;
        }

        /** The servers attempts were made at, in order. */
        List<Server> asked() {
            return asked;
        }

        @Override
        public boolean acquire(BackendPool.Waiter w) {
            asked.add(server);
            Answer a = script.isEmpty() ? Answer.IDLE : script.poll();
            switch (a) {
                case IDLE, REUSED -> w.ready(open(server, a == Answer.REUSED));
                case FAIL -> w.failed(new ConnectException("connection refused"));
                default -> {
                    pending.add(w);
                    pendingServers.add(server);
                    if (a == Answer.BUSY && w.waitDeadline() != BackendPool.Waiter.NO_DEADLINE) {
                        loop.schedule(() -> {
                            if (pending.remove(w)) {
                                pendingServers.poll();
                                w.waitExpired();
                            }
                        }, w.waitDeadline() - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS);
                    }
                }
            }
            return a == Answer.BUSY;
        }

        /** The oldest pending waiter gets a fresh connection; returns its server side. */
        EmbeddedChannel connect() {
            BackendPool.Waiter w = pending.poll();
            w.ready(open(pendingServers.poll(), false));
            return last();
        }

        void failConnect() {
            pendingServers.poll();
            pending.poll().failed(new ConnectException("connection refused"));
        }

        boolean waiting() {
            return !pending.isEmpty();
        }

        EmbeddedChannel last() {
            return opened.get(opened.size() - 1);
        }

        private BackendConnection open(Server s, boolean reused) {
            EmbeddedChannel ch = new EmbeddedChannel();
            ch.pipeline().addLast("flushes", new FlushCounter());
            ch.pipeline().addLast("codec", new HttpClientCodec());
            BackendHandler handler = new BackendHandler();
            ch.pipeline().addLast("backend", handler);
            BackendConnection c = new BackendConnection(ch, s, this);
            handler.conn = c;
            c.requests = reused ? 2 : 1;
            opened.add(ch);
            return c;
        }

        @Override
        public void cancel(BackendPool.Waiter w) {
            if (pending.remove(w)) {
                pendingServers.poll();
            }
            events.add("cancel");
        }

        @Override
        public void release(BackendConnection c, boolean reusable) {
            c.attempt = null;
            events.add(reusable ? "reuse" : "close");
            if (!reusable) {
                c.channel.close();
            }
        }

        @Override
        public void detach(BackendConnection c) {
            c.attempt = null;
            events.add("detach");
        }

        @Override
        public void closed(BackendConnection c) {
        }
    }
}
