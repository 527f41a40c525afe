package io.sluice.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.ProtocolDetectionResult;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.config.ProxyProtocolConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first stage of a connection on a listener with {@code proxy_protocol}: admits it (a slow header counts
 * against {@code max_connections}), reads the PROXY header with Netty's {@link HAProxyMessageDecoder} (v1 or v2),
 * records the client it names ({@link ClientSource}), and only then installs the listener's usual handlers
 * and tells them the connection is active; what followed the header reaches them unchanged. A source outside
 * {@code trusted}, a bad or cut header, or none in time closes the connection, counted by reason, so nothing is
 * ever forwarded under a forged address. With {@code accept: optional} a {@link Detect} in front lets a
 * connection whose first bytes cannot start a header, or that sends nothing in time, go on as itself.
 */
public final class ProxyProtocolStage extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyProtocolStage.class);
    static final String DETECT = "proxy-detect";
    static final String DECODER = "proxy-decoder";
    static final String STAGE = "proxy";

    private enum State { WAITING, DONE }

    /** The user event a {@link Detect} sends when the first bytes are no PROXY header. */
    private static final Object NO_HEADER = new Object();

    private final ProxyProtocolConfig config;
    private final Admission admission;
    private final ProxyProtocolStats stats;
    private final Consumer<Channel> install;
    private final Started started = new Started();
    private State state = State.WAITING;
    private ScheduledFuture<?> timer;

    private ProxyProtocolStage(ProxyProtocolConfig config, Admission admission, ProxyProtocolStats stats,
                               Consumer<Channel> install) {
        this.config = config;
        this.admission = admission;
        this.stats = stats;
        this.install = install;
    }

    /**
     * Puts the stage in {@code pipeline}; {@code install} adds the listener's own handlers once the client is
     * known (they see {@code channelActive} then).
     */
    public static void addTo(ChannelPipeline pipeline, ProxyProtocolConfig config, Admission admission,
                             ProxyProtocolStats stats, Consumer<Channel> install) {
        ProxyProtocolStage stage = new ProxyProtocolStage(config, admission, stats, install);
        if (config.accept() == ProxyProtocolConfig.Accept.OPTIONAL) {
            pipeline.addLast(DETECT, new Detect(stage.started));
        }
        pipeline.addLast(DECODER, new HeaderDecoder(stage.started));
        pipeline.addLast(STAGE, stage);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (!admission.count(ch)) {
            return;
        }
        InetSocketAddress peer = ch.remoteAddress() instanceof InetSocketAddress a ? a : null;
        boolean trusted = peer != null && peer.getAddress() != null && config.trusts(peer.getAddress());
        if (!trusted) {
            if (config.accept() == ProxyProtocolConfig.Accept.OPTIONAL) {
                proceed(ctx, null); // an untrusted header is not read at all: it reaches the protocol as bytes
            } else {
                fail(ctx, ProxyProtocolStats.Reason.UNTRUSTED);
            }
            return;
        }
        timer = ctx.executor().schedule(() -> expired(ctx), config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        ctx.read();
    }

    private void expired(ChannelHandlerContext ctx) {
        if (state != State.WAITING) {
            return;
        }
        if (config.accept() == ProxyProtocolConfig.Accept.OPTIONAL && !started.bytes) {
            proceed(ctx, null); // nothing sent: a protocol where the server speaks first
        } else {
            fail(ctx, ProxyProtocolStats.Reason.TIMEOUT);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            // Bytes of a connection already refused (a decoder leaving hands over what it held): dropped.
            ReferenceCountUtil.release(msg);
            return;
        }
        ClientSource source;
        try {
            source = sourceOf(header, ctx.channel());
        } finally {
            header.release();
        }
        proceed(ctx, source);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.WAITING && ctx.channel().isActive()) {
            ctx.read(); // the header is not complete yet
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == NO_HEADER) {
            proceed(ctx, null);
        } else if (evt instanceof ChannelInputShutdownEvent && state == State.WAITING) {
            // A client that half-closes before its header is complete will never complete it.
            if (started.bytes) {
                fail(ctx, ProxyProtocolStats.Reason.TRUNCATED);
            } else {
                stop();
                ctx.close();
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.WAITING && started.bytes) {
            fail(ctx, ProxyProtocolStats.Reason.TRUNCATED);
        }
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Only the header's errors reach here: the stage leaves the pipeline once the header is read. A refused
        // connection's decoder may complain again about the rest as it closes; counted once.
        if (state == State.WAITING) {
            log.debug("listener connection {}: bad PROXY header: {}", ctx.channel(), cause.toString());
            fail(ctx, ProxyProtocolStats.Reason.MALFORMED);
        }
    }

    private void fail(ChannelHandlerContext ctx, ProxyProtocolStats.Reason reason) {
        stop();
        stats.countFailure(reason);
        ctx.close();
    }

    private void stop() {
        state = State.DONE;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Hands the connection to the listener's handlers; bytes the decoders still hold follow to them. */
    private void proceed(ChannelHandlerContext ctx, ClientSource source) {
        stop();
        Channel ch = ctx.channel();
        if (!ch.isActive()) {
            return;
        }
        if (source != null) {
            ClientSource.set(ch, source);
        }
        ChannelPipeline p = ctx.pipeline();
        install.accept(ch);
        ctx.fireChannelActive();
        p.remove(this);
        // A decoder hands what it holds beyond the header to the next handler as it leaves.
        if (source == null && p.get(DECODER) != null) {
            p.remove(DECODER);
        }
        if (p.get(DETECT) != null) {
            p.remove(DETECT);
        }
    }

    /** The header's source, or the socket's for a LOCAL command (a balancer's own health check) and UNKNOWN. */
    static ClientSource sourceOf(HAProxyMessage header, Channel channel) {
        List<ClientSource.Tlv> tlvs = new ArrayList<>();
        for (HAProxyTLV tlv : header.tlvs()) {
            tlvs.add(new ClientSource.Tlv(tlv.typeByteValue() & 0xff, ByteBufUtil.getBytes(tlv.content())));
        }
        InetSocketAddress address = channel.remoteAddress() instanceof InetSocketAddress a ? a : null;
        HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
        boolean ip = family == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                || family == HAProxyProxiedProtocol.AddressFamily.AF_IPv6;
        if (header.command() == HAProxyCommand.PROXY && ip) {
            try {
                // A literal the decoder has checked: no name lookup happens here.
                address = new InetSocketAddress(InetAddress.getByName(header.sourceAddress()), header.sourcePort());
            } catch (UnknownHostException e) {
                throw new IllegalStateException("decoder passed a bad address " + header.sourceAddress(), e);
            }
        }
        return new ClientSource(address, tlvs);
    }

    /** Which bytes arrived, shared by the decoders and the stage: a close mid-header is "truncated". */
    private static final class Started {
        boolean bytes;
    }

    private static final class HeaderDecoder extends HAProxyMessageDecoder {
        private final Started started;

        HeaderDecoder(Started started) {
            this.started = started;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            started.bytes = true;
            super.channelRead(ctx, msg);
        }
    }

    /** For {@code accept: optional}: lets the decoder see the bytes only when they can start a header. */
    private static final class Detect extends ByteToMessageDecoder {
        private final Started started;

        Detect(Started started) {
            this.started = started;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (!in.isReadable()) {
                return;
            }
            started.bytes = true;
            ProtocolDetectionResult<HAProxyProtocolVersion> r = HAProxyMessageDecoder.detectProtocol(in);
            switch (r.state()) {
                case NEEDS_MORE_DATA -> {
                    // wait: the stage asks for more
                }
                case INVALID -> ctx.fireUserEventTriggered(NO_HEADER);
                case DETECTED -> ctx.pipeline().remove(this);
                default -> throw new IllegalStateException(r.state().toString());
            }
        }
    }
}
