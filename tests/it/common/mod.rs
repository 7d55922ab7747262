//! Shared by the end-to-end tests of the `duban` binary: a fresh directory, running the binary
//! in it, starting `duban serve` on a free port, and a small HTTP/1.1 client.

pub mod webdriver;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        // Every suite shares this process: the count keeps two tests' directories apart.
        static MADE: AtomicU32 = AtomicU32::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("duban-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `duban ARGS` in `dir`, with no database or key settings from the environment but `env`: the
/// defaults (`./duban.db`, `./duban.keys`) apply unless `env` names others.
pub fn duban_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_duban"));
    c.args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DUBAN_DATA_KEY")
        .env_remove("DUBAN_INDEX_KEY")
        .envs(env.iter().copied());
    c
}

/// `duban ARGS` in `dir`, with the default settings.
pub fn duban(dir: &Path, args: &[&str]) -> Output {
    duban_command(dir, args, &[]).output().expect("run duban")
}

/// `duban ARGS` in `dir` with `input` on its standard input.
pub fn duban_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    duban_env_with_input(dir, args, &[], input)
}

/// `duban ARGS` in `dir` with `env` set and `input` (text or bytes) on its standard input.
pub fn duban_env_with_input(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: impl AsRef<[u8]>,
) -> Output {
    let mut child = duban_command(dir, args, env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run duban");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_ref()).expect("stdin");
    }
    child.wait_with_output().expect("wait")
}

/// `duban ARGS`, which must succeed; its standard output, trimmed.
pub fn duban_ok(dir: &Path, args: &[&str]) -> String {
    duban_env_ok(dir, args, &[])
}

/// [`duban_ok`] with `env` (a PostgreSQL `DATABASE_URL`, say).
pub fn duban_env_ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = duban_command(dir, args, env).output().expect("run duban");
    assert!(
        out.status.success(),
        "duban {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Records migration 99 as applied to the database at `url`, as a newer duban would have.
pub fn migrated_by_a_newer_duban(url: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let store = duban_storage::SqlStore::connect(url, 1)
                .await
                .expect("open");
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'later', 0)",
            )
            .execute(store.pool())
            .await
            .expect("newer version");
            store.close().await;
        });
}

/// A running `duban serve` on a free port; killed when dropped.
pub struct Serve {
    pub child: Child,
    pub addr: String,
}

impl Serve {
    /// Starts `duban serve --addr 127.0.0.1:0 EXTRA…` in `dir` with `env` set; its standard
    /// error goes to `stderr`.
    pub fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Serve {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_duban"));
        cmd.args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .env_remove("DATABASE_URL");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Serve { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail.get(n + 2..).unwrap_or_default();
    }
    out
}

/// One HTTP/1.1 request; `None` when the server is gone (killed mid-way).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<Reply> {
    http_within(addr, method, path, headers, body, Duration::from_secs(10))
}

/// [`http`], waiting up to `wait` for the answer: a browser's cold first start on a busy
/// two-core machine takes longer than any request to Duban should.
pub fn http_within(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    wait: Duration,
) -> Option<Reply> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    let body = body.unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let typed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if !body.is_empty() && !typed {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).ok()?;
    // Read to the end, or to the end of a Content-Length body: some servers (chromedriver)
    // keep the connection open despite `Connection: close`.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(_) if !raw.is_empty() => 0,
            Err(_) => return None,
        };
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|len| raw.len() >= end + 4 + len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    // A header sent more than once (Set-Cookie) keeps every value, one per line.
    let mut headers: HashMap<String, String> = HashMap::new();
    for (k, v) in lines.filter_map(|l| l.split_once(':')) {
        headers
            .entry(k.trim().to_ascii_lowercase())
            .and_modify(|old| {
                old.push('\n');
                old.push_str(v.trim());
            })
            .or_insert_with(|| v.trim().to_string());
    }
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// A request with a bearer token.
pub fn http_as(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<&str>,
) -> Option<Reply> {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    http(addr, method, path, &headers, body)
}
