//! `report.html`: one self-contained page per scenario (the verdict first, the summary
//! table, the charts inlined as SVG, the assumptions as a table with their source comments
//! and the resolved scenario), and with several scenarios a comparison page.
//! No scripts, styles or fonts are fetched: the pages read the same offline.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::charts::{FAN_CHARTS, HISTOGRAMS, comparison_medians_svg, comparison_ranges_svg, short};
use super::{CRATE_VERSION, Exporter, OutputError, RunRecord, write_atomically};
use crate::runner::Results;

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}thead{background:#f0f0f0}\
table.assumptions td{text-align:left;vertical-align:top}table.assumptions td.comment{font-size:0.9em;color:#444}\
pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:0.85em}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto}small{color:#666}\
section.verdict{background:#f4f8fc;border-left:4px solid #1f77b4;padding:0.5em 1em;margin:1em 0}";

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Drops the XML declaration a standalone SVG may start with, for inlining.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

/// Every page's policy: nothing is fetched or run (no scripts, no `javascript:` links, no
/// remote images); the inline style and charts are all a page has.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/// A name as one relative URL path segment: every byte but the unreserved ones
/// percent-encoded, so a name such as `javascript:alert(1)` or `a/b?c` stays a file path.
fn url_segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn page_start(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\"/>\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
}

/// The per-scenario page, `report.html`, written with the other outputs; it links the
/// tables in the formats written.
#[derive(Clone, Debug, Default)]
pub struct ReportHtml {
    /// The tables' formats (the links go to them).
    pub tables: super::TableFormats,
    /// The run's drivers, if already fitted (else the page fits them).
    pub drivers: Option<std::sync::Arc<super::NpvDrivers>>,
}

impl ReportHtml {
    /// The tables the page links (those written in each format), then `scenario.toml`.
    fn linked_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for (written, extension) in [
            (self.tables.csv(), "csv"),
            (self.tables.parquet(), "parquet"),
        ] {
            if written {
                files.extend(
                    ["summary", "quarterly", "convergence"].map(|t| format!("{t}.{extension}")),
                );
            }
        }
        files.push("scenario.toml".to_string());
        files
    }

    /// The page as HTML.
    ///
    /// # Errors
    ///
    /// If a chart cannot be drawn.
    pub fn html(&self, run: &RunRecord<'_>) -> io::Result<String> {
        let results = run.results;
        let mut out = String::new();
        page_start(&mut out, &format!("cloudcapex: {}", results.scenario));
        let _ = writeln!(
            out,
            "<h1>Scenario <code>{}</code></h1>",
            escape(&results.scenario)
        );
        let drivers = self
            .drivers
            .clone()
            .or_else(|| super::NpvDrivers::of(run.scenario, results).map(std::sync::Arc::new));
        if let Some(verdict) =
            super::PlanVerdict::with_drivers(run.scenario, results, drivers.clone())
        {
            verdict_section(&mut out, &verdict);
        }
        let _ = writeln!(
            out,
            "<p>{} paths, seed {}, scenario SHA-256 <code>{}</code>, cloudcapex {CRATE_VERSION}. \
             Files: {}.</p>",
            results.paths,
            results.seed,
            results.scenario_sha256,
            self.linked_files()
                .iter()
                .map(|f| format!("<a href=\"{f}\">{f}</a>"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        fiscal_section(&mut out, run);
        out.push_str("<h2>Summary of per-path metrics</h2>\n");
        summary_table(&mut out, results);
        out.push_str("<h2>Charts</h2>\n");
        for chart in FAN_CHARTS.iter().filter(|c| c.applies_to(results)) {
            figure(
                &mut out,
                &chart.svg_with_history(results, run.history)?,
                chart.file,
                chart.title,
            );
        }
        for chart in HISTOGRAMS.iter().filter(|c| c.applies_to(results)) {
            figure(&mut out, &chart.svg(run)?, chart.file, chart.title);
        }
        for chart in &super::DRIVER_SCATTERS {
            let chart = chart.with_drivers(drivers.clone());
            if !chart.applies_to(run) {
                continue;
            }
            let (title, svg) = chart.svg(run)?;
            figure(&mut out, &svg, chart.file, &title);
        }
        out.push_str(
            "<p><small>Bands: p5–p95 (light) and p25–p75 (dark) of the paths in each quarter, \
             from the quantile sketch (within 0.5% relative error); the line is the median; black \
             dots are reported quarters (Cloud Intelligence Group, from 2023Q2). \
             Histogram marks are exact quantiles; the black line is what the metric is read \
             against: NPV = 0, and for the IRR the median of valuation.discount_rate (each path \
             also adds its regimes' spreads).</small></p>\n",
        );
        out.push_str("<h2>Assumptions</h2>\n");
        assumptions_table(&mut out, run.scenario);
        let _ = write!(
            out,
            "<details>\n<summary>The resolved scenario as TOML (<a href=\"scenario.toml\">scenario.toml</a>)</summary>\n\
             <pre>{}</pre>\n</details>\n</body>\n</html>\n",
            escape(&run.scenario.resolved_toml())
        );
        Ok(out)
    }
}

/// The verdict as the console says it ([`super::PlanVerdict::text`]), as HTML.
fn verdict_section(out: &mut String, verdict: &super::PlanVerdict) {
    let _ = writeln!(
        out,
        "<section class=\"verdict\">\n<p><strong>{}</strong></p>\n<ul>",
        escape(&verdict.sentence())
    );
    for line in verdict.facts() {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n");
    if let Some(heading) = verdict.drivers_heading() {
        let _ = writeln!(out, "<p>{}:</p>\n<ol>", escape(&heading));
        for line in verdict.driver_lines() {
            let _ = writeln!(out, "<li>{}</li>", escape(&line));
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

/// Every key of the resolved scenario: value or distribution, where it was set, and the
/// comment beside it in that file.
fn assumptions_table(out: &mut String, scenario: &crate::Scenario) {
    out.push_str(
        "<table class=\"assumptions\">\n<thead><tr><th>key</th><th>value or distribution</th>\
         <th>set in</th><th>source comment</th></tr></thead>\n<tbody>\n",
    );
    for row in super::assumption_rows(scenario) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"comment\">{}</td></tr>",
            escape(&row.key),
            escape(&row.value),
            escape(&row.source),
            escape(&row.comment)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn figure(out: &mut String, svg: &str, file: &str, title: &str) {
    let _ = write!(
        out,
        "<figure>\n{}\n<figcaption>{} (<a href=\"{file}\">{file}</a>)</figcaption>\n</figure>\n",
        inline_svg(svg),
        escape(title)
    );
}

/// The plan world by Alibaba fiscal year (mean and p5–p95 per metric, `fiscal_years.csv`),
/// then each published figure of `[consensus.<name>]` beside the model's same fiscal year
/// (`consensus.csv`).
fn fiscal_section(out: &mut String, run: &RunRecord<'_>) {
    let results = run.results;
    let plan: Vec<&crate::runner::FiscalYearStat> = results
        .fiscal_years
        .iter()
        .filter(|f| f.key.world == "plan")
        .collect();
    let mut years: Vec<i32> = plan.iter().map(|f| f.key.fiscal_year).collect();
    years.dedup();
    if years.is_empty() {
        return;
    }
    let mut metrics: Vec<&str> = Vec::new();
    for f in &plan {
        if !metrics.contains(&f.key.metric.as_str()) {
            metrics.push(&f.key.metric);
        }
    }
    out.push_str(
        "<h2>By fiscal year (ending March), plan world</h2>\n<p>Mean, and p5–p95 below it; \
         each path's year is the sum of its four quarters (<a href=\"fiscal_years.csv\">fiscal_years.csv</a> \
         has the counterfactual and the increment too).</p>\n<table>\n<thead><tr><th>metric</th>",
    );
    for year in &years {
        let _ = write!(out, "<th>FY{:02}</th>", year.rem_euclid(100));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for metric in &metrics {
        let (name, scale) = fiscal_label(metric);
        let _ = write!(
            out,
            "<tr><td title=\"{}\">{}</td>",
            escape(metric),
            escape(&name)
        );
        for year in &years {
            let cell = plan
                .iter()
                .find(|f| f.key.fiscal_year == *year && f.key.metric == *metric)
                .and_then(|f| f.stats.summary.as_ref())
                .map_or(String::new(), |s| {
                    format!(
                        "{}<br><small>{}–{}</small>",
                        short(s.mean * scale),
                        short(s.quantiles[1] * scale),
                        short(s.quantiles[7] * scale)
                    )
                });
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");

    let rows = super::consensus::consensus_rows(&run.scenario.assumptions().consensus, results);
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Beside the street</h2>\n<p>Published figures (the scenario's <code>[consensus]</code> \
         tables, <a href=\"consensus.csv\">consensus.csv</a>) and the model's median with its \
         p5–p95 for the same fiscal year; years the model starts from have no model value.</p>\n\
         <table>\n<thead><tr><th>fiscal year</th><th>metric</th><th>published</th><th>source</th>\
         <th>model median (p5–p95)</th><th>median is</th></tr></thead>\n<tbody>\n",
    );
    for row in rows {
        let a = row.anchor;
        let (name, scale) = fiscal_label(&a.metric);
        let figure = match (a.low, a.high) {
            (Some(l), Some(h)) if l == h => short(l * scale),
            (Some(l), Some(h)) => format!("{}–{}", short(l * scale), short(h * scale)),
            (Some(l), None) => format!("above {}", short(l * scale)),
            (None, Some(h)) => format!("below {}", short(h * scale)),
            (None, None) => String::new(),
        };
        let model = row
            .model
            .and_then(|m| m.stats.summary.as_ref())
            .map_or(String::new(), |s| {
                format!(
                    "{} ({}–{})",
                    short(s.quantiles[4] * scale),
                    short(s.quantiles[1] * scale),
                    short(s.quantiles[7] * scale)
                )
            });
        let note = if a.note.is_empty() {
            String::new()
        } else {
            format!("; {}", a.note)
        };
        let _ = writeln!(
            out,
            "<tr><td>FY{:02}</td><td title=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.fiscal_year.rem_euclid(100),
            escape(&a.metric),
            escape(&name),
            escape(&figure),
            escape(&format!("{} ({}){note}", a.source, a.date)),
            escape(&model),
            row.median_position().unwrap_or("")
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// A fiscal-year metric in words with its unit, and the scale it is shown in (ratios in
/// percent).
fn fiscal_label(metric: &str) -> (String, f64) {
    match metric {
        "adj_ebita_rmb_bn" => ("Adj. EBITA (RMB bn)".to_string(), 1.0),
        "ebita_margin" => ("Adj. EBITA margin (%)".to_string(), 100.0),
        "capex_rmb_bn" => ("Capex (RMB bn)".to_string(), 1.0),
        "capex_to_revenue" => ("Capex / revenue (%)".to_string(), 100.0),
        "depreciation_rmb_bn" => ("Depreciation (RMB bn)".to_string(), 1.0),
        "fcf_rmb_bn" => ("Free cash flow (RMB bn)".to_string(), 1.0),
        "revenue_total_rmb_bn" => ("Revenue (RMB bn)".to_string(), 1.0),
        other => match other
            .strip_prefix("revenue_")
            .and_then(|m| m.strip_suffix("_rmb_bn"))
        {
            Some(segment) => (
                format!("Revenue, {} (RMB bn)", segment.replace('_', " ")),
                1.0,
            ),
            None => (other.to_string(), 1.0),
        },
    }
}

/// The per-path metrics under their readable labels (rates in percent), the CSV name in
/// each label's tooltip.
fn summary_table(out: &mut String, results: &Results) {
    out.push_str(
        "<table>\n<thead><tr><th>metric</th><th>count</th><th>mean</th><th>se</th><th>p5</th>\
         <th>p50</th><th>p95</th><th>P(&lt;0)</th><th>CVaR 5%</th><th>missing</th>\
         <th>quantiles</th></tr></thead>\n<tbody>\n",
    );
    for (metric, stats) in &results.scalars {
        let label = super::metric_label(metric);
        let scale = label.unit.scale();
        let name = format!(
            "<td title=\"{}\">{}</td>",
            escape(metric),
            escape(&label.text())
        );
        let Some(s) = &stats.summary else {
            let _ = writeln!(
                out,
                "<tr>{name}<td>0</td><td colspan=\"7\"></td><td>{}</td><td></td></tr>",
                stats.missing
            );
            continue;
        };
        let _ = writeln!(
            out,
            "<tr>{name}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.count,
            short(s.mean * scale),
            short(s.se * scale),
            short(s.quantiles[1] * scale),
            short(s.quantiles[4] * scale),
            short(s.quantiles[7] * scale),
            short(stats.prob_negative),
            short(stats.cvar5 * scale),
            stats.missing,
            if stats.exact { "exact" } else { "sketch" }
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

impl Exporter for ReportHtml {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        out.write_all(self.html(run)?.as_bytes())
    }
}

/// Headline metrics of the comparison page's table.
const COMPARISON_METRICS: [&str; 4] = [
    "plan_npv_rmb_bn",
    "plan_irr",
    "revenue_total_cagr",
    "revenue_total_final_year_rmb_bn",
];

/// Writes the comparison page of several scenarios, `out_dir/report.html`, and its two
/// charts (`comparison_revenue_median.svg`, `comparison_plan_npv.svg`), each through a
/// temporary file. `out_dir` is `OUT/comparison_report/` (staged), beside the scenarios'
/// folders `OUT/<scenario>/` that `--report` writes and the page links to. Returns the
/// files written.
///
/// # Errors
///
/// [`OutputError`] naming the file that could not be written.
pub fn write_comparison_report(
    out_dir: &Path,
    runs: &[&Results],
) -> Result<Vec<PathBuf>, OutputError> {
    let at = |file: &str| {
        let path = out_dir.join(file);
        move |source| OutputError { path, source }
    };
    let mut charts = Vec::new();
    let revenue = comparison_medians_svg(runs, "revenue_total_rmb_bn", "RMB bn per quarter")
        .map_err(at("comparison_revenue_median.svg"))?;
    charts.push((
        "comparison_revenue_median.svg",
        "Median cloud revenue",
        revenue,
    ));
    if runs.iter().any(|r| r.scalar("plan_npv_rmb_bn").is_some()) {
        let npv = comparison_ranges_svg(runs, "plan_npv_rmb_bn", "RMB bn")
            .map_err(at("comparison_plan_npv.svg"))?;
        charts.push(("comparison_plan_npv.svg", "NPV of the plan", npv));
    }

    let mut out = String::new();
    page_start(&mut out, "cloudcapex: scenario comparison");
    let _ = write!(
        out,
        "<h1>Scenario comparison</h1>\n<p>cloudcapex {CRATE_VERSION}. Each scenario's own \
         page has its charts, summary and assumptions.</p>\n<table>\n<thead><tr>\
         <th>scenario</th><th>paths</th><th>seed</th>"
    );
    for metric in COMPARISON_METRICS {
        let _ = write!(
            out,
            "<th title=\"{metric}\">{} mean ± se</th>",
            escape(&super::metric_label(metric).text())
        );
    }
    out.push_str("<th>P(NPV&lt;0)</th></tr></thead>\n<tbody>\n");
    for r in runs {
        let name = escape(&r.scenario);
        // The page sits in OUT/comparison_report/, each run's page in OUT/<name>/.
        let link = url_segment(&r.scenario);
        let _ = write!(
            out,
            "<tr><td><a href=\"../{link}/report.html\">{name}</a></td><td>{}</td><td>{}</td>",
            r.paths, r.seed
        );
        for metric in COMPARISON_METRICS {
            match r.scalar(metric) {
                Some(s) => {
                    let scale = super::metric_label(metric).unit.scale();
                    let _ = write!(
                        out,
                        "<td>{} ± {}</td>",
                        short(s.mean * scale),
                        short(s.se * scale)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        let p = r
            .scalar_stats("plan_npv_rmb_bn")
            .map_or(String::new(), |s| short(s.prob_negative));
        let _ = writeln!(out, "<td>{p}</td></tr>");
    }
    out.push_str("</tbody>\n</table>\n");
    for (file, title, svg) in &charts {
        figure(&mut out, svg, file, title);
    }
    out.push_str("</body>\n</html>\n");

    let mut written = Vec::new();
    for (file, _, svg) in &charts {
        written.push(write_atomically(&out_dir.join(file), |w| {
            w.write_all(svg.as_bytes())
        })?);
    }
    written.push(write_atomically(&out_dir.join("report.html"), |w| {
        w.write_all(out.as_bytes())
    })?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_relative_path_segments() {
        assert_eq!(url_segment("base"), "base");
        assert_eq!(
            url_segment("javascript:alert(document.cookie)"),
            "javascript%3Aalert%28document.cookie%29"
        );
        assert_eq!(url_segment("a b/é"), "a%20b%2F%C3%A9");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn inlining_drops_the_xml_declaration() {
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg a=\"1\"/>"),
            "<svg a=\"1\"/>"
        );
    }
}
