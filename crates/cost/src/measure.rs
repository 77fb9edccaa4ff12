//! Volume measured from what a scan read: a VPC's flow log that delivers to CloudWatch Logs, and
//! its group's `storedBytes` over the days it has been storing.

use crate::{TrafficType, Volume, BYTES_PER_GB};
use netaudit_model::inventory::{FlowLogRecord, Inventory, LogGroupRecord};

const MS_PER_DAY: f64 = 86_400_000.0;

/// A VPC the scan read, its flow logs, and its measured volume or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcSubject {
    pub account_id: String,
    pub region: String,
    pub vpc_id: String,
    pub name: Option<String>,
    /// Destination types of the VPC's active flow logs (`cloud-watch-logs`, `s3`, …).
    pub flow_log_destinations: Vec<String>,
    pub volume: Result<Volume, String>,
}

/// Every VPC the inventory lists, with the volume its CloudWatch Logs flow-log group shows.
/// `now_ms` is the current time (milliseconds since the epoch).
pub fn vpcs(inventory: &Inventory, now_ms: i64) -> Vec<VpcSubject> {
    let mut subjects = vec![];
    for account in &inventory.accounts {
        for region in &account.region_data {
            let Ok(vpcs) = &region.vpcs else { continue };
            for vpc in vpcs {
                let (destinations, volume) = match &region.flow_logs {
                    Err(gap) => (vec![], Err(format!("volume unknown: flow logs not read ({gap})"))),
                    Ok(flow_logs) => {
                        let own: Vec<&FlowLogRecord> = flow_logs
                            .iter()
                            .filter(|f| f.resource_id.as_deref() == Some(vpc.vpc_id.as_str()))
                            .filter(|f| f.flow_log_status.as_deref().is_none_or(|s| s == "ACTIVE"))
                            .collect();
                        let destinations = own
                            .iter()
                            .map(|f| {
                                f.log_destination_type
                                    .clone()
                                    .unwrap_or_else(|| "cloud-watch-logs".into())
                            })
                            .collect();
                        (destinations, measured(&own, flow_logs, &region.log_groups, now_ms))
                    }
                };
                subjects.push(VpcSubject {
                    account_id: account.account_id.clone(),
                    region: region.region.clone(),
                    vpc_id: vpc.vpc_id.clone(),
                    name: vpc.name_tag().map(str::to_owned),
                    flow_log_destinations: destinations,
                    volume,
                });
            }
        }
    }
    subjects
}

/// The group a flow log delivers to in CloudWatch Logs, if it does.
fn group_name(flow_log: &FlowLogRecord) -> Option<String> {
    if flow_log
        .log_destination_type
        .as_deref()
        .is_some_and(|t| t != "cloud-watch-logs")
    {
        return None;
    }
    flow_log.log_group_name.clone().or_else(|| {
        flow_log
            .log_destination
            .as_deref()
            .and_then(netaudit_model::parse_log_group_arn)
            .map(|parsed| parsed.2)
    })
}

fn measured(
    own: &[&FlowLogRecord],
    region_flow_logs: &[FlowLogRecord],
    log_groups: &netaudit_model::inventory::Listing<LogGroupRecord>,
    now_ms: i64,
) -> Result<Volume, String> {
    let to_groups: Vec<(&FlowLogRecord, String)> = own.iter().filter_map(|f| group_name(f).map(|g| (*f, g))).collect();
    if to_groups.is_empty() {
        return Err(
            "volume unknown: no flow log delivers to CloudWatch Logs, whose stored bytes would measure it".into(),
        );
    }
    let groups = log_groups
        .as_ref()
        .map_err(|gap| format!("volume unknown: log groups not read ({gap})"))?;
    let mut reasons = vec![];
    let mut found = vec![];
    for (flow_log, name) in to_groups {
        let Some(group) = groups.iter().find(|g| g.log_group_name == name) else {
            reasons.push(format!("group {name} not listed"));
            continue;
        };
        match group_volume(flow_log, group, region_flow_logs, now_ms) {
            Ok(volume) => found.push(volume),
            Err(reason) => reasons.push(reason),
        }
    }
    // The ALL-traffic measurement says most; else the largest.
    found
        .into_iter()
        .max_by(|a, b| {
            (a.traffic_type == TrafficType::All)
                .cmp(&(b.traffic_type == TrafficType::All))
                .then(a.gb_per_day.total_cmp(&b.gb_per_day))
        })
        .ok_or_else(|| format!("volume unknown: {}", reasons.join("; ")))
}

fn group_volume(
    flow_log: &FlowLogRecord,
    group: &LogGroupRecord,
    region_flow_logs: &[FlowLogRecord],
    now_ms: i64,
) -> Result<Volume, String> {
    let name = &group.log_group_name;
    let stored = match group.stored_bytes {
        Some(bytes) if bytes > 0 => bytes,
        // Zero is what a group shows before AWS counts what it stores: no measurement.
        _ => return Err(format!("group {name} shows no stored bytes")),
    };
    let created = group
        .creation_time
        .ok_or_else(|| format!("group {name} has no creation time"))?;
    let age_days = (now_ms - created) as f64 / MS_PER_DAY;
    if age_days < 1.0 {
        return Err(format!("group {name} is less than a day old"));
    }
    let (kept_days, over) = match group.retention_in_days {
        Some(days) if days > 0 && (days as f64) < age_days => (days as f64, "its retention period"),
        _ => (age_days, "the days since the group was created"),
    };
    // A group several flow logs deliver to holds all of theirs: each is taken to send an equal share.
    let sharing = region_flow_logs
        .iter()
        .filter(|f| group_name(f).as_deref() == Some(name.as_str()))
        .count()
        .max(1);
    let traffic_type = flow_log
        .traffic_type
        .as_deref()
        .and_then(TrafficType::parse)
        .unwrap_or(TrafficType::All);
    // AWS's default interval is 600 s.
    let interval_seconds = match flow_log.max_aggregation_interval {
        Some(60) => 60,
        _ => 600,
    };
    let gb_per_day = stored as f64 / kept_days / sharing as f64 / BYTES_PER_GB;
    let shared = if sharing > 1 {
        format!(", split evenly between the {sharing} flow logs that deliver to it")
    } else {
        String::new()
    };
    Ok(Volume {
        gb_per_day,
        traffic_type,
        interval_seconds,
        reject_share: None,
        basis: format!(
            "storedBytes of {name} ({stored} bytes, taken as text) over {kept_days:.0} days ({over}: an average \
             since the group was created, capped by its retention){shared}; flow log {} captures {} at \
             {interval_seconds} s",
            flow_log.flow_log_id,
            traffic_type.name()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netaudit_model::inventory::{AccountInventory, RegionInventory, VpcRecord};

    fn flow_log(id: &str, vpc: &str, group: &str) -> FlowLogRecord {
        FlowLogRecord {
            flow_log_id: id.into(),
            flow_log_status: Some("ACTIVE".into()),
            resource_id: Some(vpc.into()),
            traffic_type: Some("ALL".into()),
            log_destination_type: Some("cloud-watch-logs".into()),
            log_group_name: Some(group.into()),
            max_aggregation_interval: Some(60),
            ..FlowLogRecord::default()
        }
    }

    fn inventory(flow_logs: Vec<FlowLogRecord>, groups: Vec<LogGroupRecord>) -> Inventory {
        let mut region = RegionInventory::empty("us-east-1");
        region.vpcs = Ok(["vpc-a", "vpc-b", "vpc-c"]
            .iter()
            .map(|id| VpcRecord {
                vpc_id: (*id).into(),
                ..VpcRecord::default()
            })
            .collect());
        region.flow_logs = Ok(flow_logs);
        region.log_groups = Ok(groups);
        Inventory {
            accounts: vec![AccountInventory {
                account_id: "111111111111".into(),
                caller_arn: None,
                regions: Ok(vec![]),
                region_scope: None,
                region_data: vec![region],
                buckets: Ok(vec![]),
                other_gaps: vec![],
            }],
        }
    }

    #[test]
    fn stored_bytes_over_the_days_kept_split_between_the_flow_logs_sharing_a_group() {
        let now = 100 * 86_400_000;
        let groups = vec![
            LogGroupRecord {
                log_group_name: "/own".into(),
                // 40 days old, 30 kept: 30 GB / 30 days = 1 GB/day.
                retention_in_days: Some(30),
                stored_bytes: Some(30 * 1_073_741_824),
                creation_time: Some(60 * 86_400_000),
                ..LogGroupRecord::default()
            },
            LogGroupRecord {
                log_group_name: "/shared".into(),
                // 10 days old, never expires, two flow logs: 8 GB / 10 days / 2 = 0.4 GB/day.
                stored_bytes: Some(8 * 1_073_741_824),
                creation_time: Some(90 * 86_400_000),
                ..LogGroupRecord::default()
            },
        ];
        let flow_logs = vec![
            flow_log("fl-1", "vpc-a", "/own"),
            flow_log("fl-2", "vpc-b", "/shared"),
            flow_log("fl-3", "vpc-x", "/shared"),
        ];
        let subjects = vpcs(&inventory(flow_logs, groups), now);
        let gb: Vec<Option<f64>> = subjects
            .iter()
            .map(|s| s.volume.as_ref().ok().map(|v| (v.gb_per_day * 1000.0).round() / 1000.0))
            .collect();
        assert_eq!(gb, vec![Some(1.0), Some(0.4), None]);
        assert!(subjects[1]
            .volume
            .as_ref()
            .is_ok_and(|v| v.basis.contains("split evenly between the 2 flow logs")));
        assert!(subjects[2]
            .volume
            .as_ref()
            .is_err_and(|why| why.starts_with("volume unknown: no flow log")));
    }
}
