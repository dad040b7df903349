//! Helpers shared by the integration tests that build histories from the model itself.

use cloudcapex::Scenario;
use cloudcapex::history::History;
use cloudcapex::runner::{RunOptions, simulate};

/// The first path of `scenario`'s total revenue, written and parsed as a history file
/// (one row per quarter from the start quarter).
pub fn history_from_first_path(scenario: &Scenario) -> History {
    let results = simulate(
        scenario,
        &RunOptions {
            paths_out: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let m = results
        .quarterly_metrics
        .iter()
        .position(|n| n == "revenue_total_rmb_bn")
        .unwrap();
    let mut csv = String::from("quarter_end,cloud_revenue_rmb_bn\n");
    for t in 0..results.quarters {
        csv.push_str(&format!(
            "{},{}\n",
            results.calendar[t].end_date(),
            results.kept_paths[0].values[m * results.quarters + t]
        ));
    }
    History::parse("synthetic.csv", &csv).unwrap()
}
