//! Importing a spreadsheet of whole histories.

use anyhow::{Result, bail};
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
                ("reply.answer", "已列入明年计划。".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        })
        .collect()
}

/// 6: importing n rows of xlsx, each a suggestion filed, registered, assigned and answered.
pub(crate) async fn import_bench(w: &World, f: &mut Figures, rounds: usize, n: i64) -> Result<()> {
    let rows = import_rows(n);
    let file = std::env::temp_dir().join(format!("duban-bench-{}.xlsx", std::process::id()));
    crate::cli::sheets::write_rows(&file, &rows)?;
    let mut import = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..rounds {
        // The peak resident memory of this round alone: Linux resets the high-water mark when
        // 5 is written to clear_refs.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        let read = crate::cli::sheets::read_xlsx(&file)?;
        let imported = w
            .service
            .import("suggestion", &read, &|_| {})
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "import refused: {}",
                    e.first().map(|x| x.to_string()).unwrap_or_default()
                )
            })?;
        import.push(t.elapsed().as_secs_f64());
        peaks.push(super::http::status_kib("self", "VmHWM:") / 1024.0);
        if imported != rows.len() {
            bail!("imported {imported} of {} rows", rows.len());
        }
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
    Ok(())
}
