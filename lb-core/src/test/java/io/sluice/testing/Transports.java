package io.sluice.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;

/** Skips (rather than fails) a transport test on a machine whose kernel lacks that transport. */
public final class Transports {
    private Transports() {
    }

    public static void assumeAvailable(String transport) {
        switch (transport) {
            case "epoll" -> assumeTrue(Epoll.isAvailable(), "epoll not available here");
            case "io_uring" -> assumeTrue(IoUring.isAvailable(), "io_uring not available here");
            default -> {
            }
        }
    }
}
