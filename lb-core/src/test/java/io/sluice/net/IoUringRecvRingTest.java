package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.uring.IoUringChannelOption;
import io.sluice.config.TransportKind;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@code -Dsluice.io_uring.recvRing}: what it accepts, and that only io_uring connections get the ring. */
class IoUringRecvRingTest {
    private static <T> T with(String value, Supplier<T> what) {
        String before = System.getProperty(IoUringRecvRing.PROPERTY);
        if (value == null) {
            System.clearProperty(IoUringRecvRing.PROPERTY);
        } else {
            System.setProperty(IoUringRecvRing.PROPERTY, value);
        }
        try {
            return what.get();
        } finally {
            if (before == null) {
                System.clearProperty(IoUringRecvRing.PROPERTY);
            } else {
                System.setProperty(IoUringRecvRing.PROPERTY, before);
            }
        }
    }

    @Test
    void entriesTimesBytes() {
        assertThat(with("256x16384", IoUringRecvRing::configured))
                .contains(new IoUringRecvRing.Size((short) 256, 16384));
        assertThat(with(null, IoUringRecvRing::configured)).isEmpty();
        assertThat(with("false", IoUringRecvRing::configured)).isEmpty();
    }

    @Test
    void malformedValuesNameTheProperty() {
        for (String bad : new String[] {"300x16384", "256", "256x100", "x", "65536x16384", "256x16384x2"}) {
            assertThatThrownBy(() -> with(bad, IoUringRecvRing::configured))
                    .as(bad).hasMessageContaining("sluice.io_uring.recvRing=" + bad);
        }
    }

    @Test
    void onlyIoUringConnectionsReadFromTheRing() {
        Transport nio = Transport.select(TransportKind.NIO);
        assertThat(with("256x16384", () -> IoUringRecvRing.setting(nio))).isEmpty();
        Transport uring = new Transport("io_uring", null, null, null, null);
        assertThat(with("256x16384", () -> IoUringRecvRing.setting(uring)))
                .hasValueSatisfying(s -> assertThat(s.option()).isEqualTo(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID));
        assertThat(with(null, () -> IoUringRecvRing.setting(uring))).isEmpty();
    }
}
