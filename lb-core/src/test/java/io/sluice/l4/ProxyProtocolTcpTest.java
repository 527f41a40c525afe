package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** PROXY protocol headers in front of a TCP listener: stripped from the relay, and the client for source_ip hashing. */
class ProxyProtocolTcpTest {
    @AutoClose
    final Resources resources = new Resources();

    private Sluice sluice(String clusterOptions, String... servers) throws Exception {
        StringBuilder list = new StringBuilder();
        for (String s : servers) {
            list.append(list.isEmpty() ? "" : ", ").append("{ address: \"").append(s).append("\" }");
        }
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: front
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol: { accept: true, trusted: ["127.0.0.1/32"] }
                clusters:
                  - name: app
                    servers: [ %s ]
                    %s
                """.formatted(list, clusterOptions)));
    }

    private static String exchange(int port, String bytes, boolean halfClose) throws IOException {
        try (Socket s = Proxies.connect(port)) {
            s.getOutputStream().write(bytes.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            if (halfClose) {
                s.shutdownOutput();
            }
            return Proxies.readAll(s.getInputStream());
        }
    }

    @Test
    void theHeaderIsReadAndWhatFollowsIsRelayed() throws Exception {
        TestBackend echo = resources.keep(TestBackend.start("echo", TestBackend.echo()));
        Sluice s = sluice("", echo.address());
        String back = exchange(Proxies.port(s, "front"),
                "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nhello after the header", true);
        assertThat(back).isEqualTo("hello after the header");
    }

    @Test
    void sourceIpHashingUsesTheAddressTheHeaderNames() throws Exception {
        TestBackend a = resources.keep(TestBackend.start("a", TestBackend.sayName()));
        TestBackend b = resources.keep(TestBackend.start("b", TestBackend.sayName()));
        Sluice s = sluice("algorithm: ring_hash\n    hash_key: source_ip", a.address(), b.address());
        int port = Proxies.port(s, "front");
        // Every socket is 127.0.0.1: only the headers' addresses can spread clients over both servers.
        Set<String> reached = new HashSet<>();
        for (int i = 1; i <= 40; i++) {
            String first = exchange(port, "PROXY TCP4 198.51.100." + i + " 127.0.0.1 5555 80\r\n", false);
            String again = exchange(port, "PROXY TCP4 198.51.100." + i + " 127.0.0.1 6666 80\r\n", false);
            assertThat(again).as("one client, one server").isEqualTo(first);
            reached.add(first.trim());
        }
        assertThat(reached).containsExactlyInAnyOrder("a", "b");
    }
}
