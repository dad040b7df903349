//! Random streams: one per (seed, risk factor), split into one ChaCha8 stream per block.
//!
//! The 256-bit ChaCha key of a factor is SHA-256 of a version tag, the seed and the
//! factor's name; the block index is the ChaCha stream number. So a block's draws depend
//! only on (seed, block, factor): not on the thread that runs it, not on other factors,
//! and two scenarios run with the same seed see the same shocks factor by factor (common
//! random numbers). Neighbouring seeds share nothing (no `seed + i`).

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Bumped if the derivation ever changes, so old and new streams never coincide.
const DERIVATION_TAG: &[u8] = b"cloudcapex/stream/v1";

/// The random streams of one risk factor under one seed.
///
/// # Examples
///
/// ```
/// use cloudcapex::rng::FactorStreams;
/// use rand::RngExt;
/// let shocks = FactorStreams::new(2025, "revenue.iid_shock.ai");
/// let a: f64 = shocks.block(0).random();
/// let b: f64 = shocks.block(0).random();
/// assert_eq!(a, b); // a block's stream is a pure function of (seed, factor, block)
/// assert_ne!(a, shocks.block(1).random::<f64>());
/// ```
#[derive(Clone, Debug)]
pub struct FactorStreams {
    key: [u8; 32],
}

impl FactorStreams {
    /// Streams of `factor` under `seed`.
    pub fn new(seed: u64, factor: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(DERIVATION_TAG);
        hasher.update(seed.to_le_bytes());
        hasher.update((factor.len() as u64).to_le_bytes());
        hasher.update(factor.as_bytes());
        Self {
            key: hasher.finalize().into(),
        }
    }

    /// The generator for block `block_index`, positioned at its start.
    pub fn block(&self, block_index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(block_index);
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn factors_seeds_and_blocks_are_distinct() {
        let draw = |seed, factor: &str, block| {
            FactorStreams::new(seed, factor)
                .block(block)
                .random::<u64>()
        };
        let base = draw(1, "a", 0);
        assert_ne!(base, draw(2, "a", 0));
        assert_ne!(base, draw(1, "b", 0));
        assert_ne!(base, draw(1, "a", 1));
        assert_eq!(base, draw(1, "a", 0));
    }

    /// Golden value: catches an upgrade of rand/chacha20 that would silently change every
    /// simulated number.
    #[test]
    fn golden_first_draw() {
        let x: u64 = FactorStreams::new(20250224, "revenue.iid_shock.ai")
            .block(3)
            .random();
        assert_eq!(x, GOLDEN);
    }
    const GOLDEN: u64 = 16_536_093_848_638_963_005;
}
