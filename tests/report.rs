//! `run --report`: every SVG parses as XML, every page references only files that exist,
//! and the pages are self-contained (no network: no scripts, no remote URLs).

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn cloudcapex() -> Command {
    Command::cargo_bin("cloudcapex").unwrap()
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_with_extension(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The values of `attribute="..."` in a page.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn report_charts_parse_and_pages_reference_only_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "scenarios/base.toml", "scenarios/slowdown.toml"])
        .args(["--paths", "2048", "--quiet", "--report", "--out"])
        .arg(dir.path())
        .assert()
        .success();

    let svgs = files_with_extension(dir.path(), "svg");
    // Per scenario 4 fan charts, 4 histograms (NPV, IRR, forward NPV, EV / trailing sales)
    // and 3 driver scatters; 2 comparison charts.
    assert_eq!(svgs.len(), 2 * 11 + 2, "{svgs:?}");
    for svg in &svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        let document = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{} is not XML: {e}", svg.display()));
        assert_eq!(document.root_element().tag_name().name(), "svg");
    }

    let pages = files_with_extension(dir.path(), "html");
    assert_eq!(pages.len(), 3, "{pages:?}");
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        let folder = page.parent().unwrap();
        let references: Vec<&str> = attribute_values(&html, "href")
            .into_iter()
            .chain(attribute_values(&html, "src"))
            .collect();
        assert!(!references.is_empty(), "{}", page.display());
        for reference in references {
            assert!(
                !reference.contains("://"),
                "{}: remote {reference}",
                page.display()
            );
            assert!(
                folder.join(reference).is_file(),
                "{} references missing {reference}",
                page.display()
            );
        }
        assert!(!html.contains("<script"), "{}", page.display());
        // The charts are inlined, so the page alone shows them.
        let inline = html.matches("<svg ").count();
        assert!(inline >= 2, "{}: {inline} inline charts", page.display());
    }
    let base = std::fs::read_to_string(dir.path().join("base/report.html")).unwrap();
    assert!(base.contains("plan_npv_rmb_bn") && base.contains("[valuation]"));
    let run_json = std::fs::read_to_string(dir.path().join("base/run.json")).unwrap();
    assert!(run_json.contains("\"report.html\"") && run_json.contains("hist_plan_npv_rmb_bn.svg"));
}

#[test]
fn without_report_no_chart_is_written() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "1024", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(files_with_extension(dir.path(), "svg").is_empty());
    assert!(files_with_extension(dir.path(), "html").is_empty());
}

/// A scenario without the capex plan gets the charts it can have: revenue only.
#[test]
fn a_revenue_only_scenario_gets_its_revenue_chart() {
    let dir = tempfile::tempdir().unwrap();
    // A revenue-only scenario: no [plan], so no margin, utilization, FCF, NPV or IRR.
    let scenario = Path::new("tests/fixtures/breakeven.toml");
    let out = dir.path().join("out");
    let assert = cloudcapex()
        .arg("run")
        .arg(scenario)
        .args(["--paths", "1024", "--quiet", "--report", "--out"])
        .arg(&out)
        .assert();
    assert.success();
    let svgs = files_with_extension(&out, "svg");
    let names: Vec<_> = svgs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["fan_revenue_total_rmb_bn.svg"]);
}

/// Scenario text cannot inject markup: a name and a description full of `<script>`,
/// quotes, `&` and `</svg>` come out escaped in every page, and every chart still parses.
#[test]
fn scenario_text_cannot_inject_markup() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("x<b>&q.toml");
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    std::fs::write(
        &scenario,
        format!(
            "extends = {:?}\ndescription = \"<script>alert(1)</script> & \\\" ' </svg>\"\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .arg("run")
        .arg(&scenario)
        .args([
            "scenarios/calm_world.toml",
            "--paths",
            "300",
            "--report",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let pages = files_with_extension(&out, "html");
    assert_eq!(pages.len(), 3, "{pages:?}");
    for page in pages {
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(!html.contains("<script"), "{}", page.display());
        assert!(!html.contains("</svg> &"), "{}", page.display());
        if !page.starts_with(out.join("calm_world")) {
            // The hostile text is there, escaped.
            assert!(html.contains("x&lt;b&gt;&amp;q"), "{}", page.display());
        }
    }
    let charts = files_with_extension(&out, "svg");
    assert!(charts.len() >= 8, "{charts:?}");
    for chart in charts {
        let text = std::fs::read_to_string(&chart).unwrap();
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", chart.display()));
    }
}

/// The revenue and margin fan charts draw the reported quarters before the start quarter
/// (from 2023Q2, the current segment basis): 12 revenue quarters to 2026Q1 and the 10 with
/// a reported margin; the axis is labelled from 2023.
#[test]
fn fan_charts_draw_the_reported_history() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "200", "--report", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let circles = |file: &str| {
        let svg = std::fs::read_to_string(dir.path().join("base").join(file)).unwrap();
        roxmltree::Document::parse(&svg).unwrap();
        (svg.matches("<circle").count(), svg)
    };
    let (revenue, svg) = circles("fan_revenue_total_rmb_bn.svg");
    assert_eq!(revenue, 12);
    assert!(
        svg.contains("2023Q") && svg.contains("reported"),
        "axis or legend missing"
    );
    assert_eq!(circles("fan_ebita_margin.svg").0, 10);
    assert_eq!(circles("fan_ai_utilization.svg").0, 0);
    let html = std::fs::read_to_string(dir.path().join("base/report.html")).unwrap();
    // The 22 reported quarters, and a dot per path in each of the three driver scatters.
    assert_eq!(html.matches("<circle").count(), 22 + 3 * 200);
}

/// The driver scatters plot the NPV of the first paths against the verdict's drivers,
/// strongest first, each titled with its driver.
#[test]
fn driver_scatters_show_the_strongest_inputs() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "3000", "--report", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let first =
        std::fs::read_to_string(dir.path().join("base/scatter_plan_npv_driver_1.svg")).unwrap();
    roxmltree::Document::parse(&first).unwrap();
    assert!(
        first.contains("revenue.segments.ai.initial_growth"),
        "the strongest driver"
    );
    assert_eq!(first.matches("<circle").count(), 2000);
    let html = std::fs::read_to_string(dir.path().join("base/report.html")).unwrap();
    assert!(
        html.contains("NPV against revenue.segments.ai.growth_half_life_quarters"),
        "the second driver"
    );
}

/// `sensitivity tornado --report` draws the tornado chart beside tornado.csv, one pair of
/// bars per input, largest swing first; without --report an earlier chart is removed.
#[test]
fn tornado_report_draws_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        cloudcapex()
            .args([
                "sensitivity",
                "tornado",
                "scenarios/base.toml",
                "--paths",
                "200",
                "--quiet",
                "--out",
            ])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success();
    };
    run(&["--report"]);
    let chart = dir.path().join("tornado_base/tornado.svg");
    let svg = std::fs::read_to_string(&chart).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("tornado_base/tornado.csv")).unwrap();
    let top = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .to_string();
    assert!(svg.contains(&top), "{top} labelled");
    run(&[]);
    assert!(!chart.exists());
}

/// The page opens with the verdict (as the console says it), marks NPV = 0 and the
/// median discount rate on the histograms, and lists the assumptions as a table with the
/// comment each key carries in its file; the raw TOML stays, folded.
#[test]
fn the_report_opens_with_the_verdict_and_reads_against_zero_and_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "run",
            "scenarios/base.toml",
            "--paths",
            "2048",
            "--report",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let read = |file: &str| std::fs::read_to_string(dir.path().join("base").join(file)).unwrap();
    let html = read("report.html");
    let verdict = html.find("<section class=\"verdict\">").expect("a verdict");
    assert!(verdict < html.find("<h2>Summary").unwrap());
    let section = &html[verdict..html.find("</section>").unwrap()];
    assert!(
        section.contains("Verdict for `base`: the plan"),
        "{section}"
    );
    assert!(section.contains("valued at 2025Q1"), "{section}");
    assert!(section.contains("P(NPV &lt; 0) = "), "{section}");
    // Valuation, NPV, IRR, the decision as of the start quarter, the cloud EV; 3 drivers.
    assert_eq!(section.matches("<li>").count(), 5 + 3, "{section}");
    assert!(
        section.contains("Continue or stop as of 2026Q1"),
        "{section}"
    );
    // The fiscal years beside the street come before the summary table.
    let fiscal = html
        .find("<h2>By fiscal year")
        .expect("the fiscal-year table");
    let street = html
        .find("<h2>Beside the street</h2>")
        .expect("the published figures");
    assert!(fiscal < street && street < html.find("<h2>Summary").unwrap());
    assert!(html.contains("Morgan Stanley, Feb-25"));
    assert!(section.contains("<li>revenue.segments.ai."), "{section}");

    assert!(html.contains("<td title=\"plan_npv_rmb_bn\">Plan NPV (RMB bn)</td>"));
    let npv = read("hist_plan_npv_rmb_bn.svg");
    assert!(npv.contains("NPV = 0"), "the zero line is labelled");
    let irr = read("hist_plan_irr.svg");
    assert!(
        irr.contains("discount rate (WACC) median 8.9%"),
        "the rate's line is labelled"
    );
    assert!(irr.contains("Plan IRR (%/yr)"));
    for svg in [&npv, &irr] {
        roxmltree::Document::parse(svg).unwrap();
        assert!(svg.starts_with("<svg width=\"1080\""), "full width");
    }
    assert!(html.contains("figure svg{width:100%;height:auto}"));

    let row = html
        .lines()
        .find(|l| l.starts_with("<tr><td><code>revenue.segments.ai.initial_growth</code>"))
        .expect("a row per key");
    assert!(
        row.contains("<td>PERT(min 0.6, mode 1.1, max 1.8)</td><td>scenarios/base.toml</td>"),
        "{row}"
    );
    assert!(
        row.contains("ASSUMPTION: current annual growth PERT on 60%..180%, mode 110%."),
        "{row}"
    );
    let seed = html
        .lines()
        .find(|l| l.starts_with("<tr><td><code>simulation.seed</code>"))
        .unwrap();
    assert!(
        seed.contains("the plan&#x27;s announcement date")
            || seed.contains("the plan's announcement date"),
        "a trailing comment: {seed}"
    );
    let paths = html
        .lines()
        .find(|l| l.starts_with("<tr><td><code>simulation.paths</code>"))
        .unwrap();
    assert!(paths.contains("command line: --paths"), "{paths}");
    assert!(
        html.contains("<details>") && html.contains("[valuation]"),
        "the TOML, folded"
    );
}
