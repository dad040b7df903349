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
    /// Entries drawn at each firing of an event (severities) rather than once per path.
    per_firing: Vec<bool>,
    copula: Option<Copula>,
}

/// Correlated assumptions under a Gaussian copula (docs/model.md, "Correlated
/// assumptions"): per path, each member draws one standard normal `z_i` from its own
/// stream, `z' = L z`, and takes the value `F_i⁻¹(Φ(z'_i))`, so every marginal is exact and
/// the rank correlations are those given.
#[derive(Clone, Debug)]
struct Copula {
    /// Entry index of each matrix row (`None`: an assumption the model does not read).
    members: Vec<Option<usize>>,
    cholesky_lower: nalgebra::DMatrix<f64>,
    /// Streams of the rows whose assumption the model does not read (their normals are
    /// still drawn, so the others' correlations hold).
    unread: Vec<(usize, FactorStreams)>,
}

impl ParamTable {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            entries: Vec::new(),
            per_firing: Vec::new(),
            copula: None,
        }
    }

    /// A slot drawn at each firing of an event (zero or more times a path), such as an
    /// event's severity: not a per-path input, so neither correlated nor reported by
    /// [`ParamTable::per_path`].
    pub(crate) fn slot_per_firing(&mut self, key: &str, param: &Param) -> ParamSlot {
        let slot = self.slot(key, param);
        if let ParamSlot::Random(i) = slot {
            self.per_firing[i] = true;
        }
        slot
    }

    /// Indices and key paths of the assumptions drawn once per path.
    pub(crate) fn per_path(&self) -> impl Iterator<Item = (usize, &str)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.per_firing[*i])
            .map(|(i, (k, _, _))| (i, k.as_str()))
    }

    /// Correlates the assumptions of `correlation`; call after every block took its slots.
    pub(crate) fn correlate(&mut self, correlation: &crate::scenario::AssumptionCorrelation) {
        let mut unread = Vec::new();
        let members = correlation
            .keys()
            .iter()
            .enumerate()
            .map(|(row, key)| {
                let found = self
                    .entries
                    .iter()
                    .enumerate()
                    .position(|(i, (k, _, _))| k == key && !self.per_firing[i]);
                if found.is_none() {
                    unread.push((
                        row,
                        FactorStreams::new(self.seed, &format!("parameter.{key}")),
                    ));
                }
                found
            })
            .collect();
        self.copula = Some(Copula {
            members,
            cholesky_lower: correlation.cholesky_lower().clone(),
            unread,
        });
    }

    pub(crate) fn slot(&mut self, key: &str, param: &Param) -> ParamSlot {
        match param {
            Param::Fixed(v) => ParamSlot::Fixed(*v),
            Param::Random(dist) => {
                let streams = FactorStreams::new(self.seed, &format!("parameter.{key}"));
                self.entries.push((key.to_string(), dist.clone(), streams));
                self.per_firing.push(false);
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
            copula: self.copula.as_ref().map(|c| BlockCopula {
                members: c.members.clone(),
                cholesky_lower: c.cholesky_lower.clone(),
                unread: c
                    .unread
                    .iter()
                    .map(|(row, s)| (*row, s.block(block_index)))
                    .collect(),
                normals: vec![0.0; c.members.len()],
                values: vec![f64::NAN; self.entries.len()],
                correlated: {
                    let mut flags = vec![false; self.entries.len()];
                    for m in c.members.iter().flatten() {
                        flags[*m] = true;
                    }
                    flags
                },
            }),
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
    copula: Option<BlockCopula>,
}

/// A block's copula state: the current path's correlated values.
struct BlockCopula {
    members: Vec<Option<usize>>,
    cholesky_lower: nalgebra::DMatrix<f64>,
    unread: Vec<(usize, ChaCha8Rng)>,
    normals: Vec<f64>,
    /// The current path's value of each entry (correlated entries only).
    values: Vec<f64>,
    correlated: Vec<bool>,
}

impl ParamStreams {
    /// Starts a path: draws the correlated assumptions together (one normal from each
    /// member's stream, in matrix order), so that [`ParamStreams::draw`] returns them.
    pub(crate) fn begin_path(&mut self) {
        use rand::RngExt as _;
        let Some(c) = self.copula.as_mut() else {
            return;
        };
        for (row, member) in c.members.iter().enumerate() {
            c.normals[row] = match member {
                Some(i) => self.draws[*i].1.sample(rand_distr::StandardNormal),
                None => {
                    let (_, rng) = c
                        .unread
                        .iter_mut()
                        .find(|(r, _)| *r == row)
                        .expect("every unread row has a stream");
                    rng.sample(rand_distr::StandardNormal)
                }
            };
        }
        for (row, member) in c.members.iter().enumerate() {
            let Some(i) = member else { continue };
            let z: f64 = (0..=row)
                .map(|k| c.cholesky_lower[(row, k)] * c.normals[k])
                .sum();
            c.values[*i] = self.draws[*i]
                .0
                .quantile(crate::scenario::dist::normal_cdf(z));
        }
    }

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
                if let Some(c) = &self.copula
                    && c.correlated[*i]
                {
                    return c.values[*i];
                }
                let (dist, rng) = &mut self.draws[*i];
                dist.sample(rng)
            }
        }
    }
}
