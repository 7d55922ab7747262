//! Sheets as offices keep them: a merged title row, 序号, Chinese headers, dates and names; the
//! export read back; an answers sheet; and a long sheet written in slices, still all or nothing.

use crate::common::duban;
use crate::sheets::{dir, rows};

/// A year's suggestions as an office keeps them: a merged title row, a 序号 column, Chinese
/// headers, dates written 2024年3月5日 or as date cells, deputies and departments by name.
fn office_workbook() -> rust_xlsxwriter::Workbook {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    let title = rust_xlsxwriter::Format::new().set_bold();
    sheet
        .merge_range(0, 0, 0, 7, "2024年代表建议交办情况", &title)
        .expect("title");
    let head = [
        "序号",
        "编号",
        "标题",
        "内容",
        "提出人",
        "提出时间",
        "登记·时间",
        "交办·时间",
        "交办·主办单位",
    ];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).expect("head");
    }
    let day = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let rows = [
        [
            "1",
            "建议〔2024〕041号",
            "关于修缮东村道路的建议",
            "道路损坏严重。",
            "刘明",
            "2024年3月5日",
            "2024年3月6日",
            "",
            "县交通运输局",
        ],
        [
            "2",
            "建议〔2024〕042号",
            "关于增设公交站点的建议",
            "村民出行不便。",
            "liu",
            "2024-03-08",
            "2024.3.8",
            "",
            "jtj",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r, c as u16, *v).expect("cell");
        }
        // 交办·时间 as Excel date cells, as an office types them.
        let assigned =
            rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 11 + r as u8).expect("date");
        sheet
            .write_datetime_with_format(r, 7, &assigned, &day)
            .expect("date");
    }
    wb
}

/// The year 2024's suggestions exported as CSV.
fn export_2024(dir: &std::path::Path) -> String {
    let args = [
        "export",
        "--kind",
        "suggestion",
        "--year",
        "2024",
        "out.csv",
    ];
    ok(duban(dir, &args));
    std::fs::read_to_string(dir.join("out.csv")).expect("read")
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_sheet_as_offices_keep_it_imports_re_imports_from_its_export_and_not_twice() {
    let d = dir("office");
    ok(duban(
        &d.0,
        &[
            "user", "add", "liu2", "--role", "deputy", "--org", "st1", "--name", "刘明",
        ],
    ));
    office_workbook()
        .save(d.0.join("office.xlsx"))
        .expect("save");
    let said = ok(duban(
        &d.0,
        &["import", "suggestion", "office.xlsx", "--check"],
    ));
    assert!(said.contains("nothing was imported"), "{said}");
    let said = ok(duban(&d.0, &["import", "suggestion", "office.xlsx"]));
    assert!(said.contains("imported 2 suggestion case(s)"), "{said}");
    let exported = export_2024(&d.0);
    let got = rows(&exported);
    assert_eq!(got[0][..3], ["编号", "标题", "内容"]);
    assert_eq!(got[1][0], "建议〔2024〕041号");
    let at = |h: &str| got[0].iter().position(|c| c == h).expect(h);
    assert_eq!(got[1][at("提出人")], "liu2", "刘明 by name");
    assert_eq!(got[1][at("交办·主办单位")], "jtj", "the department by name");
    assert_eq!(got[1][at("提出时间")], "2024-03-05 09:00");
    assert_eq!(got[1][at("交办·时间")], "2024-03-13 00:00", "a date cell");

    // The same sheet again: every number is refused, named, and nothing is imported.
    let out = duban(&d.0, &["import", "suggestion", "office.xlsx"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for n in ["建议〔2024〕041号", "建议〔2024〕042号"] {
        assert!(
            err.contains(&format!("{n} is already the number of a case")),
            "{err}"
        );
    }
    assert!(
        err.contains("row 3") && err.contains("row 4"),
        "rows as the office sees them: {err}"
    );

    // The export re-imports as it is, into another office's database, and exports the same.
    let other = dir("office-again");
    ok(duban(
        &other.0,
        &[
            "user", "add", "liu2", "--role", "deputy", "--org", "st1", "--name", "刘明",
        ],
    ));
    std::fs::copy(d.0.join("out.csv"), other.0.join("in.csv")).expect("copy");
    ok(duban(&other.0, &["import", "suggestion", "in.csv"]));
    assert_eq!(export_2024(&other.0), exported);

    // A name two people share is refused, naming both.
    ok(duban(
        &d.0,
        &[
            "user", "add", "liu3", "--role", "deputy", "--org", "st1", "--name", "刘明",
        ],
    ));
    let sheet = "标题,内容,提出人,提出时间\n关于路灯的建议,路灯不亮,刘明,2024年4月1日\n";
    std::fs::write(d.0.join("same.csv"), sheet).expect("write");
    let out = duban(&d.0, &["import", "suggestion", "same.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2, column `filer`") && err.contains("liu2、liu3"),
        "{err}"
    );
}

#[test]
fn an_answers_sheet_records_replies_and_ratings_all_or_nothing() {
    let d = dir("answers");
    office_workbook()
        .save(d.0.join("office.xlsx"))
        .expect("save");
    let out = duban(&d.0, &["import", "suggestion", "office.xlsx"]);
    // 刘明 is not in this directory: the first row is refused, and nothing imported.
    assert!(!out.status.success());
    ok(duban(
        &d.0,
        &[
            "user", "add", "liu2", "--role", "deputy", "--org", "st1", "--name", "刘明",
        ],
    ));
    ok(duban(&d.0, &["import", "suggestion", "office.xlsx"]));
    // A B answer names the date it promises (回头看).
    let answers = "编号,标题,答复代表·时间,答复代表·答复分类,答复代表·答复内容,答复代表·承诺落实日期,代表评价·时间,代表评价·评价\n\
        建议〔2024〕041号,关于修缮东村道路的建议,2024年4月20日,A,已采纳。,,2024年4月25日,满意\n\
        建议〔2024〕042号,关于增设公交站点的建议,2024年4月22日,B,正在协调。,2024年10月31日,,\n";
    std::fs::write(d.0.join("answers.csv"), answers).expect("write");
    // A bad row refuses the whole sheet: a number no case has, and a rating before its reply.
    let bad = format!("{answers}建议〔2024〕099号,,2024年4月22日,A,好,,,\n");
    std::fs::write(d.0.join("bad.csv"), bad).expect("write");
    let out = duban(&d.0, &["import", "suggestion", "bad.csv", "--answers"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "row 4, column `number`: 建议〔2024〕099号 is the number of no suggestion case"
        ),
        "{err}"
    );
    let report = |d: &std::path::Path| {
        let out = ok(duban(
            d,
            &[
                "report",
                "--year",
                "2024",
                "--format",
                "json",
                "--as-of",
                "2024-12-31",
            ],
        ));
        let r: serde_json::Value = serde_json::from_str(&out).expect("json");
        let s = r["kinds"]
            .as_array()
            .and_then(|k| k.iter().find(|k| k["kind"] == "suggestion").cloned())
            .expect("suggestions");
        (s["answered"].as_u64(), s["satisfied"].as_u64())
    };
    assert_eq!(
        report(&d.0),
        (Some(0), Some(0)),
        "nothing of the bad sheet was written"
    );
    let said = ok(duban(
        &d.0,
        &["import", "suggestion", "answers.csv", "--answers"],
    ));
    assert!(said.contains("recorded 2 answer row(s)"), "{said}");
    assert_eq!(report(&d.0), (Some(2), Some(1)));
    // The same answers again: the cases have moved on, so the sheet is refused whole.
    let out = duban(&d.0, &["import", "suggestion", "answers.csv", "--answers"]);
    assert!(!out.status.success(), "answers are not recorded twice");
    assert_eq!(report(&d.0), (Some(2), Some(1)));
}

/// A sheet longer than the slices an import is written in (1,000 rows): a bad row met in the
/// last slice leaves nothing of the slices written before it; corrected, every row is imported,
/// numbered in filing order across the slices and after the number a late row brings.
#[test]
fn a_long_sheet_is_written_in_slices_and_still_all_or_nothing() {
    let d = dir("long");
    const ROWS: usize = 2_500;
    // Newest first, as offices often keep a sheet: the first row is filed last, so it is
    // planned in the last slice; the second brings its number.
    let sheet = |first_filer: &str| {
        let mut s = String::from("编号,标题,内容,提出人,提出时间\n");
        for i in 0..ROWS {
            let m = ROWS - i;
            let filed = format!(
                "2024-03-{:02} {:02}:{:02}",
                1 + m / 1440,
                m / 60 % 24,
                m % 60
            );
            let number = if i == 1 { "建议〔2024〕900号" } else { "" };
            let filer = if i == 0 { first_filer } else { "liu" };
            s.push_str(&format!(
                "{number},关于第{i}号路段的建议,道路破损,{filer},{filed}\n"
            ));
        }
        s
    };
    std::fs::write(d.0.join("long.csv"), sheet("nobody")).expect("write");
    let out = duban(&d.0, &["import", "suggestion", "long.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2, column `filer`"), "{err}");

    std::fs::write(d.0.join("long.csv"), sheet("liu")).expect("write");
    let said = ok(duban(&d.0, &["import", "suggestion", "long.csv"]));
    assert!(
        said.contains(&format!("imported {ROWS} suggestion case(s)")),
        "{said}"
    );
    let got = rows(&export_2024(&d.0));
    assert_eq!(
        got.len(),
        ROWS + 1,
        "every row once: nothing left of the refused import"
    );
    let number_of = |title: &str| {
        got.iter()
            .find(|r| r[1] == title)
            .map(|r| r[0].clone())
            .expect(title)
    };
    // The last row of the sheet was filed first; the first was filed last.
    assert_eq!(
        number_of(&format!("关于第{}号路段的建议", ROWS - 1)),
        "建议〔2024〕901号"
    );
    assert_eq!(
        number_of("关于第0号路段的建议"),
        format!("建议〔2024〕{}号", 900 + ROWS - 1)
    );
    assert_eq!(number_of("关于第1号路段的建议"), "建议〔2024〕900号");
}
