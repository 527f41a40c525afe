package io.sluice.deploy;

import static io.sluice.deploy.DeployFiles.list;
import static io.sluice.deploy.DeployFiles.map;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * configs/grafana/sluice.json imports as is: unique panel ids on a 24-column grid, every panel with a query,
 * and every query on the data source chosen at import (the {@code datasource} variable). Its metric names are
 * checked against a running Sluice by {@link MonitoringMetricsTest}, its PromQL by {@link PrometheusRulesTest}.
 */
class GrafanaDashboardTest {

    @Test
    void panelsAreWellFormed() throws Exception {
        Map<String, Object> d = Monitoring.dashboard();
        assertThat(d).containsKeys("title", "uid", "schemaVersion", "panels", "templating");
        Set<Object> ids = new HashSet<>();
        for (Map<String, Object> p : Monitoring.panels(d)) {
            assertThat(ids.add(p.get("id"))).as("panel id %s is unique", p.get("id")).isTrue();
            Map<String, Object> grid = map(p.get("gridPos"));
            int x = ((Number) grid.get("x")).intValue();
            int w = ((Number) grid.get("w")).intValue();
            assertThat(x + w).as("panel \"%s\" fits the grid", p.get("title")).isLessThanOrEqualTo(24);
            if (!"row".equals(p.get("type"))) {
                List<Object> targets = list(p.get("targets"));
                assertThat(targets).as("panel \"%s\" queries something", p.get("title")).isNotEmpty();
                assertThat(map(p.get("datasource"))).containsEntry("uid", "${datasource}");
                for (Object t : targets) {
                    assertThat(map(t)).containsKeys("refId", "expr");
                    assertThat(map(map(t).get("datasource"))).containsEntry("uid", "${datasource}");
                }
            }
        }
        List<Object> variables = list(map(d.get("templating")).get("list"));
        assertThat(variables).extracting(v -> map(v).get("name")).contains("datasource", "instance", "cluster", "listener");
        assertThat(map(variables.get(0))).containsEntry("type", "datasource").containsEntry("query", "prometheus");
    }

    @Test
    void coversWhatAnOperatorLooksAt() throws Exception {
        String all = String.join("\n", Monitoring.dashboardQueries().values());
        assertThat(all).contains("sluice_listener_connections_active", "sluice_server_up", "sluice_server_ejected",
                "sluice_http_requests_total", "code=\"5xx\"", "histogram_quantile(0.99",
                "sluice_http_request_duration_seconds_bucket", "sluice_server_bytes_sent_total",
                "sluice_server_bytes_received_total", "sluice_tls_handshakes_total",
                "sluice_tls_certificate_expiry_timestamp_seconds", "sluice_cluster_panic");
    }
}
