package io.sluice.config;

/**
 * A {@code servers} entry naming a DNS SRV record: each target:port of its answer becomes a server.
 *
 * @param name           the SRV name, without a trailing dot
 * @param maxConnections {@code max_connections} of each server the record names; 0 = unlimited
 */
public record SrvEntry(String name, int maxConnections) {
}
