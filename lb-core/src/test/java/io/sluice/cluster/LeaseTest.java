package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import org.junit.jupiter.api.Test;

class LeaseTest {
    private final Server server = new Server("c", new ServerConfig(new HostPort("127.0.0.1", 1), 1, false));

    @Test
    void eachKindOfLeaseCountsInItsOwnCounterUntilClosed() {
        Lease c = server.beginConnection();
        Lease r1 = server.beginRequest();
        Lease r2 = server.beginRequest();
        Lease p = server.beginPooledConnection();
        assertThat(server.activeConnections()).isEqualTo(1);
        assertThat(server.activeRequests()).isEqualTo(2);
        assertThat(server.pooledConnections()).isEqualTo(1);
        assertThat(server.load()).isEqualTo(3); // pooled connections are not load
        c.close();
        r1.close();
        p.close();
        assertThat(server.activeConnections()).isZero();
        assertThat(server.activeRequests()).isEqualTo(1);
        assertThat(server.pooledConnections()).isZero();
        assertThat(r2.closed()).isFalse();
        assertThat(r2.server()).isSameAs(server);
    }

    @Test
    void closingTwiceGivesBackOnlyOnce() {
        Lease a = server.beginRequest();
        Lease b = server.beginRequest();
        a.close();
        a.close();
        assertThat(a.closed()).isTrue();
        assertThat(server.activeRequests()).isEqualTo(1);
        b.close();
        assertThat(server.activeRequests()).isZero();
    }
}
