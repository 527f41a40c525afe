package io.sluice.admin;

import io.sluice.balance.SlowStart;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.net.Listener;
import java.util.List;

/** The live state of listeners, clusters and servers as JSON, for the admin API and the status page. */
final class ClusterJson {
    private ClusterJson() {
    }

    /**
     * {@code writesNeedToken} tells the status page whether to offer drain / enable buttons before the user has
     * given a token; it says only what the 401 of a write would say anyway.
     */
    static String clusters(List<Cluster> clusters, boolean writesNeedToken) {
        StringBuilder b = new StringBuilder("{\"time\":").append(System.currentTimeMillis())
                .append(",\"writes_need_token\":").append(writesNeedToken).append(",\"clusters\":[");
        for (int i = 0; i < clusters.size(); i++) {
            b.append(i == 0 ? "" : ",");
            cluster(b, clusters.get(i));
        }
        return b.append("]}\n").toString();
    }

    static String cluster(Cluster c) {
        StringBuilder b = new StringBuilder();
        cluster(b, c);
        return b.append('\n').toString();
    }

    private static void cluster(StringBuilder b, Cluster c) {
        b.append("{\"name\":").append(Json.quote(c.name()))
                .append(",\"algorithm\":").append(Json.quote(c.config().algorithm()))
                .append(",\"panic\":").append(c.panic())
                .append(",\"health_checks\":").append(c.config().healthCheck() != null)
                .append(",\"queue\":{\"length\":").append(c.queue().length())
                .append(",\"max\":").append(c.config().queue().max())
                .append(",\"timeouts\":").append(c.queue().timeouts())
                .append(",\"rejected\":").append(c.queue().rejected()).append('}')
                .append(",\"servers\":[");
        SlowStart slowStart = SlowStart.of(c.config().balancer().slowStart());
        List<Server> servers = c.servers();
        for (int i = 0; i < servers.size(); i++) {
            b.append(i == 0 ? "" : ",");
            server(b, servers.get(i), slowStart);
        }
        b.append("]}");
    }

    private static void server(StringBuilder b, Server s, SlowStart slowStart) {
        b.append("{\"address\":").append(Json.quote(s.label()))
                .append(",\"state\":").append(Json.quote(s.state()))
                .append(",\"admin_state\":").append(Json.quote(s.adminState().label()))
                .append(",\"healthy\":").append(s.healthy())
                .append(",\"ejected\":").append(s.ejected())
                .append(",\"backup\":").append(s.backup())
                .append(",\"weight\":").append(s.weight())
                .append(",\"configured_weight\":").append(s.configuredWeight())
                .append(",\"effective_weight\":").append(round(s.weight() * slowStart.factor(s)))
                .append(",\"active_connections\":").append(s.activeConnections() + s.pooledConnections())
                .append(",\"active_requests\":").append(s.activeRequests())
                .append(",\"max_connections\":").append(s.maxConnections())
                .append(",\"slots_used\":").append(s.slotsInUse())
                .append(",\"queued\":").append(s.queued())
                .append(",\"connections_total\":").append(s.totalConnections().sum())
                .append(",\"connect_errors\":").append(s.connectErrors().sum())
                .append(",\"responses\":").append(s.responses())
                .append(",\"errors\":").append(s.errors())
                .append(",\"ejections\":").append(s.outlier() == null ? 0 : s.outlier().ejections())
                .append(",\"latency_buckets\":[");
        long[] buckets = s.histogram().snapshot();
        for (int i = 0; i < buckets.length; i++) {
            b.append(i == 0 ? "" : ",").append(buckets[i]);
        }
        b.append("],\"last_check\":");
        Server.LastCheck last = s.lastCheck();
        if (last == null) {
            b.append("null");
        } else {
            b.append("{\"result\":").append(Json.quote(last.result())).append(",\"detail\":")
                    .append(Json.quote(last.detail())).append(",\"time\":").append(last.epochMillis()).append('}');
        }
        b.append('}');
    }

    static String listeners(List<Listener> listeners) {
        StringBuilder b = new StringBuilder("{\"listeners\":[");
        for (int i = 0; i < listeners.size(); i++) {
            Listener l = listeners.get(i);
            b.append(i == 0 ? "" : ",").append("{\"name\":").append(Json.quote(l.name()))
                    .append(",\"protocol\":").append(Json.quote(l.config().protocol().name().toLowerCase(java.util.Locale.ROOT)))
                    .append(",\"bind\":").append(Json.quote(l.config().bind().toString()))
                    // The port actually bound (differs from bind for port 0); null until bound.
                    .append(",\"bound\":").append(l.bound() ? Json.quote(new io.sluice.config.HostPort(
                            l.config().bind().host(), l.localAddress().getPort()).toString()) : "null")
                    .append(",\"cluster\":").append(Json.quote(l.config().cluster()))
                    .append(",\"active_connections\":").append(l.stats().active())
                    .append(",\"connections_total\":").append(l.stats().total())
                    .append(",\"rejected\":").append(l.stats().rejected())
                    .append(",\"no_server\":").append(l.stats().noServer()).append('}');
        }
        return b.append("]}\n").toString();
    }

    /** Latency bucket bounds in milliseconds, so the page can turn counts into percentiles. */
    static String bucketBounds() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < io.sluice.cluster.LatencyHistogram.BUCKETS - 1; i++) {
            b.append(i == 0 ? "" : ",").append(io.sluice.cluster.LatencyHistogram.upperBoundNanos(i) / 1e6);
        }
        return b.append(']').toString();
    }

    private static String round(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v);
    }
}
