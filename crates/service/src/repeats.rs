//! Repeat filings (重复信访) on the case page: the earlier cases of the same kind naming the
//! same person, found by the blind index of their ID number, shown to those who may know it.

use super::*;

/// One earlier filing, as the case page lists it: its summary (number, filing time, state)
/// and whether the viewer may open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierFiling {
    pub summary: CaseSummary,
    pub visible: bool,
}

impl<S: Store + Audit> Service<S> {
    /// The earlier filings, in the twelve months before it, of the person `id` names: `None`
    /// for a viewer who may not know (only the committee and the filing deputy may: it comes
    /// from an ID number). Each says whether the viewer may open it; the page shows the others
    /// by number alone, never their titles.
    pub async fn earlier_filings(
        &self,
        p: &Principal,
        id: &str,
    ) -> Result<Option<Vec<EarlierFiling>>> {
        let record = self.visible(self.now(), p, id).await?;
        let filer = record
            .case
            .parties
            .get(party::FILER)
            .is_some_and(|f| f.contains(&p.user.login));
        let may_know = match p.role() {
            Role::Leader | Role::Staff => true,
            Role::Deputy => filer,
            _ => false,
        };
        if !may_know {
            return Ok(None);
        }
        let mut out = Vec::new();
        for summary in self.store.earlier_filings(id).await? {
            let visible = match self.store.case(&summary.id).await? {
                Some(r) => p.can_see(&r.case),
                None => false,
            };
            out.push(EarlierFiling { summary, visible });
        }
        Ok(Some(out))
    }
}
