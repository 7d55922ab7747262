//! What a due reminder says, and to whom: the inbox entries and the messages of each channel,
//! composed from its case and recipients as the scheduler read them for the whole batch. No
//! store is read here, so a batch of reminders costs a few reads, not several each.

use std::collections::BTreeMap;

use duban_core::machine::{duty_name, link_expiry, linked_actions};
use duban_core::workflow::When;
use duban_storage::{
    CaseRecord, ClaimedReminder, NewDelivery, Notification, Recipient, ReminderOutcome, SignedLink,
};
use jiff::Timestamp;
use serde_json::json;

use crate::{Scheduler, short_hash, text_message};

/// Whether a claimed reminder still applies to its case as it stands. A notice reports what
/// happened, and goes out whatever the case has done since; a reminder is about a deadline,
/// and only while it still stands. Leaving a state writes nothing to its reminders, so this is
/// where they are cancelled (and so is a reminder whose case is gone).
pub(crate) fn applies(claim: &ClaimedReminder, record: &CaseRecord) -> bool {
    let r = &claim.reminder;
    r.headline.is_some()
        || record
            .case
            .reminder_applies(&r.state, r.duty.as_deref(), r.due_date.as_deref())
}

impl<S> Scheduler<S> {
    /// The messages a due reminder that still applies becomes, for the recipients the batch
    /// read for it. `sms_today` counts each person's SMS queued today, this batch's included.
    pub(crate) fn compose(
        &self,
        claim: &ClaimedReminder,
        record: &CaseRecord,
        recipients: &[Recipient],
        sms_today: &mut BTreeMap<String, u64>,
        now: Timestamp,
    ) -> ReminderOutcome {
        let r = &claim.reminder;
        let case = &record.case;
        let wf = self.workflows.get(&case.kind);
        let rule = wf
            .filter(|_| r.headline.is_none())
            .and_then(|w| w.reminders.get(r.rule as usize));
        let state_title = wf
            .and_then(|w| w.state(&r.state))
            .map(|s| s.title.clone())
            .unwrap_or_else(|| r.state.clone());
        let kind_title = wf
            .map(|w| w.title.clone())
            .unwrap_or_else(|| case.kind.clone());
        let duty_title = r.duty.as_deref().map(duty_name).and_then(|d| {
            wf?.state(&r.state)?
                .duties
                .iter()
                .find(|x| x.name == d)
                .map(|x| x.title.clone())
        });
        let overdue = matches!(
            rule.map(|x| x.when),
            Some(When::Overdue) | Some(When::OverdueEvery(_))
        );
        // The kind of notice: SMS templates are configured per kind.
        let notice = if r.headline.is_some() {
            "notice"
        } else if r.escalate {
            "escalated"
        } else if overdue {
            "overdue"
        } else if matches!(rule.map(|x| x.when), Some(When::Entered)) {
            "new"
        } else if matches!(rule.map(|x| x.when), Some(When::AtDue)) {
            "at_due"
        } else {
            "due"
        };
        let prefix = match (notice, &r.headline) {
            (_, Some(h)) => format!("【{h}】"),
            ("escalated", _) => "【督办升级】".into(),
            ("overdue", _) => "【逾期提醒】".into(),
            ("new", _) => "【新事项】".into(),
            ("at_due", _) => "【今日到期】".into(),
            _ => "【到期提醒】".into(),
        };
        // The case as people name it: its title, and the number they quote on the phone.
        let named = match &record.number {
            Some(n) => format!("《{}》（{n}）", record.title),
            None => format!("《{}》", record.title),
        };
        let link = format!(
            "{}/cases/{}",
            self.config.base_url.trim_end_matches('/'),
            r.case_id
        );
        let what = duty_title.map(|t| format!("（{t}）")).unwrap_or_default();
        let due = r.due_date.clone().map(|d| {
            if overdue {
                format!("期限{d}已过，请尽快办理。")
            } else {
                format!("办理期限为{d}。")
            }
        });
        let subject = format!("{prefix}{kind_title}{named}");
        // A notice tells what happened and the state it led to, which the case may have left
        // by the time it is read; a reminder tells where the case stands now.
        let body = match &r.headline {
            Some(h) => format!(
                "{kind_title}{named}{h}，转入“{state_title}”{what}。{}\n查看：{link}",
                due.unwrap_or_default()
            ),
            None => format!(
                "{kind_title}{named}目前处于“{state_title}”{what}。{}\n查看：{link}",
                due.unwrap_or_default()
            ),
        };
        // A group robot shows one short text: what, which case, what is due, and the link.
        let robot_text = text_message(&format!("{prefix}{body}"));
        // An SMS is an approved template filled with short values (gateways cap each).
        let sms_params = json!({
            "kind": short(&kind_title, 10),
            "number": record.number.clone().unwrap_or_else(|| "无".into()),
            "title": short(&record.title, 20),
            "state": short(&state_title, 10),
            "due": r.due_date.clone().unwrap_or_else(|| "无".into()),
        });
        let occurrence = r.fire_at.as_millisecond().to_string();
        let delivery = |channel: &str, address: &str, org: Option<&String>, body: String| {
            let id = format!(
                "dlv_{}",
                short_hash(&[&r.case_id, &r.key, &occurrence, channel, address])
            );
            NewDelivery {
                id,
                channel: channel.into(),
                address: address.into(),
                org_code: org.cloned(),
                subject: subject.clone(),
                body,
            }
        };
        let mut notifications = Vec::new();
        let mut deliveries: BTreeMap<String, NewDelivery> = BTreeMap::new();
        for Recipient {
            login,
            org,
            email,
            webhook_url,
            wecom_url,
            dingtalk_url,
            sms,
        } in recipients
        {
            // A person's own inbox and e-mail carry their signed links; an office's carry none.
            // A message about a state the case has since left offers nothing.
            let links = login
                .as_deref()
                .filter(|_| r.state == case.state)
                .map(|l| self.links(record, l, now))
                .unwrap_or_default();
            if let Some(login) = login {
                notifications.push(Notification {
                    id: format!(
                        "ntf_{}",
                        short_hash(&[&r.case_id, &r.key, &occurrence, login])
                    ),
                    recipient: login.clone(),
                    case_id: Some(r.case_id.clone()),
                    reminder_key: Some(r.key.clone()),
                    title: subject.clone(),
                    body: format!("{body}{links}"),
                    escalate: r.escalate,
                    created_at: now,
                    read_at: None,
                });
            }
            if let Some(address) = email {
                let d = delivery("email", address, org.as_ref(), format!("{body}{links}"));
                deliveries.insert(d.id.clone(), d);
            }
            if let (Some(url), Some(org)) = (webhook_url, org) {
                // The payload names its own delivery, so the id comes first.
                let mut d = delivery("webhook", url, Some(org), String::new());
                d.body = json!({
                    "event": if r.headline.is_some() { "notice" } else if r.escalate { "reminder.escalated" } else if overdue { "reminder.overdue" } else { "reminder.due" },
                    "headline": r.headline,
                    "delivery_id": d.id,
                    "case_id": r.case_id,
                    "number": record.number,
                    "kind": case.kind,
                    "title": record.title,
                    "state": r.state,
                    "state_title": state_title,
                    "duty": r.duty,
                    "due_date": r.due_date,
                    "escalate": r.escalate,
                    "organisation": org,
                    "link": link,
                    "text": body,
                })
                .to_string();
                deliveries.insert(d.id.clone(), d);
            }
            if let Some(org) = org {
                for (channel, url) in [("wecom", wecom_url), ("dingtalk", dingtalk_url)] {
                    if let Some(url) = url {
                        let d = delivery(channel, url, Some(org), robot_text.clone());
                        deliveries.insert(d.id.clone(), d);
                    }
                }
            }
            if let (true, Some(login), Some(policy)) = (*sms, login, &self.config.sms)
                && policy.kinds.contains(notice)
            {
                // The cap counts what was queued today (China's day), this message excluded.
                let today = sms_today.entry(login.clone()).or_default();
                if *today < policy.daily_cap {
                    *today += 1;
                    let body = json!({"kind": notice, "params": sms_params}).to_string();
                    let d = delivery("sms", login, None, body);
                    deliveries.insert(d.id.clone(), d);
                } else {
                    tracing::info!(case = %r.case_id, cap = policy.daily_cap, "a person's daily SMS cap is reached; the inbox has the message");
                }
            }
        }
        // A repeating (overdue) reminder comes back every so many days while the state lasts;
        // China keeps no daylight saving, so a day is 24 hours. Repeats missed while nothing
        // ran are skipped: one catch-up message, then the next one in the future.
        let next_fire = r.repeat_every_days.and_then(|days| {
            let step = jiff::SignedDuration::from_hours(days.max(1) * 24);
            let mut next = r.fire_at.checked_add(step).ok()?;
            while next <= now {
                next = next.checked_add(step).ok()?;
            }
            Some(next)
        });
        ReminderOutcome::Fired {
            notifications,
            deliveries: deliveries.into_values().collect(),
            next_fire,
        }
    }
}

impl<S> Scheduler<S> {
    /// The lines offering `login` the actions they may take from a signed link, one each, or
    /// nothing. Each link is bound to the case, to them, to the state as it was entered (the
    /// reply being rated) and to the end of their window; the service checks it all again
    /// when the link is used.
    fn links(&self, record: &CaseRecord, login: &str, now: Timestamp) -> String {
        let case = &record.case;
        let (Some(key), Some(wf)) = (&self.config.links, self.workflows.get(&case.kind)) else {
            return String::new();
        };
        let base = self.config.base_url.trim_end_matches('/');
        let month_later = now
            .checked_add(jiff::SignedDuration::from_hours(30 * 24))
            .unwrap_or(now);
        let mut out = String::new();
        for a in linked_actions(wf, case, login) {
            let expires = link_expiry(wf, case, login, &a.name, month_later);
            if expires <= now {
                continue;
            }
            let token = key.seal(&SignedLink {
                case_id: record.id.clone(),
                login: login.to_string(),
                action: a.name.clone(),
                round: case.entered_at,
                expires,
            });
            // The last day it works on: `expires` is the first instant after it.
            let last_day = duban_core::deadline::last_day_before(expires);
            out.push_str(&format!(
                "\n{}（无需登录，有效至{last_day}，仅可使用一次）：{base}/r/{token}",
                a.title
            ));
        }
        out
    }
}

/// The first instant of `now`'s day in China (UTC+8 all year).
pub(crate) fn china_day_start(now: Timestamp) -> Timestamp {
    const OFFSET: i64 = 8 * 3600;
    let day = (now.as_second() + OFFSET).div_euclid(86_400);
    Timestamp::from_second(day * 86_400 - OFFSET).unwrap_or(now)
}

/// At most `n` characters, with … when cut.
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(n - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_china_day_starts_at_16_00_utc_the_day_before() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            china_day_start(at("2026-12-05T15:59:59Z")),
            at("2026-12-04T16:00:00Z")
        );
        assert_eq!(
            china_day_start(at("2026-12-05T16:00:00Z")),
            at("2026-12-05T16:00:00Z")
        );
    }

    #[test]
    fn short_cuts_by_characters_and_says_so() {
        assert_eq!(short("关于修缮龙门镇道路的建议", 6), "关于修缮龙…");
        assert_eq!(short("路灯", 6), "路灯");
    }
}
