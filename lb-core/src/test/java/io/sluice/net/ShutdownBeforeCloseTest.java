package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A socket that is not connected (never was, or the peer reset it) answers shutdown(2) with ENOTCONN, which Netty
 * throws as {@code NotYetConnectedException}, not an {@code IOException}: the close must still happen.
 */
class ShutdownBeforeCloseTest {
    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"EPOLL", "IO_URING"})
    void aSocketThatIsNotConnectedIsStillClosed(TransportKind kind) throws Exception {
        Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available on this machine");
        Transport transport = Transport.select(kind);
        EventLoopGroup group = transport.newGroup(1, "shutdown-test");
        try {
            Channel ch = transport.channelClass().getConstructor().newInstance();
            ch.pipeline().addFirst(ShutdownBeforeClose.INSTANCE).addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                }
            });
            group.register(ch).sync();
            assertThatCode(() -> ShutdownBeforeClose.shutdown(ch)).doesNotThrowAnyException();

            ChannelFuture closed = ch.close().await();
            assertThat(closed.cause()).isNull();
            assertThat(ch.isOpen()).isFalse();
        } finally {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
