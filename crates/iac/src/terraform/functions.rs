//! The Terraform functions real modules use to compute network settings.
//!
//! Arguments arrive evaluated; `try` and `can` are not here because they must see their arguments'
//! failures (the evaluator handles them). A function that needs the text or number of a value that
//! is only known after apply gives an unknown built from every argument's references.

use super::eval::{number_text, show_value};
use crate::Value;
use std::collections::BTreeMap;

/// Why a call gave no value.
pub(super) enum Fail {
    /// An argument the function must look into is known only after apply.
    NotKnown,
    /// Terraform itself cannot compute this before apply, or this evaluator does not.
    Unsupported(String),
    /// Terraform would reject the call.
    Error(String),
}

type Outcome = Result<Value, Fail>;

fn err<T>(message: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Error(message.into()))
}

fn is_unknown(v: &Value) -> bool {
    matches!(v, Value::Ref(_) | Value::Unknown { .. })
}

fn text(v: &Value) -> Result<String, Fail> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        Value::Number(n) => Ok(number_text(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Ref(_) | Value::Unknown { .. } => Err(Fail::NotKnown),
        Value::Null => err("a null value where a string is required"),
        other => err(format!("{} where a string is required", show_value(other))),
    }
}

fn number(v: &Value) -> Result<f64, Fail> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::Str(s) => s.trim().parse().or_else(|_| err(format!("{s:?} is not a number"))),
        Value::Ref(_) | Value::Unknown { .. } => Err(Fail::NotKnown),
        other => err(format!("{} where a number is required", show_value(other))),
    }
}

fn integer(v: &Value) -> Result<i64, Fail> {
    let n = number(v)?;
    if n.fract() != 0.0 {
        return err(format!("{} is not a whole number", number_text(n)));
    }
    Ok(n as i64)
}

fn list(v: &Value) -> Result<&[Value], Fail> {
    match v {
        Value::List(items) => Ok(items),
        Value::Ref(_) | Value::Unknown { .. } => Err(Fail::NotKnown),
        other => err(format!("{} where a list is required", show_value(other))),
    }
}

fn map(v: &Value) -> Result<&BTreeMap<String, Value>, Fail> {
    match v {
        Value::Map(m) => Ok(m),
        Value::Ref(_) | Value::Unknown { .. } => Err(Fail::NotKnown),
        other => err(format!("{} where a map is required", show_value(other))),
    }
}

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), Fail> {
    if args.len() < min || args.len() > max {
        let wanted = if min == max {
            min.to_string()
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        return err(format!("{name}() takes {wanted} arguments, not {}", args.len()));
    }
    Ok(())
}

/// Whether the function exists in Terraform but cannot be computed here before apply.
const NOT_COMPUTED: &[&str] = &[
    "timestamp",
    "uuid",
    "uuidv5",
    "bcrypt",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "base64sha256",
    "base64sha512",
    "filemd5",
    "filesha256",
    "file",
    "fileexists",
    "fileset",
    "templatefile",
    "filebase64",
    "regex",
    "regexall",
    "rsadecrypt",
    "plantimestamp",
    "timeadd",
    "formatdate",
    "base64encode",
    "base64decode",
    "yamlencode",
    "yamldecode",
    "urlencode",
    "textencodebase64",
];

pub(super) fn call(name: &str, args: &[Value]) -> Outcome {
    if NOT_COMPUTED.contains(&name) {
        return Err(Fail::Unsupported(format!("{name}() is not evaluated before apply")));
    }
    match name {
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Null => {}
                    other => out.extend(map(other)?.iter().map(|(k, v)| (k.clone(), v.clone()))),
                }
            }
            Ok(Value::Map(out))
        }
        "lookup" => {
            arity(name, args, 2, 3)?;
            let key = text(&args[1])?;
            match (map(&args[0])?.get(&key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => err(format!("lookup(): the map has no key {key:?}")),
            }
        }
        "length" => {
            arity(name, args, 1, 1)?;
            Ok(Value::Number(match &args[0] {
                Value::List(items) => items.len(),
                Value::Map(m) => m.len(),
                Value::Str(s) => s.chars().count(),
                Value::Ref(_) | Value::Unknown { .. } => return Err(Fail::NotKnown),
                other => return err(format!("length() of {}", show_value(other))),
            } as f64))
        }
        "concat" => {
            let mut out = vec![];
            for a in args {
                out.extend(list(a)?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "coalesce" => {
            for a in args {
                match a {
                    Value::Null => {}
                    Value::Str(s) if s.is_empty() => {}
                    Value::Unknown { .. } => return Err(Fail::NotKnown),
                    // An identifier known after apply is never empty.
                    other => return Ok(other.clone()),
                }
            }
            err("coalesce(): every argument is null or empty")
        }
        "coalescelist" => {
            for a in args {
                if !list(a)?.is_empty() {
                    return Ok(a.clone());
                }
            }
            err("coalescelist(): every list is empty")
        }
        "compact" => {
            arity(name, args, 1, 1)?;
            let mut out = vec![];
            for v in list(&args[0])? {
                match v {
                    Value::Null => {}
                    Value::Str(s) if s.is_empty() => {}
                    Value::Unknown { .. } => return Err(Fail::NotKnown),
                    other => out.push(other.clone()),
                }
            }
            Ok(Value::List(out))
        }
        "element" => {
            arity(name, args, 2, 2)?;
            let items = list(&args[0])?;
            if items.is_empty() {
                return err("element() of an empty list");
            }
            let i = integer(&args[1])?;
            if i < 0 {
                return err("element() with a negative index");
            }
            Ok(items[(i as usize) % items.len()].clone())
        }
        "index" => {
            arity(name, args, 2, 2)?;
            match list(&args[0])?.iter().position(|v| v == &args[1]) {
                Some(i) => Ok(Value::Number(i as f64)),
                None if is_unknown(&args[1]) => Err(Fail::NotKnown),
                None => err("index(): the value is not in the list"),
            }
        }
        "keys" => {
            arity(name, args, 1, 1)?;
            Ok(Value::List(
                map(&args[0])?.keys().map(|k| Value::Str(k.clone())).collect(),
            ))
        }
        "values" => {
            arity(name, args, 1, 1)?;
            Ok(Value::List(map(&args[0])?.values().cloned().collect()))
        }
        "zipmap" => {
            arity(name, args, 2, 2)?;
            let (keys, values) = (list(&args[0])?, list(&args[1])?);
            if keys.len() != values.len() {
                return err("zipmap(): the lists differ in length");
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                out.insert(text(k)?, v.clone());
            }
            Ok(Value::Map(out))
        }
        "tomap" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                other => Ok(Value::Map(map(other)?.clone())),
            }
        }
        "tolist" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                other => Ok(Value::List(list(other)?.to_vec())),
            }
        }
        "toset" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                other => Ok(set_of(list(other)?)),
            }
        }
        "distinct" => {
            arity(name, args, 1, 1)?;
            let mut out: Vec<Value> = vec![];
            for v in list(&args[0])? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::List(out))
        }
        "tostring" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                Value::Ref(_) | Value::Unknown { .. } => Ok(args[0].clone()),
                other => Ok(Value::Str(text(other)?)),
            }
        }
        "tonumber" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                other => Ok(Value::Number(number(other)?)),
            }
        }
        "tobool" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::Str(s) if s == "true" => Ok(Value::Bool(true)),
                Value::Str(s) if s == "false" => Ok(Value::Bool(false)),
                Value::Ref(_) | Value::Unknown { .. } => Err(Fail::NotKnown),
                other => err(format!("tobool() of {}", show_value(other))),
            }
        }
        "format" => {
            arity(name, args, 1, usize::MAX)?;
            format(&text(&args[0])?, &args[1..]).map(Value::Str)
        }
        "formatlist" => {
            arity(name, args, 1, usize::MAX)?;
            let spec = text(&args[0])?;
            let len = args[1..].iter().filter_map(|a| match a {
                Value::List(items) => Some(items.len()),
                _ => None,
            });
            let Some(n) = len.clone().next() else {
                return format(&spec, &args[1..]).map(|s| Value::List(vec![Value::Str(s)]));
            };
            if len.clone().any(|l| l != n) {
                return err("formatlist(): the lists differ in length");
            }
            let mut out = vec![];
            for i in 0..n {
                let row: Vec<Value> = args[1..]
                    .iter()
                    .map(|a| match a {
                        Value::List(items) => items[i].clone(),
                        other => other.clone(),
                    })
                    .collect();
                out.push(Value::Str(format(&spec, &row)?));
            }
            Ok(Value::List(out))
        }
        "join" => {
            arity(name, args, 2, usize::MAX)?;
            let sep = text(&args[0])?;
            let mut parts = vec![];
            for a in &args[1..] {
                for v in list(a)? {
                    parts.push(text(v)?);
                }
            }
            Ok(Value::Str(parts.join(&sep)))
        }
        "split" => {
            arity(name, args, 2, 2)?;
            let (sep, s) = (text(&args[0])?, text(&args[1])?);
            Ok(Value::List(
                s.split(sep.as_str()).map(|p| Value::Str(p.to_owned())).collect(),
            ))
        }
        "replace" => {
            arity(name, args, 3, 3)?;
            let (s, from, to) = (text(&args[0])?, text(&args[1])?, text(&args[2])?);
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return Err(Fail::Unsupported("replace() with a regular expression".into()));
            }
            Ok(Value::Str(s.replace(&from, &to)))
        }
        "lower" => one_text(name, args, |s| s.to_lowercase()),
        "upper" => one_text(name, args, |s| s.to_uppercase()),
        "trimspace" => one_text(name, args, |s| s.trim().to_owned()),
        "title" => one_text(name, args, |s| {
            let mut out = String::new();
            let mut start = true;
            for c in s.chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = !c.is_alphanumeric();
            }
            out
        }),
        "basename" => one_text(name, args, |s| {
            let trimmed = s.trim_end_matches('/');
            trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
        }),
        "dirname" => one_text(name, args, |s| match s.rfind('/') {
            Some(0) => "/".to_owned(),
            Some(i) => s[..i].to_owned(),
            None => ".".to_owned(),
        }),
        "trimprefix" | "trimsuffix" | "trim" => {
            arity(name, args, 2, 2)?;
            let (s, cut) = (text(&args[0])?, text(&args[1])?);
            Ok(Value::Str(match name {
                "trimprefix" => s.strip_prefix(cut.as_str()).unwrap_or(&s).to_owned(),
                "trimsuffix" => s.strip_suffix(cut.as_str()).unwrap_or(&s).to_owned(),
                _ => s.trim_matches(|c| cut.contains(c)).to_owned(),
            }))
        }
        "startswith" | "endswith" => {
            arity(name, args, 2, 2)?;
            let (s, part) = (text(&args[0])?, text(&args[1])?);
            Ok(Value::Bool(if name == "startswith" {
                s.starts_with(&part)
            } else {
                s.ends_with(&part)
            }))
        }
        "substr" => {
            arity(name, args, 3, 3)?;
            let s: Vec<char> = text(&args[0])?.chars().collect();
            let offset = integer(&args[1])?;
            let length = integer(&args[2])?;
            let start = if offset < 0 {
                s.len().saturating_sub(offset.unsigned_abs() as usize)
            } else {
                (offset as usize).min(s.len())
            };
            let end = if length < 0 {
                s.len()
            } else {
                (start + length as usize).min(s.len())
            };
            Ok(Value::Str(s[start..end].iter().collect()))
        }
        "contains" => {
            arity(name, args, 2, 2)?;
            let items = list(&args[0])?;
            if items.contains(&args[1]) {
                Ok(Value::Bool(true))
            } else if is_unknown(&args[1]) || items.iter().any(is_unknown) {
                Err(Fail::NotKnown)
            } else {
                Ok(Value::Bool(false))
            }
        }
        "flatten" => {
            arity(name, args, 1, 1)?;
            let mut out = vec![];
            flatten_into(list(&args[0])?, &mut out)?;
            Ok(Value::List(out))
        }
        "reverse" => {
            arity(name, args, 1, 1)?;
            Ok(Value::List(list(&args[0])?.iter().rev().cloned().collect()))
        }
        "sort" => {
            arity(name, args, 1, 1)?;
            let mut texts = list(&args[0])?.iter().map(text).collect::<Result<Vec<_>, _>>()?;
            texts.sort();
            Ok(Value::List(texts.into_iter().map(Value::Str).collect()))
        }
        "slice" => {
            arity(name, args, 3, 3)?;
            let items = list(&args[0])?;
            let (start, end) = (integer(&args[1])?, integer(&args[2])?);
            if start < 0 || end < start || end as usize > items.len() {
                return err(format!("slice({start}, {end}) of a list of {}", items.len()));
            }
            Ok(Value::List(items[start as usize..end as usize].to_vec()))
        }
        "one" => {
            arity(name, args, 1, 1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                other => match list(other)? {
                    [] => Ok(Value::Null),
                    [only] => Ok(only.clone()),
                    many => err(format!("one() of a list of {}", many.len())),
                },
            }
        }
        "range" => {
            arity(name, args, 1, 3)?;
            let nums = args.iter().map(number).collect::<Result<Vec<_>, _>>()?;
            let (start, end, step) = match nums.as_slice() {
                [end] => (0.0, *end, 1.0),
                [start, end] => (*start, *end, if end >= start { 1.0 } else { -1.0 }),
                [start, end, step] => (*start, *end, *step),
                _ => return err("range() takes 1 to 3 arguments"),
            };
            if step == 0.0 || (step > 0.0) != (end >= start) && start != end {
                return err("range(): the step does not reach the end");
            }
            let mut out = vec![];
            let mut v = start;
            while (step > 0.0 && v < end) || (step < 0.0 && v > end) {
                if out.len() >= 1024 {
                    return err("range(): more than 1024 elements");
                }
                out.push(Value::Number(v));
                v += step;
            }
            Ok(Value::List(out))
        }
        "max" | "min" => {
            arity(name, args, 1, usize::MAX)?;
            let nums = args.iter().map(number).collect::<Result<Vec<_>, _>>()?;
            let pick = if name == "max" { f64::max } else { f64::min };
            Ok(Value::Number(nums.into_iter().reduce(pick).unwrap_or(0.0)))
        }
        "sum" => {
            arity(name, args, 1, 1)?;
            let mut total = 0.0;
            for v in list(&args[0])? {
                total += number(v)?;
            }
            Ok(Value::Number(total))
        }
        "abs" | "ceil" | "floor" => {
            arity(name, args, 1, 1)?;
            let n = number(&args[0])?;
            Ok(Value::Number(match name {
                "abs" => n.abs(),
                "ceil" => n.ceil(),
                _ => n.floor(),
            }))
        }
        "alltrue" | "anytrue" => {
            arity(name, args, 1, 1)?;
            let mut seen_unknown = false;
            for v in list(&args[0])? {
                match v {
                    Value::Bool(b) if *b == (name == "anytrue") => return Ok(Value::Bool(*b)),
                    Value::Bool(_) => {}
                    Value::Ref(_) | Value::Unknown { .. } => seen_unknown = true,
                    other => return err(format!("{name}() of {}", show_value(other))),
                }
            }
            if seen_unknown {
                return Err(Fail::NotKnown);
            }
            Ok(Value::Bool(name == "alltrue"))
        }
        "jsonencode" => {
            arity(name, args, 1, 1)?;
            Ok(Value::Str(to_json(&args[0])?.to_string()))
        }
        "jsondecode" => {
            arity(name, args, 1, 1)?;
            let parsed: serde_json::Value =
                serde_json::from_str(&text(&args[0])?).or_else(|e| err(format!("jsondecode(): {e}")))?;
            Ok(from_json(&parsed))
        }
        "cidrsubnet" => {
            arity(name, args, 3, 3)?;
            let (addr, bits, width) = parse_cidr(&text(&args[0])?)?;
            let (newbits, netnum) = (integer(&args[1])?, integer(&args[2])?);
            let new_len = u32::try_from(newbits)
                .ok()
                .and_then(|n| n.checked_add(bits))
                .filter(|l| *l <= width);
            let (Some(new_len), Ok(netnum)) = (new_len, u128::try_from(netnum)) else {
                return err("cidrsubnet(): the new network does not fit the prefix");
            };
            let subnets = 1u128.checked_shl(new_len - bits).unwrap_or(u128::MAX);
            if netnum >= subnets {
                return err(format!("cidrsubnet(): {netnum} is more than {newbits} bits can number"));
            }
            let network = addr | netnum.checked_shl(width - new_len).unwrap_or(0);
            Ok(Value::Str(format!("{}/{new_len}", show_address(network, width))))
        }
        "cidrhost" => {
            arity(name, args, 2, 2)?;
            let (addr, bits, width) = parse_cidr(&text(&args[0])?)?;
            let host = integer(&args[1])?;
            let size = 1u128.checked_shl(width - bits).unwrap_or(u128::MAX);
            let offset = if host < 0 {
                size.checked_sub(u128::from(host.unsigned_abs()))
            } else {
                Some(host as u128)
            };
            match offset {
                Some(o) if o < size => Ok(Value::Str(show_address(addr | o, width))),
                _ => err("cidrhost(): the host number is outside the prefix"),
            }
        }
        other => err(format!("there is no function named {other:?}")),
    }
}

fn one_text(name: &str, args: &[Value], f: impl Fn(&str) -> String) -> Outcome {
    arity(name, args, 1, 1)?;
    Ok(Value::Str(f(&text(&args[0])?)))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) -> Result<(), Fail> {
    for v in items {
        match v {
            Value::List(inner) => flatten_into(inner, out)?,
            Value::Unknown { .. } => return Err(Fail::NotKnown),
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

/// A set as Terraform orders it: strings sorted, duplicates dropped.
pub(super) fn set_of(items: &[Value]) -> Value {
    let mut out: Vec<Value> = vec![];
    for v in items {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    if out.iter().all(|v| matches!(v, Value::Str(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    Value::List(out)
}

/// `format` with the verbs modules use: `%s %v %d %f %q %t %%`, width, zero padding and precision.
fn format(spec: &str, args: &[Value]) -> Result<String, Fail> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+ 0#".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse::<usize>().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return err("format(): the specification ends in %");
        };
        let Some(arg) = args.get(next) else {
            return err(format!("format(): not enough arguments for {spec:?}"));
        };
        next += 1;
        let body = match verb {
            's' | 'v' => match arg {
                Value::List(_) | Value::Map(_) => to_json(arg)?.to_string(),
                other => text(other)?,
            },
            'q' => serde_json::Value::String(text(arg)?).to_string(),
            'd' => integer(arg)?.to_string(),
            'f' => format!("{:.*}", precision.unwrap_or(6), number(arg)?),
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                other if is_unknown(other) => return Err(Fail::NotKnown),
                other => return err(format!("format(): %t of {}", show_value(other))),
            },
            other => return Err(Fail::Unsupported(format!("format() verb %{other}"))),
        };
        let width: usize = width.parse().unwrap_or(0);
        let pad = width.saturating_sub(body.chars().count());
        if flags.contains('-') {
            out.push_str(&body);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if flags.contains('0') && matches!(verb, 'd' | 'f') {
            let (sign, digits) = body.strip_prefix('-').map_or(("", body.as_str()), |d| ("-", d));
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(digits);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&body);
        }
    }
    Ok(out)
}

pub(super) fn to_json(v: &Value) -> Result<serde_json::Value, Fail> {
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => serde_json::Value::from(*n as i64),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Str(s) => serde_json::Value::String(s.clone()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, Fail>>()?,
        ),
        Value::Ref(_) | Value::Unknown { .. } => return Err(Fail::NotKnown),
    })
}

pub(super) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// An IPv4 or IPv6 prefix as (address, prefix length, address width in bits).
fn parse_cidr(s: &str) -> Result<(u128, u32, u32), Fail> {
    let bad = || Fail::Error(format!("{s:?} is not a CIDR prefix"));
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (value, width) = match addr.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        std::net::IpAddr::V6(a) => (u128::from(a), 128),
    };
    if len > width {
        return Err(bad());
    }
    let host_bits = width - len;
    let network = if host_bits >= 128 {
        0
    } else {
        (value >> host_bits) << host_bits
    };
    Ok((network, len, width))
}

fn show_address(value: u128, width: u32) -> String {
    if width == 32 {
        std::net::Ipv4Addr::from(value as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(value).to_string()
    }
}
