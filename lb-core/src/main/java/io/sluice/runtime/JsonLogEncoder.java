package io.sluice.runtime;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.JsonEscapeUtil;

/**
 * Logback's own JSON lines, with the fields a log pipeline wants: {@code timestamp} (epoch milliseconds),
 * {@code level}, {@code threadName}, {@code loggerName}, {@code message} (formatted, its arguments filled in),
 * {@code throwable} (null, or class, message, frames and causes), and key-value pairs when there are any. Logback's
 * {@code message} is the unformatted pattern ({@code "listening on {}"}), so it is off and the formatted text
 * is written under that name instead.
 */
final class JsonLogEncoder extends JsonEncoder {
    JsonLogEncoder() {
        setWithSequenceNumber(false);
        setWithNanoseconds(false);
        setWithContext(false);
        setWithMDC(false); // Sluice puts nothing there; Logback would write an empty "mdc" on every line
        setWithMessage(false);
        setWithArguments(false);
        setWithFormattedMessage(false);
    }

    @Override
    protected void appendCustomFields(StringBuilder sb, ILoggingEvent event) {
        sb.append(",\"message\":\"").append(JsonEscapeUtil.jsonEscapeString(event.getFormattedMessage())).append('"');
    }
}
