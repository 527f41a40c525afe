package io.sluice.config;

import java.net.InetSocketAddress;

/**
 * A host (name, IPv4 literal or bracketed IPv6 literal) and a port, as written in the config. Resolution of
 * names happens later and off the event loops; this type never touches DNS.
 */
public record HostPort(String host, int port) {

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code *:port}; returns null when malformed. Port 0 is
     * accepted here (a bind to any free port); callers that need a real port check {@link #port()}.
     */
    public static HostPort parse(String text) {
        if (text == null) {
            return null;
        }
        String s = text.trim();
        String host;
        String portText;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                return null;
            }
            host = s.substring(1, close);
            portText = s.substring(close + 2);
            if (host.isEmpty() || !host.contains(":")) {
                return null;
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                return null;
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
            if (host.equals("*")) {
                host = "0.0.0.0";
            }
            if (!validHostName(host)) {
                return null;
            }
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            return null;
        }
        if (port < 0 || port > 65535) {
            return null;
        }
        return new HostPort(host, port);
    }

    /** Dot-separated labels of letters, digits, '-' and '_' (as SRV names have), 253 characters at most. */
    static boolean validHostName(String host) {
        if (host.length() > 253) {
            return false;
        }
        for (String label : host.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') {
                    return false;
                }
            }
        }
        return true;
    }

    /** True when the host is an IP literal, so no DNS lookup is ever needed. */
    public boolean isLiteral() {
        return host.contains(":") || isIpv4Literal();
    }

    public boolean isIpv4Literal() {
        return host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    /** Address for binding: literal hosts only (bind addresses are validated to be literals or localhost). */
    public InetSocketAddress toBindAddress() {
        return new InetSocketAddress(host, port);
    }

    public boolean isWildcard() {
        return host.equals("0.0.0.0") || host.equals("::");
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
