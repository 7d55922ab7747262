//! Files on the case page: the list and the upload form, an upload with its CSRF token, a reply
//! sent with its letter as one multipart form (all or nothing), and the download.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::app::*;
use crate::pages::assigned_suggestion;

const BOUNDARY: &str = "web-files-boundary";

/// A multipart body: text fields, then files as (field, file name, bytes).
fn multipart(text: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in text {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .into_bytes(),
        );
    }
    for (field, name, bytes) in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .into_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
    body
}

async fn send_multipart(app: &App, path: &str, cookie: &str, body: Vec<u8>) -> Reply {
    let req = Request::post(path)
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("request");
    send(&app.router, req).await
}

#[tokio::test]
async fn files_are_uploaded_listed_sent_with_a_reply_and_downloaded() {
    let app = app().await;
    let id = assigned_suggestion(&app).await;
    let path = format!("/cases/{id}");
    let (lead, token) = sign_in(&app, "lead").await;
    let page = get(&app.router, &path, &lead).await;
    assert!(page.body.contains("附件"), "{}", page.body);
    assert!(page.body.contains("暂无附件"));
    // The reply's form carries its letter, so it is sent as multipart.
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("name=\"letter\" type=\"file\""));

    // An upload without the session's token is refused and keeps nothing.
    let upload = format!("/cases/{id}/attachments");
    let pdf = b"%PDF-1.7\n% photo of the road\n%%EOF\n";
    let r = send_multipart(
        &app,
        &upload,
        &lead,
        multipart(&[("_csrf", "wrong")], &[("file", "路面照片.pdf", pdf)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send_multipart(
        &app,
        &upload,
        &lead,
        multipart(
            &[("_csrf", &token), ("note", "现场照片")],
            &[("file", "路面照片.pdf", pdf)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("/cases/{id}#files"));
    // A file that is not a document is refused in Chinese.
    let r = send_multipart(
        &app,
        &upload,
        &lead,
        multipart(&[("_csrf", &token)], &[("file", "a.pdf", b"MZ\x90\x00")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.body.contains("文件类型不支持"), "{}", r.body);

    // A reply refused (no answer) keeps neither the reply nor its letter.
    let act = format!("/cases/{id}/actions/reply");
    let letter = b"%PDF-1.7\n% the reply letter\n%%EOF\n";
    let r = send_multipart(
        &app,
        &act,
        &lead,
        multipart(
            &[
                ("_csrf", &token),
                ("_version", "3"),
                ("classification", "A"),
            ],
            &[("letter", "答复函.pdf", letter)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let page = get(&app.router, &path, &lead).await;
    assert!(page.body.contains("路面照片.pdf"));
    assert!(
        !page.body.contains("答复函.pdf"),
        "the refused reply's letter is not kept"
    );

    // Sent with its answer, the reply keeps its letter, and the history names it.
    let r = send_multipart(
        &app,
        &act,
        &lead,
        multipart(
            &[
                ("_csrf", &token),
                ("_version", "3"),
                ("classification", "A"),
                ("answer", "已列入今年计划。"),
            ],
            &[("letter", "答复函.pdf", letter)],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (deputy, _) = sign_in(&app, "deputy").await;
    let page = get(&app.router, &path, &deputy).await;
    assert!(page.body.contains("已答复待评价"), "{}", page.body);
    assert_eq!(
        page.body.matches("答复函.pdf").count(),
        2,
        "listed, and named in the history"
    );
    let link = page
        .body
        .split("href=\"/attachments/")
        .nth(2)
        .and_then(|s| s.split('"').next())
        .expect("a download link")
        .to_string();
    let req = Request::get(format!("/attachments/{link}"))
        .header(header::COOKIE, &deputy)
        .body(Body::empty())
        .expect("request");
    let res = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        disposition.contains("UTF-8''%E7%AD%94%E5%A4%8D%E5%87%BD.pdf"),
        "{disposition}"
    );
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    assert_eq!(&bytes[..], letter);
    // Another department gets 404 for the download, as for the case.
    let (other, _) = sign_in(&app, "other").await;
    assert_eq!(
        get(&app.router, &format!("/attachments/{link}"), &other)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
