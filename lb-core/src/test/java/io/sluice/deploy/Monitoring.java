package io.sluice.deploy;

import static io.sluice.deploy.DeployFiles.list;
import static io.sluice.deploy.DeployFiles.map;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The PromQL in configs/grafana/sluice.json and configs/prometheus/alerts.yml, by where it is. */
final class Monitoring {
    static final String DASHBOARD = "configs/grafana/sluice.json";
    static final String ALERTS = "configs/prometheus/alerts.yml";

    private Monitoring() {
    }

    static Map<String, Object> dashboard() throws IOException {
        return DeployFiles.load(DASHBOARD); // JSON is YAML
    }

    /** Every panel, rows' nested panels included. */
    static List<Map<String, Object>> panels(Map<String, Object> dashboard) {
        List<Map<String, Object>> all = new ArrayList<>();
        for (Object p : list(dashboard.get("panels"))) {
            all.add(map(p));
            for (Object nested : list(map(p).getOrDefault("panels", List.of()))) {
                all.add(map(nested));
            }
        }
        return all;
    }

    /** Panel targets' and annotations' queries, keyed by where they are (for messages). */
    static Map<String, String> dashboardQueries() throws IOException {
        Map<String, Object> d = dashboard();
        Map<String, String> queries = new LinkedHashMap<>();
        for (Map<String, Object> p : panels(d)) {
            for (Object t : list(p.getOrDefault("targets", List.of()))) {
                queries.put("panel \"" + p.get("title") + "\" " + map(t).get("refId"), (String) map(t).get("expr"));
            }
        }
        for (Object a : list(map(d.get("annotations")).get("list"))) {
            queries.put("annotation \"" + map(a).get("name") + "\"", (String) map(a).get("expr"));
        }
        return queries;
    }

    /** The metrics read by the dashboard's query variables ({@code label_values(...)}). */
    static Set<String> variableMetrics() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Object v : list(map(dashboard().get("templating")).get("list"))) {
            if ("query".equals(map(v).get("type"))) {
                Object q = map(v).get("query");
                names.addAll(PromQl.variableQueryMetrics(q instanceof Map<?, ?> m ? (String) m.get("query") : (String) q));
            }
        }
        return names;
    }

    /** Each alert's expression, by alert name. */
    static Map<String, String> alertExpressions() throws IOException {
        Map<String, String> exprs = new LinkedHashMap<>();
        for (Object g : list(DeployFiles.load(ALERTS).get("groups"))) {
            for (Object r : list(map(g).get("rules"))) {
                exprs.put((String) map(r).get("alert"), (String) map(r).get("expr"));
            }
        }
        return exprs;
    }

    /** Grafana's variables replaced by values Prometheus accepts, so promtool can check the PromQL. */
    static String asPlainPromQl(String grafanaExpr) {
        return grafanaExpr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$__interval", "1m")
                .replaceAll("\\$\\{?\\w+}?", ".*");
    }
}
