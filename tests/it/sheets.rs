//! Spreadsheets in and out, as an office would use them: a year's records imported from .csv
//! (UTF-8 or GBK) or .xlsx through the state machine, exported again with personal data masked;
//! a file with bad rows imports nothing and names every bad row.

use crate::common::{TempDir as Dir, duban};

pub(crate) fn dir(name: &str) -> Dir {
    let d = Dir::new(&format!("sheets-{name}"));
    for args in [
        vec![
            "org",
            "add",
            "jtj",
            "--kind",
            "department",
            "--name",
            "县交通运输局",
        ],
        vec![
            "org",
            "add",
            "rsj",
            "--kind",
            "department",
            "--name",
            "县人社局",
        ],
        vec![
            "org",
            "add",
            "st1",
            "--kind",
            "station",
            "--name",
            "城关镇代表联络站",
        ],
        vec!["user", "add", "liu", "--role", "deputy", "--org", "st1"],
    ] {
        let out = duban(&d.0, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    d
}

const PETITIONS: &str = "number,title,body,station,constituent.name,constituent.id_number,constituent.phone,filer,filed_at,transfer.at,transfer.lead_department,accept.at,reply.at,reply.result,reply.outcome,record_satisfaction.at,record_satisfaction.rating
信访〔2024〕017号,反映拖欠工资问题,群众反映工资被拖欠,st1,王小明,110101199003074477,13812345678,liu,2024-03-01 10:00,2024-03-03 11:00,rsj,2024-03-05 10:00,2024-04-10 16:00,已督促支付,supported,2024-04-12 10:00,satisfied
,反映道路损毁问题,村道损毁,st1,李四,11010519491231002X,13900001111,liu,2024-05-06 09:30,2024-05-08 10:00,jtj,,,,,,
";

/// `PETITIONS` as a workbook, every cell text.
fn petitions_workbook() -> rust_xlsxwriter::Workbook {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in rows(PETITIONS).iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string(r as u32, c as u16, v.as_str())
                    .expect("cell");
            }
        }
    }
    wb
}

/// The Chinese headers an export writes for these petition columns.
fn headers_of(columns: &[String]) -> Vec<String> {
    let workflows = duban_core::Workflows::builtin();
    let wf = workflows.get("petition").expect("petition");
    let hs: std::collections::BTreeMap<String, String> = duban_service::sheet_names::headers(wf)
        .into_iter()
        .collect();
    columns
        .iter()
        .map(|c| hs.get(c).cloned().unwrap_or_else(|| c.clone()))
        .collect()
}

pub(crate) fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn a_csv_round_trips_through_import_and_export_with_personal_data_masked() {
    let d = dir("csv");
    std::fs::write(d.0.join("in.csv"), PETITIONS).expect("write");
    let out = duban(&d.0, &["import", "petition", "in.csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 petition case(s)"));
    let out = duban(
        &d.0,
        &["export", "--kind", "petition", "--year", "2024", "out.csv"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = std::fs::read_to_string(d.0.join("out.csv")).expect("read");
    let (want, got) = (rows(PETITIONS), rows(&exported));
    assert_eq!(
        got[0],
        headers_of(&want[0]),
        "the same columns, under Chinese headers"
    );
    assert_eq!(got.len(), want.len());
    let masked = [
        "constituent.name",
        "constituent.id_number",
        "constituent.phone",
    ];
    // The number an office gave is kept; a row without one continues the sequence after it.
    assert_eq!(got[1][0], "信访〔2024〕017号");
    assert_eq!(got[2][0], "信访〔2024〕018号");
    for (w, g) in want.iter().zip(&got).skip(1) {
        for (i, column) in want[0].iter().enumerate() {
            if column == "number" && w[i].is_empty() {
                continue;
            }
            if masked.contains(&column.as_str()) {
                assert_ne!(g[i], w[i], "{column} must be masked");
                assert!(g[i].contains('*'), "{column}: {}", g[i]);
            } else {
                assert_eq!(g[i], w[i], "{column}");
            }
        }
    }
    assert!(!exported.contains("13812345678") && !exported.contains("110101199003074477"));
    // The imported history is real: the state machine took every step.
    let report = duban(&d.0, &["report", "--year", "2024", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(r["petitions"]["transferred"], 2);
}

#[test]
fn an_xlsx_round_trips_too() {
    let d = dir("xlsx");
    petitions_workbook()
        .save(d.0.join("in.xlsx"))
        .expect("save");
    let out = duban(&d.0, &["import", "petition", "in.xlsx"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = duban(
        &d.0,
        &["export", "--kind", "petition", "--year", "2024", "out.xlsx"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(d.0.join("out.xlsx")).expect("open");
    let range = book.worksheet_range("Sheet1").expect("sheet");
    let got: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let want = rows(PETITIONS);
    assert_eq!(got[0], headers_of(&want[0]));
    assert_eq!(got[1][0], want[1][0]);
    assert_eq!(
        got[1][want[0].iter().position(|c| c == "reply.at").expect("col")],
        "2024-04-10 16:00"
    );
    assert_eq!(got[1][5], "110***********4477");
}

#[test]
fn a_file_with_three_bad_rows_imports_nothing_and_names_them() {
    let d = dir("bad");
    let csv = "标题,内容,提交人,提交时间,交办时间,主办单位
好建议,内容,liu,2024-01-16 10:00,,
坏时间,内容,liu,去年,,
无人提交,内容,nobody,2024-01-16 10:00,,
未知单位,内容,liu,2024-01-16 10:00,2024-02-01 10:00,nowhere
";
    std::fs::write(d.0.join("bad.csv"), csv).expect("write");
    let out = duban(&d.0, &["import", "suggestion", "bad.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 3, column `filed_at`"), "{err}");
    assert!(
        err.contains("row 4, column `filer`: names no user"),
        "{err}"
    );
    assert!(err.contains("row 5, column `assign"), "{err}");
    assert!(
        err.contains("nothing was imported: 3 problem(s) in 3 row(s)"),
        "{err}"
    );
    assert!(!err.contains("row 2,"), "the good row is not blamed: {err}");
    let report = duban(&d.0, &["report", "--year", "2024", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(
        r["kinds"][0]["filed"], 0,
        "not even the good row was imported"
    );
}

#[test]
fn a_gbk_csv_reads_correctly() {
    let d = dir("gbk");
    let csv = "标题,内容,提交人,提交时间\n关于加强草原保护的建议,草原禁牧,liu,2024-01-16 10:00\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GBK, not UTF-8");
    std::fs::write(d.0.join("gbk.csv"), &gbk).expect("write");
    let out = duban(&d.0, &["import", "suggestion", "gbk.csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = duban(
        &d.0,
        &[
            "export",
            "--kind",
            "suggestion",
            "--year",
            "2024",
            "out.csv",
        ],
    );
    assert!(out.status.success());
    let exported = std::fs::read_to_string(d.0.join("out.csv")).expect("utf-8 out");
    assert!(
        exported.contains("关于加强草原保护的建议,草原禁牧,liu,2024-01-16 10:00"),
        "{exported}"
    );
}

#[test]
fn exported_cells_never_run_as_formulas() {
    let d = dir("formula");
    let csv = "title,body,filer,filed_at\n=HYPERLINK(\"http://x\"),+1+2,liu,2024-01-16 10:00\n";
    std::fs::write(d.0.join("f.csv"), csv).expect("write");
    assert!(
        duban(&d.0, &["import", "suggestion", "f.csv"])
            .status
            .success()
    );
    assert!(
        duban(
            &d.0,
            &[
                "export",
                "--kind",
                "suggestion",
                "--year",
                "2024",
                "out.csv"
            ]
        )
        .status
        .success()
    );
    let exported = std::fs::read_to_string(d.0.join("out.csv")).expect("read");
    assert!(
        exported.contains("\"'=HYPERLINK(\"\"http://x\"\")\",'+1+2"),
        "{exported}"
    );
}

/// Runs an import of `bytes` as `name`, which must fail: what it said, after checking that the
/// database was left with no case.
fn refused_import(d: &Dir, name: &str, bytes: &[u8]) -> String {
    std::fs::write(d.0.join(name), bytes).expect("write");
    let out = duban(&d.0, &["import", "suggestion", name]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{name} must be refused: {err}");
    let report = duban(&d.0, &["report", "--year", "2024", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(r["kinds"][0]["filed"], 0, "{name}: nothing is imported");
    err
}

#[test]
fn text_that_cannot_be_decoded_is_refused_by_row_and_column() {
    let d = dir("undecodable");
    // GBK with a byte that is no GBK character (0xFF) in row 3's body.
    let (mut gbk, _, _) = encoding_rs::GBK.encode(
        "标题,内容,提交人,提交时间\n关于草原保护的建议,草原禁牧,liu,2024-01-16 10:00\n关于道路的建议,",
    );
    let mut gbk = gbk.to_mut().clone();
    gbk.extend_from_slice(b"\xC4\xFF\xFF,liu,2024-01-17 10:00\n");
    let err = refused_import(&d, "bad-gbk.csv", &gbk);
    assert!(
        err.contains("row 3, column B (`body`): is neither valid GBK nor valid UTF-8"),
        "{err}"
    );
    assert!(!err.contains('\u{fffd}'), "{err}");

    // A GBK file with one row pasted in from a UTF-8 one.
    let (head, _, _) = encoding_rs::GBK
        .encode("标题,内容,提交人,提交时间\n关于草原保护的建议,草原禁牧,liu,2024-01-16 10:00\n");
    let mut mixed = head.into_owned();
    mixed.extend_from_slice("关于道路的建议,村道损毁,liu,2024-01-17 10:00\n".as_bytes());
    let err = refused_import(&d, "mixed.csv", &mixed);
    assert!(
        err.contains("row 3, column A (`title`): is UTF-8 text in a file that is otherwise GBK"),
        "{err}"
    );
}

#[test]
fn dubious_files_are_refused_by_row_and_column() {
    let d = dir("dubious");
    let err = refused_import(&d, "empty.csv", b"");
    assert!(err.contains("row 1: the file is empty"), "{err}");
    let err = refused_import(
        &d,
        "header-only.csv",
        "标题,内容,提交人,提交时间\n".as_bytes(),
    );
    assert!(
        err.contains("row 2: the file has a header but no rows"),
        "{err}"
    );
    let err = refused_import(
        &d,
        "extra.csv",
        "标题,内容,提交人,提交时间\n好建议,内容,liu,2024-01-16 10:00\n多一格,内容,liu,2024-01-16 10:00,多出来的\n"
            .as_bytes(),
    );
    assert!(
        err.contains("row 3, column E: a cell beyond the header"),
        "{err}"
    );
    // Dated after today: the clock here is the real one, and 2099 is after it.
    let err = refused_import(
        &d,
        "future.csv",
        "标题,内容,提交人,提交时间,交办时间,主办单位\n好建议,内容,liu,2024-01-16 10:00,2099-02-01 10:00,jtj\n未来的建议,内容,liu,2099-01-16 10:00,,\n"
            .as_bytes(),
    );
    assert!(
        err.contains("row 2, column `assign.at`: is in the future"),
        "{err}"
    );
    assert!(
        err.contains("row 3, column `filed_at`: is in the future"),
        "{err}"
    );
}

#[test]
fn a_dash_reads_standard_input_and_writes_standard_output() {
    let d = dir("stdio");
    // An .xlsx on standard input is told from CSV by its content.
    let xlsx = petitions_workbook().save_to_buffer().expect("xlsx");
    let out = crate::common::duban_env_with_input(&d.0, &["import", "petition", "-"], &[], &xlsx);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = duban(
        &d.0,
        &["export", "--kind", "petition", "--year", "2024", "-"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    let got = rows(&csv);
    assert_eq!(
        got[0],
        headers_of(&rows(PETITIONS)[0]),
        "the sheet alone is on standard output"
    );
    assert_eq!(got.len(), 3, "{csv}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 2 petition case(s)"));
    let out = duban(
        &d.0,
        &[
            "export", "--kind", "petition", "--year", "2024", "--format", "xlsx", "-",
        ],
    );
    assert!(out.status.success());
    assert!(
        out.stdout.starts_with(b"PK\x03\x04"),
        "an .xlsx is a ZIP file"
    );
}

/// A county's roster as it arrives: deputies with their stations (a new station comes with
/// its first deputy), a department's clerk, contacts in Chinese headers.
const ROSTER: &str =
    "登录名,姓名,角色,所属单位代码,所属单位名称,单位类型,电子邮箱,手机号码,短信提醒
dep0001,王建国,代表,st1,,,,13800135678,是
dep0002,李梅,人大代表,st42,新安镇代表之家,联络站,limei@example.cn,,
dep0003,张强,代表,st42,新安镇代表之家,联络站,,,
clerk01,赵六,承办单位,jtj,,,zhao@jtj.example.cn,139 0000 1111,否
";

fn workbook(csv: &str) -> rust_xlsxwriter::Workbook {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in rows(csv).iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string(r as u32, c as u16, v.as_str())
                    .expect("cell");
            }
        }
    }
    wb
}

#[test]
fn a_roster_imports_all_or_nothing_and_again_without_duplicates() {
    let d = dir("roster");
    let text = |out: &std::process::Output| {
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Bad rows: each named by row and column in Chinese, and nothing written.
    let bad = format!(
        "{ROSTER}dep0001,重复,代表,st1,,,,,\n,无名,代表,,,,,,\ndep0009,某,代表,jtj,,,,,\ndep0010,某,代表,,,,,12345,\n"
    );
    workbook(&bad).save(d.0.join("bad.xlsx")).expect("save");
    let out = duban(&d.0, &["import", "people", "bad.xlsx"]);
    let (_, err) = text(&out);
    assert!(!out.status.success());
    for want in [
        "第 6 行「登录名」列：与前面的行重复",
        "第 7 行「登录名」列：必填",
        "第 8 行「所属单位代码」列：代表只能属于代表之家或联络站",
        "第 9 行「手机号码」列：应为11位手机号码",
        "未导入任何内容",
    ] {
        assert!(err.contains(want), "{want} in {err}");
    }
    let (listed, _) = text(&duban(&d.0, &["user", "list"]));
    assert!(
        !listed.contains("dep0002"),
        "nothing half-written: {listed}"
    );
    let (orgs, _) = text(&duban(&d.0, &["org", "list"]));
    assert!(!orgs.contains("st42"), "no station either: {orgs}");

    workbook(ROSTER)
        .save(d.0.join("roster.xlsx"))
        .expect("save");
    let out = duban(&d.0, &["import", "people", "roster.xlsx"]);
    let (said, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        said.contains("新增单位 1 个，新增人员 4 人，更新人员 0 人"),
        "{said}"
    );
    let (listed, _) = text(&duban(&d.0, &["user", "list", "--org", "st42", "--json"]));
    let people: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(people.len(), 2, "{listed}");
    assert_eq!(people[0]["login"], "dep0002");
    assert_eq!(people[0]["email"], "limei@example.cn");
    let (one, _) = text(&duban(&d.0, &["user", "list", "--q", "dep0001", "--json"]));
    let one: serde_json::Value = serde_json::from_str(one.trim()).expect("json");
    assert_eq!(one["phone"], "138****5678", "kept sealed, shown masked");
    assert_eq!(one["sms"], true);

    // Again, with a new e-mail: updated, nobody added twice.
    let again = ROSTER.replace("limei@example.cn", "li.mei@example.cn");
    workbook(&again).save(d.0.join("again.xlsx")).expect("save");
    let out = duban(&d.0, &["import", "people", "again.xlsx"]);
    let (said, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        said.contains("新增单位 0 个，新增人员 0 人，更新人员 4 人"),
        "{said}"
    );
    let (listed, _) = text(&duban(&d.0, &["user", "list", "--json"]));
    assert_eq!(listed.matches("\"login\":\"dep0002\"").count(), 1);
    assert!(listed.contains("li.mei@example.cn"));
    // The import is in the audit log.
    let (audit, _) = text(&duban(&d.0, &["audit", "tail", "--limit", "50"]));
    assert_eq!(audit.matches("roster_imported").count(), 2, "{audit}");
}
