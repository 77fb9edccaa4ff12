//! Declared resources as the graph's assets: the kinds and edges the catalogue queries.
//!
//! Values follow what AWS deploys when an argument is left out (no tunnel log options: logging
//! off; no IKE versions: ikev1 and ikev2; no retention: never expire). What only the deploy knows
//! is an unknown field whose gap names the expression; links follow references, so an id known
//! only after deploy still joins a flow log to its VPC.

use crate::cloudformation::{Existence, Resource, Template};
use crate::terraform::{ResourceMode, RootModule, TfExistence};
use crate::{Location, Value};
use netaudit_model::schema::{self, EdgeIx, FieldIx};
use netaudit_model::value::Value as Field;
use netaudit_model::{parse_log_group_arn, DeclaredAsset, Gap, Kind, Link, SourceRef};
use std::collections::HashMap;
use std::sync::Arc;

/// One declaration being turned into assets: where it is, and what the unit declares.
struct Ctx<'a> {
    unit: &'a str,
    file: String,
    location: Location,
    address: &'a str,
    construct_path: Option<String>,
    uncertain: Option<Arc<Gap>>,
    /// Every resource address of the unit, for links: `true` when it is created by the code.
    declared: &'a HashMap<String, bool>,
}

impl Ctx<'_> {
    fn gap(&self, why: impl Into<String>) -> Arc<Gap> {
        deploy_gap(&self.file, &self.location, why.into())
    }

    fn unknown(&self, why: impl Into<String>) -> Field {
        Field::Unknown(self.gap(why))
    }

    fn asset(&self, kind: Kind, address: String, name: Option<String>) -> DeclaredAsset {
        DeclaredAsset {
            kind,
            source: SourceRef {
                file: self.file.clone(),
                line: self.location.line,
                end_line: self.location.end_line.max(self.location.line),
                address: address.clone(),
                construct_path: self.construct_path.clone(),
            },
            address,
            unit: self.unit.to_owned(),
            name,
            fields: vec![],
            links: vec![],
            uncertain: self.uncertain.clone(),
        }
    }

    /// Why a value is not known yet, naming the expression.
    fn why(&self, what: &str, v: &Value) -> String {
        match v {
            Value::Ref(r) => match &r.attribute {
                Some(a) => format!("{what} = {}.{a}, known only after deploy", r.target),
                None => format!("{what} = {}, known only after deploy", r.target),
            },
            Value::Unknown { why, .. } => format!("{what}: {why}"),
            _ => format!("{what} is not a single value"),
        }
    }

    fn string(&self, what: &str, v: Option<&Value>) -> Field {
        match v {
            None | Some(Value::Null) => Field::Null,
            Some(v) => match v.scalar_text() {
                Some(s) => Field::Str(s),
                None => self.unknown(self.why(what, v)),
            },
        }
    }

    fn int(&self, what: &str, v: Option<&Value>) -> Field {
        match v {
            None | Some(Value::Null) => Field::Null,
            Some(v) => v.as_int().map_or_else(|| self.unknown(self.why(what, v)), Field::Int),
        }
    }

    /// A boolean; `default` when not set.
    fn boolean(&self, what: &str, v: Option<&Value>, default: bool) -> Field {
        match v {
            None | Some(Value::Null) => Field::Bool(default),
            Some(v) => v.as_bool().map_or_else(|| self.unknown(self.why(what, v)), Field::Bool),
        }
    }

    fn strings(&self, what: &str, v: Option<&Value>, default: &[&str]) -> Field {
        match v {
            None | Some(Value::Null) => Field::List(default.iter().map(|s| (*s).to_owned()).collect()),
            Some(Value::List(items)) => {
                let texts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| match i {
                        // CloudFormation writes IKE versions as `[{Value: ikev2}]`.
                        Value::Map(_) => i.get("Value").and_then(Value::scalar_text),
                        other => other.scalar_text(),
                    })
                    .collect();
                texts.map_or_else(
                    || self.unknown(format!("{what} is not known before deploy")),
                    Field::List,
                )
            }
            Some(v) => self.unknown(self.why(what, v)),
        }
    }

    /// The address a reference names, when the unit declares it; `None` for anything else.
    fn declared_target(&self, target: &str) -> Option<String> {
        if self.declared.contains_key(target) {
            return Some(target.to_owned());
        }
        // A `count` not known before apply leaves one instance without an index.
        let base = target
            .strip_suffix(']')
            .and_then(|t| t.rsplit_once('['))
            .map(|(b, _)| b)?;
        self.declared.contains_key(base).then(|| base.to_owned())
    }

    /// Where a value that identifies another resource points. `arn` says the value is an ARN
    /// (log groups are matched by the name in it).
    fn link(&self, what: &str, v: Option<&Value>, arn: bool) -> Option<Link> {
        let v = v?;
        Some(match v {
            Value::Null => return None,
            Value::Ref(r) => match self.declared_target(&r.target) {
                Some(address) if self.declared.get(&address) == Some(&true) => Link::To(address),
                _ => Link::Outside(self.gap(format!("{what} = {}: not created by the scanned code", r.target))),
            },
            Value::Unknown { refs, .. } if !refs.is_empty() => {
                let addresses = refs.iter().filter_map(|r| self.declared_target(&r.target)).collect();
                Link::Among(addresses, self.gap(self.why(what, v)))
            }
            // Built from no resource of the code: a variable, a parameter, an imported value.
            Value::Unknown { .. } => Link::Outside(self.gap(self.why(what, v))),
            Value::Str(s) => {
                let name = if arn {
                    parse_log_group_arn(s).map_or_else(|| s.clone(), |(_, _, name)| name)
                } else {
                    s.clone()
                };
                let gap = self.gap(format!("{what} = {s:?}: not declared in the scanned code"));
                Link::Named(name, gap)
            }
            other => Link::Outside(self.gap(self.why(what, other))),
        })
    }
}

fn set(asset: &mut DeclaredAsset, field: FieldIx, value: Field) {
    asset.fields.push((field, value));
}

fn link(asset: &mut DeclaredAsset, edge: EdgeIx, link: Option<Link>) {
    if let Some(l) = link {
        asset.links.push((edge, l));
    }
}

/// A nested block: the first of the list of maps Terraform gives, or the map itself.
fn block(v: Option<&Value>) -> Option<&Value> {
    match v? {
        Value::List(items) => items.first(),
        Value::Null => None,
        other => Some(other),
    }
}

fn known_name(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// The Name tag, as Terraform (`tags = { Name = … }`) and CloudFormation (`[{Key, Value}]`) write it.
fn name_tag(tags: Option<&Value>) -> Option<String> {
    match tags? {
        Value::Map(m) => known_name(m.get("Name")),
        Value::List(items) => items
            .iter()
            .find(|t| t.get("Key").and_then(Value::as_str) == Some("Name"))
            .and_then(|t| known_name(t.get("Value"))),
        _ => None,
    }
}

/// Flow-log resource types, by the Terraform argument that names the resource.
const TF_FLOW_LOG_TARGETS: [(&str, &str); 5] = [
    ("vpc_id", "VPC"),
    ("subnet_id", "Subnet"),
    ("eni_id", "NetworkInterface"),
    ("transit_gateway_id", "TransitGateway"),
    ("transit_gateway_attachment_id", "TransitGatewayAttachment"),
];

fn vpc(ctx: &Ctx, is_default: bool, cidr: Option<&Value>, tags: Option<&Value>) -> DeclaredAsset {
    let mut a = ctx.asset(Kind::Vpc, ctx.address.to_owned(), name_tag(tags));
    set(&mut a, schema::vpc::IS_DEFAULT, Field::Bool(is_default));
    set(&mut a, schema::vpc::IS_SHARED, Field::Bool(false));
    set(&mut a, schema::vpc::CIDR_BLOCK, ctx.string("cidr_block", cidr));
    a
}

struct SubnetArgs<'a> {
    vpc_id: (&'a str, Option<&'a Value>),
    cidr: Option<&'a Value>,
    zone: Option<&'a Value>,
    tags: Option<&'a Value>,
}

fn subnet(ctx: &Ctx, args: SubnetArgs) -> DeclaredAsset {
    let mut a = ctx.asset(Kind::Subnet, ctx.address.to_owned(), name_tag(args.tags));
    set(&mut a, schema::subnet::VPC_ID, ctx.string(args.vpc_id.0, args.vpc_id.1));
    set(&mut a, schema::subnet::CIDR_BLOCK, ctx.string("cidr_block", args.cidr));
    set(
        &mut a,
        schema::subnet::AVAILABILITY_ZONE,
        ctx.string("availability_zone", args.zone),
    );
    link(
        &mut a,
        schema::subnet::VPC,
        ctx.link(args.vpc_id.0, args.vpc_id.1, false),
    );
    a
}

struct FlowLogArgs<'a> {
    /// (argument, resource type, value) of the watched resource.
    target: Option<(&'a str, String, &'a Value)>,
    traffic_type: Option<&'a Value>,
    destination_type: Option<&'a Value>,
    destination: (&'a str, Option<&'a Value>),
    group_name: (&'a str, Option<&'a Value>),
    max_aggregation_interval: Option<&'a Value>,
}

fn flow_log(ctx: &Ctx, args: FlowLogArgs) -> DeclaredAsset {
    use schema::flow_log as f;
    let mut a = ctx.asset(Kind::FlowLog, ctx.address.to_owned(), None);
    set(&mut a, f::FLOW_LOG_STATUS, Field::Str("ACTIVE".into()));
    if let Some((arg, resource_type, value)) = &args.target {
        set(&mut a, f::RESOURCE_TYPE, Field::Str(resource_type.clone()));
        set(&mut a, f::RESOURCE_ID, ctx.string(arg, Some(value)));
        let edge = match resource_type.as_str() {
            "VPC" => Some(f::VPC),
            "Subnet" => Some(f::SUBNET),
            _ => None,
        };
        if let Some(edge) = edge {
            link(&mut a, edge, ctx.link(arg, Some(value), false));
        }
    }
    set(&mut a, f::TRAFFIC_TYPE, ctx.string("traffic_type", args.traffic_type));
    let destination_type = match ctx.string("log_destination_type", args.destination_type) {
        Field::Null => Field::Str("cloud-watch-logs".into()),
        other => other,
    };
    set(
        &mut a,
        f::DELIVER_LOGS_STATUS,
        ctx.unknown("delivery status is known only once the flow log delivers"),
    );
    set(
        &mut a,
        f::LOG_DESTINATION,
        ctx.string(args.destination.0, args.destination.1),
    );
    set(
        &mut a,
        f::LOG_GROUP_NAME,
        ctx.string(args.group_name.0, args.group_name.1),
    );
    let interval = match ctx.int("max_aggregation_interval", args.max_aggregation_interval) {
        Field::Null => Field::Int(600),
        other => other,
    };
    set(&mut a, f::MAX_AGGREGATION_INTERVAL, interval);
    if destination_type == Field::Str("cloud-watch-logs".into()) {
        let group = ctx
            .link(args.destination.0, args.destination.1, true)
            .or_else(|| ctx.link(args.group_name.0, args.group_name.1, false));
        link(&mut a, f::LOG_GROUP, group);
    }
    set(&mut a, f::DESTINATION_TYPE, destination_type);
    a
}

fn log_group(ctx: &Ctx, name: Option<&Value>, retention: Option<&Value>, class: Option<&Value>) -> DeclaredAsset {
    use schema::log_group as g;
    let mut a = ctx.asset(Kind::LogGroup, ctx.address.to_owned(), known_name(name));
    let (days, never) = match ctx.int("retention_in_days", retention) {
        Field::Null | Field::Int(0) => (Field::Null, Field::Bool(true)),
        Field::Int(n) => (Field::Int(n), Field::Bool(false)),
        other => (other.clone(), other),
    };
    set(&mut a, g::RETENTION_IN_DAYS, days);
    set(&mut a, g::NEVER_EXPIRES, never);
    set(&mut a, g::LOG_GROUP_CLASS, ctx.string("log_group_class", class));
    a
}

struct EndpointArgs<'a> {
    /// The connection log options block; `None` when absent (logging off).
    options: Option<&'a Value>,
    keys: [&'a str; 3],
    vpc_id: Option<&'a Value>,
    description: Option<&'a Value>,
}

fn client_vpn_endpoint(ctx: &Ctx, args: EndpointArgs) -> DeclaredAsset {
    use schema::client_vpn_endpoint as e;
    let mut a = ctx.asset(Kind::ClientVpnEndpoint, ctx.address.to_owned(), None);
    let [enabled, group, stream] = args.keys;
    let options = args.options;
    match options {
        Some(o @ (Value::Ref(_) | Value::Unknown { .. })) => {
            set(
                &mut a,
                e::CONNECTION_LOG_ENABLED,
                ctx.unknown(ctx.why("connection log options", o)),
            );
        }
        _ => {
            let get = |k: &str| options.and_then(|o| o.get(k));
            set(
                &mut a,
                e::CONNECTION_LOG_ENABLED,
                ctx.boolean(enabled, get(enabled), false),
            );
            set(&mut a, e::CLOUDWATCH_LOG_GROUP, ctx.string(group, get(group)));
            set(&mut a, e::CLOUDWATCH_LOG_STREAM, ctx.string(stream, get(stream)));
            link(&mut a, e::LOG_GROUP, ctx.link(group, get(group), false));
        }
    }
    set(&mut a, e::VPC_ID, ctx.string("vpc_id", args.vpc_id));
    link(&mut a, e::VPC, ctx.link("vpc_id", args.vpc_id, false));
    set(&mut a, e::DESCRIPTION, ctx.string("description", args.description));
    a
}

/// One tunnel's declared options: its CloudWatch log options block and IKE versions.
struct TunnelArgs<'a> {
    what: String,
    /// `None`: no log options (logging off). `Some(unknown)`: not known before deploy.
    log_options: Option<&'a Value>,
    keys: [&'a str; 4],
    ike_versions: (String, Option<&'a Value>),
}

fn vpn_connection(ctx: &Ctx, customer_gateway: Option<&Value>, tunnels: [TunnelArgs; 2]) -> Vec<DeclaredAsset> {
    use schema::vpn_tunnel as t;
    let mut conn = ctx.asset(Kind::VpnConnection, ctx.address.to_owned(), None);
    set(&mut conn, schema::vpn_connection::TYPE, Field::Str("ipsec.1".into()));
    set(
        &mut conn,
        schema::vpn_connection::CUSTOMER_GATEWAY_ID,
        ctx.string("customer_gateway_id", customer_gateway),
    );
    let mut out = vec![conn];
    for (i, args) in tunnels.into_iter().enumerate() {
        let number = i as i64 + 1;
        let mut a = ctx.asset(Kind::VpnTunnel, format!("{}#tunnel{number}", ctx.address), None);
        set(&mut a, t::VPN_CONNECTION_ID, Field::Str(ctx.address.to_owned()));
        set(&mut a, t::TUNNEL_NUMBER, Field::Int(number));
        set(
            &mut a,
            t::STATUS,
            ctx.unknown("tunnel status is known only once deployed"),
        );
        set(
            &mut a,
            t::OUTSIDE_IP_ADDRESS,
            ctx.unknown("the outside IP address is assigned by the deploy"),
        );
        link(&mut a, t::VPN_CONNECTION, Some(Link::To(ctx.address.to_owned())));
        let [enabled, group, bgp_enabled, bgp_group] = args.keys;
        match args.log_options {
            Some(o @ (Value::Ref(_) | Value::Unknown { .. })) => {
                let why = ctx.why(&args.what, o);
                set(&mut a, t::LOG_ENABLED, ctx.unknown(why.clone()));
                set(&mut a, t::BGP_LOG_ENABLED, ctx.unknown(why));
            }
            o => {
                let get = |k: &str| o.and_then(|o| o.get(k));
                let name = |k: &str| format!("{}.{k}", args.what);
                set(&mut a, t::LOG_ENABLED, ctx.boolean(&name(enabled), get(enabled), false));
                set(&mut a, t::LOG_GROUP_ARN, ctx.string(&name(group), get(group)));
                set(
                    &mut a,
                    t::BGP_LOG_ENABLED,
                    ctx.boolean(&name(bgp_enabled), get(bgp_enabled), false),
                );
                set(
                    &mut a,
                    t::BGP_LOG_GROUP_ARN,
                    ctx.string(&name(bgp_group), get(bgp_group)),
                );
                link(&mut a, t::LOG_GROUP, ctx.link(&name(group), get(group), true));
                link(
                    &mut a,
                    t::BGP_LOG_GROUP,
                    ctx.link(&name(bgp_group), get(bgp_group), true),
                );
            }
        }
        let (ike_what, ike) = &args.ike_versions;
        set(
            &mut a,
            t::IKE_VERSIONS,
            ctx.strings(ike_what, *ike, &["ikev1", "ikev2"]),
        );
        out.push(a);
    }
    out
}

/// A value or an existence the deploy decides; `why` names the expression.
fn deploy_gap(file: &str, location: &Location, why: String) -> Arc<Gap> {
    Arc::new(Gap::not_known_before_deploy(
        why,
        Some(format!("{file}:{}", location.line)),
    ))
}

/// The Terraform resource types [`from_terraform`] turns into assets.
pub const TERRAFORM_TYPES: [&str; 7] = [
    "aws_vpc",
    "aws_default_vpc",
    "aws_subnet",
    "aws_flow_log",
    "aws_cloudwatch_log_group",
    "aws_ec2_client_vpn_endpoint",
    "aws_vpn_connection",
];

/// The assets a Terraform root module (evaluated from HCL, or read from a plan) declares. `unit`
/// names the root: its folder, or the plan file, as given.
pub fn from_terraform(root: &RootModule, unit: &str) -> Vec<DeclaredAsset> {
    let declared: HashMap<String, bool> = root
        .resources
        .iter()
        .map(|r| (r.address.clone(), r.mode == ResourceMode::Managed))
        .collect();
    let mut out = vec![];
    for r in root.resources.iter().filter(|r| r.mode == ResourceMode::Managed) {
        let file = r.file.display().to_string();
        let uncertain = match &r.existence {
            TfExistence::Absent { .. } => continue,
            TfExistence::Exists => None,
            TfExistence::Unknown { why } => Some(deploy_gap(
                &file,
                &r.location,
                format!("{} may not exist: {why}", r.address),
            )),
        };
        let ctx = Ctx {
            unit,
            file,
            location: r.location,
            address: &r.address,
            construct_path: None,
            uncertain,
            declared: &declared,
        };
        let at = |k: &str| r.attributes.get(k);
        match r.resource_type.as_str() {
            "aws_vpc" => out.push(vpc(&ctx, false, at("cidr_block"), at("tags"))),
            "aws_default_vpc" => out.push(vpc(&ctx, true, None, at("tags"))),
            "aws_subnet" => out.push(subnet(
                &ctx,
                SubnetArgs {
                    vpc_id: ("vpc_id", at("vpc_id")),
                    cidr: at("cidr_block"),
                    zone: at("availability_zone"),
                    tags: at("tags"),
                },
            )),
            "aws_flow_log" => {
                let target = TF_FLOW_LOG_TARGETS.iter().find_map(|(arg, ty)| {
                    at(arg)
                        .filter(|v| **v != Value::Null)
                        .map(|v| (*arg, (*ty).to_owned(), v))
                });
                out.push(flow_log(
                    &ctx,
                    FlowLogArgs {
                        target,
                        traffic_type: at("traffic_type"),
                        destination_type: at("log_destination_type"),
                        destination: ("log_destination", at("log_destination")),
                        group_name: ("log_group_name", at("log_group_name")),
                        max_aggregation_interval: at("max_aggregation_interval"),
                    },
                ));
            }
            "aws_cloudwatch_log_group" => out.push(log_group(
                &ctx,
                at("name"),
                at("retention_in_days"),
                at("log_group_class"),
            )),
            "aws_ec2_client_vpn_endpoint" => out.push(client_vpn_endpoint(
                &ctx,
                EndpointArgs {
                    options: block(at("connection_log_options")),
                    keys: ["enabled", "cloudwatch_log_group", "cloudwatch_log_stream"],
                    vpc_id: at("vpc_id"),
                    description: at("description"),
                },
            )),
            "aws_vpn_connection" => {
                let tunnel = |n: u8| {
                    let options = format!("tunnel{n}_log_options");
                    let log_options = match block(at(&options)) {
                        Some(o @ (Value::Ref(_) | Value::Unknown { .. })) => Some(o),
                        Some(o) => block(o.get("cloudwatch_log_options")),
                        None => None,
                    };
                    let ike = format!("tunnel{n}_ike_versions");
                    let ike_value = at(&ike);
                    TunnelArgs {
                        what: format!("{options}.cloudwatch_log_options"),
                        log_options,
                        keys: ["log_enabled", "log_group_arn", "bgp_log_enabled", "bgp_log_group_arn"],
                        ike_versions: (ike, ike_value),
                    }
                };
                out.extend(vpn_connection(&ctx, at("customer_gateway_id"), [tunnel(1), tunnel(2)]));
            }
            _ => {}
        }
    }
    out
}

/// The assets a CloudFormation template declares; the unit is the template file.
pub fn from_template(template: &Template) -> Vec<DeclaredAsset> {
    let declared: HashMap<String, bool> = template
        .resources
        .iter()
        .map(|r| (r.logical_id.clone(), true))
        .collect();
    let unit = template.path.as_str();
    let mut out = vec![];
    for r in &template.resources {
        let uncertain = match &r.existence {
            Existence::Absent { .. } => continue,
            Existence::Exists => None,
            Existence::Unknown { condition, why } => Some(deploy_gap(
                unit,
                &r.location,
                format!("{} may not exist: Condition {condition}: {why}", r.logical_id),
            )),
        };
        let ctx = Ctx {
            unit,
            file: unit.to_owned(),
            location: r.location,
            address: &r.logical_id,
            construct_path: r.cdk_path.clone(),
            uncertain,
            declared: &declared,
        };
        out.extend(template_resource(&ctx, r));
    }
    out
}

fn template_resource(ctx: &Ctx, r: &Resource) -> Vec<DeclaredAsset> {
    let p = |k: &str| r.properties.get(k);
    match r.resource_type.as_str() {
        "AWS::EC2::VPC" => vec![vpc(ctx, false, p("CidrBlock"), p("Tags"))],
        "AWS::EC2::Subnet" => vec![subnet(
            ctx,
            SubnetArgs {
                vpc_id: ("VpcId", p("VpcId")),
                cidr: p("CidrBlock"),
                zone: p("AvailabilityZone"),
                tags: p("Tags"),
            },
        )],
        "AWS::EC2::FlowLog" => {
            let resource_type = p("ResourceType").and_then(Value::as_str).unwrap_or("VPC").to_owned();
            let target = p("ResourceId").map(|v| ("ResourceId", resource_type, v));
            vec![flow_log(
                ctx,
                FlowLogArgs {
                    target,
                    traffic_type: p("TrafficType"),
                    destination_type: p("LogDestinationType"),
                    destination: ("LogDestination", p("LogDestination")),
                    group_name: ("LogGroupName", p("LogGroupName")),
                    max_aggregation_interval: p("MaxAggregationInterval"),
                },
            )]
        }
        "AWS::Logs::LogGroup" => vec![log_group(
            ctx,
            p("LogGroupName"),
            p("RetentionInDays"),
            p("LogGroupClass"),
        )],
        "AWS::EC2::ClientVpnEndpoint" => vec![client_vpn_endpoint(
            ctx,
            EndpointArgs {
                options: p("ConnectionLogOptions"),
                keys: ["Enabled", "CloudwatchLogGroup", "CloudwatchLogStream"],
                vpc_id: p("VpcId"),
                description: p("Description"),
            },
        )],
        "AWS::EC2::VPNConnection" => {
            let specs = p("VpnTunnelOptionsSpecifications");
            let tunnel = |i: usize| {
                let what = format!("VpnTunnelOptionsSpecifications[{i}]");
                let spec = match specs {
                    Some(Value::List(items)) => items.get(i),
                    other => other,
                };
                let log_options = match spec {
                    Some(o @ (Value::Ref(_) | Value::Unknown { .. })) => Some(o),
                    Some(s) => match s.get("LogOptions") {
                        Some(o @ (Value::Ref(_) | Value::Unknown { .. })) => Some(o),
                        Some(o) => o.get("CloudwatchLogOptions"),
                        None => None,
                    },
                    None => None,
                };
                let ike = match spec {
                    Some(s @ (Value::Ref(_) | Value::Unknown { .. })) => Some(s),
                    Some(s) => s.get("IKEVersions"),
                    None => None,
                };
                TunnelArgs {
                    what: format!("{what}.LogOptions.CloudwatchLogOptions"),
                    log_options,
                    keys: ["LogEnabled", "LogGroupArn", "BgpLogEnabled", "BgpLogGroupArn"],
                    ike_versions: (format!("{what}.IKEVersions"), ike),
                }
            };
            vpn_connection(ctx, p("CustomerGatewayId"), [tunnel(0), tunnel(1)])
        }
        _ => vec![],
    }
}
