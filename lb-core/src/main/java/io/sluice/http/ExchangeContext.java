package io.sluice.http;

import io.netty.channel.EventLoop;
import io.sluice.cluster.Server;
import io.sluice.config.HttpConfig;
import io.sluice.net.UpstreamAttempts;
import java.net.InetSocketAddress;

/**
 * What the exchanges of one client connection share, one after another: the listener (settings, routes,
 * counters), the placement state, the response timer and where server connections come from. One per client
 * connection, used on its event loop only.
 */
final class ExchangeContext {
    /** Where an attempt gets its server connections: that server's pool on this loop ({@link ClientPools}). */
    @FunctionalInterface
    interface Pools {
        ConnectionPool pool(Upstream upstream, Server server, EventLoop loop);
    }

    final HttpListener listener;
    final HttpConfig http;
    /** The client connection is TLS (X-Forwarded-Proto: https). */
    final boolean secure;
    /** The Strict-Transport-Security value for responses on this connection: only over TLS, else null. */
    final String hsts;
    /**
     * The client is one of {@code http.trusted_proxies}: its forwarding headers are added to, not replaced. The
     * client is the address {@code ClientSource} gives (a PROXY header's, when one was read): whoever wrote the
     * request's headers, since a balancer that sends the PROXY protocol relays them untouched.
     */
    final boolean trustedClient;
    final UpstreamAttempts attempts;
    /**
     * The current exchange's response timeout: one timer per connection, re-armed per request (see
     * {@link LazyTimeout} for why); its owner sends the expiry to the exchange then current.
     */
    final LazyTimeout responseTimer;
    final Pools pools;
    final EventLoop loop;

    ExchangeContext(HttpListener listener, UpstreamAttempts attempts, LazyTimeout responseTimer, Pools pools,
                    EventLoop loop, InetSocketAddress client) {
        this.listener = listener;
        this.http = listener.config().http();
        this.secure = listener.tls() != null;
        this.hsts = secure ? http.hsts() : null;
        this.trustedClient = http.trustsProxy(client);
        this.attempts = attempts;
        this.responseTimer = responseTimer;
        this.pools = pools;
        this.loop = loop;
    }
}
