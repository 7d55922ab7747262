//! `/metrics`: this process's figures in Prometheus' text format, rendered by
//! metrics-exporter-prometheus — the scheduler's delivery counters by channel (every series
//! from 0), the queue lag, HTTP requests by route template and status with a duration
//! histogram, the database connections in use and idle, and `duban_build_info`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use duban_scheduler::{COUNTERS, Metrics};
use duban_storage::{Outbox, SqlStore};
use metrics::{Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const REQUESTS: &str = "duban_http_requests_total";
const DURATION: &str = "duban_http_request_duration_seconds";
const LAG: &str = "duban_queue_lag_seconds";
const CONNECTIONS: &str = "duban_db_connections";
const BUILD: &str = "duban_build_info";

/// Request durations up to the 30 s timeout, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The recorder this process's figures go to, and what is read when scraped.
pub struct Exporter {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    scheduler: Arc<Metrics>,
    store: SqlStore,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

fn key(name: &'static str, labels: Vec<Label>) -> Key {
    Key::from_parts(name, labels)
}

impl Exporter {
    pub fn new(scheduler: Arc<Metrics>, store: SqlStore) -> anyhow::Result<Arc<Self>> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)?
            .build_recorder();
        let handle = recorder.handle();
        for (name, help) in COUNTERS {
            recorder.describe_counter(
                format!("duban_deliveries_{name}_total").into(),
                None,
                help.into(),
            );
        }
        recorder.describe_counter(
            REQUESTS.into(),
            None,
            "HTTP requests answered, by route template and status.".into(),
        );
        recorder.describe_histogram(
            DURATION.into(),
            Some(Unit::Seconds),
            "How long HTTP requests took to answer, by route template.".into(),
        );
        recorder.describe_gauge(
            LAG.into(),
            Some(Unit::Seconds),
            "How long the oldest due reminder or delivery has waited.".into(),
        );
        recorder.describe_gauge(
            CONNECTIONS.into(),
            None,
            "Database connections this process holds, by state (in_use, idle).".into(),
        );
        recorder.describe_gauge(
            BUILD.into(),
            None,
            "Always 1: the version and commit this process runs.".into(),
        );
        recorder
            .register_gauge(
                &key(
                    BUILD,
                    vec![
                        Label::new("version", env!("CARGO_PKG_VERSION")),
                        Label::new("commit", env!("DUBAN_COMMIT")),
                    ],
                ),
                &META,
            )
            .set(1.0);
        Ok(Arc::new(Self {
            recorder,
            handle,
            scheduler,
            store,
        }))
    }

    /// Counts one answered request.
    fn record(&self, route: String, status: u16, seconds: f64) {
        self.recorder
            .register_counter(
                &key(
                    REQUESTS,
                    vec![
                        Label::new("route", route.clone()),
                        Label::new("status", status.to_string()),
                    ],
                ),
                &META,
            )
            .increment(1);
        self.recorder
            .register_histogram(&key(DURATION, vec![Label::new("route", route)]), &META)
            .record(seconds);
    }

    /// The text a scrape gets: the counters kept elsewhere and the gauges read now, then
    /// everything rendered.
    pub async fn render(&self) -> String {
        for (name, channel, value) in self.scheduler.snapshot() {
            let name = format!("duban_deliveries_{name}_total");
            self.recorder
                .register_counter(
                    &Key::from_parts(name, vec![Label::new("channel", channel)]),
                    &META,
                )
                .absolute(value);
        }
        let now = jiff::Timestamp::now();
        let lag = match self.store.oldest_due(now).await {
            Ok(Some(oldest)) => now.duration_since(oldest).as_secs_f64().max(0.0),
            _ => 0.0,
        };
        self.recorder
            .register_gauge(&key(LAG, Vec::new()), &META)
            .set(lag);
        let (in_use, idle) = self.store.connections();
        for (state, n) in [("in_use", in_use), ("idle", idle)] {
            self.recorder
                .register_gauge(&key(CONNECTIONS, vec![Label::new("state", state)]), &META)
                .set(f64::from(n));
        }
        self.handle.render()
    }
}

/// The middleware that counts every answer by its route template (never the raw path, which
/// carries ids) and status, and times it.
pub async fn track(State(exporter): State<Arc<Exporter>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(req).await;
    exporter.record(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
