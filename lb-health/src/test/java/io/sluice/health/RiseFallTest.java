package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RiseFallTest {

    @Test
    void goesDownOnlyAfterFallFailuresInARow() {
        RiseFall s = new RiseFall(2, 3, true);
        assertThat(s.record(false)).isFalse();
        assertThat(s.record(false)).isFalse();
        assertThat(s.record(true)).isFalse(); // run broken
        assertThat(s.record(false)).isFalse();
        assertThat(s.record(false)).isFalse();
        assertThat(s.up()).isTrue();
        assertThat(s.record(false)).isTrue();
        assertThat(s.up()).isFalse();
    }

    @Test
    void comesBackOnlyAfterRisePassesInARow() {
        RiseFall s = new RiseFall(2, 3, false);
        assertThat(s.record(true)).isFalse();
        assertThat(s.record(false)).isFalse();
        assertThat(s.record(true)).isFalse();
        assertThat(s.record(true)).isTrue();
        assertThat(s.up()).isTrue();
    }

    @Test
    void flappingWithinThresholdsNeverChangesState() {
        RiseFall s = new RiseFall(2, 2, true);
        for (int i = 0; i < 100; i++) {
            assertThat(s.record(i % 2 == 0)).isFalse();
        }
        assertThat(s.up()).isTrue();
    }
}
