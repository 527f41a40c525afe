package io.sluice.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.Mapping;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.sluice.config.TlsConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS termination for one listener: the certificates it serves, chosen by SNI, and the handlers each accepted
 * connection gets first in its pipeline. Certificates change while running (a config reload, or new files on
 * disk seen by {@link #poll}) by building a whole new {@link SniTable} off the event loops and publishing it with
 * one volatile write: handshakes from then on use it, handshakes under way and established connections keep the
 * context they started with. Anything that cannot be read or does not fit keeps the certificates in force.
 */
public final class ServerTls implements Mapping<String, SslContext>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    /** How long a client has to send its ClientHello and finish the handshake. */
    static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    /** The longest ClientHello read; post-quantum key shares make them a few KiB, never this. */
    static final int MAX_CLIENT_HELLO = 64 * 1024;

    private final String listener;
    private final TlsStats stats = new TlsStats();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private volatile SniTable table;
    /** The config's session_tickets, read by each new connection's engine (see {@link OpenSslTickets}). */
    private volatile boolean sessionTickets;
    /** The settings the table was built from, replaced with it. Below: state of the control thread only. */
    private TlsConfig config;
    private SslProvider engine;
    /** The digest of files that failed to load: not tried (or logged) again until they change once more. */
    private String failedDigest;
    private ScheduledFuture<?> watch;
    private boolean closed;

    private ServerTls(String listener, TlsConfig config, SslProvider engine, SniTable table) {
        this.listener = listener;
        this.config = config;
        this.engine = engine;
        this.table = table;
        this.sessionTickets = config.sessionTickets();
    }

    /** Reads the files and builds every context; throws {@link TlsFileException} naming what is wrong. */
    public static ServerTls open(String listener, TlsConfig config) {
        Built b = build(config);
        ServerTls tls = new ServerTls(listener, config, b.engine, b.table);
        log.info("listener {}: TLS by {}, {}; {}", listener, TlsEngines.describe(b.engine), config.protocols(),
                describe(b.table));
        b.material.warnings().forEach(w -> log.warn("listener {}: {}", listener, w));
        return tls;
    }

    private record Built(SslProvider engine, TlsMaterial material, SniTable table) {
    }

    private static Built build(TlsConfig config) {
        SslProvider engine = TlsCheck.engine(config);
        TlsMaterial material = TlsFiles.load(config, Instant.now());
        List<SslContext> contexts = new ArrayList<>();
        try {
            for (ServerCertificate c : material.certificates()) {
                contexts.add(ServerContexts.build(engine, config, c, material.clientCa()));
            }
        } catch (SSLException | RuntimeException e) {
            contexts.forEach(ReferenceCountUtil::release);
            TlsConfig.CertificateFiles f = config.certificates().get(contexts.size());
            throw new TlsFileException(List.of(new io.sluice.config.ConfigError(f.configPath(), f.line(), f.column(),
                    "the TLS engine refused " + f.cert() + " and " + f.key() + ": " + e.getMessage())));
        }
        return new Built(engine, material, new SniTable(material.certificates(), contexts, material.digest()));
    }

    /** Re-reads the files polled for on disk every {@code every}, on {@code control} (never an event loop). */
    public synchronized void watch(ScheduledExecutorService control, Duration every) {
        if (watch == null && !closed) {
            watch = control.scheduleWithFixedDelay(this::poll, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Looks at the files' bytes (through any symlinks) and, when they differ from those in force and from the
     * last ones that failed, builds and publishes a new table. A half-written file or a key that does not match
     * keeps the certificates in force, and is logged and counted once per content.
     */
    public synchronized void poll() {
        if (closed) {
            return;
        }
        String now = TlsFiles.digest(config);
        if (now == null || now.equals(table.digest()) || now.equals(failedDigest)) {
            return; // a file missing for a moment (a rename in progress) is looked at again next time
        }
        try {
            Built b = build(config);
            install(b.table, "files changed on disk");
            b.material.warnings().forEach(w -> log.warn("listener {}: {}", listener, w));
        } catch (TlsFileException e) {
            failedDigest = now;
            stats.reloaded(false);
            log.warn("listener {}: new certificate files not used, the current ones stay in force: {}", listener,
                    e.getMessage());
        }
    }

    /** A reload's new settings, built and ready; {@link #apply} installs them, {@link #discard} drops them. */
    public final class Prepared {
        private final TlsConfig next;
        private final Built built;
        /** Applied or discarded: one or the other, once, so a reload's cleanup can discard whatever is left. */
        private boolean settled;

        private Prepared(TlsConfig next, Built built) {
            this.next = next;
            this.built = built;
        }

        /** Installs the new certificates for new handshakes; a no-op when nothing had changed. */
        public void apply() {
            synchronized (ServerTls.this) {
                if (settled) {
                    return;
                }
                settled = true;
                config = next;
                sessionTickets = next.sessionTickets();
                if (built != null) {
                    engine = built.engine;
                    install(built.table, "config reload");
                }
            }
        }

        public String listener() {
            return listener;
        }

        /** Whether files or settings differed from those in force. */
        public boolean changed() {
            return built != null;
        }

        /** Frees what was built unless it was applied; a no-op the second time. */
        public void discard() {
            synchronized (ServerTls.this) {
                if (settled) {
                    return;
                }
                settled = true;
            }
            if (built != null) {
                built.table.release();
            }
        }
    }

    /**
     * Reads the files again for a reload, whether or not the YAML changed (a reload is how operators say "pick
     * up the new files"), and builds new contexts when files or settings differ from those in force. Throws
     * {@link TlsFileException}; changes nothing until {@link Prepared#apply}.
     */
    public synchronized Prepared prepare(TlsConfig next) {
        String digest = TlsFiles.digest(next);
        if (next.equals(config) && digest != null && digest.equals(table.digest())) {
            return new Prepared(next, null);
        }
        try {
            return new Prepared(next, build(next));
        } catch (TlsFileException e) {
            stats.reloaded(false);
            throw e;
        }
    }

    private void install(SniTable next, String why) {
        if (closed) {
            next.release();
            return;
        }
        SniTable old = table;
        table = next;
        failedDigest = null;
        // Safe at once: a connection that read the old table either retained its context before this (and its
        // engine holds it now), or fails to retain it and reads the new table (see map).
        old.release();
        stats.reloaded(true);
        log.info("listener {}: certificates reloaded ({}): {}", listener, why, describe(next));
        changeListeners.forEach(Runnable::run);
    }

    /**
     * The context for a ClientHello's SNI ({@code null} without one), retained for the caller, which releases it
     * once its engine holds it ({@link RetainingSniHandler}). A table replaced between reading it and retaining
     * its context has been released: the retain then fails and the new table is read.
     */
    @Override
    public SslContext map(String host) {
        for (;;) {
            SniTable t = table;
            SslContext c = t.select(host);
            if (!(c instanceof ReferenceCounted rc)) {
                return c;
            }
            try {
                rc.retain();
                return c;
            } catch (IllegalReferenceCountException e) {
                if (t == table) {
                    throw new IllegalStateException("listener " + listener + " is closed");
                }
            }
        }
    }

    /**
     * A new connection's TLS handlers, at the end of its pipeline: queued sends go out before each handshake
     * step, each in its turn among the loop's heavy steps ({@link HandshakeTurn}), then the SNI stage that becomes the {@code SslHandler} named "tls", then
     * the observer that counts the handshake's outcome and removes the first (and itself) when it ends.
     */
    public void install(ChannelPipeline p) {
        p.addLast(HandshakeTurn.NAME, new HandshakeTurn());
        p.addLast("tls", new RetainingSniHandler(this));
        p.addLast("tls-handshake", new HandshakeObserver(listener, stats));
    }

    public TlsStats stats() {
        return stats;
    }

    /** Each served name's notAfter, for the expiry gauge. */
    public Map<String, Instant> expiry() {
        return table.expiry();
    }

    /** Called (on the control thread) after each change of certificates, e.g. to follow names in metrics. */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    public void removeOnChange(Runnable listener) {
        changeListeners.remove(listener);
    }

    public String listener() {
        return listener;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (watch != null) {
            watch.cancel(false);
        }
        table.release();
    }

    private static String describe(SniTable t) {
        List<String> parts = new ArrayList<>();
        for (ServerCertificate c : t.certificates()) {
            parts.add(TlsFiles.describe(c) + " (until " + c.notAfter().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                    + ")");
        }
        return parts.size() + " certificate(s): " + String.join("; ", parts);
    }

    /** Gives back the retain {@link #map} took, once the SslHandler's engine holds the context itself. */
    private static final class RetainingSniHandler extends SniHandler {
        private static final int HANDSHAKE = 22;
        private static final int ALERT = 21;

        private final ServerTls tls;

        RetainingSniHandler(ServerTls tls) {
            super(tls, MAX_CLIENT_HELLO, HANDSHAKE_TIMEOUT_MILLIS);
            this.tls = tls;
        }

        /**
         * A first byte that starts no TLS record is a plaintext client: refused at once. OpenSSL's engine would
         * otherwise take "GET /" for the header of a long record and wait for the rest until the timeout.
         */
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (in.isReadable()) {
                int first = in.getUnsignedByte(in.readerIndex());
                if (first != HANDSHAKE && first != ALERT) {
                    in.skipBytes(in.readableBytes());
                    ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(new NotSslRecordException(
                            "not a TLS record: the first byte is 0x" + Integer.toHexString(first))));
                    ctx.close();
                    return;
                }
            }
            super.decode(ctx, in, out);
        }

        @Override
        protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
            SslHandler handler = super.newSslHandler(context, allocator);
            if (!tls.sessionTickets) {
                OpenSslTickets.turnOff(handler.engine());
            }
            return handler;
        }

        @Override
        protected void replaceHandler(ChannelHandlerContext ctx, String hostname, SslContext sslContext)
                throws Exception {
            try {
                super.replaceHandler(ctx, hostname, sslContext);
            } finally {
                ReferenceCountUtil.release(sslContext);
            }
        }
    }
}
