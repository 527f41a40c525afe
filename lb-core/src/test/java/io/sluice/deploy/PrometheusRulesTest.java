package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.ExternalTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules pass Prometheus's own checks and unit tests ({@code promtool}, Debian's {@code prometheus}
 * package), and the dashboard's queries are PromQL Prometheus accepts.
 */
class PrometheusRulesTest {
    private static ExternalTool promtool;

    @BeforeAll
    static void tool() {
        promtool = ExternalTool.require("promtool", "prometheus");
    }

    @Test
    void alertRulesPassPromtoolCheck() throws Exception {
        ExternalTool.Run run = promtool.run("", "check", "rules", absolute(Monitoring.ALERTS));
        assertThat(run.code()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS: " + Monitoring.alertExpressions().size() + " rules found")
                .doesNotContain("FAILED");
    }

    @Test
    void alertUnitTestsPass() throws Exception {
        ExternalTool.Run run = promtool.run("", "test", "rules", absolute("configs/prometheus/alerts_test.yml"));
        assertThat(run.code()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS").doesNotContain("FAILED");
    }

    @Test
    void everyAlertHasForSeverityAndDescription() throws Exception {
        Map<String, Object> rules = DeployFiles.load(Monitoring.ALERTS);
        for (Object g : DeployFiles.list(rules.get("groups"))) {
            for (Object r : DeployFiles.list(DeployFiles.map(g).get("rules"))) {
                Map<String, Object> rule = DeployFiles.map(r);
                assertThat(rule).as(String.valueOf(rule.get("alert"))).containsKeys("alert", "expr", "for");
                assertThat(DeployFiles.map(rule.get("labels")).get("severity")).isIn("warning", "critical");
                assertThat(DeployFiles.map(rule.get("annotations"))).containsKeys("summary", "description");
            }
        }
        assertThat(Monitoring.alertExpressions()).containsKeys("SluiceServerDown", "SluiceClusterInPanic",
                "SluiceHigh5xxRatio", "SluiceTlsCertificateExpiringSoon", "SluiceConfigReloadRejected");
    }

    @Test
    void dashboardQueriesAreValidPromQl(@TempDir Path dir) throws Exception {
        // promtool has no offline query check; a recording rule per query is one.
        List<String> queries = List.copyOf(Monitoring.dashboardQueries().values());
        Map<String, Object> rules = new LinkedHashMap<>();
        rules.put("groups", List.of(Map.of("name", "dashboard", "rules", IntStream.range(0, queries.size())
                .mapToObj(i -> Map.of("record", "dashboard:query_" + i, "expr", Monitoring.asPlainPromQl(queries.get(i))))
                .toList())));
        Path file = dir.resolve("dashboard-rules.yml");
        Files.writeString(file, DeployFiles.yaml().dump(rules), StandardCharsets.UTF_8);
        ExternalTool.Run run = promtool.run("", "check", "rules", file.toString());
        assertThat(run.code()).as(run.output()).isZero();
        assertThat(run.output()).contains("SUCCESS: " + queries.size() + " rules found").doesNotContain("FAILED");
    }

    private static String absolute(String relative) {
        return DeployFiles.path(relative).toAbsolutePath().normalize().toString();
    }
}
