//! The administration API under `/api/v1/admin` (people, organisations, tokens) and
//! `/api/v1/audit` (search and verify the audit log): each handler reads the request, calls one
//! of the service's administration use cases and shapes the answer. Everyone but an
//! administrator gets 403 (the audit log also opens to auditors).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use duban_service::{
    Account, AuditQuery, NewOrg, NewPerson, OrgChange, OrgEntry, OrgQuery, PeopleQuery,
    PersonChange, TokenInfo, Verdict,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, Query};
use crate::handlers::page_size;

/// `Some(value)` for a field that is present, null included, so that a PATCH tells "remove"
/// (null) from "leave as it is" (absent).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn at(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// A list's cursor is the last key (a login or a code) its page ended at: the next page starts
/// after it. Any key of that shape is a valid cursor, so the document can say exactly which.
fn after(cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    match cursor {
        None | Some("") => Ok(None),
        Some(c) if duban_service::is_code(c) => Ok(Some(c.to_string())),
        Some(_) => Err(ApiError::malformed(
            "`cursor` is a login or a code: letters, digits, - _ . (at most 64)",
        )
        .field("cursor")),
    }
}

fn next_cursor(last: Option<&str>, full: bool) -> Option<String> {
    last.filter(|_| full).map(str::to_string)
}

/// A webhook's address and secret come together; one without the other is refused as the
/// service refuses a bad field (422), since each alone matches the document.
fn webhook_pair(
    url: Option<Option<String>>,
    secret: Option<String>,
) -> Result<Option<Option<(String, String)>>, ApiError> {
    let missing = |field: &str, problem: &str| {
        ApiError::from(duban_service::Error::Invalid {
            problems: vec![duban_service::FieldProblem {
                field: field.into(),
                problem: problem.into(),
            }],
        })
    };
    match (url, secret) {
        (None, None) => Ok(None),
        (Some(None), _) => Ok(Some(None)),
        (Some(Some(url)), Some(secret)) => Ok(Some(Some((url, secret)))),
        (Some(Some(_)), None) => Err(missing("webhook_secret", "须与 Webhook 地址一并填写")),
        (None, Some(_)) => Err(missing("webhook_url", "须与签名密钥一并填写")),
    }
}

fn timestamp(field: &str, s: Option<&str>) -> Result<Option<jiff::Timestamp>, ApiError> {
    s.map(|s| {
        s.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::malformed(format!("`{field}` must be an RFC 3339 date-time")).field(field)
        })
    })
    .transpose()
}

/// A person who signs in, as administrators see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub login: String,
    pub name: String,
    /// `leader`, `staff`, `deputy`, `department`, `mediator`, `court`, `auditor` or `admin`.
    pub role: String,
    /// Their organisation's code: a department's, a court's, a deputy's station.
    pub org: Option<String>,
    pub email: Option<String>,
    /// The mobile number masked (`138****5678`).
    pub phone: Option<String>,
    /// They agreed to get reminders by SMS.
    pub sms: bool,
    /// They may not sign in or use tokens: they, or their organisation, are disabled.
    pub disabled: bool,
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
    pub org_disabled: bool,
    /// Their password was reset: they set their own at their next sign-in.
    pub must_change_password: bool,
    pub has_password: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Account> for UserDto {
    fn from(a: Account) -> Self {
        Self {
            disabled: !a.active(),
            login: a.user.login,
            name: a.user.name,
            role: a.user.role.as_str().into(),
            org: a.user.org,
            email: a.email,
            phone: a.phone_masked,
            sms: a.sms,
            disabled_at: a.disabled_at.map(at),
            org_disabled: a.org_disabled,
            must_change_password: a.must_change_password,
            has_password: a.has_password,
            created_at: at(a.created_at),
        }
    }
}

/// A page of people, by login.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserDto>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A person to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Letters, digits, `-`, `_`, `.`; at most 64.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub login: String,
    pub name: String,
    #[schema(pattern = "^(leader|staff|deputy|department|mediator|court|auditor|admin)$")]
    pub role: String,
    /// Required for department and court clerks; a deputy's station.
    pub org: Option<String>,
    pub email: Option<String>,
    /// A mainland mobile number, kept encrypted.
    pub phone: Option<String>,
    /// They agreed to reminders by SMS (needs `phone`).
    #[serde(default)]
    pub sms: bool,
}

/// What changes about a person: an absent field stays as it is; null removes `org`, `email` or
/// `phone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    #[schema(pattern = "^(leader|staff|deputy|department|mediator|court|auditor|admin)$")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub org: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub sms: Option<bool>,
    /// `true` disables them: their sessions end and their tokens are revoked at once.
    pub disabled: Option<bool>,
}

/// Which people to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Words of the login or name.
    q: Option<String>,
    #[param(pattern = "^(leader|staff|deputy|department|mediator|court|auditor|admin)$")]
    role: Option<String>,
    /// An organisation's code: its people (a station's deputies).
    org: Option<String>,
    disabled: Option<bool>,
    /// The previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9._-]{0,64}$")]
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// List people (administrators only).
#[utoipa::path(get, path = "/admin/users", tag = "admin", params(UsersQuery),
    responses((status = 200, body = UserList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<UsersQuery>,
) -> Result<Json<UserList>, ApiError> {
    let limit = page_size(q.limit)?;
    let role = match q.role.as_deref() {
        None => None,
        Some(r) => Some(
            duban_core::Role::parse(r)
                .ok_or_else(|| ApiError::malformed("`role` is not a known role").field("role"))?,
        ),
    };
    let query = PeopleQuery {
        q: q.q,
        role,
        org: q.org,
        disabled: q.disabled,
        after: after(q.cursor.as_deref())?,
        limit,
    };
    let people = st.service.people(&p, &query).await?;
    let full = people.len() == limit as usize;
    let next = next_cursor(people.last().map(|a| a.user.login.as_str()), full);
    Ok(Json(UserList {
        items: people.into_iter().map(UserDto::from).collect(),
        next_cursor: next,
    }))
}

/// Add a person (administrators only).
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = UserDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_user(
    State(st): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<NewUserRequest>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let new = NewPerson {
        login: req.login,
        name: req.name,
        role: req.role,
        org: req.org,
        email: req.email,
        phone: req.phone,
        sms: req.sms,
    };
    let added = st.service.add_person(&p, &new).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

/// One person (administrators only).
#[utoipa::path(get, path = "/admin/users/{login}", tag = "admin",
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 200, body = UserDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn show_user(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
) -> Result<Json<UserDto>, ApiError> {
    Ok(Json(st.service.person(&p, &login).await?.into()))
}

/// Change a person: name, role, organisation, contacts, disabled (administrators only).
#[utoipa::path(patch, path = "/admin/users/{login}", tag = "admin", request_body = UserPatch,
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 200, body = UserDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn patch_user(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
    JsonBody(req): JsonBody<UserPatch>,
) -> Result<Json<UserDto>, ApiError> {
    let change = PersonChange {
        name: req.name,
        role: req.role,
        org: req.org,
        email: req.email,
        phone: req.phone,
        sms: req.sms,
        disabled: req.disabled,
    };
    Ok(Json(
        st.service.change_person(&p, &login, &change).await?.into(),
    ))
}

/// A temporary password, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Hand it to the person: they must replace it at their next sign-in.
    pub temporary_password: String,
}

/// Reset a person's password: their sessions end, and they set their own at the next sign-in
/// (administrators only).
#[utoipa::path(post, path = "/admin/users/{login}/password-reset", tag = "admin",
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 200, body = PasswordReset), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn reset_password(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
) -> Result<Json<PasswordReset>, ApiError> {
    let temporary_password = st.service.reset_password(&p, &login).await?;
    Ok(Json(PasswordReset { temporary_password }))
}

/// How many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}

/// End every web session of a person (administrators only).
#[utoipa::path(delete, path = "/admin/users/{login}/sessions", tag = "admin",
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 200, body = SessionsEnded), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn end_sessions(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
) -> Result<Json<SessionsEnded>, ApiError> {
    let ended = st.service.end_person_sessions(&p, &login).await?;
    Ok(Json(SessionsEnded { ended }))
}

/// A token to make.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// When it stops working (RFC 3339); never when absent.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A new token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    /// `dbn_…`: send as `Authorization: Bearer …`. Only its hash is kept.
    pub token: String,
    pub id: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// A token, without the token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<TokenInfo> for TokenDto {
    fn from(t: TokenInfo) -> Self {
        Self {
            id: t.id,
            created_at: at(t.created_at),
            expires_at: t.expires_at.map(at),
            revoked_at: t.revoked_at.map(at),
        }
    }
}

/// A person's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenDto>,
}

/// Make a token for a person (administrators only).
#[utoipa::path(post, path = "/admin/users/{login}/tokens", tag = "admin", request_body = TokenRequest,
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 201, body = NewToken), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let expires_at = timestamp("expires_at", req.expires_at.as_deref())?;
    let (token, id) = st.service.create_token(&p, &login, expires_at).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token,
            id,
            expires_at: expires_at.map(at),
        }),
    ))
}

/// A person's tokens (administrators only).
#[utoipa::path(get, path = "/admin/users/{login}/tokens", tag = "admin",
    params(("login" = String, Path, description = "The person's login")),
    responses((status = 200, body = TokenList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(login): Path<String>,
) -> Result<Json<TokenList>, ApiError> {
    let tokens = st.service.person_tokens(&p, &login).await?;
    Ok(Json(TokenList {
        items: tokens.into_iter().map(TokenDto::from).collect(),
    }))
}

/// Revoke a token (administrators only).
#[utoipa::path(delete, path = "/admin/tokens/{id}", tag = "admin",
    params(("id" = String, Path, description = "The token's id (`tok_…`)")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    st.service.revoke_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organisation, as administrators see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDto {
    pub code: String,
    /// `department`, `station`, `court` or `committee`.
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    /// Whether it has a webhook, a WeCom robot, a DingTalk robot (never their addresses).
    pub webhook: bool,
    pub wecom: bool,
    pub dingtalk: bool,
    /// How many people belong to it.
    pub people: i64,
    pub disabled: bool,
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
}

impl From<OrgEntry> for OrgDto {
    fn from(o: OrgEntry) -> Self {
        Self {
            code: o.org.code,
            kind: o.org.kind.as_str().into(),
            name: o.org.name,
            email: o.email,
            webhook: o.webhook,
            wecom: o.wecom,
            dingtalk: o.dingtalk,
            people: o.people,
            disabled: o.disabled_at.is_some(),
            disabled_at: o.disabled_at.map(at),
        }
    }
}

/// A page of organisations, by code.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgList {
    pub items: Vec<OrgDto>,
    pub next_cursor: Option<String>,
}

/// An organisation to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgRequest {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub code: String,
    #[schema(pattern = "^(department|station|court|committee)$")]
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
}

/// What changes about an organisation: absent stays, null removes `email` or the webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The webhook's address; with `webhook_secret`. Null removes the webhook.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    /// The webhook's signing secret (at least 16 characters).
    pub webhook_secret: Option<String>,
    /// `true` disables it: its people's sessions end and they cannot act while it is.
    pub disabled: Option<bool>,
}

/// Which organisations to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgsQuery {
    /// Words of the code or name.
    q: Option<String>,
    #[param(pattern = "^(department|station|court|committee)$")]
    kind: Option<String>,
    disabled: Option<bool>,
    /// The previous page's `next_cursor`.
    #[param(pattern = r"^[A-Za-z0-9._-]{0,64}$")]
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// List organisations (administrators only).
#[utoipa::path(get, path = "/admin/orgs", tag = "admin", params(OrgsQuery),
    responses((status = 200, body = OrgList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_orgs(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<OrgsQuery>,
) -> Result<Json<OrgList>, ApiError> {
    let limit = page_size(q.limit)?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(duban_core::OrgKind::parse(k).ok_or_else(|| {
            ApiError::malformed("`kind` is department, station, court or committee").field("kind")
        })?),
    };
    let query = OrgQuery {
        q: q.q,
        kind,
        disabled: q.disabled,
        after: after(q.cursor.as_deref())?,
        limit,
    };
    let orgs = st.service.org_list(&p, &query).await?;
    let full = orgs.len() == limit as usize;
    let next = next_cursor(orgs.last().map(|o| o.org.code.as_str()), full);
    Ok(Json(OrgList {
        items: orgs.into_iter().map(OrgDto::from).collect(),
        next_cursor: next,
    }))
}

/// Add an organisation (administrators only).
#[utoipa::path(post, path = "/admin/orgs", tag = "admin", request_body = NewOrgRequest,
    responses((status = 201, body = OrgDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_org(
    State(st): State<AppState>,
    Caller(p): Caller,
    JsonBody(req): JsonBody<NewOrgRequest>,
) -> Result<(StatusCode, Json<OrgDto>), ApiError> {
    let new = NewOrg {
        code: req.code,
        kind: req.kind,
        name: req.name,
        email: req.email,
    };
    let added = st.service.add_org(&p, &new).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

/// One organisation (administrators only).
#[utoipa::path(get, path = "/admin/orgs/{code}", tag = "admin",
    params(("code" = String, Path, description = "The organisation's code")),
    responses((status = 200, body = OrgDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn show_org(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(code): Path<String>,
) -> Result<Json<OrgDto>, ApiError> {
    Ok(Json(st.service.org_entry(&p, &code).await?.into()))
}

/// Change an organisation: name, e-mail, webhook, disabled (administrators only).
#[utoipa::path(patch, path = "/admin/orgs/{code}", tag = "admin", request_body = OrgPatch,
    params(("code" = String, Path, description = "The organisation's code")),
    responses((status = 200, body = OrgDto), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn patch_org(
    State(st): State<AppState>,
    Caller(p): Caller,
    Path(code): Path<String>,
    JsonBody(req): JsonBody<OrgPatch>,
) -> Result<Json<OrgDto>, ApiError> {
    let webhook = webhook_pair(req.webhook_url, req.webhook_secret)?;
    let change = OrgChange {
        name: req.name,
        email: req.email,
        webhook,
        disabled: req.disabled,
    };
    Ok(Json(
        st.service.change_org(&p, &code, &change).await?.into(),
    ))
}

/// One record of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDto {
    /// Its place in the chain.
    pub seq: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub actor: String,
    pub role: String,
    /// The client address, `api` or `cli`.
    pub source: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
}

impl From<(i64, duban_service::AuditRecord)> for AuditEntryDto {
    fn from((seq, r): (i64, duban_service::AuditRecord)) -> Self {
        Self {
            seq,
            at: at(r.at),
            actor: r.actor,
            role: r.role,
            source: r.source,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            detail: r.detail,
        }
    }
}

/// A page of audit records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntryDto>,
    /// Pass as `before` to get older records; null on the last page.
    pub next_before: Option<i64>,
}

/// Which audit records to find.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditSearch {
    /// Who did it: a login, `-` for the unknown, or an operator's name.
    actor: Option<String>,
    /// `login`, `login_failed`, `user_disabled`, `reveal`, `export` …
    action: Option<String>,
    /// From this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Until this instant, not included.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Records before this number (the previous page's `next_before`).
    before: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// Search the audit log, newest first (auditors and administrators).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditSearch),
    responses((status = 200, body = AuditList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn search_audit(
    State(st): State<AppState>,
    Caller(p): Caller,
    Query(q): Query<AuditSearch>,
) -> Result<Json<AuditList>, ApiError> {
    let limit = page_size(q.limit)?;
    let query = AuditQuery {
        actor: q.actor.filter(|a| !a.is_empty()),
        action: q.action.filter(|a| !a.is_empty()),
        from: timestamp("from", q.from.as_deref())?,
        until: timestamp("until", q.until.as_deref())?,
        before: q.before,
        limit,
    };
    let records = st.service.audit_search(&p, &query).await?;
    let next_before = records
        .last()
        .map(|(seq, _)| *seq)
        .filter(|_| records.len() == limit as usize);
    Ok(Json(AuditList {
        items: records.into_iter().map(AuditEntryDto::from).collect(),
        next_before,
    }))
}

/// Whether the audit chain is intact.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerdict {
    pub intact: bool,
    /// How many records were checked (when intact).
    pub records: Option<u64>,
    /// The first record that breaks the chain.
    pub broken_seq: Option<i64>,
    pub reason: Option<String>,
}

/// Recompute the audit log's keyed hash chain (auditors and administrators).
#[utoipa::path(post, path = "/audit/verify", tag = "admin",
    responses((status = 200, body = AuditVerdict), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn verify_audit(
    State(st): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<AuditVerdict>, ApiError> {
    Ok(Json(match st.service.verify_audit(&p).await? {
        Verdict::Intact { records } => AuditVerdict {
            intact: true,
            records: Some(records),
            broken_seq: None,
            reason: None,
        },
        Verdict::Broken { seq, reason } => AuditVerdict {
            intact: false,
            records: None,
            broken_seq: Some(seq),
            reason: Some(reason),
        },
    }))
}
