//! 导入花名册, for administrators: a roster spreadsheet (.xlsx, .xls or .csv) uploaded from the
//! browser and imported as `duban import people` does it: every row checked first, each problem
//! named by row and column in Chinese, then all or nothing.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duban_service::roster::{COLUMNS, RosterError};
use maud::{Markup, html};

use crate::layout::{csrf, page};
use crate::session::Viewer;
use crate::{WebState, refused};

/// The largest roster accepted: a county's 1,092 deputies fill well under a megabyte.
pub const LIMIT: usize = 8 * 1024 * 1024;

fn form(v: &Viewer) -> Markup {
    html! {
        form.card method="post" action="/admin/import" enctype="multipart/form-data" {
            (csrf(v))
            div.field {
                label for="file" { "花名册文件（.xlsx、.xls 或 .csv）" }
                input type="file" id="file" name="file" required accept=".xlsx,.xls,.csv";
            }
            p { button.primary type="submit" { "导入" } }
        }
        h2 { "表格格式" }
        p { "第 1 行为表头，每人一行。可用的列（表头写中文即可）：" }
        ul {
            @for (_, label, aliases) in COLUMNS {
                li { strong { (label) } @if aliases.len() > 1 { "（也可写作 " (aliases[1..].iter().filter(|a| !a.is_ascii()).cloned().collect::<Vec<_>>().join("、")) "）" } }
            }
        }
        p.hint {
            "角色写 代表、承办单位、工作人员、领导、调解员、法院、审计员 或 管理员。新的联络站或单位，在其第一位人员的行里填写「所属单位名称」和「单位类型」。"
            "再次导入同一份花名册只会更新姓名、单位和联系方式，不会重复添加；表中留空的联系方式保持不变。"
        }
    }
}

/// The upload form and the sheet's layout.
pub async fn page_of(v: Viewer) -> Response {
    if let Err(e) = duban_service::admin_only(&v.p) {
        return refused(e);
    }
    page(&v, "导入花名册", form(&v)).into_response()
}

fn problems_page(v: &Viewer, problems: &[RosterError]) -> Response {
    let body = html! {
        div.error.banner role="alert" { "未导入任何内容：共 " (problems.len()) " 处问题，请修改表格后重新导入。" }
        ul { @for p in problems { li { (p.to_string()) } } }
        (form(v))
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        page(v, "导入花名册", body),
    )
        .into_response()
}

/// Reads the upload (the session's token first), then imports it.
pub async fn upload(State(st): State<WebState>, v: Viewer, mut parts: Multipart) -> Response {
    let mut sent_csrf = None;
    let mut bytes = None;
    loop {
        match parts.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("_csrf") => sent_csrf = field.text().await.ok(),
                Some("file") => bytes = field.bytes().await.ok(),
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                return (
                    e.status(),
                    page(&v, "导入花名册", html! { div.error.banner { "上传未完成或文件过大（上限 8 MB）。" } (form(&v)) }),
                )
                    .into_response();
            }
        }
    }
    if let Err(r) = v.check_csrf(sent_csrf.as_deref()) {
        return r;
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        let missing = [RosterError {
            row: 1,
            column: String::new(),
            problem: "没有收到文件".into(),
        }];
        return problems_page(&v, &missing);
    };
    let rows = match duban_service::sheet_read::rows(&bytes) {
        Ok(rows) => rows,
        Err(why) => {
            let unreadable = [RosterError {
                row: 1,
                column: String::new(),
                problem: format!("无法读取表格：{why}"),
            }];
            return problems_page(&v, &unreadable);
        }
    };
    match st.service.import_roster(&v.p, &rows).await {
        Ok(Ok(done)) => page(
            &v,
            "导入花名册",
            html! {
                div.banner.done role="status" {
                    "导入完成：新增单位 " (done.orgs_added) " 个，新增人员 " (done.people_added)
                    " 人，更新人员 " (done.people_updated) " 人。"
                }
                p { a href="/admin/users" { "查看人员" } }
            },
        )
        .into_response(),
        Ok(Err(problems)) => problems_page(&v, &problems),
        Err(e) => refused(e),
    }
}
