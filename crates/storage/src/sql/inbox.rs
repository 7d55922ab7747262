//! Each person's inbox: notices and reminders, newest first, read one by one or all at once.

use sqlx::Row;

use jiff::Timestamp;

use super::*;
use crate::{Cursor, Inbox, Notification, Page, Result};

const COLUMNS: &str =
    "id, recipient, case_id, reminder_key, title, body, escalate, created_at, read_at";

fn notification(r: &sqlx::any::AnyRow) -> Result<Notification> {
    let read: Option<i64> = r.try_get("read_at")?;
    Ok(Notification {
        id: r.try_get("id")?,
        recipient: r.try_get("recipient")?,
        case_id: r.try_get("case_id")?,
        reminder_key: r.try_get("reminder_key")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        escalate: r.try_get::<i64, _>("escalate")? == 1,
        created_at: from_ms(r.try_get("created_at")?)?,
        read_at: read.map(from_ms).transpose()?,
    })
}

impl Inbox for SqlStore {
    async fn add_notification(&self, n: &Notification) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (id, recipient, case_id, reminder_key, title, body, escalate, created_at, read_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(n.id.clone())
        .bind(n.recipient.clone())
        .bind(n.case_id.clone())
        .bind(n.reminder_key.clone())
        .bind(n.title.clone())
        .bind(n.body.clone())
        .bind(i64::from(n.escalate))
        .bind(ms(n.created_at))
        .bind(n.read_at.map(ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn case_notifications(&self, case_id: &str) -> Result<Vec<Notification>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE case_id = $1 ORDER BY created_at, id"
        )))
        .bind(case_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(notification).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn notifications(
        &self,
        recipient: &str,
        page: &Page,
        unread_only: bool,
    ) -> Result<(Vec<Notification>, Option<Cursor>)> {
        // Newest first: the page starts before the cursor; the first page before everything.
        let after = page.after.clone().unwrap_or(Cursor {
            key: i64::MAX,
            id: "~".into(),
        });
        let unread = if unread_only {
            " AND read_at IS NULL"
        } else {
            ""
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE recipient = $1 AND (created_at, id) < ($2, $3){unread} \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        )))
        .bind(recipient.to_string())
        .bind(after.key)
        .bind(after.id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows.iter().map(notification).collect::<Result<Vec<_>>>()?;
        let next = if items.len() > page.limit as usize {
            items.truncate(page.limit as usize);
            items.last().map(|n| Cursor {
                key: ms(n.created_at),
                id: n.id.clone(),
            })
        } else {
            None
        };
        Ok((items, next))
    }

    #[tracing::instrument(skip_all)]
    async fn mark_read(&self, recipient: &str, id: &str, at: Timestamp) -> Result<bool> {
        // Through the writer's turn, like every write: on SQLite a write elsewhere would wait
        // in the busy handler instead of its place in the queue.
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE notifications SET read_at = $3 WHERE recipient = $1 AND id = $2 AND read_at IS NULL",
        )
        .bind(recipient.to_string())
        .bind(id.to_string())
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn mark_all_read(&self, recipient: &str, at: Timestamp) -> Result<u64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query(
            "UPDATE notifications SET read_at = $2 WHERE recipient = $1 AND read_at IS NULL",
        )
        .bind(recipient.to_string())
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    async fn has_notification(&self, recipient: &str, id: &str) -> Result<bool> {
        let found = sqlx::query("SELECT 1 FROM notifications WHERE recipient = $1 AND id = $2")
            .bind(recipient.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn unread(&self, recipient: &str) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL",
        )
        .bind(recipient.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }
}
