//! Importing a spreadsheet of whole histories.

use anyhow::{Context, Result, bail};
use duban_service::sheet::Row;
use std::time::Instant;

use super::*;

pub(crate) fn import_rows(n: i64) -> Vec<Row> {
    (1..=n)
        .map(|i| Row {
            number: i as usize + 1,
            cells: [
                ("title", format!("关于第{i}号路段改造的建议")),
                ("body", "道路破损，建议列入年度改造计划。".to_string()),
                ("filer", "bench-deputy".to_string()),
                ("filed_at", "2025-03-05 10:00".to_string()),
                ("register.at", "2025-03-06 10:00".to_string()),
                ("assign.at", "2025-03-07 10:00".to_string()),
                ("assign.lead_department", "jtj".to_string()),
                ("reply.at", "2025-05-07 10:00".to_string()),
                ("reply.classification", "B".to_string()),
                ("reply.promised_by", "2026-03-31".to_string()),
                ("reply.answer", "已列入明年计划。".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        })
        .collect()
}

/// 6: importing n rows of xlsx, each a suggestion filed, registered, assigned and answered,
/// the way an office does it: `duban import suggestion FILE`, a process of its own on the bench
/// database, whose time and peak resident memory are the figures. Its own process, so that
/// what the bench holds (its connections, the cases it seeded) is not counted as the import's.
pub(crate) async fn import_bench(
    url: &str,
    settings: &Settings,
    f: &mut Figures,
    rounds: usize,
    n: i64,
) -> Result<()> {
    let file = std::env::temp_dir().join(format!("duban-bench-{}.xlsx", std::process::id()));
    let written = {
        let rows = import_rows(n);
        crate::cli::sheets::write_rows(&file, &rows)?;
        rows.len()
    };
    let (mut import, mut peaks, mut heaps) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--database-url", url, "--keys-file"])
            .arg(&settings.keys_file)
            .args(["import", "suggestion"])
            .arg(&file)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("starting duban import")?;
        let pid = child.id().context("duban import's process")?.to_string();
        // The high-water mark only rises, so its last reading before the process ends is its
        // peak (to within one interval's growth at the very end, when the import is written).
        // The heap (anonymous memory, without the database's memory map) has no high-water
        // mark: its largest sample is reported beside it.
        let (mut peak, mut heap) = (0.0f64, 0.0f64);
        while child.try_wait()?.is_none() {
            peak = peak.max(super::http::status_kib(&pid, "VmHWM:"));
            heap = heap.max(super::http::status_kib(&pid, "RssAnon:"));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let out = child.wait_with_output().await?;
        import.push(t.elapsed().as_secs_f64());
        let said = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !said.contains(&format!("imported {written} ")) {
            bail!(
                "the import did not take all {written} rows: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        peaks.push(peak / 1024.0);
        heaps.push(heap / 1024.0);
    }
    let _ = std::fs::remove_file(&file);
    f.put(
        &format!("import of {n} xlsx rows"),
        median(import),
        "s",
        Some(("<=", 20.0)),
    );
    f.put(
        &format!("peak resident memory, import of {n} xlsx rows"),
        median(peaks),
        "MiB",
        Some(("<=", 500.0)),
    );
    f.put(
        &format!("largest heap sampled, import of {n} xlsx rows"),
        median(heaps),
        "MiB",
        None,
    );
    Ok(())
}
