//! Bad input met while reading: counted, kept with file and line, and the run goes on.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One bad line, truncated file or unreadable source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// The file, S3 object or log stream.
    pub source: String,
    /// 1-based line number, when the problem is one line.
    pub line: Option<u64>,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.source, self.message),
            None => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

/// Where readers report issues; shared by every reader of one run. Keeps the first
/// [`Issues::KEPT`] in full and counts the rest. Every query reads its sources again, so the same
/// line reported twice counts once.
#[derive(Debug, Clone, Default)]
pub struct Issues {
    inner: Arc<IssuesInner>,
}

#[derive(Debug, Default)]
struct IssuesInner {
    count: AtomicU64,
    kept: Mutex<Vec<Issue>>,
    seen: Mutex<std::collections::HashSet<(String, Option<u64>)>>,
}

impl Issues {
    pub const KEPT: usize = 1000;

    pub fn new() -> Issues {
        Issues::default()
    }

    pub fn report(&self, issue: Issue) {
        if let Ok(mut seen) = self.inner.seen.lock() {
            if !seen.insert((issue.source.clone(), issue.line)) {
                return;
            }
        }
        self.inner.count.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut kept) = self.inner.kept.lock() {
            if kept.len() < Self::KEPT {
                kept.push(issue);
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::Relaxed)
    }

    /// The kept issues, sorted by source and line.
    pub fn list(&self) -> Vec<Issue> {
        let mut list = self.inner.kept.lock().map(|k| k.clone()).unwrap_or_default();
        list.sort_by(|a, b| (&a.source, a.line).cmp(&(&b.source, b.line)));
        list
    }
}
