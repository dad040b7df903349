//! `sensitivity regression` end to end: on a revenue-only scenario whose final-year revenue
//! is driven by its growth assumptions, the inputs the model reads rank first, an input
//! the metric cannot depend on is not significant, and contributions sum to R².

use assert_cmd::Command;
use cloudcapex::Scenario;
use cloudcapex::sensitivity::regression::regression;

#[test]
fn the_drivers_of_final_year_revenue_rank_first() {
    let text = "[simulation]\nseed = 3\npaths = 8000\n\
                [revenue.segments.a]\nstart_revenue_rmb_bn = 10\n\
                initial_growth = { dist = \"uniform\", min = 0.1, max = 0.5 }\n\
                terminal_growth = 0.04\ngrowth_half_life_quarters = 8\n\
                persistent_shock_sd = 0.01\niid_shock_sd = 0.01\n\
                [revenue.segments.b]\nstart_revenue_rmb_bn = 10\ninitial_growth = 0.2\n\
                terminal_growth = { dist = \"uniform\", min = 0.0, max = 0.08 }\n\
                growth_half_life_quarters = 8\npersistent_shock_sd = 0.01\niid_shock_sd = 0.01\n";
    let scenario = Scenario::from_toml_str("r", "r.toml", text, &[]).unwrap();
    let r = regression(&scenario, "revenue_total_final_year_rmb_bn").unwrap();
    assert_eq!(r.rows[0].input, "revenue.segments.a.initial_growth");
    assert_eq!(r.rows[1].input, "revenue.segments.b.terminal_growth");
    assert!(r.rows.iter().all(|row| row.src > 0.0));
    let total: f64 = r.rows.iter().map(|row| row.contribution).sum();
    assert!((total - r.r_squared).abs() < 1e-9);
    assert!(r.r_squared > 0.5, "{}", r.r_squared);
}

#[test]
fn the_command_writes_its_table_and_refuses_a_streamed_metric() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "sensitivity",
            "regression",
            "scenarios/base.toml",
            "--paths",
            "2000",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let csv = std::fs::read_to_string(dir.path().join("regression_base/regression.csv")).unwrap();
    let first = csv.lines().nth(1).unwrap();
    assert!(
        first.starts_with("base,plan_npv_rmb_bn,revenue.segments.ai.initial_growth,pert,1,"),
        "{first}"
    );
    let refused = Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "sensitivity",
            "regression",
            "scenarios/base.toml",
            "--metric",
            "plan_roic_year_5",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(stderr.contains("needs a metric kept per path"), "{stderr}");
}
