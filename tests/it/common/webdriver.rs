//! A small W3C WebDriver client over the test harness's HTTP helper: enough to drive headless
//! Chromium through chromedriver (open pages, type, click, read, screenshot) without another
//! dependency.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{http, http_within};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian puts Chromium and its driver.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let driver = PathBuf::from("/usr/bin/chromedriver");
    driver.exists().then_some((chromium, driver))
}

/// A running chromedriver; killed when dropped.
pub struct Driver {
    child: Child,
    pub addr: String,
    chromium: PathBuf,
}

impl Driver {
    pub fn start(chromium: &Path, driver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // From here on the driver owns the process and reaps it when dropped.
        let driver = Driver {
            child,
            addr: format!("127.0.0.1:{port}"),
            chromium: chromium.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if http(&driver.addr, "GET", "/status", &[], None)
                .is_some_and(|r| r.body.contains("ready"))
            {
                return driver;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver did not start");
    }

    /// A new headless browser window; `javascript` false turns scripts off entirely.
    pub fn session(&self, javascript: bool, width: u32, height: u32) -> Browser {
        let mut prefs = json!({});
        if !javascript {
            prefs = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut options = json!({
            "binary": self.chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--lang=zh-CN", format!("--window-size={width},{height}")],
            "prefs": prefs,
        });
        if width < 500 {
            // A window cannot be narrower than 500 px; a phone's screen is emulated instead.
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": width, "height": height, "pixelRatio": 2.0, "mobile": true, "touch": true
            }});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let v = call(&self.addr, "POST", "/session", Some(caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Browser {
            driver: self.addr.clone(),
            id,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(addr: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let reply = http_within(
        addr,
        method,
        path,
        &[("Content-Type", "application/json; charset=utf-8")],
        body.as_deref()
            .or(Some(if method == "POST" { "{}" } else { "" })),
        // Chromium's first start, fonts and profile cold, took over ten seconds in CI.
        Duration::from_secs(120),
    )
    .unwrap_or_else(|| panic!("chromedriver did not answer {method} {path}"));
    let v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if reply.status >= 400 {
        panic!("WebDriver {method} {path}: {} {}", reply.status, reply.body);
    }
    v["value"].clone()
}

/// One browser window.
pub struct Browser {
    driver: String,
    id: String,
}

impl Browser {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(
            &self.driver,
            method,
            &format!("/session/{}{path}", self.id),
            body,
        )
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The visible text of the page's main part.
    pub fn text(&self) -> String {
        let el = self.find("body");
        self.call("GET", &format!("/element/{el}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    pub fn count(&self, css: &str) -> usize {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    pub fn click(&self, css: &str) {
        let el = self.find(css);
        self.call("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    /// Clicks something that loads a new page (a submit button, a link) and waits until the
    /// old page is gone: a click returns before the navigation it starts has finished.
    pub fn click_and_wait(&self, css: &str) {
        let old = self.find("html");
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let gone = http(
                &self.driver,
                "GET",
                &format!("/session/{}/element/{old}/name", self.id),
                &[],
                None,
            )
            .is_none_or(|r| r.status >= 400);
            if gone {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("clicking {css} did not load a new page");
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.call("POST", &format!("/element/{el}/clear"), Some(json!({})));
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Chooses the file at `path` in a file input, as a person picking it would.
    pub fn attach_file(&self, css: &str, path: &Path) {
        let el = self.find(css);
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": path.to_str().expect("a path in UTF-8") })),
        );
    }

    /// Prints the page to PDF as Chromium prints it (A4, the page's own print stylesheet) and
    /// saves it; returns the PDF's bytes.
    pub fn print_pdf(&self, path: &Path) -> Vec<u8> {
        let b64 = self.call(
            "POST",
            "/print",
            Some(json!({"page": {"width": 21.0, "height": 29.7}, "background": true})),
        );
        let bytes = base64_decode(b64.as_str().unwrap_or_default());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("pdf dir");
        }
        std::fs::write(path, &bytes).expect("write pdf");
        bytes
    }

    /// Picks an option of a `<select>` by its value.
    pub fn select(&self, select_css: &str, value: &str) {
        self.click(&format!("{select_css} option[value=\"{value}\"]"));
    }

    /// Runs a script (only in a window with JavaScript on) and returns its value.
    pub fn script(&self, js: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    pub fn delete_cookies(&self) {
        self.call("DELETE", "/cookie", None);
    }

    /// Saves a PNG of the window.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.call("GET", "/screenshot", None);
        let bytes = base64_decode(b64.as_str().unwrap_or_default());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, bytes).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            &self.driver,
            "DELETE",
            &format!("/session/{}", self.id),
            &[],
            None,
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
