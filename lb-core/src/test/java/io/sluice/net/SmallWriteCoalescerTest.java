package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.sluice.config.TransportKind;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SmallWriteCoalescer} on a real loopback connection: what a peer receives is exactly what was written, in
 * order, whether the buffers were copied, held past the hold limit or passed as they are; every write's promise
 * completes with the write that carried its bytes; bytes held when the channel closes are released.
 */
class SmallWriteCoalescerTest {
    private static final int MAX_COPY = 64;
    private static final int HOLD = 256;

    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private OneLoopServer server;
    private Channel client;

    @BeforeEach
    void connect() {
        server = new OneLoopServer(TransportKind.AUTO, "coalesce-server", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                b.release();
                synchronized (received) {
                    received.write(a, 0, a.length);
                }
            }
        }, b -> b);
        client = new Bootstrap().group(server.group).channel(Transport.select(TransportKind.AUTO).channelClass())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new SmallWriteCoalescer(MAX_COPY, HOLD));
                    }
                })
                .connect(new InetSocketAddress("127.0.0.1", server.port())).syncUninterruptibly().channel();
    }

    @AfterEach
    void close() throws InterruptedException {
        client.close().syncUninterruptibly();
        server.close();
    }

    private ByteBuf bytes(String s) {
        return client.alloc().directBuffer().writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    private String receivedText() {
        synchronized (received) {
            return received.toString(StandardCharsets.US_ASCII);
        }
    }

    /** Small, big, small again, with and without promises: the peer reads them in the order written. */
    @Test
    void whatIsReceivedIsWhatWasWrittenInOrder() {
        StringBuilder expected = new StringBuilder();
        List<ChannelFuture> promised = new ArrayList<>();
        String big = "B".repeat(MAX_COPY * 3);
        client.eventLoop().submit(() -> {
            for (int i = 0; i < 40; i++) {
                String part = i % 10 == 9 ? big + i : "frame-" + i + ";";
                expected.append(part);
                if (i % 3 == 0) {
                    client.write(bytes(part), client.voidPromise());
                } else {
                    promised.add(client.write(bytes(part)));
                }
            }
            expected.append("empty-next;");
            promised.add(client.write(bytes("empty-next;")));
            promised.add(client.write(Unpooled.EMPTY_BUFFER));
            client.flush();
        }).syncUninterruptibly();

        await().atMost(Duration.ofSeconds(10)).until(() -> receivedText().length() == expected.length());
        assertThat(receivedText()).isEqualTo(expected.toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> promised.stream().allMatch(ChannelFuture::isDone));
        assertThat(promised).allMatch(ChannelFuture::isSuccess);
    }

    /** Past the hold limit the held bytes go to the socket's queue without a flush; the flush sends the rest. */
    @Test
    void holdingStopsAtTheLimit() {
        String part = "x".repeat(MAX_COPY);
        int parts = HOLD / MAX_COPY + 2;
        long queuedBeforeFlush = client.eventLoop().submit(() -> {
            for (int i = 0; i < parts; i++) {
                client.write(bytes(part), client.voidPromise());
            }
            return client.unsafe().outboundBuffer().totalPendingWriteBytes();
        }).syncUninterruptibly().getNow();
        // Netty counts an entry's overhead too: at least the first hold is queued, and not the bytes held after it.
        assertThat(queuedBeforeFlush).as("the first hold went to the socket's queue")
                .isGreaterThanOrEqualTo(HOLD).isLessThan((long) parts * MAX_COPY);

        client.flush();
        await().atMost(Duration.ofSeconds(10)).until(() -> receivedText().length() == parts * MAX_COPY);
    }

    /**
     * A copied write can no longer be cancelled (its bytes are in the held buffer): a cancel fails, and the write
     * completes with the others, never "cancelled" with its bytes sent anyway.
     */
    @Test
    void aCopiedWriteCannotBeCancelled() {
        ChannelPromise p = client.newPromise();
        boolean cancelled = client.eventLoop().submit(() -> {
            client.write(bytes("first;"), client.voidPromise());
            client.write(bytes("second;"), p);
            boolean c = p.cancel(false);
            client.writeAndFlush(bytes("last;"));
            return c;
        }).syncUninterruptibly().getNow();

        assertThat(cancelled).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() -> receivedText().endsWith("last;"));
        assertThat(receivedText()).isEqualTo("first;second;last;");
        await().atMost(Duration.ofSeconds(10)).until(p::isDone);
        assertThat(p.isSuccess()).isTrue();
    }

    /**
     * No memory for a new held buffer: what is held goes first, then the buffer as it is. Nothing is lost or
     * reordered (an HTTP/2 frame header without its payload would garble the connection).
     */
    @Test
    void noMemoryToHoldSendsTheBufferAsItIs() {
        FailingAllocator failing = new FailingAllocator();
        client.config().setAllocator(failing);
        String part = "y".repeat(MAX_COPY);
        List<ChannelFuture> promised = new ArrayList<>();
        StringBuilder expected = new StringBuilder();
        client.eventLoop().submit(() -> {
            for (int i = 0; i < HOLD / MAX_COPY; i++) {
                promised.add(client.write(Unpooled.copiedBuffer(part.substring(1) + i, StandardCharsets.US_ASCII)));
                expected.append(part.substring(1)).append(i); // MAX_COPY bytes: copied
            }
            failing.failNext = true; // the next write does not fit: the new held buffer cannot be had
            promised.add(client.write(Unpooled.copiedBuffer("HEADER;", StandardCharsets.US_ASCII)));
            promised.add(client.write(Unpooled.copiedBuffer("PAYLOAD;", StandardCharsets.US_ASCII)));
            expected.append("HEADER;PAYLOAD;");
            client.flush();
        }).syncUninterruptibly();

        await().atMost(Duration.ofSeconds(10)).until(() -> receivedText().length() == expected.length());
        assertThat(receivedText()).isEqualTo(expected.toString());
        assertThat(failing.failed).as("the allocation did fail").isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> promised.stream().allMatch(ChannelFuture::isDone));
        assertThat(promised).allMatch(ChannelFuture::isSuccess);
    }

    /** Direct buffers as usual, except one when asked: as when direct memory runs out. */
    private static final class FailingAllocator extends AbstractByteBufAllocator {
        volatile boolean failNext;
        volatile boolean failed;

        FailingAllocator() {
            super(true);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            if (failNext) {
                failNext = false;
                failed = true;
                throw new OutOfMemoryError("test: no direct memory");
            }
            return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    /** A close with bytes held and no flush: their writes fail and the bytes are released (leak detection). */
    @Test
    void aCloseWithBytesHeldFailsTheirWrites() {
        List<ChannelFuture> promised = new ArrayList<>();
        client.eventLoop().submit(() -> {
            promised.add(client.write(bytes("never-flushed")));
            promised.add(client.write(bytes("nor-this")));
            client.close();
            promised.add(client.write(bytes("after-close")));
            client.flush();
        }).syncUninterruptibly();

        await().atMost(Duration.ofSeconds(10)).until(() -> promised.stream().allMatch(ChannelFuture::isDone));
        assertThat(promised).noneMatch(ChannelFuture::isSuccess);
    }
}
