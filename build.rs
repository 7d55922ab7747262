//! Build facts for `duban --version`: the commit the binary was built from and the build's
//! date, so that an office can say exactly what it runs.

use std::process::Command;

fn main() {
    let commit = std::env::var("DUBAN_COMMIT").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    // SOURCE_DATE_EPOCH (reproducible builds) when set, else today.
    let date = Command::new("date")
        .args(match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(epoch) => vec![
                "-u".to_string(),
                "-d".into(),
                format!("@{epoch}"),
                "+%F".into(),
            ],
            Err(_) => vec!["-u".to_string(), "+%F".into()],
        })
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    println!(
        "cargo:rustc-env=DUBAN_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
    println!(
        "cargo:rustc-env=DUBAN_BUILD_DATE={}",
        date.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rerun-if-env-changed=DUBAN_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A new commit is a new version line; without a repository there is nothing to watch.
    for path in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
