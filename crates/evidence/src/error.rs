//! What can be wrong with evidence. Every problem names the file or folder (relative to the evidence
//! directory) so the CLI can print it as is; most also become a [`Gap`](netaudit_model::Gap).

use netaudit_model::GapKind;

/// One problem with the evidence. Paths are relative to the evidence directory, except in
/// [`EvidenceError::Dir`] and [`EvidenceError::NoAccounts`], which name the directory itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The evidence directory itself cannot be used.
    #[error("{path}: {message}")]
    Dir { path: String, message: String },
    /// The evidence directory holds no `<12-digit account id>/` folder.
    #[error("{path}: no account folders (expected <12-digit account id>/<region>/<service>-<operation>.json){hint}")]
    NoAccounts { path: String, hint: String },
    /// A file or folder exists but could not be read.
    #[error("{path}: cannot read: {message}")]
    Unreadable { path: String, message: String },
    /// Neither `<stem>.json` nor `<stem>.error` exists. `path` names the `.json`.
    #[error("{path}: missing (expected the output of `{command}`, or a .error file if the call failed)")]
    Missing { path: String, command: String },
    /// A `.error` file: the call failed when the evidence was collected.
    #[error("{path}: {api} failed: {code}: {message}")]
    CallFailed {
        path: String,
        api: String,
        /// The AWS error code, or `CallFailed` when the text has none.
        code: String,
        message: String,
    },
    /// Not valid JSON, or truncated, or a value of the wrong type.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Valid JSON that is not what the call returns (no top-level key, a truncated listing).
    #[error("{path}: {message}")]
    Malformed { path: String, message: String },
    #[error("{path}: not an account folder: the name must be a 12-digit AWS account id")]
    BadAccountFolder { path: String },
    #[error("{path}: not a region folder: the name must be a region such as us-east-1")]
    BadRegionFolder { path: String },
    /// A file or folder the evidence layout has no place for.
    #[error("{path}: unexpected {reason}")]
    Unexpected { path: String, reason: String },
    /// Both `<stem>.json` and `<stem>.error`: two collections were mixed, and either may be current.
    #[error("{path}: both {stem}.json and {stem}.error exist; cannot tell which is current")]
    Conflicting { path: String, stem: String },
    /// `sts get-caller-identity` names another account than the folder.
    #[error("{path}: the evidence was collected as account {found}, but the folder is {folder}")]
    AccountMismatch {
        path: String,
        folder: String,
        found: String,
    },
    /// A region folder for a region that `ec2 describe-regions --all-regions` does not list.
    #[error("{path}: {region} is not among the regions ec2 DescribeRegions lists for this account")]
    UnlistedRegion { path: String, region: String },
}

impl EvidenceError {
    /// The file or folder the problem is in.
    pub fn path(&self) -> &str {
        match self {
            EvidenceError::Dir { path, .. }
            | EvidenceError::NoAccounts { path, .. }
            | EvidenceError::Unreadable { path, .. }
            | EvidenceError::Missing { path, .. }
            | EvidenceError::CallFailed { path, .. }
            | EvidenceError::Json { path, .. }
            | EvidenceError::Malformed { path, .. }
            | EvidenceError::BadAccountFolder { path }
            | EvidenceError::BadRegionFolder { path }
            | EvidenceError::Unexpected { path, .. }
            | EvidenceError::Conflicting { path, .. }
            | EvidenceError::AccountMismatch { path, .. }
            | EvidenceError::UnlistedRegion { path, .. } => path,
        }
    }

    /// The class of gap this problem makes.
    pub fn gap_kind(&self) -> GapKind {
        match self {
            EvidenceError::Missing { .. } => GapKind::Missing,
            EvidenceError::CallFailed { .. } => GapKind::ApiError,
            _ => GapKind::Malformed,
        }
    }

    /// The gap code: the AWS error code for a failed call, otherwise netaudit's own.
    pub fn code(&self) -> &str {
        match self {
            EvidenceError::Missing { .. } => "MissingEvidence",
            EvidenceError::CallFailed { code, .. } => code,
            EvidenceError::Dir { .. }
            | EvidenceError::NoAccounts { .. }
            | EvidenceError::Unreadable { .. }
            | EvidenceError::Json { .. }
            | EvidenceError::Malformed { .. } => "MalformedEvidence",
            EvidenceError::BadAccountFolder { .. }
            | EvidenceError::BadRegionFolder { .. }
            | EvidenceError::Unexpected { .. } => "UnexpectedEvidence",
            EvidenceError::Conflicting { .. } => "ConflictingEvidence",
            EvidenceError::AccountMismatch { .. } => "AccountMismatch",
            EvidenceError::UnlistedRegion { .. } => "UnlistedRegion",
        }
    }

    /// The gap message: AWS's own words for a failed call, otherwise the whole error with its path.
    pub fn gap_message(&self) -> String {
        match self {
            EvidenceError::CallFailed { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}
