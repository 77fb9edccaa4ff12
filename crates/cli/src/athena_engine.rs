//! `netaudit logs --engine athena`: the built-in questions, `logs sql` and the flow detections run
//! in Amazon Athena over the `flows` table that `logs athena create` makes, with the same SQL text
//! `logs athena` prints and the same renderers as the local engine.

use crate::Failure;
use clap::{Args, ValueEnum};
use netaudit_aws::athena::{query_cost_usd, AthenaAnswer, AthenaError, AthenaSession, Poll, QueryRequest};
use netaudit_logs::QueryResult;
use std::time::Duration;

/// Where `netaudit logs` runs its SQL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Engine {
    /// Read the sources given with --flows, --vpn and --tunnels on this machine.
    #[default]
    Local,
    /// Query the tables in Amazon Athena (see `logs athena create`).
    Athena,
}

/// The Athena engine's options.
#[derive(Args, Debug, Default)]
pub(crate) struct EngineArgs {
    /// Where the SQL runs: local (the sources given here) or athena (the tables in Athena; the
    /// calls use --profile, --region and --endpoint-url).
    #[arg(long, global = true, value_enum, default_value_t)]
    pub(crate) engine: Engine,
    /// The Athena database of the tables [default: netaudit].
    #[arg(long, global = true, value_name = "NAME")]
    database: Option<String>,
    /// The Athena workgroup [default: primary].
    #[arg(long, global = true, value_name = "NAME")]
    workgroup: Option<String>,
    /// Where Athena writes query results: s3://bucket[/prefix] (needed unless --workgroup names one
    /// whose settings give it).
    #[arg(long, global = true, value_name = "S3_URL")]
    athena_output: Option<String>,
    /// The Athena flow log table [default: flows].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) table: Option<String>,
    /// Stop an Athena query still running after this many seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    athena_timeout: u64,
}

/// The database netaudit's tables are in unless --database says otherwise.
pub(crate) const DEFAULT_DATABASE: &str = "netaudit";
/// The flow log table's name unless --table says otherwise.
pub(crate) const DEFAULT_TABLE: &str = "flows";

impl EngineArgs {
    pub(crate) fn database(&self) -> &str {
        self.database.as_deref().unwrap_or(DEFAULT_DATABASE)
    }

    pub(crate) fn table(&self) -> &str {
        self.table.as_deref().unwrap_or(DEFAULT_TABLE)
    }

    /// The options that mean something only on Athena, as typed, for a usage error on the local engine.
    pub(crate) fn athena_only_given(&self) -> Vec<&'static str> {
        let mut given = vec![];
        for (name, set) in [
            ("--database", self.database.is_some()),
            ("--workgroup", self.workgroup.is_some()),
            ("--athena-output", self.athena_output.is_some()),
            ("--table", self.table.is_some()),
        ] {
            if set {
                given.push(name);
            }
        }
        given
    }
}

/// Athena, ready to run netaudit's statements: the client and where the statements run.
pub(crate) struct AthenaEngine {
    session: AthenaSession,
    database: String,
    workgroup: String,
    output: Option<String>,
    table: String,
    poll: Poll,
}

impl AthenaEngine {
    /// Check the options and make the client; `region` is --region (AWS_REGION or the profile's
    /// otherwise).
    pub(crate) fn new(
        args: &EngineArgs,
        live: &netaudit_aws::LiveOptions,
        region: Option<&str>,
    ) -> Result<AthenaEngine, Failure> {
        if let Some(output) = &args.athena_output {
            if netaudit_aws::log_sources::parse_s3_url(output).is_none() {
                return Err(Failure::Usage(format!(
                    "--athena-output {output:?}: expected s3://bucket[/prefix]"
                )));
            }
        } else if args.workgroup.is_none() {
            return Err(Failure::Usage(
                "--engine athena: give --athena-output s3://bucket/prefix for the query results (or --workgroup NAME \
                 whose settings give a result location)"
                    .into(),
            ));
        }
        let table = args.table().to_owned();
        let identifier = |part: &str| {
            part.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if !identifier(args.database()) {
            return Err(Failure::Usage(format!(
                "--database {:?}: expected letters, digits and _",
                args.database()
            )));
        }
        let parts: Vec<&str> = table.split('.').collect();
        if parts.len() > 2 || !parts.iter().all(|p| identifier(p)) {
            return Err(Failure::Usage(format!(
                "--table {table:?}: expected [database.]table (letters, digits, _)"
            )));
        }
        let session = AthenaSession::new(live, region).map_err(|e| match e {
            AthenaError::NoRegion => Failure::Usage(format!("--engine athena: give --region; {e}")),
            e => Failure::Query(e.to_string()),
        })?;
        Ok(AthenaEngine {
            session,
            database: args.database().to_owned(),
            workgroup: args.workgroup.clone().unwrap_or_else(|| "primary".to_owned()),
            output: args.athena_output.clone(),
            table,
            poll: Poll {
                timeout: Duration::from_secs(args.athena_timeout),
                ..Poll::default()
            },
        })
    }

    /// Run one statement as it is; `in_database`: with the database as the query's context
    /// (not for `CREATE DATABASE`, which must run before it exists). Prints what it cost.
    pub(crate) fn run(&self, sql: &str, in_database: bool) -> Result<AthenaAnswer, Failure> {
        let request = QueryRequest {
            sql: sql.to_owned(),
            database: in_database.then(|| self.database.clone()),
            catalog: None,
            workgroup: Some(self.workgroup.clone()),
            output_location: self.output.clone(),
        };
        let answer = self
            .session
            .run(&request, self.poll)
            .map_err(|e| Failure::Query(e.to_string()))?;
        note!(
            "netaudit: athena query {}: {} bytes scanned, about ${:.6}",
            answer.query_id,
            answer.data_scanned_bytes,
            query_cost_usd(answer.data_scanned_bytes)
        );
        Ok(answer)
    }

    /// A built-in statement, written for the `flows` table, on the configured table.
    pub(crate) fn builtin(&self, sql: &str) -> Result<QueryResult, Failure> {
        self.query(&netaudit_logs::athena::on_table(sql, &self.table))
    }

    /// Run a statement as it is; its rows as a result the local renderers print.
    pub(crate) fn query(&self, sql: &str) -> Result<QueryResult, Failure> {
        let answer = self.run(sql, true)?;
        let columns: Vec<(String, String)> = answer
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.athena_type.clone()))
            .collect();
        netaudit_logs::athena::result_from_text(&columns, &answer.rows)
            .map_err(|e| Failure::Query(format!("athena query {}: {e}", answer.query_id)))
    }

    /// Create the database, then the tables and views in order; each statement exactly as
    /// `logs athena` prints it.
    pub(crate) fn create(&self, tables: &[&str]) -> Result<(), Failure> {
        self.run(&format!("CREATE DATABASE IF NOT EXISTS {}", self.database), false)?;
        for statement in tables {
            self.run(statement, true)?;
        }
        Ok(())
    }
}
