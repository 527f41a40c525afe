package io.sluice.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Properties;

/** {@code java -jar sluice.jar COMMAND ...}: dispatches to run, check, reload, route and demo. */
public final class Main {
    static final int OK = 0;
    static final int CONFIG_ERROR = 1;
    static final int USAGE = 2;
    static final int STARTUP_FAILED = 3;

    private Main() {
    }

    public static void main(String[] args) {
        int code = execute(args, System.out, System.err, true);
        if (code != OK || !(args.length > 0 && (args[0].equals("run") || args[0].equals("demo")))) {
            System.exit(code);
        }
        // run/demo return once shut down; exit explicitly so no stray thread keeps the JVM up.
        System.exit(OK);
    }

    /** Runs one command and returns its exit code; never calls System.exit (tests call this). */
    public static int execute(String[] args, PrintStream out, PrintStream err) {
        return execute(args, out, err, false);
    }

    /**
     * {@code ownsProcess}: this is the process's own entry point, so {@code run} may set process-wide
     * properties before the first socket opens; tests share one JVM and must not.
     */
    static int execute(String[] args, PrintStream out, PrintStream err, boolean ownsProcess) {
        if (args.length == 0) {
            err.print(usage());
            return USAGE;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        return switch (args[0]) {
            case "-h", "--help", "help" -> {
                out.print(usage());
                yield OK;
            }
            case "-V", "--version", "version" -> {
                out.println("sluice " + version());
                yield OK;
            }
            case "check" -> new CheckCommand(out, err).run(rest);
            case "run" -> new RunCommand(out, err, ownsProcess).run(rest);
            case "demo" -> new DemoCommand(out, err).run(rest);
            case "route" -> new RouteCommand(out, err).run(rest);
            case "reload" -> new ReloadCommand(out, err).run(rest);
            default -> {
                err.println("sluice: unknown command '" + args[0] + "'");
                err.print(usage());
                yield USAGE;
            }
        };
    }

    static String usage() {
        return """
                Usage: java -jar sluice.jar COMMAND [ARGS]

                Commands:
                  run CONFIG.yaml     start serving; SIGTERM or Ctrl-C drains open connections, then exits 0;
                                      SIGHUP reloads CONFIG.yaml (as does `reload`)
                  check CONFIG.yaml   validate a config; exit 0 when valid, else print every error and exit 1
                  route CONFIG.yaml --host H --path P [--method M] [--header k=v]... [--listener NAME]
                                      print the route and cluster each HTTP listener picks for such a request
                  reload [--admin URL]
                                      make a running Sluice reload its config file (POST URL/admin/reload,
                                      default http://127.0.0.1:9901); prints the result, exit 0 applied, 1 rejected
                  demo [--port N] [--http-port N] [--admin-port N]
                                      start 3 embedded HTTP backends, a TCP listener (default port 8080) and
                                      an HTTP listener (8081) in front of them, and the admin endpoint with the
                                      status page (9901); prints curl commands
                  --help              show this help
                  --version           print the version

                Exit codes: 0 ok, 1 invalid config, 2 usage error, 3 could not start (e.g. port in use).
                """;
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
