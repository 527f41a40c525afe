package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend that sends part of a response and resets the connection, many times over on each transport: the
 * reset arrives while a read of the last bytes is in flight often enough that a transport which loses the
 * hang-up event in that window (Netty 4.2.18's multishot io_uring poll did, about one time in four) leaves a
 * client waiting here instead of seeing its response cut short.
 */
class BackendResetTest {
    private static final int ROUNDS = 25;

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void everyResetMidResponseReachesTheClient(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (HttpBackend dying = new HttpBackend("a", (req, out, s) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.setSoLinger(true, 0);
            s.close();
        });
             Sluice s = Proxies.start("""
                     runtime: { transport: %s, worker_threads: 1 }
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { retries: 0 } }
                     clusters:
                       - name: app
                         servers: [ { address: "%s" } ]
                     """.formatted(transport, dying.address()))) {
            int port = Proxies.port(s, "web");
            for (int i = 0; i < ROUNDS; i++) {
                try (RawHttp c = new RawHttp(port)) {
                    c.socket.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
                    c.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    assertThatThrownBy(c::read).as("round %d", i).isInstanceOf(IOException.class)
                            .hasMessageContaining("cut short");
                }
            }
            assertThat(dying.accepted()).isEqualTo(ROUNDS);
        }
    }
}
