package io.sluice.net;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringFixedBufferRingAllocator;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import java.util.Optional;

/**
 * Provided-buffer rings for io_uring reads, an opt-in trade-off ({@code -Dsluice.io_uring.recvRing=ENTRIESxBYTES},
 * e.g. {@code 256x16384}): each event loop registers one ring of ENTRIES buffers of BYTES each with the kernel
 * (ENTRIES x BYTES of direct memory per loop, whether used or not), and every proxied connection reads from it.
 * Netty 4.2.18 then reads with a RECV that picks its buffer when data arrives, so it needs no POLL_ADD first, and
 * with {@code io.netty.iouring.recvMultishotEnabled} (on by default where the kernel has it) one multishot RECV
 * serves a connection while it keeps reading. A connection that stops reading (autoRead off, no read() asked for
 * by the time a read batch completes) has its multishot RECV cancelled, an ASYNC_CANCEL, and a later read arms a
 * new one. Every read is one ring buffer, at most BYTES long.
 *
 * <p>Off by default: it saves CPU on a relay of small messages only; HTTP pays a cancelled and re-armed receive per
 * request, and large transfers read BYTES at a time instead of up to 256 KiB
 * (docs/bench/measurements-2026-12-05-ring.md). Connections reading from the ring get {@link UnendedReadBatches}, the
 * work-around for Netty 4.2.18 ending a cancelled receive's batch without channelReadComplete, which stalled paused
 * uploads (docs/bench/measurements-2026-12-05-uringops.md).
 */
public final class IoUringRecvRing {
    static final String PROPERTY = "sluice.io_uring.recvRing";
    private static final short GROUP = 0;

    private IoUringRecvRing() {
    }

    record Size(short entries, int bytes) {
    }

    /** The ring asked for by the property, if any; a malformed value is an error naming the property. */
    static Optional<Size> configured() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank() || v.equals("false")) {
            return Optional.empty();
        }
        String[] parts = v.toLowerCase(java.util.Locale.ROOT).split("x");
        try {
            int entries = Integer.parseInt(parts[0].trim());
            int bytes = Integer.parseInt(parts[1].trim());
            if (parts.length != 2 || Integer.bitCount(entries) != 1 || entries > Short.MAX_VALUE || bytes < 1024) {
                throw new IllegalArgumentException();
            }
            return Optional.of(new Size((short) entries, bytes));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + v + ": expected ENTRIESxBYTES, ENTRIES a power"
                    + " of two up to 16384 and BYTES at least 1024, e.g. 256x16384");
        }
    }

    /** io_uring's handler factory, with the ring when one is configured. */
    static IoHandlerFactory handlerFactory() {
        return configured().map(size -> IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setBufferRingConfig(
                        IoUringBufferRingConfig.builder()
                                .bufferGroupId(GROUP)
                                .bufferRingSize(size.entries())
                                .batchSize(Math.min(size.entries(), 64))
                                .allocator(new IoUringFixedBufferRingAllocator(size.bytes()))
                                .build())))
                .orElseGet(IoUringIoHandler::newFactory);
    }

    /** The channel setting that makes a connection read from the ring, on io_uring with a ring configured. */
    static Optional<ChannelOptions.Setting<?>> setting(Transport transport) {
        if (!transport.name().equals("io_uring") || configured().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ChannelOptions.Setting<>(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, GROUP));
    }
}
