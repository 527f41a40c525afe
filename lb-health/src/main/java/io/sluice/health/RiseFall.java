package io.sluice.health;

/**
 * HAProxy's rise/fall state machine: an UP target goes DOWN after {@code fall} failed checks in a row, a DOWN
 * target comes UP after {@code rise} passed checks in a row; anything less changes nothing, so a flapping
 * target does not flap the rotation. Not thread-safe: one target's checks run on one event loop.
 */
final class RiseFall {
    private final int rise;
    private final int fall;
    private boolean up;
    private int passes;
    private int failures;

    RiseFall(int rise, int fall, boolean initialUp) {
        this.rise = rise;
        this.fall = fall;
        this.up = initialUp;
    }

    /** Records one result; returns true when this result changed the state. */
    boolean record(boolean passed) {
        if (passed) {
            failures = 0;
            passes++;
            if (!up && passes >= rise) {
                up = true;
                passes = 0;
                return true;
            }
        } else {
            passes = 0;
            failures++;
            if (up && failures >= fall) {
                up = false;
                failures = 0;
                return true;
            }
        }
        return false;
    }

    boolean up() {
        return up;
    }
}
