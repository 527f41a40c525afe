package io.sluice.cli;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.http.Route;
import io.sluice.http.RouteTable;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code route CONFIG.yaml --host H --path P [--method M] [--header k=v]... [--listener NAME]}: prints which route
 * and cluster each HTTP listener would pick for such a request, without starting anything.
 */
final class RouteCommand {
    static final String USAGE = "usage: sluice route CONFIG.yaml --host H --path P [--method M] [--header k=v]..."
            + " [--listener NAME]";

    private final PrintStream out;
    private final PrintStream err;

    RouteCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        if (args.length == 0 || args[0].startsWith("--")) {
            err.println(USAGE);
            return Main.USAGE;
        }
        String host = null;
        String path = null;
        String method = "GET";
        String only = null;
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (i + 1 >= args.length) {
                err.println(USAGE);
                return Main.USAGE;
            }
            String v = args[++i];
            switch (args[i - 1]) {
                case "--host" -> host = v;
                case "--path" -> path = v;
                case "--method" -> method = v;
                case "--listener" -> only = v;
                case "--header" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        err.println("--header needs name=value, got \"" + v + "\"");
                        return Main.USAGE;
                    }
                    headers.add(new String[] {v.substring(0, eq), v.substring(eq + 1)});
                }
                default -> {
                    err.println(USAGE);
                    return Main.USAGE;
                }
            }
        }
        if (host == null || path == null || !path.startsWith("/")) {
            err.println(USAGE + "\n(--host and --path are required; the path starts with /)");
            return Main.USAGE;
        }
        var loaded = CheckCommand.load(Path.of(args[0]), err);
        if (loaded == null) {
            return Main.CONFIG_ERROR;
        }
        SluiceConfig config = loaded.config();
        HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), path);
        req.headers().set("host", host);
        for (String[] h : headers) {
            req.headers().add(h[0], h[1]);
        }
        int shown = 0;
        for (ListenerConfig l : config.listeners()) {
            if (l.protocol() != ListenerConfig.Protocol.HTTP || (only != null && !only.equals(l.name()))) {
                continue;
            }
            Route r = RouteTable.explain(l).match(req);
            String rewritten = r.rewrite(path);
            out.println("listener " + l.name() + ": route " + r.name() + " -> cluster " + r.clusterName()
                    + (rewritten.equals(path) ? "" : " (path sent as " + rewritten + ")"));
            shown++;
        }
        if (shown == 0) {
            err.println(args[0] + ": no HTTP listener" + (only != null ? " named " + only : ""));
            return Main.USAGE;
        }
        return Main.OK;
    }
}
