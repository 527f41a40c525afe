package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The name extraction the dashboard and alert checks rely on: metrics found, nothing else taken for one. */
class PromQlTest {

    @Test
    void findsMetricsInsideFunctionsAggregationsAndMatchers() {
        assertThat(PromQl.metricNames("histogram_quantile(0.99, sum by (le, cluster) "
                + "(rate(sluice_http_request_duration_seconds_bucket{instance=~\"$instance\", cluster=~\"a|b\"}[$__rate_interval])))"))
                .containsExactly("sluice_http_request_duration_seconds_bucket");
        assertThat(PromQl.metricNames("sum by (listener) (rate(a_total{code=\"5xx\"}[5m])) / ignoring (code) "
                + "group_left (route) sum without (code) (rate(b_total[5m] offset 1h)) > bool 0.05 and on (x) c"))
                .containsExactly("a_total", "b_total", "c");
        assertThat(PromQl.metricNames("x - time() < 14 * 86400 or vector(0)")).containsExactly("x");
        assertThat(PromQl.metricNames("min by (listener, name) (e{listener=~\"${listener}\"}) - 1e3"))
                .containsExactly("e");
    }

    @Test
    void variableQueriesNameTheirMetricNotTheirLabel() {
        assertThat(PromQl.variableQueryMetrics("label_values(sluice_server_up{instance=~\"$instance\"}, cluster)"))
                .containsExactly("sluice_server_up");
        assertThat(PromQl.variableQueryMetrics("label_values(sluice_config_info, instance)"))
                .containsExactly("sluice_config_info");
    }
}
