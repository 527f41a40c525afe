package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.SluiceSockets;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import io.sluice.cluster.LoopChannels;
import io.sluice.cluster.Server;
import io.sluice.config.HttpConfig;
import io.sluice.l4.RelayPipes;
import io.sluice.l4.UringAcceptor;
import io.sluice.l4.UringOps;
import io.sluice.net.Admission;
import io.sluice.net.ConnectionClock;
import io.sluice.net.DelayLine;
import io.sluice.net.UpstreamAttempts;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 client connection of a plain listener served on io_uring without a Netty channel
 * ({@code runtime.http_front: auto}, the default): the socket Sluice's own multishot ACCEPT gave, one registration
 * with the loop, a RECV into a pooled buffer, the same fast head parser, the same {@link Exchange} (whose server
 * connections stay Netty channels, pooled), and the response's bytes sent with SEND. It serves what the
 * {@link RequestHeadParser fast parser} takes and needs nothing more: a whole, plain head that asks for no
 * upgrade or interim response, bodiless or with a plain Content-Length ({@link #readBody}). Any other request
 * (a chunked body, an {@code Upgrade}, {@code Expect}, a head the parser leaves to Netty's strict decoder, a
 * refusal, the HTTP/2 preface), arriving first or after any number of plain ones, hands the connection to the
 * channel path with the bytes read so far ({@link #adopt}), between two exchanges: from there on it is an
 * ordinary Netty connection, and what it accepts or refuses is Netty's.
 *
 * <p>Requests are served one at a time; the client's socket is read between exchanges and for a request's body
 * (never past it), and watched by a poll for a reset once an exchange has lasted a while ({@link #watchClient}). Everything runs on the accepting loop. The connection is closed only once the kernel has
 * completed every operation it submitted: {@link #abort} shuts the socket down, which ends them, and
 * {@link #finish} runs when the last completes.
 */
final class UringHttpConnection implements IoUringIoHandle, Downstream, LoopChannels.Member {
    private static final Logger log = LoggerFactory.getLogger(UringHttpConnection.class);
    static final String PROPERTY = "sluice.http.rawFront";

    /** Between keep-alive requests: poll, then read into a new buffer, instead of a read waiting with its buffer. */
    static final boolean POLL_FIRST = Boolean.getBoolean("sluice.http.rawFront.pollFirst");
    /** The first read's buffer: a typical request head fits; a longer one grows it. */
    private static final int FIRST_READ = 2048;
    /** Netty's default write watermarks, which the channel path uses too: above HIGH the server is not read. */
    private static final int HIGH = 64 * 1024;
    private static final int LOW = 32 * 1024;
    /** Queued parts this small or smaller are copied into one buffer and sent with one SEND. */
    private static final int COALESCE = 16 * 1024;
    /** At most this many queued parts go out with one SENDMSG. */
    private static final int MAX_IOV = 8;
    /** struct msghdr and struct iovec on 64-bit Linux. */
    private static final int MSGHDR = 56;
    private static final int IOVEC = 16;
    private static final byte SENDMSG = 9;
    /**
     * A keep-alive connection waiting this long for its next request is parked: its read is cancelled and its buffer
     * given back, and a poll waits instead (as NGINX and HAProxy free an idle connection's buffer). A busy one's next
     * request follows within microseconds, and a read waiting with its buffer saves it a poll and a buffer each.
     */
    private static final DelayLine.PerLoop PARKING = new DelayLine.PerLoop(
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("sluice.http.rawFront.parkMillis", 1000)));
    /**
     * An exchange still going on after this long has the client's socket watched ({@link #watchClient}). Most are
     * over sooner, and a watch per connection costs a poll armed and completed (4% more CPU per request on new
     * connections): a client that leaves during a short exchange costs its server no more than that exchange.
     */
    private static final DelayLine.PerLoop WATCHING = new DelayLine.PerLoop(
            TimeUnit.MILLISECONDS.toNanos(Long.getLong("sluice.http.rawFront.watchAfterMillis", 100)));

    private enum Phase {
        OPEN,
        /** The socket is shut down (or about to close): waiting for the kernel to complete what it still holds. */
        CLOSING,
        CLOSED,
        /** Handed to a Netty channel: the descriptor is the channel's now. */
        ADOPTED
    }

    private static final short POLL = 1;
    private static final short RECV = 2;
    private static final short SEND = 3;
    /** The poll that watches the client's socket during exchanges (see {@link #watchClient}). */
    private static final short WATCH = 4;
    private static final short CANCEL = 5;
    /** A spliced body's poll on its server's socket, and on the client's for room ({@link SplicedBody}). */
    private static final short SERVER_READABLE = 6;
    private static final short CLIENT_ROOM = 7;
    /** The cancel of a {@link #SERVER_READABLE} poll. */
    private static final short SPLICE_CANCEL = 8;
    /** A read of the current request's body, into {@link #bodyIn}. */
    private static final short BODY = 9;
    /**
     * A body read asks for this much at first, and for twice as much after a read that filled its buffer, up to
     * {@link #MAX_BODY_READ}: a slow uploader's read waiting in the kernel holds no more than a small buffer.
     */
    private static final int BODY_READ = 16 * 1024;
    private static final int MAX_BODY_READ = 64 * 1024;
    private static final int POLLERR = 0x8;
    private static final int POLLHUP = 0x10;

    private final HttpListener listener;
    private final HttpConfig http;
    private final UringAcceptor acceptor;
    private final Admission admission;
    private final LoopChannels connections;
    private final ByteBufAllocator alloc;
    private final int fd;
    private final RequestHeadParser parser;
    private final RequestParts inbound = new RequestParts();
    private final ResponseBytes encoder = new ResponseBytes();
    private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(4);
    private final long idleNanos;
    private final long sendNanos;
    /** Past this many bytes without a head the fast parser takes, the strict decoder decides. */
    private final int fastMargin;

    private Phase phase = Phase.OPEN;
    private IoRegistration registration;
    private int inFlight;
    private boolean reading;
    /** The in-flight RECV's and watch's user data: what a cancel names. */
    private long recvId;
    private long watchId;
    /** A poll watches the client's socket ({@link #watchClient}); its cancel has been asked for. */
    private boolean watching;
    private boolean watchCancelled;
    /** The watch saw the client's FIN: it is not armed again (the next read finds the FIN after any request). */
    private boolean peerFinished;
    /** The waiting read's cancel is asked for ({@link #park}): until its completion, no other is. */
    private boolean parking;
    /** The hand-over waits for a response still going out and for every operation in flight to complete. */
    private boolean adoptPending;
    /** The loop's lines: of reads waiting with a buffer ({@link #PARKING}), of exchanges not yet watched. */
    private DelayLine idleReads;
    private DelayLine unwatched;
    private final DelayLine.Entry parkEntry = new DelayLine.Entry() {
        @Override
        protected void due() {
            park();
        }
    };
    private final DelayLine.Entry watchEntry = new DelayLine.Entry() {
        @Override
        protected void due() {
            if (current != null && phase == Phase.OPEN) {
                watchClient();
            }
        }
    };
    /** What was read and not yet taken by a request; null when nothing is. */
    private ByteBuf in;
    /** Bytes of the current request's body (its Content-Length) not yet read from the socket. */
    private long bodyLeft;
    /** The buffer a {@link #BODY} read has in flight; null when none. */
    private ByteBuf bodyIn;
    /** What the next body read asks for (see {@link #BODY_READ}). */
    private int bodyRead = BODY_READ;
    /** The buffer a SEND has in flight, and how much of it went. */
    private boolean sendInFlight;
    /** A msghdr and its iovecs in native memory, for SENDMSG; made at the first send of several parts. */
    private ByteBuf vectors;
    /** Bytes queued or in flight towards the client. */
    private int unsent;
    /** As a channel's writability: false from {@link #HIGH} bytes unsent until they are down to {@link #LOW}. */
    private boolean writable = true;
    private boolean closeWhenSent;
    /** The rest of the current response's body, spliced from its server's socket; else null. */
    private SplicedBody splice;
    /** Queued buffers that go out before the splice: it starts once they are sent. */
    private int beforeSplice;
    /** The splice started: its own polls drive it from then on. */
    private boolean spliceStarted;
    /** A {@link #SERVER_READABLE} poll is in flight (its user data, for a cancel), and its cancel asked for. */
    private boolean serverPolled;
    private long serverPollId;
    private boolean serverPollCancelled;

    private InetSocketAddress remote;
    private ClientAddress address = ClientAddress.UNKNOWN;
    private Runnable clientRelease;
    private boolean clientReleased;
    private ConnectionClock clock;
    private ConnectionClock.Timer idle;
    private ConnectionClock.Timer sendTimer;
    private HeadWait headWait;
    private ExchangeContext context;
    private Exchange current;
    private Exchange previous;
    /** The current request is a HEAD: its response has no body. */
    private boolean answersHead;
    private boolean closeAfterResponse;
    /** The client half-closed: the current response is finished, then the connection closes. */
    private boolean inputDone;
    private boolean discarding;

    private UringHttpConnection(HttpListener listener, UringAcceptor acceptor, int fd, Admission admission,
                                LoopChannels connections, ByteBufAllocator alloc) {
        this.listener = listener;
        this.http = listener.config().http();
        this.acceptor = acceptor;
        this.fd = fd;
        this.admission = admission;
        this.connections = connections;
        this.alloc = alloc;
        this.idleNanos = listener.config().idleTimeout().toNanos();
        this.sendNanos = http.sendTimeout().toNanos();
        this.parser = RequestHeadParser.withBodies(http.maxRequestLine(), http.maxHeaderSize());
        // The fast parser leaves a head within half a limit of it to Netty's decoder (HeadLines.headEnd).
        this.fastMargin = Math.min(http.maxRequestLine(), http.maxHeaderSize()) / 2;
    }

    /**
     * {@code -D}{@value #PROPERTY}{@code =false} keeps every HTTP connection of the process on channels whatever
     * {@code runtime.http_front} says: for test passes and A/B runs of the two fronts.
     */
    static boolean vetoed() {
        return "false".equals(System.getProperty(PROPERTY));
    }

    /** Serves the accepted socket {@code fd}; on the acceptor's loop. */
    static void start(HttpListener listener, UringAcceptor acceptor, int fd, Admission admission,
                      LoopChannels connections, ByteBufAllocator alloc) {
        UringHttpConnection c = new UringHttpConnection(listener, acceptor, fd, admission, connections, alloc);
        try {
            c.begin();
        } catch (Throwable t) {
            c.failed(t);
        }
    }

    private void begin() {
        registration = acceptor.loop().register(this).getNow();
        if (registration == null) {
            SluiceSockets.close(fd); // only a loop shutting down refuses: the connection never counted
            phase = Phase.CLOSED;
            return;
        }
        connections.add(this);
        if (!admission.open()) {
            finish();
            return;
        }
        remote = SluiceSockets.remoteAddress(fd); // null for a client gone already
        clientRelease = admission.admitClient(remote == null ? null : remote.getAddress());
        if (clientRelease == null) {
            finish();
            return;
        }
        address = ClientAddress.of(remote);
        idleReads = PARKING.onThisLoop();
        unwatched = WATCHING.onThisLoop();
        clock = new ConnectionClock(acceptor.loop());
        if (idleNanos > 0) {
            idle = new ConnectionClock.Timer(clock) {
                @Override
                protected void expired() {
                    abort();
                }
            };
            idle.arm(idleNanos);
        }
        if (sendNanos > 0) {
            sendTimer = new ConnectionClock.Timer(clock) {
                @Override
                protected void expired() {
                    listener.httpStats().count(ErrorReason.SEND_TIMEOUT);
                    abort();
                }
            };
        }
        headWait = new HeadWait(clock, http, this::waitExpired);
        context = new ExchangeContext(listener, new UpstreamAttempts(remote),
                new LazyTimeout(clock, this::responseTimedOut), this::pool, acceptor.loop(), remote);
        headWait.start();
        // A new connection's request is usually there already: read without waiting for the socket first.
        recv();
        idleReads.add(parkEntry, acceptor.loop());
    }

    /** Shared pools only: a listener whose clusters send PROXY headers is never served here. */
    private ConnectionPool pool(Upstream upstream, Server server, EventLoop loop) {
        return upstream.pool(server, loop);
    }

    // Reading.

    private void pollThenRecv() {
        reading = true;
        submit(UringOps.POLL_ADD, 0L, 0, UringOps.POLLIN | UringOps.POLLRDHUP, POLL);
    }

    private void recv() {
        if (in == null) {
            in = alloc.directBuffer(FIRST_READ);
        } else if (!in.isWritable()) {
            in.capacity(in.capacity() * 2);
        }
        reading = true;
        recvId = submit(UringOps.RECV, in.memoryAddress() + in.writerIndex(), in.writableBytes(), 0, RECV);
    }

    private void received(int res) {
        reading = false;
        idleReads.remove(parkEntry);
        if (res == UringOps.ECANCELED) {
            parked();
            return;
        }
        if (res < 0) {
            abort(); // a reset
            return;
        }
        if (res == 0) {
            inputEnded();
            return;
        }
        in.writerIndex(in.writerIndex() + res);
        if (idle != null) {
            idle.arm(idleNanos);
        }
        headWait.bytesArrived(true);
        serve();
        // What the read's requests wrote to their servers goes out once, as after a channel's read batch.
        Exchange ex = current;
        if (ex != null) {
            ex.flushUpstream();
        }
    }

    private void inputEnded() {
        inputDone = true;
        releaseIn();
        if (current == null) {
            closeWhenSent(); // after the last response's tail
        }
    }

    /** Between exchanges: starts the next request from what was read, reads more, or hands the connection over. */
    private void serve() {
        if (adoptPending) {
            return;
        }
        while (phase == Phase.OPEN && current == null && bodyLeft == 0 && !discarding && in != null
                && in.isReadable()) {
            int start = in.readerIndex();
            HttpRequest r = parser.parse(in);
            if (r == null) {
                if (mayBeWhole(in) || in.readableBytes() >= fastMargin) {
                    // A head the fast parser leaves to the strict decoder (not plain, a bare LF, near a limit):
                    // that decoder serves or refuses it, with its own counting.
                    adopt();
                } else if (!reading) {
                    recv(); // the head goes on in the next read
                }
                return;
            }
            if (!servesHere(r)) {
                in.readerIndex(start);
                ReferenceCountUtil.release(r);
                adopt();
                return;
            }
            start(r);
        }
        if (phase == Phase.OPEN && current == null && bodyLeft == 0 && !discarding && !reading && !closeWhenSent) {
            waitForNextRequest();
        }
    }

    /**
     * Between requests. {@link #POLL_FIRST}: the buffer goes back to the pool and a poll waits for the next
     * request (an idle connection holds no buffer); else the read waits in the kernel with the connection's buffer
     * (one operation and one buffer less per keep-alive request; an idle connection holds {@link #FIRST_READ}).
     */
    private void waitForNextRequest() {
        if (POLL_FIRST || in == null || in.capacity() > FIRST_READ) {
            releaseIn();
        }
        if (POLL_FIRST) {
            pollThenRecv();
        } else {
            if (in != null) {
                in.clear();
            }
            recv();
            idleReads.add(parkEntry, acceptor.loop());
        }
    }

    /** The connection has waited for its next request a while: its read is cancelled, to give its buffer back. */
    private void park() {
        if (phase == Phase.OPEN && reading && !parking) {
            parking = true;
            submit(UringOps.ASYNC_CANCEL, -1, recvId, 0, 0, CANCEL);
        }
    }

    /**
     * A read was cancelled ({@link #park}). A cancel names the operation by its user data, which the next read
     * shares, so a read that completed meanwhile may have been followed by one the cancel ended: bytes of a head
     * begun are kept and read on; else the buffer goes back and a poll waits.
     */
    private void parked() {
        if (in != null && in.isReadable()) {
            recv();
        } else {
            releaseIn();
            pollThenRecv();
        }
    }

    /** Whether the bytes hold an empty line by any reading (CRLF or a bare LF): the head may be complete. */
    private static boolean mayBeWhole(ByteBuf b) {
        int from = b.readerIndex();
        int end = b.writerIndex();
        for (int lf = b.indexOf(from, end, (byte) '\n'); lf >= 0 && lf + 1 < end;
             lf = b.indexOf(lf + 1, end, (byte) '\n')) {
            byte next = b.getByte(lf + 1);
            if (next == '\n' || (next == '\r' && lf + 2 < end && b.getByte(lf + 2) == '\n')) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether this connection serves {@code r}: a head the channel path would take as it is, that draws a final
     * response and nothing else.
     */
    private boolean servesHere(HttpRequest r) {
        return !r.headers().contains(HttpHeaderNames.UPGRADE) && !r.headers().contains(HttpHeaderNames.EXPECT)
                && RequestValidator.check(r, http.maxHeaders()) == null && !listener.sendsProxyHeaders();
    }

    private void start(HttpRequest r) {
        if (!watching && !peerFinished) {
            unwatched.add(watchEntry, acceptor.loop());
        }
        headWait.received();
        answersHead = HttpMethod.HEAD.equals(r.method());
        inbound.add(r);
        bodyLeft = RequestHeadParser.bodyLength(r);
        if (bodyLeft == 0) {
            inbound.add(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            takeBody();
        }
        inbound.process(parts);
        readBody();
    }

    /** The body's bytes that came with the head (or before it was served), copied: the buffer reads on. */
    private void takeBody() {
        int n = (int) Math.min(bodyLeft, in.readableBytes());
        if (n > 0) {
            ByteBuf part = alloc.directBuffer(n, n);
            part.writeBytes(in, n);
            addBody(part);
        }
    }

    private void addBody(ByteBuf part) {
        bodyLeft -= part.readableBytes();
        // The last part's trailers (none, on this path) as a table that allocates nothing until a field comes.
        inbound.add(bodyLeft == 0 ? new DefaultLastHttpContent(part, HeadFields.factory())
                : new DefaultHttpContent(part));
    }

    /**
     * Reads more of the current request's body when its exchange wants it and none of it waits here (the
     * channel path's backpressure: the server connection's writability), into a buffer of its own that becomes
     * the next part as it is. Never more than the body: what follows it stays in the socket until it is served.
     */
    private void readBody() {
        if (bodyLeft > 0 && !reading && phase == Phase.OPEN && !discarding && !inputDone && current != null
                && inbound.wantsMore(current)) {
            int size = (int) Math.min(bodyLeft, bodyRead);
            bodyIn = alloc.directBuffer(size, size);
            reading = true;
            submit(UringOps.RECV, bodyIn.memoryAddress(), size, 0, BODY);
        }
    }

    private void bodyReceived(int res) {
        reading = false;
        ByteBuf b = bodyIn;
        bodyIn = null;
        if (res <= 0) {
            b.release();
            if (res < 0) {
                abort(); // a reset
            } else {
                bodyCutShort();
            }
            return;
        }
        b.writerIndex(res);
        bodyRead = !b.isWritable() ? Math.min(bodyRead * 2, MAX_BODY_READ) : BODY_READ;
        if (res < b.capacity() / 4) {
            // A small piece (a client sending slowly): its own buffer, so that what waits for the server holds
            // about what the server connection's watermark counts.
            ByteBuf small = alloc.directBuffer(res, res);
            small.writeBytes(b);
            b.release();
            b = small;
        }
        if (idle != null) {
            idle.arm(idleNanos);
        }
        addBody(b);
        inbound.process(parts);
        Exchange ex = current;
        if (ex != null) {
            ex.flushUpstream();
        }
        readBody();
    }

    /**
     * The client's FIN inside a request's body: it can never be whole. Unless its answer has begun (a server may
     * answer without reading the body, and that answer finishes, the connection closing after it), the exchange
     * ends now as if the client had gone, as on the channel path.
     */
    private void bodyCutShort() {
        inputDone = true;
        Exchange ex = current;
        if (ex != null && !ex.phase().responseBegun()) {
            abort();
        }
        // Else an answer is going out (an exchange over already closes after it): it finishes first.
    }

    private final RequestParts.Owner parts = new RequestParts.Owner() {
        @Override
        public Exchange current() {
            return current;
        }

        @Override
        public boolean stopped() {
            return discarding;
        }

        @Override
        public void start(HttpRequest head) {
            Exchange ex = Exchange.next(previous, context, UringHttpConnection.this, head);
            previous = ex;
            current = ex;
            ex.begin();
            retireIfDone(ex);
        }

        @Override
        public void took(Exchange ex) {
            retireIfDone(ex);
        }

        @Override
        public void unexpectedHead() {
            abort("request head where body was expected");
        }
    };

    /**
     * While a request is served the client's socket is not read, so a poll watches it for the client's end, from
     * the first exchange that lasts {@link #WATCHING}, and left armed between requests: a reset (or a socket shut both ways) ends the connection and the
     * exchange at once, freeing its server connection, as the channel path does; a FIN alone only means the client
     * has sent everything, and the response still goes out (the next read finds the FIN after any request before
     * it).
     */
    private void watchClient() {
        if (!watching && !peerFinished) {
            watching = true;
            watchCancelled = false;
            watchId = submit(UringOps.POLL_ADD, 0L, 0, UringOps.POLLRDHUP, WATCH);
        }
    }

    private void watched(int res) {
        watching = false;
        if (res < 0) {
            return; // cancelled for a hand-over
        }
        if ((res & (POLLERR | POLLHUP)) != 0) {
            abort("the client reset the connection");
        } else {
            peerFinished = true;
        }
    }

    private void retireIfDone(Exchange ex) {
        if (ex.phase() == ExchangePhase.DONE && current == ex) {
            retire();
        }
    }

    /** The current exchange is over: close once its response is out if it was the last, else serve the next. */
    private void retire() {
        current = null;
        unwatched.remove(watchEntry);
        if (discarding) {
            return;
        }
        if (closeAfterResponse || inputDone) {
            closeWhenSent();
            return;
        }
        headWait.betweenRequests();
    }

    // Downstream: what the current exchange does to the client.

    @Override
    public void write(HttpObject part) {
        if (phase != Phase.OPEN) {
            ReferenceCountUtil.release(part);
            return;
        }
        int added = queued.size();
        encoder.encode(part, answersHead, alloc, queued);
        added = queued.size() - added;
        java.util.Iterator<ByteBuf> newest = queued.descendingIterator();
        while (added-- > 0) {
            unsent += newest.next().readableBytes();
        }
        if (unsent >= HIGH) {
            writable = false;
        }
    }

    @Override
    public void writeLast(HttpObject last) {
        write(last);
        flush();
    }

    @Override
    public void flush() {
        if (!sendInFlight && phase == Phase.OPEN) {
            sendNext();
        }
    }

    @Override
    public boolean isWritable() {
        return writable;
    }

    @Override
    public void closeAfterResponse() {
        closeAfterResponse = true;
    }

    @Override
    public boolean closesAfterResponse() {
        return closeAfterResponse;
    }

    @Override
    public void abort(String why) {
        log.debug("closing raw client connection {}: {}", remote, why);
        if (phase == Phase.OPEN && (!queued.isEmpty() || splice != null) && (splice == null || splice.serverDone())) {
            // What was written goes out first, as from a channel, and then the end: the client sees the response
            // cut short rather than none of it, and a whole one before it (its end maybe still in a splice's pipe)
            // whole.
            stopServing();
            closeWhenSent = true;
            return;
        }
        abort();
    }

    @Override
    public void readMore() {
        inbound.process(parts);
        if (current == null) {
            serve(); // a pipelined request may be waiting in what was read
        }
        Exchange ex = current;
        if (ex != null) {
            ex.flushUpstream();
        }
        readBody();
    }

    @Override
    public void exchangeDone(Exchange ex) {
        if (splice != null) {
            // The body ended on the server's side (Netty read its end): the splice has nothing more to wait for.
            cancelServerPoll();
        }
        if (current == ex) {
            retire();
            readMore();
        }
    }

    @Override
    public void becomeTunnel(BackendConnection backend, Server server) {
        // A request that could switch protocols is never served here (servesHere); a server that switches anyway
        // has broken the exchange.
        current = null;
        backend.channel.close();
        abort("a server switched protocols unasked");
    }

    @Override
    public String clientIp() {
        return address.ip();
    }

    @Override
    public boolean clientIpv6() {
        return address.ipv6();
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    public HttpProtocol protocol() {
        return HttpProtocol.HTTP1;
    }

    /**
     * The body's rest goes by splice once what is queued now is sent ({@link #beforeSplice}); what is written
     * from now on waits for the splice to end. Only a plain body (a Content-Length as it came): nothing of its
     * bytes is rewritten.
     */
    @Override
    public boolean splicesBodies() {
        return SplicedBody.ENABLED;
    }

    @Override
    public boolean spliceBody(SplicedBody.Source body) {
        if (phase != Phase.OPEN || splice != null || discarding || closeWhenSent || answersHead
                || !encoder.plainBody()) {
            return false;
        }
        splice = new SplicedBody(body, RelayPipes.of(acceptor.loop()), fd);
        spliceStarted = false;
        beforeSplice = queued.size();
        if (!sendInFlight) {
            sendNext(); // sends, or polls the server's socket: nothing that calls back
        }
        return true;
    }

    private void pollServer() {
        serverPolled = true;
        serverPollCancelled = false;
        serverPollId = submit(UringOps.POLL_ADD, splice.serverFd(), 0L, 0, UringOps.POLLIN | UringOps.POLLRDHUP,
                SERVER_READABLE);
    }

    /** A poll left on the server's socket would keep it open after its channel closed it. */
    private void cancelServerPoll() {
        if (serverPolled && !serverPollCancelled) {
            serverPollCancelled = true;
            submit(UringOps.ASYNC_CANCEL, -1, serverPollId, 0, 0, SPLICE_CANCEL);
        }
    }

    private void pumpSplice(boolean serverHungUp) {
        SplicedBody s = splice;
        if (s == null) {
            return;
        }
        SplicedBody.Next next = s.pump(serverHungUp);
        if (idle != null) {
            idle.arm(idleNanos);
        }
        switch (next) {
            case SERVER -> {
                if (sendTimer != null) {
                    sendTimer.disarm();
                }
                pollServer();
            }
            case CLIENT -> {
                if (sendTimer != null) {
                    sendTimer.arm(sendNanos);
                }
                submit(UringOps.POLL_ADD, 0L, 0, UringOps.POLLOUT, CLIENT_ROOM);
                s.tellIfAllTaken(); // last: the exchange may end from here
            }
            case OVER -> {
                if (sendTimer != null) {
                    sendTimer.disarm();
                }
                splice = null;
                s.end(); // the exchange may go on from here: finish, write, flush
                if (phase == Phase.OPEN && !sendInFlight) {
                    sendNext();
                }
            }
            case CLIENT_FAILED -> abort();
        }
    }

    private void serverReadable(int res) {
        serverPolled = false;
        pumpSplice(res >= 0 && (res & (UringOps.POLLRDHUP | POLLHUP | POLLERR)) != 0);
    }

    /**
     * The connection stops serving: a splice still taking from its server is dropped; one whose body is all in its
     * pipe (a whole response: see {@link SplicedBody#tellIfAllTaken}) drains first, unless the connection closes
     * at once ({@link #finish} drops it).
     */
    private void dropSplice() {
        cancelServerPoll();
        if (splice != null && !splice.serverDone()) {
            splice.drop();
            splice = null;
        }
    }

    // Writing.

    /**
     * Sends from the head of the queue: small parts copied into one buffer, else up to {@link #MAX_IOV} parts as
     * they came with one SENDMSG (a large response's body parts: one operation for what a channel's flush writes
     * with one writev), else the one part with SEND. What was sent leaves the queue when the send completes.
     */
    private void sendNext() {
        if (splice != null && beforeSplice == 0) {
            if (!spliceStarted) {
                spliceStarted = true;
                pollServer(); // completes at once when the body's next bytes are there
            }
            return;
        }
        int limit = splice != null ? beforeSplice : Integer.MAX_VALUE;
        ByteBuf head = queued.poll();
        if (head == null) {
            if (closeWhenSent) {
                closeGracefully();
            }
            return;
        }
        ByteBuf second = queued.peek();
        if (second != null && limit > 1 && head.readableBytes() + second.readableBytes() <= COALESCE) {
            head = coalesce(head, limit);
        } else if (!head.hasMemoryAddress()) {
            ByteBuf direct = alloc.directBuffer(head.readableBytes(), head.readableBytes());
            direct.writeBytes(head);
            head.release();
            head = direct;
        }
        queued.addFirst(head);
        int parts = 1;
        if (queued.size() > 1 && limit > 1) {
            parts = gather(limit);
        }
        // The response that the connection closes after: its FIN leaves with the last segment.
        int flags = UringOps.MSG_NOSIGNAL;
        if ((closeWhenSent || closeAfterResponse || inputDone) && parts == queued.size() && !encoder.inResponse()) {
            flags |= UringOps.MSG_MORE;
        }
        if (sendTimer != null) {
            sendTimer.arm(sendNanos);
        }
        sendInFlight = true;
        if (parts == 1) {
            submit(UringOps.SEND, head.memoryAddress() + head.readerIndex(), head.readableBytes(), flags, SEND);
        } else {
            submit(SENDMSG, vectors.memoryAddress(), 1, flags, SEND);
        }
    }

    /**
     * Writes a msghdr for the queue's first parts into {@link #vectors}: as many as {@link #MAX_IOV}, up to the
     * first that has no memory address (it goes on its own, copied); returns how many.
     */
    private int gather(int limit) {
        if (vectors == null) {
            vectors = alloc.directBuffer(MSGHDR + IOVEC * MAX_IOV, MSGHDR + IOVEC * MAX_IOV);
        }
        long hdr = vectors.memoryAddress();
        long iov = hdr + MSGHDR;
        int parts = 0;
        for (ByteBuf b : queued) {
            if (parts == MAX_IOV || parts == limit || !b.hasMemoryAddress()) {
                break;
            }
            PlatformDependent.putLong(iov + (long) IOVEC * parts, b.memoryAddress() + b.readerIndex());
            PlatformDependent.putLong(iov + (long) IOVEC * parts + 8, b.readableBytes());
            parts++;
        }
        PlatformDependent.setMemory(hdr, MSGHDR, (byte) 0); // no name, no control data, no flags
        PlatformDependent.putLong(hdr + 16, iov); // msg_iov
        PlatformDependent.putLong(hdr + 24, parts); // msg_iovlen
        return parts;
    }

    /** {@code first} and the small buffers queued behind it, at most {@code limit} in all, copied into one. */
    private ByteBuf coalesce(ByteBuf first, int limit) {
        int size = first.readableBytes();
        int taken = 1;
        for (ByteBuf b : queued) {
            if (taken == limit || size + b.readableBytes() > COALESCE) {
                break;
            }
            size += b.readableBytes();
            taken++;
        }
        if (splice != null) {
            beforeSplice -= taken - 1; // they go out as one
        }
        ByteBuf one = alloc.directBuffer(size, size);
        one.writeBytes(first);
        first.release();
        while (one.isWritable()) {
            ByteBuf b = queued.poll();
            one.writeBytes(b);
            b.release();
        }
        return one;
    }

    private void sendCompleted(int res) {
        sendInFlight = false;
        if (res < 0) {
            abort(); // the client left
            return;
        }
        if (idle != null) {
            idle.arm(idleNanos);
        }
        if (sendTimer != null) {
            sendTimer.disarm(); // the bytes moved: the next send arms it again
        }
        unsent -= res;
        int left = res;
        ByteBuf b;
        while ((b = queued.peek()) != null && (left > 0 || !b.isReadable())) {
            int n = b.readableBytes();
            if (left >= n) {
                queued.poll().release();
                left -= n;
                if (splice != null && beforeSplice > 0) {
                    beforeSplice--;
                }
            } else {
                b.skipBytes(left); // a part sent in part: the rest goes first next time
                left = 0;
            }
        }
        if (!writable && unsent <= LOW) {
            writable = true;
            Exchange ex = current;
            if (ex != null) {
                ex.onClientWritable();
            }
        }
        if (phase == Phase.OPEN && !sendInFlight) {
            sendNext();
        }
    }

    // The connection's own life.

    /** Closes once everything queued is sent (now, if nothing is). */
    private void closeWhenSent() {
        closeWhenSent = true;
        discarding = true;
        headWait.stop();
        if (queued.isEmpty() && splice == null) {
            closeGracefully();
        }
    }

    /**
     * Hands the connection to the channel path with what was read and not yet served; between exchanges, with
     * nothing in flight (the read that brought the bytes has completed, every response is sent or queued in
     * order before it: see {@link #serve}).
     */
    private void adopt() {
        adoptPending = true;
        if (!queued.isEmpty()) {
            return; // a response is still going out: the hand-over waits for it (the channel must not overtake it)
        }
        if (watching && !watchCancelled) {
            // A poll left in the kernel would hold the socket open after the channel closed it.
            watchCancelled = true;
            submit(UringOps.ASYNC_CANCEL, -1, watchId, 0, 0, CANCEL);
        }
        if (inFlight > 0) {
            return; // the last completion hands over
        }
        adoptPending = false;
        phase = Phase.ADOPTED;
        releaseVectors();
        ByteBuf bytes = in;
        in = null;
        clock.close();
        connections.closed(this);
        registration.cancel();
        Runnable release = clientRelease;
        clientReleased = true;
        listener.adoptRawConnection(fd, remote, acceptor.loop(), release, bytes);
    }

    /** Closes now: the socket is shut down, which completes what the kernel holds; the last completion finishes. */
    @Override
    public void abort() {
        if (phase != Phase.OPEN) {
            return;
        }
        phase = Phase.CLOSING;
        stopServing();
        SluiceSockets.shutdown(fd, true, true);
        finishIfDone();
    }

    /** Closes after the last response is sent; a read waiting for a next request is ended. */
    private void closeGracefully() {
        if (phase != Phase.OPEN) {
            return;
        }
        phase = Phase.CLOSING;
        stopServing();
        if (inFlight > 0) {
            // A read or the watch in flight: the shutdown ends them, and the FIN goes now, after what was sent
            // (with the last segment, held back by MSG_MORE), not once their completions are in.
            SluiceSockets.shutdown(fd, true, true);
        }
        finishIfDone();
    }

    private void stopServing() {
        discarding = true;
        dropSplice();
        if (idleReads != null) {
            idleReads.remove(parkEntry);
            unwatched.remove(watchEntry);
        }
        inbound.releaseAll();
        if (headWait != null) {
            headWait.close();
            context.responseTimer.close();
        }
        Exchange ex = current;
        current = null;
        if (ex != null) {
            // Later, as a channel's close reaches its handlers: the exchange may be the caller (abort).
            acceptor.loop().execute(ex::clientClosed);
        }
    }

    private void finishIfDone() {
        if (inFlight == 0 && phase == Phase.CLOSING) {
            finish();
        }
    }

    private void finish() {
        phase = Phase.CLOSED;
        if (clock != null) {
            clock.close();
        }
        if (splice != null) {
            splice.drop();
            splice = null;
        }
        SluiceSockets.close(fd);
        releaseIn();
        if (bodyIn != null) {
            bodyIn.release(); // its read has completed: the kernel is done with it
            bodyIn = null;
        }
        releaseVectors();
        ByteBuf b;
        while ((b = queued.poll()) != null) {
            b.release();
        }
        releaseClientShare();
        connections.closed(this);
        registration.cancel();
    }

    private void releaseClientShare() {
        if (clientReleased) {
            return;
        }
        clientReleased = true;
        if (clientRelease != null) {
            clientRelease.run();
        }
        admission.closed();
    }

    private void releaseVectors() {
        if (vectors != null) {
            vectors.release();
            vectors = null;
        }
    }

    private void releaseIn() {
        if (in != null) {
            in.release();
            in = null;
        }
    }

    private void failed(Throwable t) {
        log.warn("raw client connection failed, closing it", t);
        if (registration == null) {
            SluiceSockets.close(fd);
            phase = Phase.CLOSED;
            return;
        }
        try {
            if (phase == Phase.OPEN) {
                abort();
            }
        } catch (Throwable again) {
            log.warn("closing a failed raw client connection failed too", again);
        }
    }

    private void responseTimedOut() {
        Exchange ex = current;
        if (ex != null && !discarding) {
            ex.responseTimedOut();
        }
    }

    private void waitExpired() {
        if (current != null || discarding || phase != Phase.OPEN) {
            return;
        }
        if (!headWait.headBegun()) {
            // An idle keep-alive connection, or one that never sent a byte: nothing to answer; a response still
            // going out to a slow reader finishes first.
            if (queued.isEmpty() && splice == null) {
                abort();
            } else {
                closeWhenSent();
            }
            return;
        }
        // A head begun and not finished in time: 408, as the channel path answers.
        if (reading) {
            SluiceSockets.shutdown(fd, true, false); // ends the read; the answer still goes out
        }
        write(Refusals.headTooSlowAnswer(listener.httpStats(), alloc));
        closeWhenSent();
        flush();
    }

    /** Whether a read buffer is held (for tests: an idle connection gives its back, see {@link #PARKING}). */
    boolean holdsReadBuffer() {
        return in != null;
    }

    /** The socket (for tests that ask the kernel about it). */
    int fd() {
        return fd;
    }

    /** Sluice is draining: no request after the current one. */
    void drain() {
        closeAfterResponse = true;
    }

    /** Sluice is shutting down: a connection between requests closes now (after any response still going out). */
    void closeIfIdle() {
        if (current == null && phase == Phase.OPEN) {
            closeWhenSent();
        }
    }

    private long submit(byte op, long addr, int len, int opFlags, short data) {
        return submit(op, fd, addr, len, opFlags, data);
    }

    private long submit(byte op, int target, long addr, int len, int opFlags, short data) {
        inFlight++;
        return UringOps.submit(registration, op, target, addr, len, opFlags, data);
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        try {
            handle((IoUringIoEvent) event);
        } catch (Throwable t) {
            failed(t);
        }
    }

    private void handle(IoUringIoEvent e) {
        inFlight--;
        if (phase != Phase.OPEN) {
            if (e.data() == RECV || e.data() == POLL || e.data() == BODY) {
                reading = false;
            }
            finishIfDone();
            return;
        }
        handleOpen(e);
        if (adoptPending && phase == Phase.OPEN) {
            adopt();
        }
    }

    private void handleOpen(IoUringIoEvent e) {
        switch (e.data()) {
            case POLL -> {
                reading = false;
                if (e.res() < 0) {
                    abort();
                } else {
                    recv();
                }
            }
            case RECV -> received(e.res());
            case BODY -> bodyReceived(e.res());
            case SEND -> sendCompleted(e.res());
            case WATCH -> watched(e.res());
            case CANCEL -> parking = false;
            case SERVER_READABLE -> serverReadable(e.res());
            case CLIENT_ROOM -> pumpSplice(false);
            case SPLICE_CANCEL -> {
            }
            default -> throw new IllegalStateException("unknown operation " + e.data());
        }
    }

    @Override
    public EventLoop loop() {
        return acceptor.loop();
    }

    @Override
    public void registered() {
    }

    /** The loop is shutting down with this connection open: see {@link io.sluice.l4.UringAcceptor}'s. */
    @Override
    public void close() {
        abort();
    }
}
