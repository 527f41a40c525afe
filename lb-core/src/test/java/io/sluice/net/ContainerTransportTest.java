package io.sluice.net;

import static io.sluice.testing.Proxies.exchange;
import static io.sluice.testing.Proxies.port;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUring;
import io.sluice.Sluice;
import io.sluice.config.TransportKind;
import io.sluice.testing.ContainerTransportPass;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The guard of lb-core's {@code container-transport} pass (only that pass runs it): the JVM's io_uring calls
 * are refused as a container's default seccomp profile refuses them, so {@code auto} runs on epoll. Were the
 * filter not there, the pass would run its tests on io_uring a second time and prove nothing about epoll.
 */
class ContainerTransportTest {
    @BeforeEach
    void inTheFilteredJvm() {
        String seccomp = System.getProperty(ContainerTransportPass.PROPERTY);
        if (seccomp == null) {
            // Run on its own (-Dtest) or the pass lost its jvm: either way this JVM may well have io_uring.
            ExternalTool.missing("this JVM was not started by lb-core/src/test/bin/java-without-io_uring: the test"
                    + " runs in lb-core's container-transport pass (./mvnw verify)");
        } else if (!"io_uring-refused".equals(seccomp)) {
            ExternalTool.missing("the container-transport pass refuses io_uring with a seccomp filter, which needs"
                    + " Debian's 'python3-seccomp' package (apt-get install -y python3-seccomp)");
        }
    }

    @Test
    void ioUringIsRefusedAsInAContainer() {
        assertThat(IoUring.isAvailable()).isFalse();
        assertThat(Transport.isAvailable(TransportKind.IO_URING)).isFalse();
        assertThat(causes(IoUring.unavailabilityCause())).contains("Operation not permitted");
    }

    @Test
    void autoRunsTheProxyOnEpoll() throws Exception {
        try (TestBackend backend = TestBackend.start("only", TestBackend.sayName());
                Sluice sluice = Proxies.startTcp("", backend.address())) {
            assertThat(sluice.transport().isEpoll()).isTrue();
            assertThat(sluice.transport().channelClass()).isEqualTo(EpollSocketChannel.class);
            assertThat(exchange(port(sluice, "front")).trim()).isEqualTo("only");
        }
    }

    private static String causes(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            all.append(c).append('\n');
        }
        return all.toString();
    }
}
