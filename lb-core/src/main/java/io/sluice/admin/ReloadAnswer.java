package io.sluice.admin;

import io.sluice.config.ConfigError;
import io.sluice.runtime.ReloadResult;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The JSON answer to {@code POST /admin/reload}: {@code {"result":"applied","changes":[...],"restart_required":[...]}}
 * with 200, or {@code {"result":"rejected","errors":[{"path","line","column","message"}]}} with 422.
 */
final class ReloadAnswer {
    private ReloadAnswer() {
    }

    static int status(ReloadResult r) {
        return r.applied() ? 200 : 422;
    }

    static String json(ReloadResult r) {
        StringBuilder b = new StringBuilder("{\"result\":").append(Json.quote(r.result()));
        if (r.applied()) {
            b.append(",\"changes\":").append(strings(r.changes()));
            b.append(",\"restart_required\":").append(strings(r.needsRestart()));
        } else {
            b.append(",\"errors\":[").append(r.errors().stream().map(ReloadAnswer::error)
                    .collect(Collectors.joining(","))).append(']');
        }
        return b.append("}\n").toString();
    }

    private static String error(ConfigError e) {
        return "{\"path\":" + Json.quote(e.path()) + ",\"line\":" + e.line() + ",\"column\":" + e.column()
                + ",\"message\":" + Json.quote(e.message()) + "}";
    }

    private static String strings(List<String> list) {
        return list.stream().map(Json::quote).collect(Collectors.joining(",", "[", "]"));
    }
}
