package io.sluice.cli;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code reload [--admin URL]}: asks a running Sluice to read its config file again, through
 * {@code POST /admin/reload}, and prints the JSON answer. Exit 0 when applied, 1 when rejected, 3 when the
 * admin endpoint cannot be reached.
 */
final class ReloadCommand {
    static final String DEFAULT_ADMIN = "http://127.0.0.1:9901";

    private final PrintStream out;
    private final PrintStream err;

    ReloadCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        String admin = DEFAULT_ADMIN;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--admin") && i + 1 < args.length) {
                admin = args[++i];
            } else {
                err.println("usage: sluice reload [--admin URL]   (default " + DEFAULT_ADMIN + ")");
                return Main.USAGE;
            }
        }
        URI uri;
        try {
            uri = URI.create(admin.replaceAll("/+$", "") + "/admin/reload");
        } catch (IllegalArgumentException e) {
            err.println("sluice reload: not a URL: " + admin);
            return Main.USAGE;
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            out.print(r.body());
            return switch (r.statusCode()) {
                case 200 -> Main.OK;
                case 422 -> Main.CONFIG_ERROR;
                default -> {
                    err.println("sluice reload: " + uri + " answered " + r.statusCode());
                    yield Main.STARTUP_FAILED;
                }
            };
        } catch (java.io.IOException e) {
            err.println("sluice reload: cannot reach " + uri + ": " + e);
            return Main.STARTUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.STARTUP_FAILED;
        }
    }
}
