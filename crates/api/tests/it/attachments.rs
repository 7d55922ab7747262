//! Files on a case over the API: who may upload, list and download (the case's reach; 404 for
//! anyone outside it, for all three), the same bytes back, 413 and 415 with nothing kept, and
//! an action naming a file of its own case only.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

use crate::app::*;
use crate::matrix::assigned;

const BOUNDARY: &str = "duban-test-boundary";

/// A minimal PDF: what the kind is judged by is its first bytes.
fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

fn multipart(name: &str, bytes: &[u8], note: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(n) = note {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{n}\r\n")
                .into_bytes(),
        );
    }
    body.extend(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    body
}

/// Status, headers and raw body of a request with `body` as multipart.
async fn send_raw(
    app: &App,
    method: Method,
    path: &str,
    who: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer token-{who}"));
    let req = match body {
        Some(b) => req
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(b)),
        None => {
            req = req.header("accept", "*/*");
            req.body(Body::empty())
        }
    }
    .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .expect("body");
    (status, headers, bytes.to_vec())
}

async fn upload(app: &App, case: &str, who: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let (status, _, body) = send_raw(
        app,
        Method::POST,
        &format!("/api/v1/cases/{case}/attachments"),
        who,
        Some(multipart(name, bytes, Some("答复函（盖章）"))),
    )
    .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn listed(app: &App, case: &str, who: &str) -> (StatusCode, Value) {
    let r = call(
        app,
        Method::GET,
        &format!("/api/v1/cases/{case}/attachments"),
        Some(who),
        &[],
        None,
    )
    .await;
    (r.status, r.body)
}

#[tokio::test]
async fn the_case_reach_decides_who_uploads_lists_and_downloads() {
    let app = app().await;
    let inside = assigned(&app, true).await;
    let outside = assigned(&app, false).await;
    use StatusCode as S;
    // (who, upload inside, list and download inside, on the case outside their reach: all 404)
    let table: &[(&str, S, S)] = &[
        ("leader", S::CREATED, S::OK),
        ("staff", S::CREATED, S::OK),
        ("auditor", S::FORBIDDEN, S::OK),
        ("admin", S::NOT_FOUND, S::NOT_FOUND),
        ("filer", S::CREATED, S::OK),
        ("cosigner", S::CREATED, S::OK),
        ("stranger", S::NOT_FOUND, S::NOT_FOUND),
        ("lead", S::CREATED, S::OK),
        ("co", S::CREATED, S::OK),
        ("other_dept", S::NOT_FOUND, S::NOT_FOUND),
        ("mediator", S::NOT_FOUND, S::NOT_FOUND),
        ("court", S::NOT_FOUND, S::NOT_FOUND),
    ];
    // One file on each case, by someone who may, for the downloads.
    let (s, kept_in) = upload(&app, &inside, "staff", "答复函 第1版.pdf", &pdf("in")).await;
    assert_eq!(s, S::CREATED, "{kept_in}");
    let (s, kept_out) = upload(&app, &outside, "staff", "out.pdf", &pdf("out")).await;
    assert_eq!(s, S::CREATED, "{kept_out}");
    let in_id = kept_in["id"].as_str().expect("id").to_string();
    let out_id = kept_out["id"].as_str().expect("id").to_string();
    let sha_in = hex::encode(Sha256::digest(pdf("in")));
    assert_eq!(kept_in["sha256"], sha_in);
    assert_eq!(kept_in["content_type"], "application/pdf");
    assert_eq!(kept_in["name"], "答复函 第1版.pdf");
    for (who, may_upload, may_read) in table {
        let bytes = pdf(who);
        let (s, body) = upload(&app, &inside, who, "x.pdf", &bytes).await;
        assert_eq!(s, *may_upload, "{who} uploads inside: {body}");
        if s == S::CREATED {
            assert_eq!(body["sha256"], hex::encode(Sha256::digest(&bytes)), "{who}");
            assert_eq!(body["uploaded_by"], *who);
        }
        let (s, list) = listed(&app, &inside, who).await;
        assert_eq!(s, *may_read, "{who} lists inside: {list}");
        if s == S::OK {
            assert!(
                list["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .any(|i| i["id"] == in_id.as_str())
            );
        }
        let (s, headers, bytes) = send_raw(
            &app,
            Method::GET,
            &format!("/api/v1/attachments/{in_id}"),
            who,
            None,
        )
        .await;
        assert_eq!(s, *may_read, "{who} downloads inside");
        if s == S::OK {
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                sha_in,
                "{who}: the same bytes"
            );
            assert_eq!(headers["content-type"], "application/pdf");
            let disposition = headers["content-disposition"].to_str().expect("ascii");
            assert!(
                disposition.contains(
                    "filename*=UTF-8''%E7%AD%94%E5%A4%8D%E5%87%BD%20%E7%AC%AC1%E7%89%88.pdf"
                ),
                "{disposition}"
            );
        }
        // Outside the caller's reach: 404 for the upload, the list and the download.
        let outside_reach = matches!(*who, "filer" | "cosigner" | "lead" | "co");
        if outside_reach {
            let (s, _) = upload(&app, &outside, who, "x.pdf", &bytes).await;
            assert_eq!(s, S::NOT_FOUND, "{who} uploads outside");
            assert_eq!(
                listed(&app, &outside, who).await.0,
                S::NOT_FOUND,
                "{who} lists outside"
            );
            let (s, _, _) = send_raw(
                &app,
                Method::GET,
                &format!("/api/v1/attachments/{out_id}"),
                who,
                None,
            )
            .await;
            assert_eq!(s, S::NOT_FOUND, "{who} downloads outside");
        }
    }
    // Nothing was kept by the refused uploads: the case outside holds its one file.
    let (_, list) = listed(&app, &outside, "staff").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    // No such file, and no file-shaped id, are 404 too.
    for id in ["att_00000000000000000000000000000000", "nonsense"] {
        let (s, _, _) = send_raw(
            &app,
            Method::GET,
            &format!("/api/v1/attachments/{id}"),
            "staff",
            None,
        )
        .await;
        assert_eq!(s, S::NOT_FOUND, "{id}");
    }
}

#[tokio::test]
async fn too_large_is_413_and_not_a_document_is_415_with_nothing_kept() {
    let app = app().await;
    let case = assigned(&app, true).await;
    let limit = app.state.service.attachment_policy().max_bytes;
    let mut big = pdf("big");
    big.resize(limit + 1, b' ');
    let (s, body) = upload(&app, &case, "lead", "big.pdf", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["type"], "urn:duban:problem:payload-too-large");
    // An executable renamed `.pdf`, a script, a ZIP of something else: judged by the bytes.
    let mut zip = Vec::new();
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
        w.start_file("payload.exe", zip::write::SimpleFileOptions::default())
            .expect("zip");
        w.write_all(b"MZ").expect("zip");
        w.finish().expect("zip");
    }
    for (name, bytes) in [
        ("答复函.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec()),
        ("letter.pdf", b"#!/bin/sh\necho hi\n".to_vec()),
        ("letter.docx", zip),
    ] {
        let (s, body) = upload(&app, &case, "lead", name, &bytes).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}: {body}");
        assert_eq!(body["type"], "urn:duban:problem:unsupported-media-type");
    }
    // Without a `file` part, or not multipart at all.
    let (s, _, _) = send_raw(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/attachments"),
        "lead",
        Some(format!("--{BOUNDARY}--\r\n").into_bytes()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A part the form does not describe is refused, as a JSON body's unknown field is.
    let mut extra =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n")
            .into_bytes();
    extra.extend(multipart("a.pdf", &pdf("extra"), None));
    let (s, _, _) = send_raw(
        &app,
        Method::POST,
        &format!("/api/v1/cases/{case}/attachments"),
        "lead",
        Some(extra),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let r = post(
        &app,
        &format!("/api/v1/cases/{case}/attachments"),
        "lead",
        None,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let (_, list) = listed(&app, &case, "lead").await;
    assert_eq!(list["items"], json!([]), "nothing was kept");
}

#[tokio::test]
async fn a_reply_names_a_letter_of_its_own_case_only() {
    let app = app().await;
    let case = assigned(&app, true).await;
    let other = assigned(&app, false).await;
    let (_, theirs) = upload(&app, &other, "staff", "other.pdf", &pdf("other")).await;
    let (_, ours) = upload(&app, &case, "lead", "答复函.pdf", &pdf("ours")).await;
    let reply =
        |letter: &Value| json!({"classification": "A", "answer": "已办理。", "letter": letter});
    let path = format!("/api/v1/cases/{case}/actions/reply");
    for bad in [
        theirs["id"].clone(),
        json!("att_00000000000000000000000000000000"),
        json!("答复函.pdf"),
    ] {
        let r = post(&app, &path, "lead", Some("3"), reply(&bad)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], "letter");
        assert!(
            !r.body.to_string().contains("other.pdf"),
            "the other case's file is not named"
        );
    }
    let r = post(&app, &path, "lead", Some("3"), reply(&ours["id"])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let events = call(
        &app,
        Method::GET,
        &format!("/api/v1/cases/{case}/events"),
        Some("filer"),
        &[],
        None,
    )
    .await;
    let last = events.body["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["payload"]["letter"], ours["id"]);
}

#[tokio::test]
async fn a_refused_action_keeps_none_of_its_files_and_a_taken_one_keeps_them_all() {
    let app = app().await;
    let case = assigned(&app, true).await;
    let lead = app.office.principal("lead").await;
    let letter = duban_service::Upload {
        name: "答复函.pdf".into(),
        bytes: pdf("letter"),
        note: None,
    };
    let files = vec![("letter".to_string(), letter)];
    // Refused: the answer is missing. Nothing of the action, nor its file, is kept.
    let refused = app
        .state
        .service
        .act_with_files(
            &lead,
            &case,
            "reply",
            &json!({"classification": "A"}),
            3,
            files.clone(),
        )
        .await;
    assert!(refused.is_err());
    assert_eq!(listed(&app, &case, "lead").await.1["items"], json!([]));
    // At a stale version: the same.
    let stale = app
        .state
        .service
        .act_with_files(
            &lead,
            &case,
            "reply",
            &json!({"classification": "A", "answer": "好"}),
            2,
            files.clone(),
        )
        .await;
    assert!(
        matches!(stale, Err(duban_service::Error::Stale { .. })),
        "{stale:?}"
    );
    assert_eq!(listed(&app, &case, "lead").await.1["items"], json!([]));
    // Taken: the file is kept, and the event names it.
    let done = app
        .state
        .service
        .act_with_files(
            &lead,
            &case,
            "reply",
            &json!({"classification": "A", "answer": "好"}),
            3,
            files,
        )
        .await
        .expect("replied");
    assert_eq!(done.record.case.state, "handled");
    let items = listed(&app, &case, "filer").await.1["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1));
    assert_eq!(items[0]["name"], "答复函.pdf");
}
