package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code listeners[].limits} and {@code http.send_timeout}: read, defaulted, and refused with their lines. */
class ClientLimitsConfigTest {
    @Test
    void readAndDefaulted() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - { name: a, bind: "127.0.0.1:0", cluster: app,
                      limits: { connections_per_ip: 10, requests_per_second_per_ip: 5, burst: 20 } }
                  - { name: b, bind: "127.0.0.1:0", cluster: app, limits: { requests_per_second_per_ip: 5 } }
                  - { name: c, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { send_timeout: 5s } }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """);
        assertThat(c.listeners().get(0).limits()).isEqualTo(new ClientLimitsConfig(10, 5, 20));
        assertThat(c.listeners().get(1).limits().bucketSize()).as("one second's worth").isEqualTo(5);
        assertThat(c.listeners().get(2).limits()).isEqualTo(ClientLimitsConfig.NONE);
        assertThat(c.listeners().get(2).limits().any()).isFalse();
        assertThat(c.listeners().get(2).http().sendTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.listeners().get(0).http().sendTimeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void mistakesAreReportedWithTheirLines() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("""
                listeners:
                  - name: a
                    bind: "127.0.0.1:0"
                    cluster: app
                    limits: { connections_per_ip: -1, burst: 3, requests_per_sec: 4 }
                  - name: b
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { send_timeout: soon }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """));
        List<String> errors = e.errors().stream().map(ConfigError::toString).toList();
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].limits.connections_per_ip (line 5"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].limits.burst (line 5")
                .contains("needs requests_per_second_per_ip"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].limits.requests_per_sec (line 5")
                .contains("did you mean \"requests_per_second_per_ip\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[1].http.send_timeout (line 10"));
    }
}
