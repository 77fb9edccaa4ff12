//! A loopback HTTP/1.1 proxy in front of the emulator that fails chosen API calls: it answers HTTP 500
//! (as AWS does when a service has an internal failure), a chosen AWS error, or drops the connection
//! without an answer, always or for the first N matching requests, and forwards everything else.
//!
//! A request names its action in the form-encoded body (`Action=GetCallerIdentity`, the query
//! protocols: STS, EC2, CloudWatch), in `X-Amz-Target` (the JSON protocols) or in its method and path
//! (the REST-JSON protocol: Security Hub). Each connection carries
//! one request: answers say `Connection: close`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a failing request gets.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500 with AWS's `InternalFailure` error.
    ServerError,
    /// An AWS error with this status and code (e.g. 403 `AccessDenied`).
    AwsError(u16, &'static str),
    /// The connection is closed after the request is read, with no answer.
    Drop,
    /// HTTP 200 with this JSON body instead of the emulator's answer.
    Answer(String),
}

/// Fail requests naming `action` (and, with `when`, also containing that text in the head or body).
#[derive(Debug, Clone)]
pub struct Rule {
    pub action: &'static str,
    pub when: Option<String>,
    pub fault: Fault,
    /// Fail the first `n` matching requests, then forward; `None`: fail them all.
    pub times: Option<usize>,
}

impl Rule {
    pub fn always(action: &'static str, fault: Fault) -> Rule {
        Rule {
            action,
            when: None,
            fault,
            times: None,
        }
    }

    pub fn first(n: usize, action: &'static str, fault: Fault) -> Rule {
        Rule {
            times: Some(n),
            ..Rule::always(action, fault)
        }
    }

    pub fn when(self, text: impl Into<String>) -> Rule {
        Rule {
            when: Some(text.into()),
            ..self
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Requests seen, per action.
    seen: BTreeMap<String, usize>,
    /// Requests failed, per rule.
    failed: Vec<usize>,
}

/// The proxy; it stops accepting when dropped.
pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl FaultProxy {
    pub fn start(upstream: &str, rules: Vec<Rule>) -> FaultProxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("the emulator speaks plain HTTP")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            failed: vec![0; rules.len()],
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let rules = Arc::new(rules);
        {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (state, rules, upstream) = (state.clone(), rules.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        let _ = serve(client, &upstream, &rules, &state);
                    });
                }
            });
        }
        FaultProxy {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            port,
        }
    }

    /// How many requests named `action`, failed or forwarded.
    pub fn seen(&self, action: &str) -> usize {
        self.state.lock().unwrap().seen.get(action).copied().unwrap_or(0)
    }

    /// How many requests the rule at `index` failed.
    pub fn failed(&self, index: usize) -> usize {
        self.state.lock().unwrap().failed[index]
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Security Hub's operations the tests fail, by method and path.
const REST_ACTIONS: &[(&str, &str, &str)] = &[
    ("POST", "/findings/import", "BatchImportFindings"),
    ("POST", "/findings", "GetFindings"),
];

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// The REST-JSON operation the method and path name.
    fn rest_action(&self) -> Option<&'static str> {
        let line = self.head.first()?;
        let mut words = line.split(' ');
        let (method, path) = (words.next()?, words.next()?);
        let path = path.split('?').next().unwrap_or(path);
        REST_ACTIONS
            .iter()
            .find(|(m, p, _)| *m == method && *p == path)
            .map(|(_, _, action)| *action)
    }

    fn action(&self) -> Option<String> {
        if let Some(action) = self.rest_action() {
            return Some(action.to_owned());
        }
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().map(str::to_owned);
        }
        let body = String::from_utf8_lossy(&self.body);
        body.split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .map(str::to_owned)
    }

    fn contains(&self, text: &str) -> bool {
        self.head.iter().any(|l| l.contains(text)) || String::from_utf8_lossy(&self.body).contains(text)
    }
}

/// Read one HTTP/1.1 message head and its `Content-Length` body.
fn read_message(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut head = vec![];
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut request = Request { head, body: vec![] };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

fn serve(client: TcpStream, upstream: &str, rules: &[Rule], state: &Mutex<State>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(request) = read_message(&mut reader)? else {
        return Ok(());
    };
    let action = request.action().unwrap_or_default();
    let fault = {
        let mut state = state.lock().unwrap();
        *state.seen.entry(action.clone()).or_insert(0) += 1;
        let mut chosen = None;
        for (i, rule) in rules.iter().enumerate() {
            let matches = rule.action == action && rule.when.as_deref().is_none_or(|t| request.contains(t));
            if matches && rule.times.is_none_or(|n| state.failed[i] < n) {
                state.failed[i] += 1;
                chosen = Some(rule.fault.clone());
                break;
            }
        }
        chosen
    };
    let mut client = client;
    match fault {
        Some(Fault::Drop) => client.shutdown(Shutdown::Both),
        Some(Fault::ServerError) => answer(
            &mut client,
            &request,
            500,
            "InternalFailure",
            "We encountered an internal error. Please try again.",
        ),
        Some(Fault::AwsError(status, code)) => answer(&mut client, &request, status, code, "refused by the test"),
        Some(Fault::Answer(body)) => {
            write!(
                client,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            client.flush()
        }
        None => forward(&mut client, upstream, &request),
    }
}

/// An AWS error in the protocol the request speaks.
fn answer(client: &mut TcpStream, request: &Request, status: u16, code: &str, message: &str) -> std::io::Result<()> {
    let json = request.header("x-amz-target").is_some();
    // REST-JSON names the error in a header.
    let rest = request.rest_action().is_some();
    // EC2 has an error document of its own; the other query services share one.
    let ec2 = request.contains("/ec2/aws4_request");
    let (content_type, body) = if rest {
        ("application/json", format!(r#"{{"message":"{message}"}}"#))
    } else if json {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else if ec2 {
        (
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                 <RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
            ),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ),
        )
    };
    let reason = if status == 500 {
        "Internal Server Error"
    } else {
        "Error"
    };
    write!(
        client,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{body}",
        body.len(),
        if rest { format!("X-Amzn-ErrorType: {code}\r\n") } else { String::new() }
    )?;
    client.flush()
}

fn forward(client: &mut TcpStream, upstream: &str, request: &Request) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = String::new();
    for line in request
        .head
        .iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
    {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    server.write_all(head.as_bytes())?;
    server.write_all(&request.body)?;
    server.flush()?;

    let mut reader = BufReader::new(server);
    let mut status_and_headers = vec![];
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        status_and_headers.push(line);
    }
    let length: Option<usize> = status_and_headers.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    });
    let mut body = vec![];
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    // The answer as it came (a chunked body stays chunked), on a connection that then closes.
    let mut out = String::new();
    for line in status_and_headers
        .iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
    {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    client.write_all(out.as_bytes())?;
    client.write_all(&body)?;
    client.flush()
}
