//! Diagnostics for definition files: every problem found, each with its file, line and reason.

use std::fmt;
use std::ops::Range;

/// One problem in a definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file's name as the caller gave it (for embedded defaults, `workflows/<kind>.toml`).
    pub file: String,
    /// 1-based line number; 0 when the problem concerns the file as a whole.
    pub line: usize,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Every problem found while loading a set of files, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A file handed to a loader: its name for diagnostics and its text. Core does no I/O, so
/// the binary reads files and passes them in; the shipped defaults are compiled in.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Collects diagnostics for one file and turns byte offsets into line numbers.
#[derive(Debug)]
pub(crate) struct FileDiagnostics<'a> {
    file: &'a str,
    line_starts: Vec<usize>,
    pub(crate) found: Vec<Diagnostic>,
}

impl<'a> FileDiagnostics<'a> {
    pub(crate) fn new(source: &Source<'a>) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            file: source.name,
            line_starts,
            found: Vec::new(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    pub(crate) fn line_of_span(&self, span: &Range<usize>) -> usize {
        self.line_of(span.start)
    }

    pub(crate) fn at_line(&mut self, line: usize, message: impl Into<String>) {
        self.found.push(Diagnostic {
            file: self.file.to_string(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn at(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let line = self.line_of_span(span);
        self.at_line(line, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines() {
        let src = Source {
            name: "f.toml",
            text: "a = 1\nb = 2\n\nc = 3",
        };
        let d = FileDiagnostics::new(&src);
        assert_eq!(d.line_of(0), 1);
        assert_eq!(d.line_of(5), 1);
        assert_eq!(d.line_of(6), 2);
        assert_eq!(d.line_of(12), 3);
        assert_eq!(d.line_of(13), 4);
    }

    #[test]
    fn a_diagnostic_reads_file_colon_line_colon_reason() {
        let d = Diagnostic {
            file: "workflows/x.toml".into(),
            line: 7,
            message: "unknown state `y`".into(),
        };
        assert_eq!(d.to_string(), "workflows/x.toml:7: unknown state `y`");
    }
}
