//! Helpers shared by the unit tests (compiled only for them).

/// A fixed pseudo-random sequence for generated test inputs: each call gives a number
/// below its argument (which must not be 0). A linear congruential generator, so the
/// same `seed` gives the same inputs on every run and machine.
pub fn numbers_below(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |bound| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap_or(0) % bound
    }
}
