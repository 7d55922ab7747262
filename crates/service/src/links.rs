//! Acting from a signed link (a deputy rating a reply from the e-mail, without signing in):
//! the form the link opens, and the action it submits. Opening the link changes nothing. The
//! action is taken as the person the link was made for, with every rule a signed-in person
//! meets, once, while the case is still in the state the link found it in and before the
//! link's window ends.

use duban_core::workflow::Action;
use duban_storage::{Administration, Audit, LinkKey, SignedLink, Store, StoredEvent};
use jiff::Timestamp;
use serde_json::Value;

use crate::{CaseDetail, Error, Principal, Service};

/// Why a link does nothing, as the page tells its holder.
#[derive(Debug)]
pub enum LinkError {
    /// Not a link this installation made, altered, or for a person or case that is gone.
    Invalid,
    /// Its window has ended: the person signs in to act late.
    Expired,
    /// It has been used, or the round it was for is over (the case has moved on).
    Spent,
    /// The action itself was refused (a field missing), or the store failed.
    Refused(Error),
}

impl From<Error> for LinkError {
    fn from(e: Error) -> Self {
        LinkError::Refused(e)
    }
}

impl From<duban_storage::Error> for LinkError {
    fn from(e: duban_storage::Error) -> Self {
        LinkError::Refused(e.into())
    }
}

/// What a link offers: the case as its person may see it, the action and its fields, the
/// step the round began with (the reply to rate), and the end of the window.
#[derive(Debug, Clone)]
pub struct LinkOffer {
    pub detail: CaseDetail,
    pub action: Action,
    pub round_began: Option<StoredEvent>,
    pub expires: Timestamp,
    /// The person's name, to greet them by.
    pub person: String,
    /// Who the link acts as, and what it opened to: what [`Service::act_by_link`] acts with,
    /// so that a form is checked once, not again before it is taken.
    link: SignedLink,
    principal: Principal,
}

impl<S: Store + Audit + Administration> Service<S> {
    /// Links are sealed under `key` (derived from the personal-data keys); without one, no
    /// link opens.
    pub fn with_links(mut self, key: Option<LinkKey>) -> Self {
        self.links = key;
        self
    }

    /// What `token` offers now. Reads only: opening a link twice, or a mail scanner's
    /// following it, takes no action.
    pub async fn link_offer(&self, token: &str) -> Result<LinkOffer, LinkError> {
        let (link, p, detail, round_began) = self.linked(token).await?;
        let action = self
            .workflows
            .get(&detail.record.case.kind)
            .and_then(|w| w.action(&link.action))
            .cloned()
            .ok_or(LinkError::Invalid)?;
        Ok(LinkOffer {
            detail,
            action,
            round_began,
            expires: link.expires,
            person: p.user.name.clone(),
            link,
            principal: p,
        })
    }

    /// Takes the offer's action with `payload`, as its person, on the case as the offer was
    /// checked (`link_offer`, just before): the action itself checks everything a signed-in
    /// person meets, and if anyone acted in between, it is refused as stale and nothing is
    /// written.
    pub async fn act_by_link(
        &self,
        offer: &LinkOffer,
        payload: &Value,
    ) -> Result<CaseDetail, LinkError> {
        let version = offer.detail.record.case.version;
        let link = &offer.link;
        Ok(self
            .act(
                &offer.principal,
                &link.case_id,
                &link.action,
                payload,
                version,
                None,
            )
            .await?)
    }

    /// The link `token` opens to, its person, and the case as they see it, if it still works.
    async fn linked(
        &self,
        token: &str,
    ) -> Result<(SignedLink, Principal, CaseDetail, Option<StoredEvent>), LinkError> {
        let link = self
            .links
            .as_ref()
            .and_then(|k| k.open(token))
            .ok_or(LinkError::Invalid)?;
        if self.now() >= link.expires {
            return Err(LinkError::Expired);
        }
        // A person disabled since (or of a disabled organisation) acts by no link either.
        let account = self
            .store
            .account(&link.login)
            .await?
            .filter(|a| a.active())
            .ok_or(LinkError::Invalid)?;
        let p = Principal { user: account.user };
        let detail = match self.show(&p, &link.case_id, None, None).await {
            Ok(d) => d,
            Err(Error::NotFound | Error::Forbidden { .. }) => return Err(LinkError::Invalid),
            Err(e) => return Err(e.into()),
        };
        let case = &detail.record.case;
        if case.entered_at != link.round || !detail.allowed_actions.contains(&link.action) {
            return Err(LinkError::Spent);
        }
        // Used once: they have not taken the action since the round began (an action that
        // leaves the case where it is could otherwise be taken again from the same link).
        let events = self.store.events(&link.case_id).await?;
        let taken = events.iter().any(|e| {
            e.event.at >= link.round
                && e.event.action == link.action
                && e.event.actor.user == link.login
        });
        if taken {
            return Err(LinkError::Spent);
        }
        let round_began = events
            .into_iter()
            .rev()
            .find(|e| e.event.at == link.round && e.event.to_state == case.state);
        Ok((link, p, detail, round_began))
    }
}
