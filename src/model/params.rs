//! Per-path draws of uncertain assumptions. Each uncertain key path has its own random
//! stream (`parameter.<key path>`), so making one assumption uncertain never changes the
//! draws of another, and two scenarios share draws key by key.

use rand::rngs::ChaCha8Rng;

use crate::rng::FactorStreams;
use crate::scenario::{Distribution, Param};

/// A fixed value, or the index of an uncertain assumption in its [`ParamTable`].
#[derive(Clone, Debug)]
pub(crate) enum ParamSlot {
    Fixed(f64),
    Random(usize),
}

/// The uncertain assumptions of a model.
#[derive(Clone, Debug)]
pub(crate) struct ParamTable {
    seed: u64,
    entries: Vec<(String, Distribution, FactorStreams)>,
}

impl ParamTable {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            entries: Vec::new(),
        }
    }

    pub(crate) fn slot(&mut self, key: &str, param: &Param) -> ParamSlot {
        match param {
            Param::Fixed(v) => ParamSlot::Fixed(*v),
            Param::Random(dist) => {
                let streams = FactorStreams::new(self.seed, &format!("parameter.{key}"));
                self.entries.push((key.to_string(), dist.clone(), streams));
                ParamSlot::Random(self.entries.len() - 1)
            }
        }
    }

    pub(crate) fn streams(&self, block_index: u64) -> ParamStreams {
        ParamStreams {
            draws: self
                .entries
                .iter()
                .map(|(_, dist, streams)| (dist.clone(), streams.block(block_index)))
                .collect(),
        }
    }

    /// Key paths and distributions of the uncertain assumptions.
    pub(crate) fn distributions(&self) -> impl Iterator<Item = (&str, &Distribution)> {
        self.entries.iter().map(|(k, d, _)| (k.as_str(), d))
    }

    /// Key paths of the uncertain assumptions.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _, _)| k.as_str())
    }
}

/// A block's streams of uncertain assumptions.
pub(crate) struct ParamStreams {
    draws: Vec<(Distribution, ChaCha8Rng)>,
}

impl ParamStreams {
    /// Draws every uncertain assumption once (the draw floor); returns their sum.
    pub(crate) fn draw_each_once(&mut self) -> f64 {
        self.draws
            .iter_mut()
            .map(|(dist, rng)| dist.sample(rng))
            .sum()
    }

    #[inline]
    pub(crate) fn draw(&mut self, slot: &ParamSlot) -> f64 {
        match slot {
            ParamSlot::Fixed(v) => *v,
            ParamSlot::Random(i) => {
                let (dist, rng) = &mut self.draws[*i];
                dist.sample(rng)
            }
        }
    }
}
