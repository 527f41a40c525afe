/**
 * TLS: server contexts chosen by SNI with certificates reloaded while running, client contexts towards
 * servers, handshake accounting, and reading the SNI of a ClientHello without terminating. Sits above
 * {@code net} and below the protocols ({@code l4}, {@code http}) that put its handlers in their pipelines.
 */
package io.sluice.tls;
