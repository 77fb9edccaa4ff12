//! `--production-tag` and the `[priority]` settings: which tags make an asset production when
//! results are ranked by what to fix first.

use crate::Failure;
use netaudit_checks::ProductionTags;

#[derive(clap::Args, Debug, Default)]
pub struct PriorityArgs {
    /// A tag that marks production assets, as KEY=VALUE (repeatable; key and value compared
    /// ignoring case). Replaces the defaults: Environment, env or stage = prod or production.
    #[arg(long = "production-tag", value_name = "KEY=VALUE")]
    production_tag: Vec<String>,
    /// The `[priority] production_tags` of the config file, used when none is typed.
    #[arg(skip)]
    pub(crate) configured: Option<ProductionTags>,
}

impl PriorityArgs {
    /// The production tags: typed, else configured, else the defaults.
    pub fn production_tags(&self) -> Result<ProductionTags, Failure> {
        if self.production_tag.is_empty() {
            return Ok(self.configured.clone().unwrap_or_default());
        }
        let pairs = self
            .production_tag
            .iter()
            .map(|t| ProductionTags::parse_pair(t).map_err(|e| Failure::Usage(format!("--production-tag {e}"))))
            .collect::<Result<Vec<_>, Failure>>()?;
        Ok(ProductionTags { pairs })
    }
}
