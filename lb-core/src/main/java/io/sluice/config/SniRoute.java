package io.sluice.config;

/**
 * One route of a TCP listener that reads the SNI of the client's ClientHello without terminating TLS.
 *
 * @param sni lower case; a leading {@code *.} matches any subdomain
 */
public record SniRoute(String name, String sni, String cluster) {
}
