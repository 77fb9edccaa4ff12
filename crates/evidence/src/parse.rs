//! AWS CLI JSON output ⇄ inventory records, one document type per evidence file.
//!
//! The records' own serde declarations (in `netaudit_model::inventory`) are the field mapping; the
//! documents here add the top-level key and the completeness rules. An id field that is missing
//! makes the whole file malformed, because a record without its id cannot be checked. Fields
//! netaudit does not use are ignored, so new AWS fields never break a load.

use netaudit_model::inventory::{
    AlarmRecord, BucketRecord, ClientVpnEndpointRecord, DeliveryStreamRecord, FlowLogRecord, InternetGatewayRecord,
    LogGroupRecord, NetworkInterfaceRecord, RegionRecord, SubnetRecord, VpcRecord, VpnConnectionRecord,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Why a file's bytes are not the expected document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    Malformed(String),
}

impl ParseError {
    fn missing_key(key: &str) -> ParseError {
        ParseError::Malformed(format!("no top-level `{key}` list"))
    }
}

/// A page that still carries a pagination token is not the whole listing (`--max-items` or
/// `--no-paginate` output): taking it as complete would hide everything on later pages.
fn complete_listing(token: Option<serde_json::Value>) -> Result<(), ParseError> {
    match token {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(_) => Err(ParseError::Malformed(
            "truncated: the listing carries a pagination token (NextToken), so later pages are missing; \
             collect without --max-items or --no-paginate"
                .into(),
        )),
    }
}

/// One evidence document: its top-level key and how it becomes records.
pub(crate) trait Doc: DeserializeOwned {
    type Record;
    fn records(self) -> Result<Vec<Self::Record>, ParseError>;
}

/// Parse a whole evidence file.
pub(crate) fn parse<D: Doc>(bytes: &[u8]) -> Result<Vec<D::Record>, ParseError> {
    let text = decode(bytes)?;
    let doc: D = serde_json::from_slice(&text).map_err(|e| {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
        ParseError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    doc.records()
}

/// Strip a byte-order mark; re-encode UTF-16 (what Windows PowerShell 5 writes for `>`) as UTF-8.
fn decode(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ParseError> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err(ParseError::Malformed("UTF-16 text with an odd number of bytes".into()));
        }
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
        String::from_utf16(&units)
            .map(|s| Cow::Owned(s.into_bytes()))
            .map_err(|_| ParseError::Malformed("invalid UTF-16 text".into()))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(Cow::Borrowed(rest)),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

/// A document whose records sit in one top-level list. The same declaration reads an evidence file
/// and writes one ([`crate::write`]); a pagination token is only ever read, to refuse a partial page.
macro_rules! list_doc {
    ($doc:ident, $key:literal, $expecting:literal, $record:ty) => {
        #[derive(Deserialize, Serialize)]
        #[serde(expecting = $expecting)]
        pub(crate) struct $doc {
            #[serde(rename = $key)]
            items: Option<Vec<$record>>,
            #[serde(
                rename = "NextToken",
                alias = "nextToken",
                alias = "ContinuationToken",
                default,
                skip_serializing
            )]
            next_token: Option<serde_json::Value>,
        }

        impl Doc for $doc {
            type Record = $record;
            fn records(self) -> Result<Vec<$record>, ParseError> {
                let items = self.items.ok_or_else(|| ParseError::missing_key($key))?;
                complete_listing(self.next_token)?;
                Ok(items)
            }
        }

        impl $doc {
            /// The document listing `records`, as the CLI prints a complete listing.
            pub(crate) fn of(records: &[$record]) -> $doc {
                $doc {
                    items: Some(records.to_vec()),
                    next_token: None,
                }
            }
        }
    };
}

list_doc!(VpcsDoc, "Vpcs", "an object with a `Vpcs` list", VpcRecord);
list_doc!(
    InternetGatewaysDoc,
    "InternetGateways",
    "an object with an `InternetGateways` list",
    InternetGatewayRecord
);
list_doc!(SubnetsDoc, "Subnets", "an object with a `Subnets` list", SubnetRecord);
list_doc!(
    NetworkInterfacesDoc,
    "NetworkInterfaces",
    "an object with a `NetworkInterfaces` list",
    NetworkInterfaceRecord
);
list_doc!(
    FlowLogsDoc,
    "FlowLogs",
    "an object with a `FlowLogs` list",
    FlowLogRecord
);
list_doc!(
    ClientVpnEndpointsDoc,
    "ClientVpnEndpoints",
    "an object with a `ClientVpnEndpoints` list",
    ClientVpnEndpointRecord
);
list_doc!(
    VpnConnectionsDoc,
    "VpnConnections",
    "an object with a `VpnConnections` list",
    VpnConnectionRecord
);
list_doc!(
    LogGroupsDoc,
    "logGroups",
    "an object with a `logGroups` list",
    LogGroupRecord
);
list_doc!(
    AlarmsDoc,
    "MetricAlarms",
    "an object with a `MetricAlarms` list",
    AlarmRecord
);
list_doc!(RegionsDoc, "Regions", "an object with a `Regions` list", RegionRecord);
list_doc!(BucketsDoc, "Buckets", "an object with a `Buckets` list", BucketRecord);

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", expecting = "an object with a `DeliveryStreamNames` list")]
pub(crate) struct DeliveryStreamsDoc {
    delivery_stream_names: Option<Vec<DeliveryStreamRecord>>,
    has_more_delivery_streams: Option<bool>,
}

impl DeliveryStreamsDoc {
    /// The document listing every stream in `streams`.
    pub(crate) fn of(streams: &[DeliveryStreamRecord]) -> DeliveryStreamsDoc {
        DeliveryStreamsDoc {
            delivery_stream_names: Some(streams.to_vec()),
            has_more_delivery_streams: Some(false),
        }
    }
}

impl Doc for DeliveryStreamsDoc {
    type Record = DeliveryStreamRecord;
    fn records(self) -> Result<Vec<DeliveryStreamRecord>, ParseError> {
        let names = self
            .delivery_stream_names
            .ok_or_else(|| ParseError::missing_key("DeliveryStreamNames"))?;
        // The CLI does not paginate this call: a first page alone must not pass for the whole list.
        match self.has_more_delivery_streams {
            Some(false) => Ok(names),
            Some(true) => Err(ParseError::Malformed(format!(
                "truncated: HasMoreDeliveryStreams is true after {} names (collect every page with \
                 --exclusive-start-delivery-stream-name)",
                names.len()
            ))),
            None => Err(ParseError::Malformed(
                "no `HasMoreDeliveryStreams`: cannot tell whether the listing is complete".into(),
            )),
        }
    }
}

/// `sts get-caller-identity`: a single object, read as a one-record "listing".
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", expecting = "an object with an `Account` key")]
pub(crate) struct CallerIdentityDoc {
    account: Option<String>,
    arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallerIdentity {
    pub account: String,
    pub arn: Option<String>,
}

impl CallerIdentityDoc {
    pub(crate) fn of(account: &str, arn: &str) -> CallerIdentityDoc {
        CallerIdentityDoc {
            account: Some(account.to_owned()),
            arn: Some(arn.to_owned()),
        }
    }
}

impl Doc for CallerIdentityDoc {
    type Record = CallerIdentity;
    fn records(self) -> Result<Vec<CallerIdentity>, ParseError> {
        let account = self
            .account
            .ok_or_else(|| ParseError::Malformed("no top-level `Account` key".into()))?;
        Ok(vec![CallerIdentity { account, arn: self.arn }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_keep_line_and_column_apart_from_the_message() {
        let err = parse::<VpcsDoc>(b"{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-1\"}").err();
        assert_eq!(
            err,
            Some(ParseError::Json {
                line: 3,
                column: 22,
                message: "EOF while parsing a list".into()
            })
        );
    }

    #[test]
    fn a_record_without_its_id_is_malformed() {
        let err = parse::<VpcsDoc>(br#"{"Vpcs": [{"State": "available"}]}"#).err();
        assert!(
            matches!(&err, Some(ParseError::Json { message, .. }) if message == "missing field `VpcId`"),
            "{err:?}"
        );
    }

    #[test]
    fn a_top_level_array_says_what_was_expected() {
        let err = parse::<VpcsDoc>(b"[]").err();
        assert!(
            matches!(&err, Some(ParseError::Json { message, .. }) if message.contains("an object with a `Vpcs` list")),
            "{err:?}"
        );
    }

    #[test]
    fn byte_order_marks_and_utf16_are_read() {
        let doc = r#"{"Vpcs": [{"VpcId": "vpc-1"}]}"#;
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(doc.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(doc.encode_utf16().flat_map(u16::to_be_bytes));
        for bytes in [bom, le, be] {
            let vpcs = parse::<VpcsDoc>(&bytes).map(|v| v.into_iter().map(|v| v.vpc_id).collect::<Vec<_>>());
            assert_eq!(vpcs, Ok(vec!["vpc-1".to_owned()]));
        }
    }

    #[test]
    fn timestamps_may_be_numbers() {
        let buckets = parse::<BucketsDoc>(br#"{"Buckets": [{"Name": "b", "CreationDate": 1718000000}]}"#);
        assert_eq!(
            buckets.map(|b| b[0].creation_date.clone()),
            Ok(Some("2024-06-10T06:13:20Z".to_owned()))
        );
    }
}
