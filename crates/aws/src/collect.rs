//! Collection: one SDK configuration, clients per region, every region at once.

use crate::calls::CallLog;
use crate::convert;
use crate::errors::gap_from_sdk;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use futures::stream::{self, StreamExt};
use netaudit_model::inventory::*;
use netaudit_model::{Collected, Gap, GapKind, Inventory, Reads};
use std::future::Future;
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
    /// What the selected controls read: listings nobody reads are skipped and recorded as
    /// [`Gap::not_selected`]. `None`: every listing.
    pub reads: Option<Reads>,
}

impl LiveOptions {
    /// Whether this scan makes `listing`.
    pub fn collects(&self, listing: Collected) -> bool {
        self.reads.as_ref().is_none_or(|r| r.needs(listing))
    }
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
            reads: None,
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

/// The account id a report shows for an account whose id could not be learnt: every format carries
/// it as is, and no AWS account id looks like it.
pub const UNKNOWN_ACCOUNT: &str = "unknown";

/// Who the credentials belong to.
#[derive(Debug, Clone)]
struct Identity {
    account: String,
    /// The caller's ARN, when STS said it.
    caller_arn: Option<String>,
}

/// Why the credentials' account is not known.
#[derive(Debug)]
enum Unidentified {
    /// No credentials could be had, so no call can be made; `unconfigured`: none is configured at all.
    NotEntered { gap: Arc<Gap>, unconfigured: bool },
    /// STS did not answer, even after retries, and nothing else names the account.
    Unknown(Arc<Gap>),
}

/// Why a scan could not start.
#[derive(Debug, Clone)]
pub enum CollectError {
    /// No credentials are configured: nothing was sent to AWS; how netaudit is run must change.
    NoCredentials(Arc<Gap>),
    /// The runtime the SDK needs could not start.
    Runtime(Arc<Gap>),
}

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CollectError::NoCredentials(gap) | CollectError::Runtime(gap) => gap.fmt(f),
        }
    }
}

impl std::error::Error for CollectError {}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The credentials error behind an SDK error, when signing failed for want of credentials.
fn credentials_error<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e CredentialsError> {
    let mut next = Some(err);
    let mut found = None;
    while let Some(e) = next {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            // The innermost one says why: "not loaded" inside an assume-role failure is still "not loaded".
            found = Some(c);
        }
        next = e.source();
    }
    found
}

/// The account the credentials themselves name: assumed roles (`--role-arn`, a profile's `role_arn`,
/// `--org-role`) carry the account of the role STS handed them out for, as do SSO and
/// `AWS_ACCOUNT_ID`. Plain access keys name none.
async fn credentials_account(config: &SdkConfig) -> Option<String> {
    let credentials = config.credentials_provider()?.provide_credentials().await.ok()?;
    credentials
        .account_id()
        .map(|a| a.as_str().to_owned())
        .filter(|a| is_account_id(a))
}

/// The owner of the home region's default VPC: a default VPC cannot be shared, so its owner is the
/// caller. `Err` says why it names no account.
async fn default_vpc_owner(config: &SdkConfig, calls: &CallLog) -> Result<String, String> {
    let home = config
        .region()
        .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
    let out = ec2_client(config, calls)
        .describe_vpcs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("is-default")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            let gap = gap_from_sdk(&e, "", Some(&home), "ec2:DescribeVpcs");
            format!("{} {} in {home}: {}", gap.api, gap.code, gap.message)
        })?;
    out.vpcs()
        .iter()
        .filter(|v| v.is_default() == Some(true))
        .find_map(|v| v.owner_id().filter(|o| is_account_id(o)).map(str::to_owned))
        .ok_or_else(|| format!("there is no default VPC in {home}"))
}

/// Identify the account: sts:GetCallerIdentity (retried like any call); when STS does not answer,
/// the account the credentials name, then the owner of the default VPC.
async fn identify(config: &SdkConfig, calls: &CallLog) -> Result<Identity, Unidentified> {
    const API: &str = "sts:GetCallerIdentity";
    let gap = match sts_client(config, calls).get_caller_identity().send().await {
        Ok(out) => match out.account().filter(|a| is_account_id(a)) {
            Some(account) => {
                return Ok(Identity {
                    account: account.to_owned(),
                    caller_arn: out.arn().map(str::to_owned),
                })
            }
            None => Arc::new(Gap {
                kind: GapKind::NotReported,
                account: String::new(),
                region: None,
                api: API.into(),
                code: "NotReported".into(),
                message: format!("the response names no account id ({:?})", out.account().unwrap_or("")),
                source: None,
            }),
        },
        Err(e) => {
            let gap = gap_from_sdk(&e, "", None, API);
            if let Some(cause) = credentials_error(&e) {
                // Without credentials every call fails alike: no other call can name the account.
                let unconfigured = matches!(
                    cause,
                    CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_)
                );
                return Err(Unidentified::NotEntered { gap, unconfigured });
            }
            gap
        }
    };
    if let Some(account) = credentials_account(config).await {
        return Ok(Identity {
            account,
            caller_arn: None,
        });
    }
    match default_vpc_owner(config, calls).await {
        Ok(account) => Ok(Identity {
            account,
            caller_arn: None,
        }),
        Err(why) => Err(Unidentified::Unknown(Arc::new(Gap {
            message: format!(
                "{}; nothing else names the account: the credentials carry no account id, and {why}",
                gap.message
            ),
            ..(*gap).clone()
        }))),
    }
}

/// Collect every region of the account the configuration's credentials belong to. `Err` when the
/// account cannot be identified: STS failed (after retries) and neither the credentials nor the home
/// region's default VPC name it, or there are no credentials.
pub async fn collect_account(
    config: &SdkConfig,
    options: &LiveOptions,
    calls: &CallLog,
) -> Result<AccountInventory, Arc<Gap>> {
    match identify(config, calls).await {
        Ok(identity) => Ok(collect_identified(config, options, calls, identity).await),
        Err(Unidentified::NotEntered { gap, .. } | Unidentified::Unknown(gap)) => Err(gap),
    }
}

async fn collect_identified(
    config: &SdkConfig,
    options: &LiveOptions,
    calls: &CallLog,
    identity: Identity,
) -> AccountInventory {
    let account = identity.account;
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
    let buckets: Listing<BucketRecord> = when_collected(options, Collected::Buckets, &account, None, async {
        all_pages(s3.list_buckets().into_paginator().send())
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.buckets().iter().filter_map(convert::bucket))
                    .collect()
            })
            .map_err(|e| gap_from_sdk(&e, &account, None, "s3:ListBuckets"))
    })
    .await;

    let region_data: Vec<RegionInventory> = stream::iter(targets)
        .map(|region| {
            let clients = RegionClients::new(config, &region, calls);
            let account = account.clone();
            async move { collect_region_for(&clients, &account, &region, options).await }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut region_data = region_data;
    region_data.sort_by(|a, b| a.region.cmp(&b.region));

    AccountInventory {
        account_id: account,
        caller_arn: identity.caller_arn,
        regions,
        region_scope: options.regions.clone(),
        region_data,
        buckets,
        other_gaps: vec![],
    }
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

/// The listing, when the scan makes it; otherwise the gap saying it was skipped (the call is never sent).
async fn when_collected<T>(
    options: &LiveOptions,
    listing: Collected,
    account: &str,
    region: Option<&str>,
    read: impl Future<Output = Listing<T>>,
) -> Listing<T> {
    if options.collects(listing) {
        read.await
    } else {
        Err(Arc::new(Gap::not_selected(listing, account, region)))
    }
}

/// Collect one region: each listing is one paginated call sequence, all of them at once.
pub async fn collect_region(clients: &RegionClients, account: &str, region: &str) -> RegionInventory {
    collect_region_for(clients, account, region, &LiveOptions::default()).await
}

/// Collect the listings of one region that `options` asks for, all at once.
pub async fn collect_region_for(
    clients: &RegionClients,
    account: &str,
    region: &str,
    options: &LiveOptions,
) -> RegionInventory {
    let r = Some(region);
    let ec2 = &clients.ec2;
    let (vpcs, subnets, enis, flow_logs, endpoints, connections, log_groups, alarms, streams, gateways) = tokio::join!(
        when_collected(
            options,
            Collected::Vpcs,
            account,
            r,
            paginated_items!(ec2.describe_vpcs(), convert::vpc, account, r, "ec2:DescribeVpcs")
        ),
        when_collected(
            options,
            Collected::Subnets,
            account,
            r,
            paginated_items!(
                ec2.describe_subnets(),
                convert::subnet,
                account,
                r,
                "ec2:DescribeSubnets"
            )
        ),
        when_collected(
            options,
            Collected::NetworkInterfaces,
            account,
            r,
            paginated_items!(
                ec2.describe_network_interfaces(),
                convert::network_interface,
                account,
                r,
                "ec2:DescribeNetworkInterfaces"
            )
        ),
        when_collected(
            options,
            Collected::FlowLogs,
            account,
            r,
            paginated_items!(
                ec2.describe_flow_logs(),
                convert::flow_log,
                account,
                r,
                "ec2:DescribeFlowLogs"
            )
        ),
        when_collected(
            options,
            Collected::ClientVpnEndpoints,
            account,
            r,
            paginated_items!(
                ec2.describe_client_vpn_endpoints(),
                convert::client_vpn_endpoint,
                account,
                r,
                "ec2:DescribeClientVpnEndpoints"
            )
        ),
        when_collected(options, Collected::VpnConnections, account, r, async {
            // Not paginated: one call returns every connection.
            ec2.describe_vpn_connections()
                .send()
                .await
                .map(|out| out.vpn_connections().iter().map(convert::vpn_connection).collect())
                .map_err(|e| gap_from_sdk(&e, account, r, "ec2:DescribeVpnConnections"))
        }),
        when_collected(
            options,
            Collected::LogGroups,
            account,
            r,
            paginated_items!(
                clients.logs.describe_log_groups(),
                convert::log_group,
                account,
                r,
                "logs:DescribeLogGroups"
            )
        ),
        when_collected(options, Collected::Alarms, account, r, async {
            all_pages(clients.cloudwatch.describe_alarms().into_paginator().send())
                .await
                .map(|pages| {
                    pages
                        .iter()
                        .flat_map(|p| p.metric_alarms().iter().map(convert::alarm))
                        .collect()
                })
                .map_err(|e| gap_from_sdk(&e, account, r, "cloudwatch:DescribeAlarms"))
        }),
        when_collected(
            options,
            Collected::DeliveryStreams,
            account,
            r,
            delivery_streams(&clients.firehose, account, region)
        ),
        when_collected(
            options,
            Collected::InternetGateways,
            account,
            r,
            paginated_items!(
                ec2.describe_internet_gateways(),
                convert::internet_gateway,
                account,
                r,
                "ec2:DescribeInternetGateways"
            )
        ),
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
        internet_gateways: gateways,
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
        names.extend(page.iter().map(|n| convert::delivery_stream(n)));
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

/// Collect the account the options' credentials belong to (with `options.org`, every account of
/// the Organization). An account that cannot be identified or entered is in the inventory with every
/// listing a gap saying why; `Err` only when no credentials are configured or the runtime cannot start.
pub fn collect(options: &LiveOptions, calls: &CallLog) -> Result<Inventory, CollectError> {
    runtime().map_err(CollectError::Runtime)?.block_on(async {
        let config = sdk_config(options).await;
        if options.org {
            return collect_org(&config, options, calls).await;
        }
        let account = match identify(&config, calls).await {
            Ok(identity) => collect_identified(&config, options, calls, identity).await,
            Err(unidentified) => not_identified(unidentified, options.role_arn.as_deref())?,
        };
        Ok(Inventory {
            accounts: vec![account],
        })
    })
}

/// The inventory of an account that was not identified; `Err` when no credentials are configured.
fn not_identified(unidentified: Unidentified, role_arn: Option<&str>) -> Result<AccountInventory, CollectError> {
    match unidentified {
        Unidentified::NotEntered {
            gap,
            unconfigured: true,
        } => Err(CollectError::NoCredentials(gap)),
        // The role names the account that could not be entered.
        Unidentified::NotEntered { gap, .. } => Ok(match role_arn.and_then(account_of_role_arn) {
            Some(account) => unreachable_account(&account, &gap, role_arn.unwrap_or_default()),
            None => unidentified_account(&gap),
        }),
        Unidentified::Unknown(gap) => Ok(unidentified_account(&gap)),
    }
}

/// `arn:aws:iam::111111111111:role/Name` → `111111111111`.
fn account_of_role_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, resource] if is_account_id(account) && resource.starts_with("role/") => {
            Some((*account).to_owned())
        }
        _ => None,
    }
}

/// Every active account of the Organization: the caller's own with its own credentials, the others
/// through `org_role`. An account whose role cannot be assumed is a coverage gap; the rest go on. When
/// the caller's account cannot be identified, every listed account is entered through `org_role`;
/// when the accounts cannot be listed, the caller's account is scanned and the rest are unknown.
pub async fn collect_org(
    config: &SdkConfig,
    options: &LiveOptions,
    calls: &CallLog,
) -> Result<Inventory, CollectError> {
    let own = identify(config, calls).await;
    let own_id = own.as_ref().map_or("", |i| i.account.as_str()).to_owned();
    let org = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(config)
            .interceptor(calls.interceptor("organizations"))
            .build(),
    );
    let listed = all_pages(org.list_accounts().into_paginator().send())
        .await
        .map_err(|e| gap_from_sdk(&e, &own_id, None, "organizations:ListAccounts"));
    let pages = match listed {
        Ok(pages) => pages,
        Err(list_gap) => {
            let mut own_inventory = match own {
                Ok(identity) => collect_identified(config, options, calls, identity).await,
                Err(unidentified) => not_identified(unidentified, options.role_arn.as_deref())?,
            };
            let unlisted = Arc::new(Gap {
                account: UNKNOWN_ACCOUNT.to_owned(),
                message: format!("the Organization's accounts could not be listed: {}", list_gap.message),
                ..(*list_gap).clone()
            });
            let accounts = if own_inventory.account_id == UNKNOWN_ACCOUNT {
                own_inventory.other_gaps.push(unlisted);
                vec![own_inventory]
            } else {
                vec![own_inventory, unidentified_account(&unlisted)]
            };
            return Ok(Inventory { accounts });
        }
    };
    let own = match own {
        Ok(identity) => Some(identity),
        Err(Unidentified::NotEntered {
            gap,
            unconfigured: true,
        }) => return Err(CollectError::NoCredentials(gap)),
        Err(_) => None,
    };
    let partition = own
        .as_ref()
        .and_then(|i| i.caller_arn.as_deref())
        .or(options.role_arn.as_deref())
        .and_then(|a| a.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned();
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.accounts())
        .filter(|a| a.status().is_none_or(|s| s.as_str() == "ACTIVE"))
        .filter_map(|a| a.id().map(str::to_owned))
        .collect();
    let own = &own;
    let mut collected: Vec<AccountInventory> = stream::iter(ids)
        .map(|id| {
            let partition = partition.clone();
            async move {
                if let Some(identity) = own.as_ref().filter(|i| i.account == id) {
                    return collect_identified(config, options, calls, identity.clone()).await;
                }
                let role = format!("arn:{partition}:iam::{id}:role/{}", options.org_role);
                let account_config = assume(config, &role, options.external_id.as_deref()).await;
                match identify(&account_config, calls).await {
                    Ok(identity) => collect_identified(&account_config, options, calls, identity).await,
                    // The role was assumed (its credentials signed the call), so they are this account's.
                    Err(Unidentified::Unknown(_)) => {
                        let identity = Identity {
                            account: id,
                            caller_arn: None,
                        };
                        collect_identified(&account_config, options, calls, identity).await
                    }
                    Err(Unidentified::NotEntered { gap, .. }) if own.is_none() => {
                        let gap = Arc::new(Gap {
                            message: format!(
                                "{} (the scanning account could not be identified, so every account was entered \
                                 through the role)",
                                gap.message
                            ),
                            ..(*gap).clone()
                        });
                        unreachable_account(&id, &gap, &options.org_role)
                    }
                    Err(Unidentified::NotEntered { gap, .. }) => unreachable_account(&id, &gap, &options.org_role),
                }
            }
        })
        .buffer_unordered(options.account_concurrency.max(1))
        .collect()
        .await;
    collected.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok(Inventory { accounts: collected })
}

/// An account whose id could not be learnt: every listing is unknown, for the reason given.
pub(crate) fn unidentified_account(cause: &Arc<Gap>) -> AccountInventory {
    unread_account(
        UNKNOWN_ACCOUNT,
        Gap {
            account: UNKNOWN_ACCOUNT.to_owned(),
            ..(**cause).clone()
        },
    )
}

/// An account that could not be entered: every listing is unknown, for the reason given.
pub(crate) fn unreachable_account(id: &str, cause: &Arc<Gap>, role: &str) -> AccountInventory {
    unread_account(
        id,
        Gap {
            account: id.to_owned(),
            message: format!("cannot enter the account through {role}: {}", cause.message),
            ..(**cause).clone()
        },
    )
}

/// An account none of whose listings could be read, all for `gap`.
fn unread_account(id: &str, gap: Gap) -> AccountInventory {
    let gap = Arc::new(gap);
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
