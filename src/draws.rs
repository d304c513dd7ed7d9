//! A small generator for tests (xorshift): the same draws on every run,
//! for the unit tests and the integration tests alike.

/// Xorshift state; any non-zero seed.
pub struct Draws(pub u64);

impl Draws {
    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A draw below `bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.bits() % bound
    }
}
