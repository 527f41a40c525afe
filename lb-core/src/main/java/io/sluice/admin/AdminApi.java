package io.sluice.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runtime admin API under {@code /admin/}: the effective config, listeners, clusters and servers as JSON,
 * reload, and an operator's drain / disable / enable / weight of one server. Changes run on the control
 * thread; a request naming an unknown cluster or server gets 404, a malformed one 400, and neither changes
 * anything.
 */
final class AdminApi {
    private static final Pattern SERVER_ACTION = Pattern.compile("/admin/clusters/([^/]+)/servers/([^/]+)/([a-z]+)");
    private static final Pattern CLUSTER = Pattern.compile("/admin/clusters/([^/]+)");
    private static final Pattern WEIGHT_BODY = Pattern.compile("\\s*\\{\\s*\"weight\"\\s*:\\s*(-?\\d{1,9})\\s*}\\s*");
    static final int MAX_WEIGHT = 10_000;

    private final AdminControl control;
    /** Whether writes need the bearer token now (it can come and go with a reload). */
    private final BooleanSupplier writesNeedToken;

    AdminApi(AdminControl control, BooleanSupplier writesNeedToken) {
        this.control = control;
        this.writesNeedToken = writesNeedToken;
    }

    /** True for requests that change something: they always need the token when one is configured. */
    static boolean isWrite(HttpMethod method) {
        return !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD);
    }

    CompletableFuture<Answer> handle(HttpMethod method, String path, String body) {
        if (path.equals("/admin/reload")) {
            return method.equals(HttpMethod.POST)
                    ? control.reload().thenApply(r -> Answer.json(ReloadAnswer.status(r), ReloadAnswer.json(r)))
                    : done(Answer.error(405, "use POST"));
        }
        if (!isWrite(method)) {
            return done(read(path));
        }
        Matcher m = SERVER_ACTION.matcher(path);
        if (!m.matches()) {
            return done(Answer.error(404, "no such admin resource: " + path));
        }
        String clusterName = decode(m.group(1));
        String address = decode(m.group(2));
        String action = m.group(3);
        return switch (action) {
            case "drain", "disable", "enable" -> method.equals(HttpMethod.POST)
                    ? change(clusterName, address, (c, s) -> c.setAdminState(s, switch (action) {
                        case "drain" -> Server.AdminState.DRAINING;
                        case "disable" -> Server.AdminState.DISABLED;
                        default -> Server.AdminState.ENABLED;
                    }))
                    : done(Answer.error(405, "use POST"));
            case "weight" -> method.equals(HttpMethod.PUT) ? weight(clusterName, address, body)
                    : done(Answer.error(405, "use PUT with {\"weight\": N}"));
            default -> done(Answer.error(404, "no such action: " + action));
        };
    }

    private Answer read(String path) {
        switch (path) {
            case "/admin/config":
                return Answer.json(200, ConfigJson.write(control.config()));
            case "/admin/listeners":
                return Answer.json(200, ClusterJson.listeners(control.listeners()));
            case "/admin/clusters":
                return Answer.json(200, ClusterJson.clusters(control.clusters(), writesNeedToken.getAsBoolean()));
            default:
                Matcher m = CLUSTER.matcher(path);
                if (m.matches()) {
                    Cluster c = cluster(decode(m.group(1)));
                    return c == null ? Answer.error(404, "no cluster " + decode(m.group(1)))
                            : Answer.json(200, ClusterJson.cluster(c));
                }
                return Answer.error(404, "no such admin resource: " + path);
        }
    }

    private CompletableFuture<Answer> weight(String clusterName, String address, String body) {
        Matcher w = WEIGHT_BODY.matcher(body == null ? "" : body);
        if (!w.matches()) {
            return done(Answer.error(400, "the body must be {\"weight\": N}"));
        }
        int weight = Integer.parseInt(w.group(1));
        if (weight < 1 || weight > MAX_WEIGHT) {
            return done(Answer.error(400, "weight must be 1 to " + MAX_WEIGHT + ", got " + weight));
        }
        return change(clusterName, address, (c, s) -> c.setWeightOverride(s, weight));
    }

    private interface Change {
        void apply(Cluster cluster, Server server);
    }

    private CompletableFuture<Answer> change(String clusterName, String address, Change change) {
        return control.onControlThread(() -> {
            Cluster c = cluster(clusterName);
            if (c == null) {
                return Answer.error(404, "no cluster " + clusterName);
            }
            Server s = c.server(address);
            if (s == null) {
                return Answer.error(404, "no server " + address + " in cluster " + clusterName);
            }
            change.apply(c, s);
            return Answer.json(200, ClusterJson.cluster(c));
        });
    }

    private Cluster cluster(String name) {
        for (Cluster c : control.clusters()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return null;
    }

    private static String decode(String s) {
        return QueryStringDecoder.decodeComponent(s);
    }

    private static CompletableFuture<Answer> done(Answer a) {
        return CompletableFuture.completedFuture(a);
    }
}
