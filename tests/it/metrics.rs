//! `/metrics` of a running `duban serve`, as Prometheus scrapes it: every delivery series there
//! at 0 before anything was sent, requests counted by route template (never the path with its
//! ids), the database connections and the build.

use std::process::Stdio;

use crate::common::{Serve, TempDir, http};

#[test]
fn every_series_is_there_from_the_start_and_routes_are_templates() {
    let dir = TempDir::new("metrics");
    let serve = Serve::start(dir.path(), &[], &[], Stdio::null());
    let case = "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000";
    let missing = http(
        &serve.addr,
        "GET",
        &format!("/api/v1/cases/{case}"),
        &[],
        None,
    )
    .expect("401");
    assert_eq!(missing.status, 401);
    let text = http(&serve.addr, "GET", "/metrics", &[], None)
        .expect("metrics")
        .body;
    for channel in ["inbox", "email", "webhook"] {
        for counter in ["sent", "failed", "dead", "rescued"] {
            let series = format!("duban_deliveries_{counter}_total{{channel=\"{channel}\"}} 0\n");
            assert!(text.contains(&series), "{series} missing:\n{text}");
        }
    }
    assert!(
        text.contains("# TYPE duban_deliveries_dead_total counter"),
        "{text}"
    );
    assert!(
        text.contains("duban_http_requests_total{route=\"/api/v1/cases/{id}\",status=\"401\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains(case),
        "a path's id reached /metrics:\n{text}"
    );
    assert!(
        text.contains("# TYPE duban_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("duban_db_connections{state=\"idle\"}"),
        "{text}"
    );
    assert!(text.contains("duban_queue_lag_seconds "), "{text}");
    assert!(
        text.contains(&format!(
            "duban_build_info{{version=\"{}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}
