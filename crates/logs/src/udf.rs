//! IP helpers for SQL, correct for IPv4 and IPv6 (addresses compared as numbers, never as strings).
//!
//! - `cidr_contains(cidr, ip)`: whether `ip` is inside `cidr` (`10.0.0.0/8`, `2001:db8::/32`; a bare
//!   address is a /32 or /128). Different families: false. Unparsable input: null.
//! - `is_private(ip)`: RFC 1918 (10/8, 172.16/12, 192.168/16), shared address space 100.64/10 (used
//!   inside VPCs) and IPv6 unique local fc00::/7.
//! - `ip_version(ip)`: 4, 6 or null.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
use datafusion::prelude::SessionContext;
use std::net::IpAddr;
use std::sync::Arc;

/// Parse `a.b.c.d/n`, `x::/n` or a bare address.
pub fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
        None => {
            let a = text.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if address.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((address, prefix))
}

fn bits(address: IpAddr) -> (u128, u8) {
    match address {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// Whether `ip` lies in `cidr`; `None` when either does not parse.
pub fn cidr_contains(cidr: &str, ip: &str) -> Option<bool> {
    let (network, prefix) = parse_cidr(cidr)?;
    let address = ip.trim().parse::<IpAddr>().ok()?;
    if network.is_ipv4() != address.is_ipv4() {
        return Some(false);
    }
    let ((n, width), (a, _)) = (bits(network), bits(address));
    if prefix == 0 {
        return Some(true);
    }
    let shift = u32::from(width - prefix);
    Some((n >> shift) == (a >> shift))
}

const PRIVATE: [&str; 5] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
];

/// Whether `ip` is in a private range; `None` when it does not parse.
pub fn is_private(ip: &str) -> Option<bool> {
    let address = ip.trim().parse::<IpAddr>().ok()?;
    // An IPv4-mapped IPv6 address is judged as the IPv4 address.
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    let text = address.to_string();
    Some(PRIVATE.iter().any(|cidr| cidr_contains(cidr, &text) == Some(true)))
}

fn strings(value: &ColumnarValue, rows: usize) -> Result<ArrayRef> {
    let array = value.to_array(rows)?;
    Ok(cast(&array, &DataType::Utf8)?)
}

fn rows_of(args: &[ColumnarValue]) -> usize {
    args.iter()
        .find_map(|a| match a {
            ColumnarValue::Array(array) => Some(array.len()),
            ColumnarValue::Scalar(_) => None,
        })
        .unwrap_or(1)
}

fn is_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

fn finish(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::try_from_array(
            &array, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(array))
    }
}

/// Register the helpers with a session.
pub fn register(ctx: &SessionContext) {
    let utf8 = DataType::Utf8;
    ctx.register_udf(create_udf(
        "cidr_contains",
        vec![utf8.clone(), utf8.clone()],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let rows = rows_of(args);
            let (Some(cidrs), Some(ips)) = (args.first(), args.get(1)) else {
                return Err(datafusion::error::DataFusionError::Plan(
                    "cidr_contains(cidr, ip) takes two arguments".into(),
                ));
            };
            let (cidrs, ips) = (strings(cidrs, rows)?, strings(ips, rows)?);
            let (cidrs, ips) = (cidrs.as_string::<i32>(), ips.as_string::<i32>());
            let out: BooleanArray = (0..rows)
                .map(|i| {
                    if cidrs.is_null(i) || ips.is_null(i) {
                        None
                    } else {
                        cidr_contains(cidrs.value(i), ips.value(i))
                    }
                })
                .collect();
            finish(Arc::new(out), is_scalar(args))
        }),
    ));
    ctx.register_udf(create_udf(
        "is_private",
        vec![utf8.clone()],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let rows = rows_of(args);
            let Some(ips) = args.first() else {
                return Err(datafusion::error::DataFusionError::Plan(
                    "is_private(ip) takes one argument".into(),
                ));
            };
            let ips = strings(ips, rows)?;
            let ips = ips.as_string::<i32>();
            let out: BooleanArray = ips.iter().map(|ip| ip.and_then(is_private)).collect();
            finish(Arc::new(out), is_scalar(args))
        }),
    ));
    ctx.register_udf(create_udf(
        "ip_version",
        vec![utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let rows = rows_of(args);
            let Some(ips) = args.first() else {
                return Err(datafusion::error::DataFusionError::Plan(
                    "ip_version(ip) takes one argument".into(),
                ));
            };
            let ips = strings(ips, rows)?;
            let ips = ips.as_string::<i32>();
            let out: Int32Array = ips
                .iter()
                .map(|ip| {
                    ip.and_then(|ip| ip.trim().parse::<IpAddr>().ok())
                        .map(|a| if a.is_ipv4() { 4 } else { 6 })
                })
                .collect();
            finish(Arc::new(out), is_scalar(args))
        }),
    ));
}
