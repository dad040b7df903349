//! Morris elementary-effects screening (Morris 1991; μ* of Campolongo, Cariboni &
//! Saltelli 2007): which of many inputs matter, at `r (k + 1)` evaluations instead of
//! Sobol's `N (k + 2)` (docs/model.md, "Morris screening").
//!
//! Inputs live on the unit hypercube (each coordinate is a quantile level of its input).
//! A trajectory starts at a random point of a `p`-level grid, the levels at
//! `(j + ½) / p` (midpoints, so no input is taken to an infinite tail), and moves one input
//! at a time, in a random order, by `Δ = ½` (`p / 2` levels, `p` even), up or down as the
//! grid allows. Input `i`'s elementary effect is `EE_i = (f(x + Δ e_i) − f(x)) / Δ` with
//! the sign of the step; over `r` trajectories: `μ*_i = mean |EE_i|` (importance, with its
//! standard error `sd |EE_i| / √r`), `μ_i = mean EE_i` and `σ_i = sd EE_i` (non-linearity
//! or interactions).

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use super::SensitivityError;

/// One input's screening statistics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorrisInput {
    /// Mean absolute elementary effect.
    pub mu_star: f64,
    /// Its standard error.
    pub mu_star_se: f64,
    /// Mean elementary effect.
    pub mu: f64,
    /// Standard deviation of the elementary effects.
    pub sigma: f64,
}

/// Why a screening could not run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MorrisError {
    /// No inputs, fewer than 2 trajectories, or an odd or too small number of levels.
    #[error(
        "need at least one input, at least 2 trajectories and an even number of levels, at least 2"
    )]
    BadSetup,
    /// An evaluation was not finite.
    #[error("an evaluation of the model was not finite at point {0:?}")]
    NotFinite(Vec<f64>),
}

/// Elementary effects of `f` over `trajectories` Morris trajectories on a `levels`-level
/// grid (see the module docs); `f(trajectory, point)` may use the trajectory index to hold
/// common random numbers along a trajectory. Trajectories come from a ChaCha8 stream seeded
/// with `seed`.
///
/// # Errors
///
/// [`MorrisError`] for a bad setup or a non-finite evaluation.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::morris::elementary_effects;
/// // f = 3 u0 − u1 + 0 u2: every elementary effect is exact.
/// let m = elementary_effects(|_, u| 3.0 * u[0] - u[1], 3, 10, 4, 1).unwrap();
/// assert!((m[0].mu_star - 3.0).abs() < 1e-12 && m[0].sigma < 1e-12);
/// assert!((m[1].mu + 1.0).abs() < 1e-12);
/// assert_eq!(m[2].mu_star, 0.0);
/// ```
pub fn elementary_effects<F>(
    f: F,
    inputs: usize,
    trajectories: usize,
    levels: usize,
    seed: u64,
) -> Result<Vec<MorrisInput>, MorrisError>
where
    F: Fn(usize, &[f64]) -> f64 + Sync,
{
    use rayon::prelude::*;
    if inputs == 0 || trajectories < 2 || levels < 2 || !levels.is_multiple_of(2) {
        return Err(MorrisError::BadSetup);
    }
    let delta_levels = levels / 2;
    let delta = delta_levels as f64 / levels as f64;
    let level = |j: usize| (j as f64 + 0.5) / levels as f64;
    // The designs first, from one stream (independent of the thread count).
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let designs: Vec<(Vec<usize>, Vec<usize>)> = (0..trajectories)
        .map(|_| {
            let start: Vec<usize> = (0..inputs).map(|_| rng.random_range(0..levels)).collect();
            let mut order: Vec<usize> = (0..inputs).collect();
            for i in (1..inputs).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
            (start, order)
        })
        .collect();
    let effects: Vec<Vec<f64>> = designs
        .par_iter()
        .enumerate()
        .map(|(t, (start, order))| {
            let mut grid = start.clone();
            let point = |g: &[usize]| g.iter().map(|&j| level(j)).collect::<Vec<f64>>();
            let first = point(&grid);
            let mut fx = f(t, &first);
            if !fx.is_finite() {
                return Err(MorrisError::NotFinite(first));
            }
            let mut ee = vec![0.0; inputs];
            for &i in order {
                let up = grid[i] + delta_levels < levels;
                grid[i] = if up {
                    grid[i] + delta_levels
                } else {
                    grid[i] - delta_levels
                };
                let next = point(&grid);
                let fn_ = f(t, &next);
                if !fn_.is_finite() {
                    return Err(MorrisError::NotFinite(next));
                }
                ee[i] = (fn_ - fx) / if up { delta } else { -delta };
                fx = fn_;
            }
            Ok(ee)
        })
        .collect::<Result<_, _>>()?;
    let r = trajectories as f64;
    Ok((0..inputs)
        .map(|i| {
            let values: Vec<f64> = effects.iter().map(|e| e[i]).collect();
            let mean = |v: &[f64]| v.iter().sum::<f64>() / r;
            let sd = |v: &[f64], m: f64| {
                (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r - 1.0)).sqrt()
            };
            let absolute: Vec<f64> = values.iter().map(|v| v.abs()).collect();
            let (mu, mu_star) = (mean(&values), mean(&absolute));
            MorrisInput {
                mu_star,
                mu_star_se: sd(&absolute, mu_star) / r.sqrt(),
                mu,
                sigma: sd(&values, mu),
            }
        })
        .collect())
}

/// Morris screening of a scenario's per-path metric.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelMorris {
    /// Metric analysed.
    pub metric: String,
    /// Inputs (every uncertain assumption's key path), by decreasing μ*.
    pub inputs: Vec<(String, MorrisInput)>,
    /// Trajectories.
    pub trajectories: usize,
    /// Grid levels.
    pub levels: usize,
    /// Evaluations, `trajectories (k + 1)` paths each.
    pub evaluations: usize,
    /// Paths averaged per evaluation.
    pub paths_per_point: u64,
}

/// Screens every uncertain input of `scenario` for `metric`: each evaluation sets the
/// inputs at their quantiles (through `make`, as the tornado and Sobol do) and averages
/// `paths_per_point` paths whose random streams are the same along a trajectory (common
/// random numbers, so an elementary effect is the input's, not the noise's).
///
/// # Errors
///
/// [`SensitivityError`] without uncertain inputs, for a bad setup or when
/// the metric is undefined at some point.
pub fn model_morris<F>(
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
    trajectories: usize,
    levels: usize,
    paths_per_point: u64,
) -> Result<ModelMorris, SensitivityError>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    let inputs = crate::model::Model::new(scenario).uncertain_distributions();
    if inputs.is_empty() {
        return Err(SensitivityError::NoUncertainInputs);
    }
    let seed = scenario.simulation().seed;
    let evaluate = |trajectory: usize, u: &[f64]| -> f64 {
        let overrides: Vec<crate::Override> = inputs
            .iter()
            .zip(u)
            .map(|((key, d), &p)| {
                crate::Override::parse(&format!("{key}={}", d.quantile(p)))
                    .expect("a key path and a number")
            })
            .collect();
        let path_seed =
            seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(trajectory as u64 + 1));
        let Ok(s) =
            make(&overrides).and_then(|s| s.with_seed(path_seed).with_paths(paths_per_point))
        else {
            return f64::NAN;
        };
        match crate::runner::simulate(&s, &crate::runner::RunOptions::default()) {
            Ok(r) => r.scalar(metric).map_or(f64::NAN, |s| s.mean),
            Err(_) => f64::NAN,
        }
    };
    let effects =
        elementary_effects(evaluate, inputs.len(), trajectories, levels, seed).map_err(|e| {
            SensitivityError::Run(format!("{e} (is `{metric}` defined on every path?)"))
        })?;
    let mut ranked: Vec<(String, MorrisInput)> =
        inputs.into_iter().map(|(k, _)| k).zip(effects).collect();
    ranked.sort_by(|a, b| b.1.mu_star.total_cmp(&a.1.mu_star));
    let k = ranked.len();
    Ok(ModelMorris {
        metric: metric.to_string(),
        inputs: ranked,
        trajectories,
        levels,
        evaluations: trajectories * (k + 1),
        paths_per_point,
    })
}

impl ModelMorris {
    /// `morris.csv` into `dir` (temporary file renamed into place), one row per input.
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write_csv(
        &self,
        dir: &std::path::Path,
        scenario: &crate::Scenario,
    ) -> Result<std::path::PathBuf, crate::output::OutputError> {
        let plain = crate::output::plain;
        let mut text = String::from(
            "scenario,metric,input,rank,mu_star,mu_star_se,mu,sigma,trajectories,levels,evaluations,paths_per_point,seed,scenario_sha256,cloudcapex_version\n",
        );
        for (rank, (input, m)) in self.inputs.iter().enumerate() {
            text.push_str(&format!(
                "{},{},{input},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                scenario.name(),
                self.metric,
                rank + 1,
                plain(m.mu_star),
                plain(m.mu_star_se),
                plain(m.mu),
                plain(m.sigma),
                self.trajectories,
                self.levels,
                self.evaluations,
                self.paths_per_point,
                scenario.simulation().seed,
                scenario.sha256(),
                crate::output::CRATE_VERSION
            ));
        }
        crate::output::write_atomically(&dir.join("morris.csv"), |out| {
            out.write_all(text.as_bytes())
        })
    }

    /// The console table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Morris screening of `{}`: {} trajectories on {} levels, {} evaluations of {} path(s); effects per unit of quantile level\n\n{:<52} {:>10} {:>9} {:>10} {:>10}\n",
            self.metric,
            self.trajectories,
            self.levels,
            self.evaluations,
            self.paths_per_point,
            "input",
            "mu*",
            "± SE",
            "mu",
            "sigma"
        );
        for (input, m) in &self.inputs {
            out.push_str(&format!(
                "{input:<52} {:>10.3} {:>9.3} {:>10.3} {:>10.3}\n",
                m.mu_star, m.mu_star_se, m.mu, m.sigma
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sobol' G function, a = (0, 1, 4.5, 9, 99, 99): μ* ranks the inputs in the order of
    /// their analytic importance, the two at a = 99 last.
    #[test]
    fn g_function_inputs_rank_by_importance() {
        let a = [0.0, 1.0, 4.5, 9.0, 99.0, 99.0];
        let g = |_: usize, u: &[f64]| {
            u.iter()
                .zip(&a)
                .map(|(x, a)| ((4.0 * x - 2.0).abs() + a) / (1.0 + a))
                .product::<f64>()
        };
        let m = elementary_effects(g, 6, 200, 4, 5).unwrap();
        for i in 0..3 {
            assert!(m[i].mu_star > m[i + 1].mu_star, "{i}: {:?}", m);
        }
        assert!(m[4].mu_star < 0.1 * m[0].mu_star && m[5].mu_star < 0.1 * m[0].mu_star);
    }

    #[test]
    fn bad_setups_are_refused() {
        assert_eq!(
            elementary_effects(|_, u| u[0], 1, 10, 3, 1),
            Err(MorrisError::BadSetup)
        );
        assert_eq!(
            elementary_effects(|_, u| u[0], 0, 10, 4, 1),
            Err(MorrisError::BadSetup)
        );
    }
}
