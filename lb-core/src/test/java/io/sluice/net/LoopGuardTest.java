package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.sluice.config.TransportKind;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An {@link Error} on an event loop never ends the loop. Thrown by a handler, Netty's pipeline hands it to
 * {@code exceptionCaught} (on every transport); thrown outside the pipeline, as an allocation failure is on
 * io_uring when a poll completes, Netty 4.2.18 rethrows it out of the loop and the thread ended, with every
 * connection on it (a slow-client flood that exhausted direct memory did this). {@link LoopGuard} keeps the loop
 * going and counts the Error.
 */
class LoopGuardTest {
    @AutoClose
    private OneLoopServer server;

    /** One loop, echoing; {@code failFirstRead} makes the first read buffer allocation throw as direct memory does. */
    private int echo(TransportKind kind, AtomicBoolean failFirstRead, AtomicReference<Throwable> caught) {
        assumeThat(Transport.isAvailable(kind)).as(kind + " on this machine").isTrue();
        server = new OneLoopServer(kind, "guard-test", new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new Echo(caught));
            }
        }, b -> b.childOption(ChannelOption.RCVBUF_ALLOCATOR, new FailingOnce(failFirstRead)));
        return server.port();
    }

    /** Echoes, except "boom", which makes it throw an Error; what reaches exceptionCaught is kept. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        private final AtomicReference<Throwable> caught;

        Echo(AtomicReference<Throwable> caught) {
            this.caught = caught;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (b.toString(StandardCharsets.US_ASCII).contains("boom")) {
                ReferenceCountUtil.release(msg);
                throw new StackOverflowError("thrown by a handler");
            }
            ctx.writeAndFlush(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            caught.set(cause);
            ctx.close();
        }
    }

    private void assertLoopServes(int port) throws Exception {
        assertThat(server.group.next().submit(() -> true).get(5, TimeUnit.SECONDS)).as("the loop runs tasks").isTrue();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void anAllocationFailureOutsideThePipelineLeavesTheLoopServing(TransportKind kind) throws Exception {
        AtomicBoolean failFirstRead = new AtomicBoolean(true);
        AtomicReference<Throwable> caught = new AtomicReference<>();
        int port = echo(kind, failFirstRead, caught);
        long before = LoopGuard.errors();
        try (Socket first = new Socket("127.0.0.1", port)) {
            first.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(10)).untilFalse(failFirstRead);
            assertLoopServes(port);
        }
        if (kind == TransportKind.IO_URING) {
            assertThat(LoopGuard.errors() - before).as("io_uring rethrew it out of the loop; the guard caught it")
                    .isEqualTo(1);
        } else {
            assertThat(caught.get()).as("nio and epoll hand it to the pipeline").isInstanceOf(OutOfMemoryError.class);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"IO_URING", "EPOLL", "NIO"})
    void anErrorThrownByAHandlerClosesOnlyItsConnection(TransportKind kind) throws Exception {
        AtomicReference<Throwable> caught = new AtomicReference<>();
        int port = echo(kind, new AtomicBoolean(false), caught);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("boom".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            try {
                assertThat(in.read()).as("closed by exceptionCaught").isEqualTo(-1);
            } catch (IOException reset) {
                // a reset is a close too
            }
        }
        assertThat(caught.get()).isInstanceOf(StackOverflowError.class);
        assertLoopServes(port);
    }

    /** Batched reads whose first allocation (of any channel using this instance) fails as a full direct pool does. */
    private static final class FailingOnce implements RecvByteBufAllocator {
        private final AtomicBoolean armed;

        FailingOnce(AtomicBoolean armed) {
            this.armed = armed;
        }

        @Override
        public Handle newHandle() {
            return new Failing((ExtendedHandle) BatchedReads.INSTANCE.newHandle(), armed);
        }
    }

    private record Failing(RecvByteBufAllocator.ExtendedHandle real, AtomicBoolean armed) implements RecvByteBufAllocator.ExtendedHandle {
        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            if (armed.compareAndSet(true, false)) {
                throw new OutOfMemoryError("Cannot reserve 4194304 bytes of direct buffer memory (test)");
            }
            return real.allocate(alloc);
        }

        @Override
        public int guess() {
            return real.guess();
        }

        @Override
        public void reset(io.netty.channel.ChannelConfig config) {
            real.reset(config);
        }

        @Override
        public void incMessagesRead(int n) {
            real.incMessagesRead(n);
        }

        @Override
        public void lastBytesRead(int n) {
            real.lastBytesRead(n);
        }

        @Override
        public int lastBytesRead() {
            return real.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int n) {
            real.attemptedBytesRead(n);
        }

        @Override
        public int attemptedBytesRead() {
            return real.attemptedBytesRead();
        }

        @Override
        public boolean continueReading() {
            return real.continueReading();
        }

        @Override
        public boolean continueReading(io.netty.util.UncheckedBooleanSupplier more) {
            return real.continueReading(more);
        }

        @Override
        public void readComplete() {
            real.readComplete();
        }
    }
}
