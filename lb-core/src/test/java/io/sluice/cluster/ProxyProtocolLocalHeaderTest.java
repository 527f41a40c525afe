package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import org.junit.jupiter.api.Test;

/** The health checks' v2 LOCAL header is the one Netty's encoder writes. */
class ProxyProtocolLocalHeaderTest {
    @Test
    void v2LocalMatchesNettysEncoder() {
        EmbeddedChannel ch = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        ch.writeOutbound(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0));
        ByteBuf out = ch.readOutbound();
        try {
            assertThat(ByteBufUtil.getBytes(out)).isEqualTo(ClusterHealth.V2_LOCAL);
        } finally {
            out.release();
            ch.finishAndReleaseAll();
        }
    }
}
