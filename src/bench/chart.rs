//! The report's chart, an SVG: throughput per second (accepted, submitted, receipted) on
//! top, the accept latency's p99 per second below, over the run's seconds.

use super::series::SecondRow;
use plotters::prelude::*;

/// Why the chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError(e.to_string())
}

/// A line of the top chart: its name, colour and value.
type Line = (&'static str, RGBColor, fn(&SecondRow) -> u64);

/// The SVG of `rows`, with `title` on top.
///
/// # Errors
/// [`ChartError`] when plotters cannot draw it (not expected with the SVG backend).
pub fn svg(rows: &[SecondRow], title: &str) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 700)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, ("sans-serif", 20)).map_err(err)?;
        let (top, bottom) = root.split_vertically(400);
        let seconds = rows.len().max(1) as f64;
        let peak = rows
            .iter()
            .map(|r| r.accepted.max(r.submitted).max(r.receipted))
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let mut chart = ChartBuilder::on(&top)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .caption("messages per second", ("sans-serif", 16))
            .build_cartesian_2d(0f64..seconds, 0f64..peak * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("/s")
            .draw()
            .map_err(err)?;
        let lines: [Line; 3] = [
            ("accepted", BLUE, |r| r.accepted),
            ("submitted", GREEN, |r| r.submitted),
            ("receipted", RED, |r| r.receipted),
        ];
        for (name, color, value) in lines {
            chart
                .draw_series(LineSeries::new(
                    rows.iter()
                        .map(|r| (r.second as f64 + 0.5, value(r) as f64)),
                    color,
                ))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;

        let worst = rows
            .iter()
            .filter_map(|r| r.accept_p99_ms)
            .fold(0.0f64, f64::max)
            .max(1.0);
        let mut chart = ChartBuilder::on(&bottom)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .caption("accept latency p99 (ms)", ("sans-serif", 16))
            .build_cartesian_2d(0f64..seconds, 0f64..worst * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("ms")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                rows.iter()
                    .filter_map(|r| Some((r.second as f64 + 0.5, r.accept_p99_ms?))),
                MAGENTA,
            ))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second: u64, n: u64, p99: Option<f64>) -> SecondRow {
        SecondRow {
            second,
            accepted: n,
            submitted: n / 2,
            receipted: n / 3,
            accept_p99_ms: p99,
            rss_kib: None,
        }
    }

    #[test]
    fn the_chart_is_an_svg_with_its_series() {
        let rows = [
            row(0, 900, Some(2.5)),
            row(1, 1200, None),
            row(2, 300, Some(9.0)),
        ];
        let svg = svg(&rows, "e2e").unwrap();
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "{}",
            &svg[..40]
        );
        assert!(svg.trim_end().ends_with("</svg>"));
        for label in ["accepted", "submitted", "receipted", "accept latency p99"] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.matches("<polyline").count() >= 4, "four lines");
    }

    #[test]
    fn an_empty_run_still_draws() {
        let svg = svg(&[], "nothing").unwrap();
        assert!(svg.contains("<svg"));
    }
}
