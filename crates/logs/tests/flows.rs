//! The flow log reader: every format, the test vectors, bad input, layouts and pruning.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int32Type, Int64Type};
use netaudit_logs::flow_reader::read_parquet;
use netaudit_logs::sources::{list_files, parse_time};
use netaudit_logs::{FlowFormat, FlowReadOptions, FlowTextReader, Input, Issues, LogError, TimeRange, FIELDS};
use std::io::Write;
use std::path::Path;

const VECTORS: &str = "\
2 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.1.25 51514 443 6 12 4870 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f67890 203.0.113.50 10.0.1.25 40123 22 6 1 44 1718000000 1718000060 REJECT OK
2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1718000000 1718000060 - NODATA
";

fn read(bytes: &[u8], options: FlowReadOptions) -> (Vec<RecordBatch>, Issues) {
    let issues = Issues::new();
    let reader = FlowTextReader::new(
        "test.log",
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        options,
        issues.clone(),
    )
    .unwrap();
    let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
    (batches, issues)
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    datafusion::arrow::compute::concat_batches(&netaudit_logs::FlowReadOptions::default().schema(), batches).unwrap()
}

fn string(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let array = batch.column_by_name(column).unwrap();
    (!array.is_null(row)).then(|| array.as_string::<i32>().value(row).to_owned())
}

fn int64(batch: &RecordBatch, column: &str, row: usize) -> Option<i64> {
    let array = batch.column_by_name(column).unwrap();
    (!array.is_null(row)).then(|| array.as_primitive::<Int64Type>().value(row))
}

fn int32(batch: &RecordBatch, column: &str, row: usize) -> Option<i32> {
    let array = batch.column_by_name(column).unwrap();
    (!array.is_null(row)).then(|| array.as_primitive::<Int32Type>().value(row))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_domain_test_vectors_parse_with_nodata_as_nulls() {
    let (batches, issues) = read(VECTORS.as_bytes(), FlowReadOptions::default());
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 3);
    assert_eq!(int32(&batch, "version", 0), Some(2));
    assert_eq!(string(&batch, "account_id", 0).as_deref(), Some("123456789012"));
    assert_eq!(
        string(&batch, "interface_id", 0).as_deref(),
        Some("eni-0a1b2c3d4e5f67890")
    );
    assert_eq!(string(&batch, "srcaddr", 0).as_deref(), Some("198.51.100.7"));
    assert_eq!(string(&batch, "dstaddr", 0).as_deref(), Some("10.0.1.25"));
    assert_eq!(int32(&batch, "srcport", 0), Some(51514));
    assert_eq!(int32(&batch, "dstport", 0), Some(443));
    assert_eq!(int32(&batch, "protocol", 0), Some(6));
    assert_eq!(int64(&batch, "packets", 0), Some(12));
    assert_eq!(int64(&batch, "bytes", 0), Some(4870));
    assert_eq!(int64(&batch, "start", 0), Some(1_718_000_000));
    assert_eq!(int64(&batch, "end", 0), Some(1_718_000_060));
    assert_eq!(string(&batch, "action", 0).as_deref(), Some("ACCEPT"));
    assert_eq!(string(&batch, "log_status", 0).as_deref(), Some("OK"));
    assert_eq!(string(&batch, "action", 1).as_deref(), Some("REJECT"));
    assert_eq!(int32(&batch, "dstport", 1), Some(22));
    assert_eq!(int64(&batch, "bytes", 1), Some(44));
    // NODATA: kept, with nulls where AWS writes `-`.
    assert_eq!(string(&batch, "log_status", 2).as_deref(), Some("NODATA"));
    for column in ["srcaddr", "dstaddr", "action"] {
        assert_eq!(string(&batch, column, 2), None, "{column}");
    }
    for column in ["packets", "bytes"] {
        assert_eq!(int64(&batch, column, 2), None, "{column}");
    }
    assert_eq!(int32(&batch, "srcport", 2), None);
    assert_eq!(int64(&batch, "start", 2), Some(1_718_000_000));
    // Fields the default format does not carry are null.
    assert_eq!(string(&batch, "vpc_id", 0), None);
    assert_eq!(int32(&batch, "tcp_flags", 0), None);
}

#[test]
fn a_custom_format_with_every_documented_field_maps_each_value() {
    let format_text: Vec<String> = FIELDS.iter().map(|f| format!("${{{}}}", f.name)).collect();
    let format = FlowFormat::parse_aws(&format_text.join(" ")).unwrap();
    assert_eq!(format.len(), FIELDS.len());
    assert!(format.unknown_fields().is_empty());
    assert_eq!(format.version(), 10);
    // A value per field: numbers where the field is numeric, the field's name otherwise.
    let values: Vec<String> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| match f.kind {
            netaudit_logs::flow_format::FieldKind::Text => format!("v-{}", f.name),
            _ => (100 + i).to_string(),
        })
        .collect();
    let line = format!("{}\n", values.join(" "));
    let options = FlowReadOptions {
        format,
        ..FlowReadOptions::default()
    };
    let (batches, issues) = read(line.as_bytes(), options);
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
    let batch = concat(&batches);
    for (i, f) in FIELDS.iter().enumerate() {
        let column = f.name.replace('-', "_");
        let array = batch.column_by_name(&column).unwrap();
        let got = match f.kind {
            netaudit_logs::flow_format::FieldKind::Text => array.as_string::<i32>().value(0).to_owned(),
            netaudit_logs::flow_format::FieldKind::Int32 => array.as_primitive::<Int32Type>().value(0).to_string(),
            netaudit_logs::flow_format::FieldKind::Int64 => array.as_primitive::<Int64Type>().value(0).to_string(),
        };
        assert_eq!(got, values[i], "field {}", f.name);
    }
    for name in [
        "ecs-task-id",
        "reject-reason",
        "resource-id",
        "encryption-status",
        "pkt-dst-aws-service",
    ] {
        assert!(batch.column_by_name(&name.replace('-', "_")).is_some(), "{name}");
    }
}

#[test]
fn a_log_format_string_must_be_field_tokens() {
    assert!(FlowFormat::parse_aws("${version} srcaddr").is_err());
    assert!(FlowFormat::parse_aws("").is_err());
    let format = FlowFormat::parse_aws("${version}   ${srcaddr} ${log_status}").unwrap();
    assert_eq!(format.len(), 3);
}

#[test]
fn an_unknown_field_in_a_log_format_is_an_error_naming_it() {
    // A typo would otherwise be a column of nulls, and every answer silently empty.
    let error = FlowFormat::parse_aws("${version} ${srcaddr} ${tcpflags} ${action}")
        .unwrap_err()
        .to_string();
    assert!(error.contains("${tcpflags} is not a flow log field"), "{error}");
    assert!(error.contains("did you mean ${tcp-flags}"), "{error}");
    let error = FlowFormat::parse_aws("${version} ${some-future-field}")
        .unwrap_err()
        .to_string();
    assert!(error.contains("some-future-field"), "{error}");
    // A file's own header may name fields netaudit does not know: AWS adds them.
    let header = FlowFormat::from_header(b"version srcaddr some-future-field").unwrap();
    assert_eq!(header.unknown_fields(), vec!["some-future-field"]);
}

#[test]
fn a_v5_file_with_its_header_line_gzip_and_an_unknown_future_field() {
    let text =
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action \
log-status vpc-id subnet-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path \
pkt-src-aws-service some-future-field
5 123456789012 eni-01 10.0.1.5 52.94.236.248 49152 443 6 10 5000 1718000000 1718000060 ACCEPT OK vpc-01 subnet-01 \
19 IPv4 10.0.1.5 52.94.236.248 us-east-1 use1-az1 egress 8 AMAZON x
5 123456789012 eni-01 203.0.113.9 10.0.1.5 40000 22 6 1 40 1718000000 1718000060 REJECT OK vpc-01 subnet-01 \
2 IPv4 203.0.113.9 10.0.1.5 us-east-1 use1-az1 ingress - - y
";
    let (batches, issues) = read(&gzip(text.as_bytes()), FlowReadOptions::default());
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 2, "the header is not a record");
    assert_eq!(int32(&batch, "version", 0), Some(5));
    assert_eq!(int32(&batch, "tcp_flags", 0), Some(19));
    assert_eq!(int32(&batch, "tcp_flags", 1), Some(2));
    assert_eq!(int32(&batch, "traffic_path", 0), Some(8));
    assert_eq!(int32(&batch, "traffic_path", 1), None);
    assert_eq!(string(&batch, "flow_direction", 1).as_deref(), Some("ingress"));
    assert_eq!(string(&batch, "pkt_src_aws_service", 0).as_deref(), Some("AMAZON"));
    assert_eq!(string(&batch, "az_id", 0).as_deref(), Some("use1-az1"));
    assert_eq!(string(&batch, "instance_id", 0), None, "not in this format");
}

#[test]
fn runs_of_spaces_tabs_crlf_and_a_missing_final_newline_are_tolerated() {
    let text = "2  123456789012 eni-01\t198.51.100.7   10.0.1.25 1 443 6 12 4870 1718000000 1718000060 ACCEPT OK\r\n\
                \n   \n\
                2 123456789012 eni-01 198.51.100.8 10.0.1.25 2 443 6 1 10 1718000000 1718000060 ACCEPT OK";
    let (batches, issues) = read(text.as_bytes(), FlowReadOptions::default());
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(string(&batch, "log_status", 0).as_deref(), Some("OK"));
    assert_eq!(string(&batch, "srcaddr", 1).as_deref(), Some("198.51.100.8"));
}

#[test]
fn a_cloudwatch_logs_export_has_no_header_and_an_iso_time_before_each_record() {
    let text = "2024-06-10T06:13:20.000Z 2 123456789012 eni-01 198.51.100.7 10.0.1.25 51514 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n\
                2024-06-10T06:13:21.000Z 2 123456789012 eni-01 - - - - - - - 1718000000 1718000060 - NODATA\n";
    let (batches, issues) = read(&gzip(text.as_bytes()), FlowReadOptions::default());
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(int32(&batch, "version", 0), Some(2));
    assert_eq!(int64(&batch, "bytes", 0), Some(4870));
    assert_eq!(string(&batch, "log_status", 1).as_deref(), Some("NODATA"));
}

#[test]
fn bad_lines_are_reported_with_their_line_number_and_reading_goes_on() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(
        b"2 123456789012 eni-01 198.51.100.7 10.0.1.25 1 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n",
    );
    bytes.extend_from_slice(b"2 123456789012 eni-01 198.51.100.7 10.0.1.25 1 443 6 12 4870 1718000000 ACCEPT OK\n");
    bytes.extend_from_slice(
        b"2 123456789012 eni-01 198.51.100.\xff 10.0.1.25 1 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n",
    );
    bytes.extend_from_slice(
        b"2 123456789012 eni-01 198.51.100.7 10.0.1.25 x 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n",
    );
    bytes.extend_from_slice(
        b"2 123456789012 eni-01 198.51.100.9 10.0.1.25 1 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n",
    );
    let (batches, issues) = read(&bytes, FlowReadOptions::default());
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 2, "the good lines are kept");
    assert_eq!(string(&batch, "srcaddr", 1).as_deref(), Some("198.51.100.9"));
    let list = issues.list();
    assert_eq!(issues.count(), 3);
    assert_eq!(
        list.iter().map(|i| i.line).collect::<Vec<_>>(),
        vec![Some(2), Some(3), Some(4)]
    );
    assert!(
        list[0].message.contains("13 fields where the format has 14"),
        "{}",
        list[0]
    );
    assert!(list[1].message.contains("not UTF-8"), "{}", list[1]);
    assert!(list[2].message.contains("srcport"), "{}", list[2]);
    assert_eq!(
        list[0].to_string().split(':').take(2).collect::<Vec<_>>(),
        vec!["test.log", "2"]
    );

    // Strict: the first bad line ends the read, naming file and line.
    let reader = FlowTextReader::new(
        "test.log",
        Box::new(std::io::Cursor::new(bytes)),
        FlowReadOptions {
            strict: true,
            ..FlowReadOptions::default()
        },
        Issues::new(),
    )
    .unwrap();
    let error = reader.collect::<Result<Vec<_>, _>>().unwrap_err();
    match error {
        LogError::BadInput(issue) => assert_eq!((issue.source.as_str(), issue.line), ("test.log", Some(2))),
        other => panic!("expected a bad input error, got {other}"),
    }
}

#[test]
fn a_truncated_gzip_file_keeps_the_records_before_the_cut_and_reports_it() {
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!(
            "2 123456789012 eni-01 198.51.100.{} 10.0.1.25 {} 443 6 12 4870 1718000000 1718000060 ACCEPT OK\n",
            i % 250,
            1000 + i
        ));
    }
    let compressed = gzip(text.as_bytes());
    let cut = &compressed[..compressed.len() * 2 / 3];
    let (batches, issues) = read(cut, FlowReadOptions::default());
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert!(rows > 0 && rows < 5000, "{rows} rows");
    assert_eq!(issues.count(), 1);
    let issue = &issues.list()[0];
    assert!(issue.message.contains("ends early or is corrupt"), "{issue}");
    assert_eq!(issue.line, Some(rows as u64 + 1));
}

#[test]
fn the_time_range_keeps_records_that_overlap_it() {
    let text = "2 1 eni-01 10.0.0.1 10.0.0.2 1 2 6 1 1 100 160 ACCEPT OK\n\
                2 1 eni-01 10.0.0.1 10.0.0.2 1 2 6 1 1 200 260 ACCEPT OK\n\
                2 1 eni-01 10.0.0.1 10.0.0.2 1 2 6 1 1 300 360 ACCEPT OK\n";
    let options = FlowReadOptions {
        since: Some(160),
        until: Some(300),
        ..FlowReadOptions::default()
    };
    let (batches, _) = read(text.as_bytes(), options);
    let batch = concat(&batches);
    // end >= since and start < until: the first (ends at 160) and the second; not the third (starts at 300).
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(int64(&batch, "start", 1), Some(200));
}

#[test]
fn byte_ranges_of_a_plain_file_read_every_line_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut text = String::from("version srcaddr dstaddr bytes\n");
    for i in 0..1000 {
        text.push_str(&format!("2 10.0.0.{} 10.0.1.{} {}\n", i % 200, i % 100, i));
    }
    std::fs::write(&path, &text).unwrap();
    let size = text.len() as u64;
    for parts in [1u64, 2, 3, 7] {
        let step = size.div_ceil(parts);
        let mut total = 0i64;
        let mut rows = 0;
        for p in 0..parts {
            let (start, end) = (p * step, ((p + 1) * step).min(size));
            let reader =
                FlowTextReader::byte_range(&path, start, end, FlowReadOptions::default(), Issues::new()).unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                rows += batch.num_rows();
                let bytes = batch.column_by_name("bytes").unwrap().as_primitive::<Int64Type>();
                total += bytes.iter().flatten().sum::<i64>();
            }
        }
        assert_eq!(rows, 1000, "{parts} parts");
        assert_eq!(total, (0..1000).sum::<i64>(), "{parts} parts");
    }
}

#[test]
fn aws_parquet_output_is_read_into_the_flows_schema() {
    use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    // AWS's Parquet columns: `_` for `-`, 32-bit ports, 64-bit counters.
    let schema = Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int32, true),
        Field::new("account_id", DataType::Utf8, true),
        Field::new("srcaddr", DataType::Utf8, true),
        Field::new("dstport", DataType::Int32, true),
        Field::new("bytes", DataType::Int64, true),
        Field::new("start", DataType::Int64, true),
        Field::new("end", DataType::Int64, true),
        Field::new("log_status", DataType::Utf8, true),
        Field::new("tcp_flags", DataType::Int32, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![Some(5), Some(5)])),
        Arc::new(StringArray::from(vec![Some("123456789012"), Some("123456789012")])),
        Arc::new(StringArray::from(vec![Some("10.0.0.1"), None])),
        Arc::new(Int32Array::from(vec![Some(443), None])),
        Arc::new(Int64Array::from(vec![Some(4870), None])),
        Arc::new(Int64Array::from(vec![Some(1_718_000_000), Some(1_718_000_000)])),
        Arc::new(Int64Array::from(vec![Some(1_718_000_060), Some(1_718_000_060)])),
        Arc::new(StringArray::from(vec![Some("OK"), Some("NODATA")])),
        Arc::new(Int32Array::from(vec![Some(18), None])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut buffer = vec![];
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut buffer, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let issues = Issues::new();
    let batches = read_parquet("x.log.parquet", buffer.into(), &FlowReadOptions::default(), &issues).unwrap();
    assert_eq!(issues.count(), 0);
    let batch = concat(&batches);
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(string(&batch, "srcaddr", 0).as_deref(), Some("10.0.0.1"));
    assert_eq!(int32(&batch, "dstport", 0), Some(443));
    assert_eq!(int32(&batch, "tcp_flags", 0), Some(18));
    assert_eq!(string(&batch, "log_status", 1).as_deref(), Some("NODATA"));
    assert_eq!(string(&batch, "interface_id", 0), None, "absent from the file");
    assert!(Input::File("a/b.log.parquet".into()).is_parquet());
}

fn touch(root: &Path, relative: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

#[test]
fn s3_layouts_are_pruned_by_the_time_range_in_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let plain = "AWSLogs/123456789012/vpcflowlogs/us-east-1";
    let hive = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1";
    for day in ["09", "10", "11"] {
        touch(
            root,
            &format!("{plain}/2024/06/{day}/123456789012_vpcflowlogs_us-east-1_fl-1_202406{day}T0000Z_a.log.gz"),
        );
        touch(root, &format!("{hive}/year=2024/month=06/day={day}/hour=05/123456789012_vpcflowlogs_us-east-1_fl-2_202406{day}T0500Z_b.log.gz"));
    }
    touch(root, &format!("{plain}/2024/06/10/.hidden"));
    let all = list_files(root, TimeRange::default()).unwrap();
    assert_eq!(all.len(), 6);
    let range = TimeRange {
        since: parse_time("2024-06-10"),
        until: parse_time("2024-06-11"),
    };
    let kept = list_files(root, range).unwrap();
    let names: Vec<String> = kept
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    // Plain: the 10th, and the 11th's folder starts within the delivery slack of the end. Hive's
    // 05:00 hour of the 11th is past it.
    assert!(names.iter().any(|n| n.contains("/2024/06/10/")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("day=10/hour=05")), "{names:?}");
    assert!(
        !names.iter().any(|n| n.contains("/2024/06/09/") || n.contains("day=09")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("day=11")), "{names:?}");
    // Named directly, a day folder still prunes nothing inside the range.
    let day = root.join(format!("{plain}/2024/06/10"));
    assert_eq!(list_files(&day, range).unwrap().len(), 1);
    assert_eq!(
        list_files(&root.join(format!("{plain}/2024/06/09")), range)
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn times_parse_in_the_documented_shapes() {
    assert_eq!(parse_time("1718000000"), Some(1_718_000_000));
    assert_eq!(parse_time("2024-06-10 06:13:20"), Some(1_718_000_000));
    assert_eq!(parse_time("2024-06-10T06:13:20Z"), Some(1_718_000_000));
    assert_eq!(parse_time("2024-06-10T08:13:20+02:00"), Some(1_718_000_000));
    assert_eq!(parse_time("2024-06-10"), Some(1_717_977_600));
    assert_eq!(parse_time("yesterday"), None);
}

#[test]
fn a_parquet_value_that_does_not_fit_its_column_is_a_bad_row_not_a_null() {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    // A writer that stored ports as text: one of them is not a number.
    let schema = Arc::new(Schema::new(vec![
        Field::new("srcaddr", DataType::Utf8, true),
        Field::new("dstport", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["10.0.0.1", "10.0.0.2", "10.0.0.3"])),
        Arc::new(StringArray::from(vec![Some("443"), Some("https"), None])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut buffer = vec![];
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut buffer, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    // Whichever columns are built, the bad row is found.
    for projection in [None, Some(vec![3]), Some(vec![])] {
        let issues = Issues::new();
        let options = FlowReadOptions {
            projection: projection.clone(),
            ..FlowReadOptions::default()
        };
        let batches = read_parquet("p.log.parquet", buffer.clone().into(), &options, &issues).unwrap();
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 2, "{projection:?}");
        let list = issues.list();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!((list[0].source.as_str(), list[0].line), ("p.log.parquet", Some(2)));
        assert!(list[0].message.contains("dstport"), "{}", list[0]);
    }
    let strict = FlowReadOptions {
        strict: true,
        ..FlowReadOptions::default()
    };
    match read_parquet("p.log.parquet", buffer.into(), &strict, &Issues::new()) {
        Err(LogError::BadInput(issue)) => assert_eq!(issue.line, Some(2)),
        other => panic!("expected a bad row, got {other:?}"),
    }
}
