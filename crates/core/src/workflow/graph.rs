//! Mermaid state diagrams of a workflow, for documentation and for checking a definition by eye.

use std::fmt::Write;

use crate::workflow::model::{Anchor, Workflow};

/// A Mermaid `stateDiagram-v2` of the workflow: states with their titles and deadlines, every
/// action as an edge labelled with its name and roles.
pub fn mermaid(w: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "---\ntitle: {} ({} v{})\n---",
        w.title, w.kind, w.version
    );
    out.push_str("stateDiagram-v2\n");
    for s in &w.states {
        let mut label = s.title.clone();
        if let Some(dl) = &s.deadline {
            let from = match &dl.from {
                Anchor::Entered => String::new(),
                Anchor::Action(a) => format!("，自{a}起"),
                Anchor::Due => String::new(),
            };
            let _ = write!(label, "（期限{}{from}）", dl.period);
        }
        let _ = writeln!(out, "    {}: {}", s.name, label.replace(':', "："));
    }
    let _ = writeln!(out, "    [*] --> {}", w.initial);
    for a in &w.actions {
        let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
        for from in &a.from {
            for to in a.targets_from(from) {
                let _ = writeln!(
                    out,
                    "    {from} --> {to}: {} [{}]",
                    a.name,
                    roles.join(", ")
                );
            }
        }
    }
    for s in w.states.iter().filter(|s| s.terminal) {
        let _ = writeln!(out, "    {} --> [*]", s.name);
    }
    out
}
