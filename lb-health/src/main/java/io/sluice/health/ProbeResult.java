package io.sluice.health;

/** The outcome of one probe, with a short human reason for failures ("status 503", "connection refused"). */
public record ProbeResult(Outcome outcome, String detail) {

    public enum Outcome {
        SUCCESS, FAILURE, TIMEOUT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final ProbeResult OK = new ProbeResult(Outcome.SUCCESS, "ok");

    static ProbeResult failure(String detail) {
        return new ProbeResult(Outcome.FAILURE, detail);
    }

    public boolean passed() {
        return outcome == Outcome.SUCCESS;
    }
}
