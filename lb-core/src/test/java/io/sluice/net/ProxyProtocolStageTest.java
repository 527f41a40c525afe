package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.sluice.config.Cidr;
import io.sluice.config.ProxyProtocolConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The PROXY header stage on an {@link EmbeddedChannel}: parsing, trust, and each way a header fails. */
class ProxyProtocolStageTest {
    private static final InetSocketAddress BALANCER = new InetSocketAddress("10.0.0.5", 40000);
    private static final InetSocketAddress STRANGER = new InetSocketAddress("192.0.2.9", 40000);

    private final ListenerStats listenerStats = new ListenerStats();
    private final ProxyProtocolStats stats = new ProxyProtocolStats();
    private final Rest rest = new Rest();
    private EmbeddedChannel channel;

    /** The listener's own handlers: what they saw once installed. */
    private static final class Rest extends ChannelInboundHandlerAdapter {
        int installed;
        int active;
        final StringBuilder bytes = new StringBuilder();

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active++;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            bytes.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel open(ProxyProtocolConfig.Accept accept, InetSocketAddress peer) throws Exception {
        ProxyProtocolConfig config = new ProxyProtocolConfig(accept, List.of(Cidr.parse("10.0.0.0/8")),
                Duration.ofSeconds(3));
        channel = unregistered(peer);
        ProxyProtocolStage.addTo(channel.pipeline(), config, new Admission(listenerStats, 0), stats, ch -> {
            rest.installed++;
            ch.pipeline().addLast("rest", rest);
        });
        channel.register();
        channel.freezeTime();
        return channel;
    }

    /** A channel from {@code peer}, registered by the caller once its pipeline is set up. */
    private static EmbeddedChannel unregistered(InetSocketAddress peer) {
        return new EmbeddedChannel(DefaultChannelId.newInstance(), false, false) {
            @Override
            protected SocketAddress remoteAddress0() {
                return peer;
            }
        };
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static ByteBuf encoded(HAProxyMessage m) {
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        encoder.writeOutbound(m);
        ByteBuf out = encoder.readOutbound();
        encoder.finishAndReleaseAll();
        return out;
    }

    @Test
    void v1HeaderNamesTheClientAndWhatFollowsPassesUnchanged() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        assertThat(rest.installed).isZero();
        ch.writeInbound(text("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\n"));
        assertThat(rest.installed).isEqualTo(1);
        assertThat(rest.active).isEqualTo(1);
        assertThat(ClientSource.of(ch)).isEqualTo(new InetSocketAddress("203.0.113.7", 5555));
        assertThat(rest.bytes).hasToString("GET / HTTP/1.1\r\n");
        ch.writeInbound(text("Host: x\r\n"));
        assertThat(rest.bytes).hasToString("GET / HTTP/1.1\r\nHost: x\r\n");
        assertThat(ch.pipeline().names()).doesNotContain(ProxyProtocolStage.STAGE, ProxyProtocolStage.DECODER);
        assertThat(listenerStats.active()).isEqualTo(1);
    }

    @Test
    void v1HeaderInPiecesIsWaitedFor() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(text("PROXY TCP6 2001:db8::7 "));
        assertThat(rest.installed).isZero();
        ch.writeInbound(text("2001:db8::1 5555 443\r\nx"));
        assertThat(ClientSource.of(ch)).isEqualTo(new InetSocketAddress("2001:db8::7", 5555));
        assertThat(rest.bytes).hasToString("x");
    }

    @Test
    void v2HeaderKeepsItsTlvs() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        HAProxyTLV tlv = new HAProxyTLV(HAProxyTLV.Type.PP2_TYPE_AUTHORITY,
                Unpooled.copiedBuffer("api.example.com", StandardCharsets.US_ASCII));
        ByteBuf header = encoded(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "203.0.113.7", "10.0.0.1", 5555, 443, List.of(tlv)));
        ch.writeInbound(Unpooled.wrappedBuffer(header, text("hello")));
        assertThat(ClientSource.of(ch)).isEqualTo(new InetSocketAddress("203.0.113.7", 5555));
        ClientSource told = ClientSource.told(ch);
        assertThat(told.tlvs()).hasSize(1);
        assertThat(told.tlvs().get(0).type()).isEqualTo(0x02);
        assertThat(new String(told.tlvs().get(0).value(), StandardCharsets.US_ASCII)).isEqualTo("api.example.com");
        assertThat(rest.bytes).hasToString("hello");
    }

    @Test
    void v2LocalCommandKeepsTheSocketAddress() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(encoded(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0)));
        assertThat(rest.installed).isEqualTo(1);
        assertThat(ClientSource.of(ch)).isEqualTo(BALANCER);
    }

    @Test
    void untrustedSourceIsClosedWhenTheHeaderIsRequired() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, STRANGER);
        assertThat(ch.isOpen()).isFalse();
        assertThat(rest.installed).isZero();
        assertThat(stats.count(ProxyProtocolStats.Reason.UNTRUSTED)).isEqualTo(1);
    }

    @Test
    void untrustedSourceGoesOnAsItselfWhenOptional() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.OPTIONAL, STRANGER);
        assertThat(rest.active).isEqualTo(1);
        ch.writeInbound(text("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n"));
        assertThat(ClientSource.of(ch)).isEqualTo(STRANGER); // never believed
        assertThat(rest.bytes).hasToString("PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n");
    }

    @Test
    void optionalTakesAHeaderFromATrustedSource() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.OPTIONAL, BALANCER);
        ch.writeInbound(text("PRO"));
        assertThat(rest.installed).isZero();
        ch.writeInbound(text("XY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nrest"));
        assertThat(ClientSource.of(ch)).isEqualTo(new InetSocketAddress("203.0.113.7", 5555));
        assertThat(rest.bytes).hasToString("rest");
        assertThat(ch.pipeline().names()).doesNotContain(ProxyProtocolStage.DETECT);
    }

    @Test
    void optionalPassesOtherFirstBytesAtOnce() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.OPTIONAL, BALANCER);
        ch.writeInbound(text("GET / HTTP/1.1\r\n"));
        assertThat(rest.active).isEqualTo(1);
        assertThat(ClientSource.of(ch)).isEqualTo(BALANCER);
        assertThat(rest.bytes).hasToString("GET / HTTP/1.1\r\n");
        assertThat(ch.pipeline().names()).doesNotContain(ProxyProtocolStage.DETECT, ProxyProtocolStage.DECODER,
                ProxyProtocolStage.STAGE);
    }

    @Test
    void optionalGoesOnWhenTheClientWaitsForTheServer() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.OPTIONAL, BALANCER);
        ch.advanceTimeBy(3, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        assertThat(rest.active).isEqualTo(1);
        assertThat(ClientSource.of(ch)).isEqualTo(BALANCER);
        ch.writeInbound(text("EHLO x\r\n"));
        assertThat(rest.bytes).hasToString("EHLO x\r\n");
    }

    @Test
    void missingHeaderIsMalformed() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(rest.installed).isZero();
        assertThat(stats.count(ProxyProtocolStats.Reason.MALFORMED)).isEqualTo(1);
    }

    @Test
    void badV1AddressIsMalformed() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(text("PROXY TCP4 203.0.113.300 10.0.0.1 5555 80\r\n"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(stats.count(ProxyProtocolStats.Reason.MALFORMED)).isEqualTo(1);
    }

    @Test
    void badV2VersionIsMalformed() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.OPTIONAL, BALANCER);
        ByteBuf header = encoded(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "203.0.113.7", "10.0.0.1", 5555, 443));
        header.setByte(12, 0x31); // version 3
        ch.writeInbound(header);
        assertThat(ch.isOpen()).isFalse();
        assertThat(rest.installed).isZero();
        assertThat(stats.count(ProxyProtocolStats.Reason.MALFORMED)).isEqualTo(1);
    }

    @Test
    void closeMidHeaderIsTruncated() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(text("PROXY TCP4 203.0.113.7 "));
        ch.close();
        assertThat(rest.installed).isZero();
        assertThat(stats.count(ProxyProtocolStats.Reason.TRUNCATED)).isEqualTo(1);
        assertThat(stats.count(ProxyProtocolStats.Reason.MALFORMED)).isZero();
    }

    @Test
    void connectAndCloseWithoutBytesIsNotCounted() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.close();
        for (ProxyProtocolStats.Reason r : ProxyProtocolStats.Reason.values()) {
            assertThat(stats.count(r)).as(r.label()).isZero();
        }
        assertThat(listenerStats.active()).isZero();
    }

    @Test
    void headerNotCompleteInTimeIsClosed() throws Exception {
        EmbeddedChannel ch = open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        ch.writeInbound(text("PROXY TCP4"));
        ch.advanceTimeBy(3, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(stats.count(ProxyProtocolStats.Reason.TIMEOUT)).isEqualTo(1);
        assertThat(stats.count(ProxyProtocolStats.Reason.TRUNCATED)).isZero();
    }

    @Test
    void admittedBeforeTheHeader() throws Exception {
        ListenerStats limited = new ListenerStats();
        ProxyProtocolConfig config = new ProxyProtocolConfig(ProxyProtocolConfig.Accept.TRUE,
                List.of(Cidr.parse("10.0.0.0/8")), Duration.ofSeconds(3));
        Admission admission = new Admission(limited, 1);
        EmbeddedChannel first = unregistered(BALANCER);
        ProxyProtocolStage.addTo(first.pipeline(), config, admission, stats, c -> { });
        first.register();
        open(ProxyProtocolConfig.Accept.TRUE, BALANCER);
        assertThat(limited.active()).isEqualTo(1); // waiting for its header, yet counted
        EmbeddedChannel second = unregistered(BALANCER);
        ProxyProtocolStage.addTo(second.pipeline(), config, admission, stats, c -> { });
        second.register();
        assertThat(second.isOpen()).isFalse();
        assertThat(limited.rejected()).isEqualTo(1);
        first.finishAndReleaseAll();
        second.finishAndReleaseAll();
    }
}
