package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.net.FirstAckDelay;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An HTTP listener's connections start with quick-ACK off, so a first request is acknowledged by its response
 * rather than by a segment of its own (see {@link FirstAckDelay}): read back from the kernel on the very socket
 * Sluice accepted, before any byte has crossed it (a keep-alive exchange would set the mode by itself), whether a
 * channel serves it or the front without channels ({@link UringHttpConnection}, io_uring's default).
 */
class FirstAckDelayTest {
    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "io_uring"})
    void acceptedConnectionsWaitToAcknowledgeWithTheResponse(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (HttpBackend b = new HttpBackend("a", (req, out, s) ->
                HttpBackend.respond(out, 200, "text/plain", "ok".getBytes(StandardCharsets.US_ASCII)));
             Sluice s = Proxies.startHttp(transport, b.address());
             Socket c = Proxies.connect(Proxies.port(s, "web"))) {
            HttpListener web = (HttpListener) s.listener("web");
            await().atMost(Duration.ofSeconds(10)).until(() -> web.clients().count() == 1);
            List<Boolean> delayed = new CopyOnWriteArrayList<>();
            web.clients().forEach(ch -> delayed.add(FirstAckDelay.delaysAcks(ch)),
                    m -> delayed.add(FirstAckDelay.delaysAcks(((UringHttpConnection) m).fd())), 10, TimeUnit.SECONDS);
            assertThat(delayed).containsExactly(true);

            c.setSoTimeout(10_000);
            c.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("ok");
        }
    }

    /** The kernel's default, which the check above must be able to tell apart: a plain accepted socket ACKs at once. */
    @Test
    void aSocketAcceptedWithoutItAcknowledgesAtOnce() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            assertThat(accepted.supportedOptions()).contains(ExtendedSocketOptions.TCP_QUICKACK);
            assertThat(accepted.getOption(ExtendedSocketOptions.TCP_QUICKACK)).isTrue();
        }
    }
}
