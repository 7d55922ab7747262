//! Web passwords from the command line: `duban user add --password-stdin` and
//! `duban user passwd`, held to the complexity policy and audited (signing in with them is
//! tested in crates/web/tests/pages.rs and tests/it/browser.rs).

use crate::common::{TempDir, duban, duban_ok, duban_with_input};

#[test]
fn passwords_are_set_from_standard_input_under_the_policy_and_audited() {
    let tmp = TempDir::new("passwords");
    let dir = tmp.path();
    duban_ok(
        dir,
        &[
            "org",
            "add",
            "jtj",
            "--kind",
            "department",
            "--name",
            "县交通运输局",
        ],
    );

    // A weak password adds no half-made user.
    let weak = duban_with_input(
        dir,
        &[
            "user",
            "add",
            "zhang",
            "--role",
            "department",
            "--org",
            "jtj",
            "--password-stdin",
        ],
        "password\n",
    );
    assert!(!weak.status.success());
    let said = String::from_utf8_lossy(&weak.stderr);
    assert!(said.contains("zhang") && said.contains("10"), "{said}");
    let again = duban_with_input(
        dir,
        &[
            "user",
            "add",
            "zhang",
            "--role",
            "department",
            "--org",
            "jtj",
            "--password-stdin",
        ],
        "Jiaotong-2024\n",
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Changing it: the login may not be inside it; an unknown user is named.
    let bad = duban_with_input(dir, &["user", "passwd", "zhang"], "Zhang-2024-abc\n");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("登录名"));
    let nobody = duban_with_input(dir, &["user", "passwd", "li"], "Jiaotong-2025\n");
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no user `li`"));
    let ok = duban_with_input(dir, &["user", "passwd", "zhang"], "Jiaotong-2025\r\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let tail = duban_ok(dir, &["audit", "tail"]);
    assert_eq!(tail.matches("password_set").count(), 2, "{tail}");
    assert!(
        !tail.contains("Jiaotong"),
        "the password itself is never recorded"
    );
    let verify = duban(dir, &["audit", "verify"]);
    assert!(verify.status.success());
}
