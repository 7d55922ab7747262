//! The reachability pass: every state can be reached from the initial one, every non-terminal
//! state has a way out, and every way leads on to a terminal state.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::Check;

pub(super) fn check(c: &mut Check<'_, '_>) {
    let raw = c.raw;
    // With an unknown state or role among the actions, the graph is not the one the author
    // meant, and its reachability errors would only repeat those.
    let graph_known = c.d.found.is_empty();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in &raw.actions {
        for f in &a.from {
            let targets = edges.entry(f.value.as_str()).or_default();
            if let Some(to) = &a.to {
                targets.insert(to.value.as_str());
            }
            for r in &a.routes {
                if r.from.as_ref().is_none_or(|rf| rf.value == f.value) {
                    targets.insert(r.to.value.as_str());
                }
            }
        }
    }
    if let Some(init) = &raw.initial
        && c.state_names.contains(init.value.as_str())
        && graph_known
    {
        let reached = reach(&edges, [init.value.as_str()]);
        for s in &raw.states {
            if !reached.contains(s.name.value.as_str()) {
                c.d.at_line(
                    s.name.line,
                    format!(
                        "state `{}` cannot be reached from `{}`",
                        s.name.value, init.value
                    ),
                );
            }
        }
    }
    for s in raw.states.iter().filter(|s| !s.terminal && graph_known) {
        let name = s.name.value.as_str();
        let leaves = edges
            .get(name)
            .is_some_and(|t| t.iter().any(|t| *t != name));
        if !leaves {
            c.d.at_line(s.name.line, format!("non-terminal state `{name}` has no way out: no action leads from it to another state"));
        } else if !reach(&edges, [name]).iter().any(|r| c.terminal.contains(r)) {
            c.d.at_line(
                s.name.line,
                format!("state `{name}` can never reach a terminal state"),
            );
        }
    }
    if c.terminal.is_empty() && !raw.states.is_empty() {
        c.d.at_line(
            0,
            "no state is marked `terminal = true`: no case could ever finish",
        );
    }
}

/// Every state reachable from `start`, `start` included.
fn reach<'a>(
    edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    start: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<&'a str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = start.into_iter().collect();
    while let Some(s) = queue.pop_front() {
        if seen.insert(s)
            && let Some(next) = edges.get(s)
        {
            queue.extend(next.iter().copied());
        }
    }
    seen
}
