//! Collection: one SDK configuration, clients per region, every region at once.

use crate::calls::CallLog;
use crate::convert;
use crate::errors::gap_from_sdk;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use futures::stream::{self, StreamExt};
use netaudit_model::inventory::*;
use netaudit_model::{Gap, GapKind, Inventory};
use std::sync::Arc;
use std::time::Duration;

/// How to reach AWS and how patient to be.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub profile: Option<String>,
    /// Assume this role first (with `external_id` when given).
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    /// Scan these regions; `None`: every region enabled for the account.
    pub regions: Option<Vec<String>>,
    /// Send every call here (an emulator, a VPC endpoint); `None`: the SDK's own resolution.
    pub endpoint_url: Option<String>,
    /// Attempts per call, with adaptive retry (backoff plus client-side rate limiting).
    pub max_attempts: u32,
    /// Limit for one attempt of one call.
    pub attempt_timeout: Duration,
    /// Limit for one call, retries included.
    pub operation_timeout: Duration,
    /// Regions collected at once, per account.
    pub concurrency: usize,
    /// Scan every active account of the Organization, through `org_role` in each.
    pub org: bool,
    pub org_role: String,
    /// Accounts collected at once.
    pub account_concurrency: usize,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions {
            profile: None,
            role_arn: None,
            external_id: None,
            regions: None,
            endpoint_url: None,
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(120),
            concurrency: 8,
            org: false,
            org_role: "OrganizationAccountAccessRole".into(),
            account_concurrency: 4,
        }
    }
}

/// The clients one region's listings use.
#[derive(Debug, Clone)]
pub struct RegionClients {
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub firehose: aws_sdk_firehose::Client,
}

impl RegionClients {
    /// Clients for `region`, sharing the configuration (credentials, retries, timeouts).
    pub fn new(config: &SdkConfig, region: &str, calls: &CallLog) -> RegionClients {
        let config = config.to_builder().region(Region::new(region.to_owned())).build();
        RegionClients {
            ec2: ec2_client(&config, calls),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&config)
                    .interceptor(calls.interceptor("logs"))
                    .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(&config)
                    .interceptor(calls.interceptor("cloudwatch"))
                    .build(),
            ),
            firehose: aws_sdk_firehose::Client::from_conf(
                aws_sdk_firehose::config::Builder::from(&config)
                    .interceptor(calls.interceptor("firehose"))
                    .build(),
            ),
        }
    }
}

fn ec2_client(config: &SdkConfig, calls: &CallLog) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(config)
            .interceptor(calls.interceptor("ec2"))
            .build(),
    )
}

pub(crate) fn sts_client(config: &SdkConfig, calls: &CallLog) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(calls.interceptor("sts"))
            .build(),
    )
}

/// Credentials of `role`, assumed from `config`'s own, in a copy of `config`.
pub(crate) async fn assume(config: &SdkConfig, role: &str, external_id: Option<&str>) -> SdkConfig {
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("netaudit")
        .configure(config);
    if let Some(external_id) = external_id {
        provider = provider.external_id(external_id);
    }
    let provider = provider.build().await;
    config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

/// Load the SDK configuration once: profile, endpoint, retries, timeouts, and the role to assume.
pub async fn sdk_config(options: &LiveOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(options.max_attempts.max(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(options.attempt_timeout)
                .operation_timeout(options.operation_timeout)
                .connect_timeout(options.attempt_timeout.min(Duration::from_secs(10)))
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let mut config = loader.load().await;
    if config.region().is_none() {
        // Global calls (STS, DescribeRegions, ListBuckets) need a home region.
        config = config.to_builder().region(Region::from_static("us-east-1")).build();
    }
    if let Some(role) = &options.role_arn {
        config = assume(&config, role, options.external_id.as_deref()).await;
    }
    config
}

/// Collect every region of the account the configuration's credentials belong to.
pub async fn collect_account(
    config: &SdkConfig,
    options: &LiveOptions,
    calls: &CallLog,
) -> Result<AccountInventory, Arc<Gap>> {
    let sts = sts_client(config, calls);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| gap_from_sdk(&e, "", None, "sts:GetCallerIdentity"))?;
    let account = identity.account().unwrap_or_default().to_owned();
    let home = config
        .region()
        .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());

    let ec2 = ec2_client(config, calls);
    let regions: Listing<RegionRecord> = ec2
        .describe_regions()
        .all_regions(true)
        .send()
        .await
        .map(|out| out.regions().iter().filter_map(convert::region).collect())
        .map_err(|e| gap_from_sdk(&e, &account, None, "ec2:DescribeRegions"));

    let targets: Vec<String> = match (&options.regions, &regions) {
        (Some(chosen), _) => chosen.clone(),
        (None, Ok(list)) => list
            .iter()
            .filter(|r| r.opt_in_status.as_deref() != Some("not-opted-in"))
            .map(|r| r.name.clone())
            .collect(),
        // Without the region list only the home region can be scanned; the gap says so.
        (None, Err(_)) => vec![home.clone()],
    };

    // --regions scopes the scan: the regions left out are not part of it, not unread.
    let regions = match &options.regions {
        Some(chosen) => regions.map(|list| list.into_iter().filter(|r| chosen.contains(&r.name)).collect()),
        None => regions,
    };

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .interceptor(calls.interceptor("s3"))
            .build(),
    );
    let buckets: Listing<BucketRecord> = all_pages(s3.list_buckets().into_paginator().send())
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.buckets().iter().filter_map(convert::bucket))
                .collect()
        })
        .map_err(|e| gap_from_sdk(&e, &account, None, "s3:ListBuckets"));

    let region_data: Vec<RegionInventory> = stream::iter(targets)
        .map(|region| {
            let clients = RegionClients::new(config, &region, calls);
            let account = account.clone();
            async move { collect_region(&clients, &account, &region).await }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut region_data = region_data;
    region_data.sort_by(|a, b| a.region.cmp(&b.region));

    Ok(AccountInventory {
        account_id: account,
        caller_arn: identity.arn().map(str::to_owned),
        regions,
        region_scope: options.regions.clone(),
        region_data,
        buckets,
        other_gaps: vec![],
    })
}

/// Every page of a listing, or the error of the first page that failed (never a partial list).
async fn all_pages<T, E>(pages: PaginationStream<Result<T, E>>) -> Result<Vec<T>, E> {
    pages.collect::<Vec<_>>().await.into_iter().collect()
}

/// Every item of a paginated listing, or the gap its first failing page leaves (never a partial list).
macro_rules! paginated_items {
    ($request:expr, $convert:expr, $account:expr, $region:expr, $api:literal) => {
        async {
            $request
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
                .map(|items| items.iter().map($convert).collect())
                .map_err(|e| gap_from_sdk(&e, $account, $region, $api))
        }
    };
}

/// Collect one region: each listing is one paginated call sequence, all of them at once.
pub async fn collect_region(clients: &RegionClients, account: &str, region: &str) -> RegionInventory {
    let r = Some(region);
    let ec2 = &clients.ec2;
    let (vpcs, subnets, enis, flow_logs, endpoints, connections, log_groups, alarms, streams) = tokio::join!(
        paginated_items!(ec2.describe_vpcs(), convert::vpc, account, r, "ec2:DescribeVpcs"),
        paginated_items!(
            ec2.describe_subnets(),
            convert::subnet,
            account,
            r,
            "ec2:DescribeSubnets"
        ),
        paginated_items!(
            ec2.describe_network_interfaces(),
            convert::network_interface,
            account,
            r,
            "ec2:DescribeNetworkInterfaces"
        ),
        paginated_items!(
            ec2.describe_flow_logs(),
            convert::flow_log,
            account,
            r,
            "ec2:DescribeFlowLogs"
        ),
        paginated_items!(
            ec2.describe_client_vpn_endpoints(),
            convert::client_vpn_endpoint,
            account,
            r,
            "ec2:DescribeClientVpnEndpoints"
        ),
        async {
            // Not paginated: one call returns every connection.
            ec2.describe_vpn_connections()
                .send()
                .await
                .map(|out| out.vpn_connections().iter().map(convert::vpn_connection).collect())
                .map_err(|e| gap_from_sdk(&e, account, r, "ec2:DescribeVpnConnections"))
        },
        paginated_items!(
            clients.logs.describe_log_groups(),
            convert::log_group,
            account,
            r,
            "logs:DescribeLogGroups"
        ),
        async {
            all_pages(clients.cloudwatch.describe_alarms().into_paginator().send())
                .await
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.metric_alarms().iter().flat_map(convert::alarms))
                        .collect()
                })
                .map_err(|e| gap_from_sdk(&e, account, r, "cloudwatch:DescribeAlarms"))
        },
        delivery_streams(&clients.firehose, account, region),
    );
    RegionInventory {
        region: region.to_owned(),
        vpcs,
        subnets,
        network_interfaces: enis,
        flow_logs,
        client_vpn_endpoints: endpoints,
        vpn_connections: connections,
        log_groups,
        alarms,
        delivery_streams: streams,
    }
}

/// ListDeliveryStreams pages by the last name seen, until AWS says there are no more.
async fn delivery_streams(
    client: &aws_sdk_firehose::Client,
    account: &str,
    region: &str,
) -> Listing<DeliveryStreamRecord> {
    let mut names: Vec<DeliveryStreamRecord> = vec![];
    let mut start: Option<String> = None;
    loop {
        let out = client
            .list_delivery_streams()
            .set_exclusive_start_delivery_stream_name(start.clone())
            .send()
            .await
            .map_err(|e| gap_from_sdk(&e, account, Some(region), "firehose:ListDeliveryStreams"))?;
        let page: Vec<String> = out.delivery_stream_names().to_vec();
        let more = out.has_more_delivery_streams();
        names.extend(page.iter().map(|n| DeliveryStreamRecord { name: n.clone() }));
        match (more, page.last()) {
            (true, Some(last)) => start = Some(last.clone()),
            (true, None) => {
                return Err(Arc::new(Gap {
                    kind: GapKind::Malformed,
                    account: account.to_owned(),
                    region: Some(region.to_owned()),
                    api: "firehose:ListDeliveryStreams".into(),
                    code: "TruncatedListing".into(),
                    message: "AWS reported more delivery streams but returned an empty page".into(),
                    source: None,
                }))
            }
            (false, _) => return Ok(names),
        }
    }
}

/// A runtime for one synchronous entry point; failing to start one is a gap, like any other.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Arc<Gap>> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Arc::new(Gap {
                kind: GapKind::ApiError,
                account: String::new(),
                region: None,
                api: "netaudit:Runtime".into(),
                code: "RuntimeError".into(),
                message: e.to_string(),
                source: None,
            })
        })
}

/// Collect the account the options' credentials belong to. `Err` when not even the account can be
/// identified (no credentials, STS unreachable).
pub fn collect(options: &LiveOptions, calls: &CallLog) -> Result<Inventory, Arc<Gap>> {
    runtime()?.block_on(async {
        let config = sdk_config(options).await;
        if options.org {
            return collect_org(&config, options, calls).await;
        }
        let account = collect_account(&config, options, calls).await?;
        Ok(Inventory {
            accounts: vec![account],
        })
    })
}

/// Every active account of the Organization: the caller's own with its own credentials, the others
/// through `org_role`. An account whose role cannot be assumed is a coverage gap; the rest go on.
pub async fn collect_org(config: &SdkConfig, options: &LiveOptions, calls: &CallLog) -> Result<Inventory, Arc<Gap>> {
    let caller = sts_client(config, calls)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| gap_from_sdk(&e, "", None, "sts:GetCallerIdentity"))?;
    let own = caller.account().unwrap_or_default().to_owned();
    let org = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(config)
            .interceptor(calls.interceptor("organizations"))
            .build(),
    );
    let pages = all_pages(org.list_accounts().into_paginator().send())
        .await
        .map_err(|e| gap_from_sdk(&e, &own, None, "organizations:ListAccounts"))?;
    let accounts: Vec<&aws_sdk_organizations::types::Account> = pages.iter().flat_map(|p| p.accounts()).collect();
    let partition = caller
        .arn()
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    let ids: Vec<String> = accounts
        .iter()
        .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
        .filter_map(|a| a.id().map(str::to_owned))
        .collect();
    let mut collected: Vec<AccountInventory> = stream::iter(ids)
        .map(|id| {
            let (own, partition) = (own.clone(), partition.clone());
            async move {
                let account_config = if id == own {
                    config.clone()
                } else {
                    let role = format!("arn:{partition}:iam::{id}:role/{}", options.org_role);
                    assume(config, &role, options.external_id.as_deref()).await
                };
                match collect_account(&account_config, options, calls).await {
                    Ok(inventory) => inventory,
                    Err(gap) => unreachable_account(&id, &gap, &options.org_role),
                }
            }
        })
        .buffer_unordered(options.account_concurrency.max(1))
        .collect()
        .await;
    collected.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok(Inventory { accounts: collected })
}

/// An account that could not be entered: every listing is unknown, for the reason given.
pub(crate) fn unreachable_account(id: &str, cause: &Arc<Gap>, role: &str) -> AccountInventory {
    let gap = Arc::new(Gap {
        account: id.to_owned(),
        message: format!("cannot enter the account through {role}: {}", cause.message),
        ..(**cause).clone()
    });
    AccountInventory {
        account_id: id.to_owned(),
        caller_arn: None,
        regions: Err(gap.clone()),
        region_scope: None,
        region_data: vec![],
        buckets: Err(gap.clone()),
        other_gaps: vec![gap],
    }
}
