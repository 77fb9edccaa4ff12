//! Site-to-Site VPN connections and their two tunnels, joined from tunnel options and telemetry.

use super::builder::{required, Builder};
use super::{Edge, NodeId};
use crate::inventory::*;
use crate::partition_for;
use crate::schema::{self, Kind};
use crate::value::{Gap, GapKind, Value};
use std::sync::Arc;

/// One tunnel: its outside IP and what options and telemetry say about it.
struct Slot {
    ip: Option<String>,
    options: Option<TunnelOptionsRecord>,
    telemetry: Option<TelemetryRecord>,
}

/// What a VPN connection reports, for the tunnel fields it leaves unknown.
struct Reported<'a> {
    account: &'a str,
    region: &'a str,
    id: &'a str,
    options_count: Option<usize>,
    telemetry_count: Option<usize>,
}

impl Reported<'_> {
    /// `what` was not reported (or only for some tunnels): unknown, not "none".
    fn unknown(&self, what: &str, count: Option<usize>) -> Value {
        let id = self.id;
        let message = match count {
            None => format!("{id}: DescribeVpnConnections returned no {what}"),
            Some(n) => format!("{id}: {what} lists {n} of 2 tunnels (a tunnel still provisioning reports none)"),
        };
        Value::Unknown(Arc::new(Gap {
            kind: GapKind::NotReported,
            account: self.account.to_owned(),
            region: Some(self.region.to_owned()),
            api: "ec2:DescribeVpnConnections".into(),
            code: "NotReported".into(),
            message,
            source: None,
        }))
    }

    fn required(&self, value: Option<&str>, what: String) -> Value {
        required(value, self.account, self.region, "ec2:DescribeVpnConnections", what)
    }
}

impl Builder {
    pub(super) fn add_vpn_connection(&mut self, a: &str, r: &str, c: &VpnConnectionRecord) {
        let p = partition_for(r);
        let id = &c.vpn_connection_id;
        let conn_arn = format!("arn:{p}:ec2:{r}:{a}:vpn-connection/{id}");
        let node = self.add(
            Kind::VpnConnection,
            id,
            conn_arn.clone(),
            a,
            r,
            c.name_tag().map(str::to_owned),
        );
        self.set_tags(node, &c.tags);
        let reported = Reported {
            account: a,
            region: r,
            id,
            options_count: c.tunnel_options().map(<[_]>::len),
            telemetry_count: c.telemetry().map(<[_]>::len),
        };
        {
            use schema::vpn_connection::*;
            self.set(
                node,
                STATE,
                reported.required(c.state.as_deref(), format!("{id} has no State")),
            );
            self.set(node, TYPE, Value::opt_str(c.connection_type.as_deref()));
            self.set(
                node,
                CUSTOMER_GATEWAY_ID,
                Value::opt_str(c.customer_gateway_id.as_deref()),
            );
            self.set(node, VPN_GATEWAY_ID, Value::opt_str(c.vpn_gateway_id.as_deref()));
            self.set(
                node,
                TRANSIT_GATEWAY_ID,
                Value::opt_str(c.transit_gateway_id.as_deref()),
            );
            self.set(node, STATIC_ROUTES_ONLY, Value::opt_bool(c.static_routes_only()));
            self.set(
                node,
                TELEMETRY_COUNT,
                Value::Int(reported.telemetry_count.unwrap_or(0) as i64),
            );
        }
        for (i, slot) in tunnel_slots(c).into_iter().enumerate() {
            self.add_tunnel(&reported, c, node, &conn_arn, i + 1, slot);
        }
    }

    fn add_tunnel(
        &mut self,
        reported: &Reported<'_>,
        c: &VpnConnectionRecord,
        connection: NodeId,
        conn_arn: &str,
        number: usize,
        slot: Slot,
    ) {
        let (a, r, id) = (reported.account, reported.region, reported.id);
        let suffix = slot.ip.clone().unwrap_or_else(|| format!("tunnel-{number}"));
        let tunnel_id = format!("{id}/tunnel/{suffix}");
        let t = self.add(
            Kind::VpnTunnel,
            &tunnel_id,
            format!("{conn_arn}/tunnel/{suffix}"),
            a,
            r,
            None,
        );
        use schema::vpn_tunnel::*;
        self.set(t, VPN_CONNECTION_ID, Value::Str(id.to_owned()));
        self.set(
            t,
            CONNECTION_STATE,
            reported.required(c.state.as_deref(), format!("{id} has no State")),
        );
        self.set(t, TUNNEL_NUMBER, Value::Int(number as i64));
        self.set(
            t,
            OUTSIDE_IP_ADDRESS,
            slot.ip.clone().map_or_else(
                || {
                    reported.unknown(
                        "tunnel outside IP",
                        reported.telemetry_count.max(reported.options_count),
                    )
                },
                Value::Str,
            ),
        );
        match &slot.telemetry {
            Some(tel) => {
                self.set(
                    t,
                    STATUS,
                    reported.required(
                        tel.status.as_deref(),
                        format!("{id}: a VgwTelemetry entry has no Status"),
                    ),
                );
                self.set(t, LAST_STATUS_CHANGE, Value::opt_str(tel.last_status_change.as_deref()));
                self.set(t, STATUS_MESSAGE, Value::opt_str(tel.status_message.as_deref()));
            }
            None => {
                let u = reported.unknown("VgwTelemetry", reported.telemetry_count);
                self.set(t, STATUS, u.clone());
                self.set(t, LAST_STATUS_CHANGE, u.clone());
                self.set(t, STATUS_MESSAGE, u);
            }
        }
        match &slot.options {
            Some(o) => {
                let versions = o.ike_versions().unwrap_or_else(|| vec!["ikev1".into(), "ikev2".into()]);
                self.set(t, IKE_VERSIONS, Value::List(versions));
                let log = o.cloudwatch_log().cloned().unwrap_or_default();
                self.set(t, LOG_ENABLED, Value::Bool(log.log_enabled.unwrap_or(false)));
                self.set(t, LOG_GROUP_ARN, Value::opt_str(log.log_group_arn.as_deref()));
                self.set(t, LOG_OUTPUT_FORMAT, Value::opt_str(log.log_output_format.as_deref()));
                self.set(t, BGP_LOG_ENABLED, Value::Bool(log.bgp_log_enabled.unwrap_or(false)));
                self.set(t, BGP_LOG_GROUP_ARN, Value::opt_str(log.bgp_log_group_arn.as_deref()));
            }
            None => {
                let u = reported.unknown("Options.TunnelOptions", reported.options_count);
                for f in [
                    IKE_VERSIONS,
                    LOG_ENABLED,
                    LOG_GROUP_ARN,
                    LOG_OUTPUT_FORMAT,
                    BGP_LOG_ENABLED,
                    BGP_LOG_GROUP_ARN,
                ] {
                    self.set(t, f, u.clone());
                }
            }
        }
        self.set_edge(t, VPN_CONNECTION, Edge::Known(vec![connection]));
        self.push_edge(connection, schema::vpn_connection::TUNNELS, t);
        self.tunnels.push((t, slot.options));
    }
}

/// Join options and telemetry by outside IP into two tunnels; an entry with no IP yet
/// (provisioning) fills the first slot that has none.
fn tunnel_slots(c: &VpnConnectionRecord) -> Vec<Slot> {
    let ip_of = |s: &Option<String>| s.clone().filter(|ip| !ip.is_empty());
    let mut slots: Vec<Slot> = c
        .tunnel_options()
        .unwrap_or_default()
        .iter()
        .map(|o| Slot {
            ip: ip_of(&o.outside_ip_address),
            options: Some(o.clone()),
            telemetry: None,
        })
        .collect();
    // Entries that carry an IP first, so an IP-less one cannot take a slot another entry names.
    // An entry without an IP only fills a slot that has none either: which tunnel it describes
    // is otherwise a guess, and a guess must not decide a verdict.
    let mut telemetry: Vec<&TelemetryRecord> = c.telemetry().unwrap_or_default().iter().collect();
    telemetry.sort_by_key(|t| ip_of(&t.outside_ip_address).is_none());
    for t in telemetry {
        let ip = ip_of(&t.outside_ip_address);
        let free = |s: &Slot| s.telemetry.is_none();
        let slot = match &ip {
            Some(ip) => slots
                .iter()
                .position(|s| free(s) && s.ip.as_deref() == Some(ip.as_str())),
            None => None,
        }
        .or_else(|| slots.iter().position(|s| free(s) && s.ip.is_none()));
        match slot {
            Some(i) => {
                if slots[i].ip.is_none() {
                    slots[i].ip = ip;
                }
                slots[i].telemetry = Some(t.clone());
            }
            // A connection has two tunnels; an entry that fits neither is not attributed.
            None if slots.len() < 2 => slots.push(Slot {
                ip,
                options: None,
                telemetry: Some(t.clone()),
            }),
            None => {}
        }
    }
    while slots.len() < 2 {
        slots.push(Slot {
            ip: None,
            options: None,
            telemetry: None,
        });
    }
    slots
}
