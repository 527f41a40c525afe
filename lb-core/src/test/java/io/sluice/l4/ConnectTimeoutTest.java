package io.sluice.l4;

import static io.sluice.testing.Proxies.exchange;
import static io.sluice.testing.Proxies.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay's connect timeout, kept on the client connection's clock when the listener has an idle timeout, and
 * by Netty's own task without one: a server whose accept queue is full (its SYNs dropped, as a host that does not
 * answer) times out, is charged a connect error, and the next server takes the client; a client that leaves
 * while its connect is in flight does not end the connect, which still times out and gives its lease back.
 */
class ConnectTimeoutTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private InetSocketAddress unanswering;

    @BeforeEach
    void fullAcceptQueue() throws IOException {
        ServerSocket hung = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        resources.add(hung);
        unanswering = (InetSocketAddress) hung.getLocalSocketAddress();
        // Never accepted: once its queue is full, the kernel drops the SYNs that follow.
        for (int i = 0; i < 16; i++) {
            Socket s = new Socket();
            resources.add(s);
            try {
                s.connect(unanswering, 300);
            } catch (SocketTimeoutException full) {
                return;
            }
        }
        throw new IllegalStateException("the accept queue never filled");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private Sluice sluice(String idleTimeout, String... servers) throws Exception {
        StringBuilder yaml = new StringBuilder("""
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app, idle_timeout: %s }
                clusters:
                  - name: app
                    algorithm: round_robin
                    connect_timeout: 300ms
                    servers:
                """.formatted(idleTimeout));
        for (String s : servers) {
            yaml.append("      - { address: \"").append(s).append("\" }\n");
        }
        Sluice s = Proxies.start(yaml.toString());
        resources.add(s);
        return s;
    }

    private String hung() {
        return "127.0.0.1:" + unanswering.getPort();
    }

    @ParameterizedTest(name = "idle_timeout={0}")
    @ValueSource(strings = {"10m", "0s"})
    void aServerThatDoesNotAnswerTimesOutAndTheNextOneTakesTheClient(String idleTimeout) throws Exception {
        TestBackend live = TestBackend.start("live", TestBackend.sayName());
        resources.add(live);
        Sluice s = sluice(idleTimeout, hung(), live.address());

        for (int i = 0; i < 4; i++) {
            assertThat(exchange(port(s, "front")).trim()).isEqualTo("live");
        }
        Server dead = s.cluster("app").servers().get(0);
        assertThat(dead.connectErrors().sum()).isGreaterThanOrEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> dead.activeConnections() == 0);
    }

    @ParameterizedTest(name = "idle_timeout={0}")
    @ValueSource(strings = {"10m", "0s"})
    void aClientThatLeavesDoesNotEndItsConnectWhichStillTimesOut(String idleTimeout) throws Exception {
        Sluice s = sluice(idleTimeout, hung());
        Server dead = s.cluster("app").servers().get(0);

        Socket client = Proxies.connect(port(s, "front"));
        await().atMost(Duration.ofSeconds(10)).until(() -> dead.activeConnections() == 1);
        client.setSoLinger(true, 0);
        client.close(); // a reset: the client connection closes (a FIN would only half-close it)

        await().atMost(Duration.ofSeconds(10)).until(() -> dead.connectErrors().sum() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> dead.activeConnections() == 0);
    }
}
