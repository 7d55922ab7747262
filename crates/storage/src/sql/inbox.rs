//! Each person's inbox.

use sqlx::Row;

use super::*;
use crate::{Cursor, Inbox, Notification, Page, Result};

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

    async fn notifications(
        &self,
        recipient: &str,
        page: &Page,
    ) -> Result<(Vec<Notification>, Option<Cursor>)> {
        // Newest first: the page starts before the cursor; the first page before everything.
        let after = page.after.clone().unwrap_or(Cursor {
            key: i64::MAX,
            id: "~".into(),
        });
        let rows = sqlx::query(
            "SELECT id, recipient, case_id, reminder_key, title, body, escalate, created_at, read_at \
             FROM notifications WHERE recipient = $1 AND (created_at, id) < ($2, $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(recipient.to_string())
        .bind(after.key)
        .bind(after.id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(|r| {
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
            })
            .collect::<Result<Vec<_>>>()?;
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
}
