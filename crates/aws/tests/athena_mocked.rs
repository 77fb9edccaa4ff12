//! The Athena client on answers the emulator cannot give: a query that fails, one cancelled, one
//! that never finishes, results over several pages, and an API error. Athena's answers come from
//! `aws-smithy-mocks`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_athena::error::ErrorMetadata;
use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_athena::operation::start_query_execution::{StartQueryExecutionError, StartQueryExecutionOutput};
use aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionOutput;
use aws_sdk_athena::types::{
    AthenaError as ServiceError, ColumnInfo, Datum, QueryExecution, QueryExecutionState, QueryExecutionStatistics,
    QueryExecutionStatus, ResultSet, ResultSetMetadata, Row,
};
use aws_sdk_athena::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use netaudit_aws::athena::{run_query_with, AthenaError, Poll, QueryRequest};
use std::time::Duration;

const QUERY_ID: &str = "5e1f3a2b-0000-4000-8000-00000000abcd";

fn request() -> QueryRequest {
    QueryRequest {
        sql: "SELECT srcaddr, bytes FROM flows".into(),
        database: Some("netaudit".into()),
        catalog: None,
        workgroup: Some("primary".into()),
        output_location: Some("s3://results/netaudit/".into()),
    }
}

fn fast() -> Poll {
    Poll {
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        timeout: Duration::from_secs(5),
    }
}

fn started() -> Rule {
    mock!(Client::start_query_execution)
        .match_requests(|r| {
            r.query_string() == Some("SELECT srcaddr, bytes FROM flows")
                && r.query_execution_context().and_then(|c| c.database()) == Some("netaudit")
                && r.work_group() == Some("primary")
                && r.result_configuration().and_then(|c| c.output_location()) == Some("s3://results/netaudit/")
        })
        .then_output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id(QUERY_ID)
                .build()
        })
}

fn execution(state: QueryExecutionState, reason: Option<&str>, message: Option<&str>) -> GetQueryExecutionOutput {
    let mut status = QueryExecutionStatus::builder().state(state);
    if let Some(reason) = reason {
        status = status.state_change_reason(reason);
    }
    if let Some(message) = message {
        status = status.athena_error(ServiceError::builder().error_message(message).build());
    }
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id(QUERY_ID)
                .status(status.build())
                .statistics(
                    QueryExecutionStatistics::builder()
                        .data_scanned_in_bytes(123_456_789)
                        .engine_execution_time_in_millis(2500)
                        .build(),
                )
                .build(),
        )
        .build()
}

fn row(cells: &[Option<&str>]) -> Row {
    Row::builder()
        .set_data(Some(
            cells
                .iter()
                .map(|c| Datum::builder().set_var_char_value(c.map(str::to_owned)).build())
                .collect(),
        ))
        .build()
}

fn column(name: &str, athena_type: &str) -> ColumnInfo {
    ColumnInfo::builder().name(name).r#type(athena_type).build().unwrap()
}

#[tokio::test]
async fn a_query_is_polled_until_it_succeeds_and_every_page_is_read_without_the_header_row() {
    let start = started();
    let described = mock!(Client::get_query_execution)
        .match_requests(|r| r.query_execution_id() == Some(QUERY_ID))
        .sequence()
        .output(|| execution(QueryExecutionState::Queued, None, None))
        .output(|| execution(QueryExecutionState::Running, None, None))
        .output(|| execution(QueryExecutionState::Succeeded, None, None))
        .build();
    let first_page = mock!(Client::get_query_results)
        .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(1000))
        .then_output(|| {
            GetQueryResultsOutput::builder()
                .result_set(
                    ResultSet::builder()
                        .result_set_metadata(
                            ResultSetMetadata::builder()
                                .column_info(column("srcaddr", "varchar"))
                                .column_info(column("bytes", "bigint"))
                                .build(),
                        )
                        .rows(row(&[Some("srcaddr"), Some("bytes")]))
                        .rows(row(&[Some("10.0.1.5"), Some("900")]))
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    // A later page's first row is data even when it looks like the header.
    let second_page = mock!(Client::get_query_results)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            GetQueryResultsOutput::builder()
                .result_set(
                    ResultSet::builder()
                        .rows(row(&[Some("srcaddr"), Some("bytes")]))
                        .rows(row(&[Some("10.0.2.9"), None]))
                        .build(),
                )
                .build()
        });
    let client = mock_client!(
        aws_sdk_athena,
        RuleMode::MatchAny,
        &[&start, &described, &first_page, &second_page]
    );
    let answer = run_query_with(&client, &request(), fast()).await.unwrap();
    assert_eq!(answer.query_id, QUERY_ID);
    assert_eq!(
        answer
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.athena_type.as_str()))
            .collect::<Vec<_>>(),
        [("srcaddr", "varchar"), ("bytes", "bigint")]
    );
    assert_eq!(
        answer.rows,
        vec![
            vec![Some("10.0.1.5".to_owned()), Some("900".to_owned())],
            vec![Some("srcaddr".to_owned()), Some("bytes".to_owned())],
            vec![Some("10.0.2.9".to_owned()), None],
        ]
    );
    assert_eq!(answer.data_scanned_bytes, 123_456_789);
    assert_eq!(answer.engine_time, Duration::from_millis(2500));
    assert_eq!(described.num_calls(), 3);
    assert_eq!((first_page.num_calls(), second_page.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_failed_query_names_its_id_and_athena_s_reason() {
    let start = started();
    let described = mock!(Client::get_query_execution).then_output(|| {
        execution(
            QueryExecutionState::Failed,
            Some("TABLE_NOT_FOUND: line 1:28: Table 'awsdatacatalog.netaudit.flows' does not exist"),
            Some("TABLE_NOT_FOUND: line 1:28: Table 'awsdatacatalog.netaudit.flows' does not exist"),
        )
    });
    let results = mock!(Client::get_query_results).then_output(|| GetQueryResultsOutput::builder().build());
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&start, &described, &results]);
    let error = run_query_with(&client, &request(), fast()).await.unwrap_err();
    assert_eq!(
        error,
        AthenaError::Failed {
            query_id: QUERY_ID.into(),
            reason: "TABLE_NOT_FOUND: line 1:28: Table 'awsdatacatalog.netaudit.flows' does not exist".into(),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "athena query {QUERY_ID} failed: TABLE_NOT_FOUND: line 1:28: Table 'awsdatacatalog.netaudit.flows' does not exist"
        )
    );
    assert_eq!(results.num_calls(), 0, "no results are read of a failed query");
}

#[tokio::test]
async fn a_cancelled_query_is_an_error_naming_it() {
    let start = started();
    let described = mock!(Client::get_query_execution)
        .then_output(|| execution(QueryExecutionState::Cancelled, Some("Query cancelled by user"), None));
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&start, &described]);
    let error = run_query_with(&client, &request(), fast()).await.unwrap_err();
    assert_eq!(error.query_id(), Some(QUERY_ID));
    assert_eq!(
        error.to_string(),
        format!("athena query {QUERY_ID} was cancelled: Query cancelled by user")
    );
}

#[tokio::test]
async fn a_query_still_running_at_the_limit_is_stopped_and_named() {
    let start = started();
    let described = mock!(Client::get_query_execution)
        .sequence()
        .output(|| execution(QueryExecutionState::Running, None, None))
        .repeatedly()
        .build();
    let stop = mock!(Client::stop_query_execution)
        .match_requests(|r| r.query_execution_id() == Some(QUERY_ID))
        .then_output(|| StopQueryExecutionOutput::builder().build());
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&start, &described, &stop]);
    let poll = Poll {
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        timeout: Duration::from_millis(300),
    };
    let began = std::time::Instant::now();
    let error = run_query_with(&client, &request(), poll).await.unwrap_err();
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    match &error {
        AthenaError::TimedOut {
            query_id,
            state,
            stopped,
            ..
        } => {
            assert_eq!(
                (query_id.as_str(), state.as_str(), stopped),
                (QUERY_ID, "RUNNING", &Ok(()))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stop.num_calls(), 1);
    // Doubling from 10 ms up to 40 ms within 300 ms: a handful of looks, not a busy loop.
    assert!((5..=12).contains(&described.num_calls()), "{}", described.num_calls());
    assert!(
        error.to_string().starts_with(&format!(
            "athena query {QUERY_ID} was still RUNNING after 0s; it was stopped"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn an_api_error_names_the_api_and_the_service_s_code() {
    let start = mock!(Client::start_query_execution).then_error(|| {
        StartQueryExecutionError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User is not authorized to perform: athena:StartQueryExecution")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_athena, RuleMode::MatchAny, &[&start]);
    let error = run_query_with(&client, &request(), fast()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("athena:StartQueryExecution: "), "{text}");
    assert!(text.contains("AccessDeniedException"), "{text}");
    assert_eq!(error.query_id(), None);
}
