package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code servers[].max_connections}, {@code clusters[].queue} and {@code pool.max_waiting}: values, defaults, errors. */
class ServerLimitsConfigTest {
    private static final String LISTENER = "listeners: [ { name: a, bind: \"127.0.0.1:1\", cluster: app } ]\n";

    @Test
    void readsTheLimitsAndTheirDefaults() throws Exception {
        SluiceConfig c = ConfigLoader.parse(LISTENER + """
                clusters:
                  - name: app
                    queue: { max: 50, timeout: 250ms }
                    pool: { max_waiting: 7 }
                    servers: [ { address: "127.0.0.1:9001", max_connections: 4 }, { address: "127.0.0.1:9002" } ]
                  - name: plain
                    servers: [ { address: "127.0.0.1:9003" } ]
                """);
        ClusterConfig app = c.cluster("app");
        assertThat(app.queue()).isEqualTo(new QueueConfig(50, Duration.ofMillis(250)));
        assertThat(app.pool().maxWaiting()).isEqualTo(7);
        assertThat(app.servers()).extracting(ServerConfig::maxConnections).containsExactly(4, 0);
        ClusterConfig plain = c.cluster("plain");
        assertThat(plain.queue()).isEqualTo(QueueConfig.DEFAULT);
        assertThat(plain.queue()).isEqualTo(new QueueConfig(1024, Duration.ofSeconds(5)));
        assertThat(plain.pool().maxWaiting()).isEqualTo(PoolConfig.DEFAULT_MAX_WAITING).isEqualTo(4096);
    }

    @Test
    void errorsNameTheKeyAndLine() {
        assertThatThrownBy(() -> ConfigLoader.parse(LISTENER + """
                clusters:
                  - name: app
                    servers: [ { address: "127.0.0.1:9001", max_connections: -1 } ]
                """)).hasMessageContaining("clusters[0].servers[0].max_connections (line 4, col 62): must be between 0 and 1000000, got -1");
        assertThatThrownBy(() -> ConfigLoader.parse(LISTENER + """
                clusters:
                  - name: app
                    queue: { max: 10, timeout: soon }
                    servers: [ { address: "127.0.0.1:9001" } ]
                """)).hasMessageContaining("clusters[0].queue.timeout (line 4, col 32): expected a duration");
        assertThatThrownBy(() -> ConfigLoader.parse(LISTENER + """
                clusters:
                  - name: app
                    queue: { maxx: 10 }
                    servers: [ { address: "127.0.0.1:9001" } ]
                """)).hasMessageContaining("clusters[0].queue.maxx (line 4, col 14): unknown key; did you mean \"max\"?");
        assertThatThrownBy(() -> ConfigLoader.parse(LISTENER + """
                clusters:
                  - name: app
                    pool: { max_waiting: many }
                    servers: [ { address: "127.0.0.1:9001" } ]
                """)).hasMessageContaining("clusters[0].pool.max_waiting (line 4, col 26): expected a whole number, got \"many\"");
    }
}
