package io.sluice.http;

import static io.sluice.http.ExchangeHarness.drain;
import static io.sluice.http.ExchangeHarness.flushes;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sluice.http.ExchangeHarness.Pool.Answer;
import org.junit.jupiter.api.Test;

/**
 * The exchange's phases and the failures in each, driven through EmbeddedChannels on both sides (see
 * {@link ExchangeHarness}): what the server gets, what the client gets, what happens to the server connection
 * (reused, closed, detached) and that every request lease is given back.
 */
class ExchangeStateTest {
    private static final String GET = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    // UPSTREAM -> RESPONSE -> DONE

    @Test
    void requestIsForwardedWithOneFlushAndTheAnsweredConnectionIsReused() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            EmbeddedChannel server = h.pool.last();
            assertThat(flushes(server)).isEqualTo(1);
            String sent = drain(server);
            assertThat(sent).startsWith("GET /a HTTP/1.1\r\n").contains("host: h", "x-forwarded-for: unknown", "via: 1.1 sluice");
            server.writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\nok");
            assertThat(h.pool.events).containsExactly("reuse");
            h.assertNoLeases();
            // The connection serves the next request.
            h.clientSends(GET);
            assertThat(h.pool.opened).hasSize(2);
            h.pool.last().writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
        }
    }

    @Test
    void headResponseHasNoBodyAndTheNextResponseHasOne() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n");
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK").contains("Content-Length: 5").endsWith("\r\n\r\n");
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
            assertThat(h.clientReceived()).endsWith("2\r\nok\r\n0\r\n\r\n");
        }
    }

    @Test
    void pipelinedRequestWaitsForTheFirstResponse() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(h.pool.opened).hasSize(1);
            assertThat(drain(h.pool.last())).startsWith("GET /a ");
            h.pool.last().writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.pool.opened).hasSize(2);
            assertThat(drain(h.pool.last())).startsWith("GET /b ");
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 204 No Content\r\n\r\n"));
            String got = h.clientReceived();
            assertThat(got.indexOf("200 OK")).isLessThan(got.indexOf("204 No Content"));
        }
    }

    @Test
    void bodyQueuedWhileConnectingGoesOutWithTheHeadInOneFlush() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.pool.script.add(Answer.CONNECTING);
            h.clientSends("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
            EmbeddedChannel server = h.pool.connect();
            assertThat(flushes(server)).isEqualTo(1);
            assertThat(drain(server)).startsWith("POST /a").endsWith("\r\n\r\nhello");
            server.writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
            h.assertNoLeases();
        }
    }

    @Test
    void serverAnsweringBeforeTheBodyEndsClosesBothConnections() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello");
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
            // The close is decided at the response's end, after its head went (as before).
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 403");
            assertThat(h.client.isActive()).isFalse();
            assertThat(h.pool.events).containsExactly("close");
            h.assertNoLeases();
        }
    }

    // INFORMATIONAL

    @Test
    void interimResponseReachesAnHttp11ClientBeforeTheFinalOne() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK");
            assertThat(h.pool.events).containsExactly("reuse");
        }
    }

    @Test
    void interimResponseIsDroppedForAnHttp10Client() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends("GET /a HTTP/1.0\r\nHost: h\r\n\r\n");
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 100 Continue\r\n\r\n" + OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK").doesNotContain("100 Continue");
            assertThat(h.client.isActive()).isFalse(); // an HTTP/1.0 client without keep-alive
        }
    }

    // SWITCHING -> TUNNEL

    @Test
    void upgradeBecomesATunnelAndTheConnectionLeavesThePool() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
            EmbeddedChannel server = h.pool.last();
            assertThat(drain(server)).contains("upgrade: websocket", "connection: upgrade");
            server.writeInbound(ExchangeHarness.ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 101").contains("connection: upgrade");
            assertThat(h.pool.events).containsExactly("detach");
            h.assertNoLeases();
            h.clientSends("\u0081\u0085raw bytes");
            assertThat(drain(server)).isEqualTo("\u0081\u0085raw bytes");
            server.writeInbound(ExchangeHarness.ascii("back"));
            assertThat(h.clientReceived()).isEqualTo("back");
        }
    }

    @Test
    void switchingProtocolsToARequestThatDidNotAskIsABadResponse() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("101 from the server");
            assertThat(h.errors(ErrorReason.BAD_RESPONSE)).isEqualTo(1);
            assertThat(h.pool.events).containsExactly("close");
            h.assertNoLeases();
        }
    }

    // Server failures before and during the response

    @Test
    void malformedResponseIsA502() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 abc nonsense\r\n\r\n"));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("invalid response from the server");
            assertThat(h.client.isActive()).isTrue();
            h.assertNoLeases();
        }
    }

    @Test
    void serverClosingBeforeRespondingIsA502WithoutRetries() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("retries: 0", "")) {
            h.clientSends(GET);
            h.pool.last().close();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("closed the connection before responding");
            assertThat(h.errors(ErrorReason.BACKEND_RESET)).isEqualTo(1);
            h.assertNoLeases();
        }
    }

    @Test
    void serverClosingBeforeRespondingResendsToAnotherServer() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().close();
            EmbeddedChannel second = h.pool.last();
            assertThat(h.pool.opened).hasSize(2);
            assertThat(h.pool.asked().get(1)).isNotSameAs(h.pool.asked().get(0));
            assertThat(drain(second)).startsWith("GET /a ");
            second.writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
            assertThat(h.listener.retries()).isEqualTo(1);
            h.assertNoLeases();
        }
    }

    private static final String ONE_SERVER = "servers: [ { address: \"127.0.0.1:1\" } ]";

    @Test
    void resetOnAReusedConnectionResendsAndMayUseTheSameServer() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("", ONE_SERVER)) {
            h.pool.script.add(Answer.REUSED);
            h.clientSends("PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody");
            h.pool.last().close();
            assertThat(h.pool.asked()).hasSize(2);
            assertThat(drain(h.pool.last())).startsWith("PUT /a").endsWith("\r\n\r\nbody");
            h.pool.last().writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
            h.assertNoLeases();
        }
    }

    @Test
    void resetOnAFreshConnectionAvoidsThatServerForTheResend() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("", ONE_SERVER)) {
            h.clientSends(GET);
            h.pool.last().close();
            assertThat(h.pool.asked()).hasSize(1);
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("closed the connection before responding");
            h.assertNoLeases();
        }
    }

    @Test
    void serverClosingMidResponseCutsTheClient() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"));
            h.pool.last().close();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK").endsWith("half");
            assertThat(h.client.isActive()).isFalse();
            assertThat(h.errors(ErrorReason.BROKEN_RESPONSE)).isEqualTo(1);
            h.assertNoLeases();
        }
    }

    @Test
    void noResponseInTimeIsA504() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("response_timeout: 30ms", "")) {
            h.clientSends(GET);
            Thread.sleep(60);
            h.client.runScheduledPendingTasks();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 504").contains("did not respond in time");
            assertThat(h.errors(ErrorReason.TIMEOUT)).isEqualTo(1);
            assertThat(h.pool.events).containsExactly("close");
            h.assertNoLeases();
        }
    }

    // Placement: connect failures, no server, pool wait

    @Test
    void connectFailingAtOnceMovesOnToTheNextServer() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.pool.script.add(Answer.FAIL);
            h.clientSends(GET);
            assertThat(h.pool.asked()).hasSize(2);
            assertThat(h.pool.asked().get(1)).isNotSameAs(h.pool.asked().get(0));
            h.pool.last().writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
        }
    }

    @Test
    void everyConnectFailingIsA502() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("", "connect_retries: 1,")) {
            h.pool.script.add(Answer.FAIL);
            h.pool.script.add(Answer.CONNECTING);
            h.clientSends(GET);
            h.pool.failConnect();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("could not connect to a server");
            assertThat(h.errors(ErrorReason.CONNECT_FAILED)).isEqualTo(1);
            assertThat(h.client.isActive()).isTrue();
        }
    }

    @Test
    void poolWaitExpiringIsA503() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("", "connect_timeout: 30ms,")) {
            h.pool.script.add(Answer.BUSY);
            h.clientSends(GET);
            Thread.sleep(60);
            h.client.runScheduledPendingTasks();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 503").contains("no connection to a server came free");
            assertThat(h.pool.waiting()).isFalse();
            assertThat(h.errors(ErrorReason.POOL_EXHAUSTED)).isEqualTo(1);
            // The request's end, queued while waiting, was taken: the connection serves the next request.
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii(OK));
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 200 OK");
        }
    }

    // Local answers and the request body

    @Test
    void localAnswerWhileTheBodyIsStillArrivingClosesTheConnection() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("", "connect_retries: 0,")) {
            h.pool.script.add(Answer.CONNECTING);
            h.clientSends("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello");
            h.pool.failConnect();
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 502").contains("connection: close");
            assertThat(h.client.isActive()).isFalse();
        }
    }

    @Test
    void bodyDeclaredTooLargeIsA413AndTheConnectionCloses() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("max_body_size: 4", "")) {
            h.clientSends("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel");
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 413").contains("connection: close");
            assertThat(h.pool.opened).isEmpty();
            assertThat(h.client.isActive()).isFalse();
        }
    }

    @Test
    void chunkedBodyGrowingTooLargeIsA413AndTheServerConnectionCloses() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness("max_body_size: 4", "")) {
            h.clientSends("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
            h.clientSends("3\r\ndef\r\n");
            assertThat(h.clientReceived()).startsWith("HTTP/1.1 413");
            assertThat(h.pool.events).containsExactly("close");
            assertThat(h.client.isActive()).isFalse();
            h.assertNoLeases();
        }
    }

    @Test
    void clientClosingMidResponseClosesTheServerConnection() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.clientSends(GET);
            h.pool.last().writeInbound(ExchangeHarness.ascii("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"));
            h.client.close();
            assertThat(h.errors(ErrorReason.CLIENT_CLOSED)).isEqualTo(1);
            assertThat(h.pool.events).containsExactly("close");
            h.assertNoLeases();
        }
    }

    @Test
    void clientClosingWhileWaitingForAConnectionStopsTheWait() throws Exception {
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.pool.script.add(Answer.BUSY);
            h.clientSends(GET);
            h.client.close();
            assertThat(h.pool.events).containsExactly("cancel");
            assertThat(h.pool.waiting()).isFalse();
        }
    }
}
