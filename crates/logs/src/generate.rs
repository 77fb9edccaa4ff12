//! A deterministic generator of realistic VPC flow logs, with optional planted incidents.
//!
//! The same options always give the same bytes. Normal traffic: internet clients on the web tier's
//! port 443, application hosts talking to a few databases, every host's modest egress to the
//! internet, a backup host sending a steady volume every hour (day and night), scattered rejected
//! probes (one record each), and NODATA records of idle interfaces. Each planted incident is
//! shaped to trip exactly one detection at the default thresholds, inside one aligned window.

use crate::detect::Detection;
use std::io::{self, Write};

/// The incidents the generator can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Incident {
    PortScan,
    LateralMovement,
    BruteForce,
    Exfiltration,
    OffHoursEgress,
}

impl Incident {
    pub const ALL: [Incident; 5] = [
        Incident::PortScan,
        Incident::LateralMovement,
        Incident::BruteForce,
        Incident::Exfiltration,
        Incident::OffHoursEgress,
    ];

    pub fn detection(self) -> Detection {
        match self {
            Incident::PortScan => Detection::PortScan,
            Incident::LateralMovement => Detection::LateralMovement,
            Incident::BruteForce => Detection::BruteForce,
            Incident::Exfiltration => Detection::Exfiltration,
            Incident::OffHoursEgress => Detection::OffHoursEgress,
        }
    }

    /// The name `--incident` takes.
    pub fn name(self) -> &'static str {
        match self {
            Incident::PortScan => "port-scan",
            Incident::LateralMovement => "lateral-movement",
            Incident::BruteForce => "brute-force",
            Incident::Exfiltration => "exfiltration",
            Incident::OffHoursEgress => "off-hours-egress",
        }
    }

    pub fn parse(name: &str) -> Option<Incident> {
        Incident::ALL.into_iter().find(|i| i.name() == name.trim())
    }
}

/// The record layout written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedFormat {
    /// The default format, no header (as CloudWatch Logs delivers it).
    DefaultV2,
    /// A custom version 5 format with `tcp-flags`, with the S3 header line.
    CustomV5,
}

/// The v5 format the generator writes.
pub const GENERATED_V5_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} \
${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} \
${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path}";

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub seed: u64,
    /// Normal records (the steady backup traffic and incidents come on top).
    pub records: u64,
    /// The first second covered (epoch seconds; aligned down to the hour).
    pub start: i64,
    pub hours: i64,
    pub format: GeneratedFormat,
    pub incidents: Vec<Incident>,
}

impl Default for GenerateOptions {
    fn default() -> GenerateOptions {
        GenerateOptions {
            seed: 1,
            records: 20_000,
            // 2024-06-10T00:00:00Z
            start: 1_717_977_600,
            hours: 24,
            format: GeneratedFormat::DefaultV2,
            incidents: vec![],
        }
    }
}

/// One planted incident: which detection should find it, and its subject and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    pub detection: Detection,
    pub subject: String,
    pub target: String,
    pub window_start: i64,
}

/// splitmix64: small, fast and the same everywhere.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const ACCOUNT: &str = "123456789012";

struct Host {
    ip: String,
    eni: String,
    subnet: u8,
}

fn hosts() -> Vec<Host> {
    let mut out = vec![];
    for subnet in 1u8..=4 {
        for last in 10u8..20 {
            out.push(Host {
                ip: format!("10.0.{subnet}.{last}"),
                eni: format!("eni-0{subnet:02x}{last:02x}a1b2c3d4e5f6"),
                subnet,
            });
        }
    }
    out
}

struct Writer<'a> {
    out: &'a mut dyn Write,
    format: GeneratedFormat,
    written: u64,
}

struct Record<'r> {
    eni: &'r str,
    subnet: u8,
    src: &'r str,
    dst: &'r str,
    sport: u16,
    dport: u16,
    protocol: u8,
    packets: u64,
    bytes: u64,
    start: i64,
    accept: bool,
    flags: u8,
    egress: bool,
}

impl Writer<'_> {
    fn record(&mut self, r: &Record<'_>) -> io::Result<()> {
        let action = if r.accept { "ACCEPT" } else { "REJECT" };
        let end = r.start + 60;
        self.written += 1;
        match self.format {
            GeneratedFormat::DefaultV2 => writeln!(
                self.out,
                "2 {ACCOUNT} {} {} {} {} {} {} {} {} {} {end} {action} OK",
                r.eni, r.src, r.dst, r.sport, r.dport, r.protocol, r.packets, r.bytes, r.start
            ),
            GeneratedFormat::CustomV5 => writeln!(
                self.out,
                "5 {ACCOUNT} {} {} {} {} {} {} {} {} {} {end} {action} OK vpc-0a1b2c3d subnet-0{:02x}aa i-0{} {} IPv4 {} {} \
                 us-east-1 use1-az{} {} {}",
                r.eni,
                r.src,
                r.dst,
                r.sport,
                r.dport,
                r.protocol,
                r.packets,
                r.bytes,
                r.start,
                r.subnet,
                &r.eni[4..],
                if r.protocol == 6 { r.flags.to_string() } else { "0".to_owned() },
                r.src,
                r.dst,
                r.subnet,
                if r.egress { "egress" } else { "ingress" },
                if r.egress { "2" } else { "-" },
            ),
        }
    }

    fn nodata(&mut self, eni: &str, subnet: u8, start: i64) -> io::Result<()> {
        self.written += 1;
        let end = start + 60;
        match self.format {
            GeneratedFormat::DefaultV2 => writeln!(self.out, "2 {ACCOUNT} {eni} - - - - - - - {start} {end} - NODATA"),
            GeneratedFormat::CustomV5 => writeln!(
                self.out,
                "5 {ACCOUNT} {eni} - - - - - - - {start} {end} - NODATA vpc-0a1b2c3d subnet-0{subnet:02x}aa - - - - - \
                 us-east-1 use1-az{subnet} - -"
            ),
        }
    }
}

/// Counts the records a writer is given (one per line).
struct LineCounter(u64);

impl Write for LineCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The records `generate` writes on top of `options.records` normal ones: the backup traffic and
/// the planted incidents. The header line of the v5 format is not a record.
pub fn records_on_top(options: &GenerateOptions) -> io::Result<u64> {
    let mut counter = LineCounter(0);
    generate(
        &GenerateOptions {
            records: 0,
            ..options.clone()
        },
        &mut counter,
    )?;
    let header = u64::from(options.format == GeneratedFormat::CustomV5);
    Ok(counter.0 - header)
}

/// Write flow records; returns the incidents planted, in the order of `options.incidents`.
pub fn generate(options: &GenerateOptions, out: &mut dyn Write) -> io::Result<Vec<Planted>> {
    let mut rng = Rng(options.seed);
    let hosts = hosts();
    let base = options.start - options.start.rem_euclid(3600);
    let hours = options.hours.max(1);
    let span = hours * 3600;
    let mut w = Writer {
        out,
        format: options.format,
        written: 0,
    };
    if options.format == GeneratedFormat::CustomV5 {
        let header: Vec<&str> = GENERATED_V5_FORMAT
            .split(' ')
            .map(|t| t.trim_start_matches("${").trim_end_matches('}'))
            .collect();
        writeln!(w.out, "{}", header.join(" "))?;
    }
    let web: Vec<&Host> = hosts.iter().filter(|h| h.subnet == 1).collect();
    let apps: Vec<&Host> = hosts.iter().filter(|h| h.subnet == 2).collect();
    let dbs: Vec<&Host> = hosts.iter().filter(|h| h.subnet == 3).collect();
    let services = [
        "52.94.236.248",
        "52.216.8.11",
        "151.101.1.69",
        "140.82.112.3",
        "104.16.132.229",
    ];
    let probe_ports = [22u16, 23, 445, 1433, 3389, 8080, 5900];
    for _ in 0..options.records {
        let start = base + (rng.below(span as u64) as i64 / 60) * 60;
        let sport = 32768 + rng.below(28000) as u16;
        let roll = rng.below(100);
        if roll < 40 {
            let host = *rng.pick(&web);
            let client = format!("54.{}.{}.{}", 80 + rng.below(40), rng.below(256), 1 + rng.below(254));
            let packets = 5 + rng.below(40);
            w.record(&Record {
                eni: &host.eni,
                subnet: host.subnet,
                src: &client,
                dst: &host.ip,
                sport,
                dport: 443,
                protocol: 6,
                packets,
                bytes: packets * (200 + rng.below(1200)),
                start,
                accept: true,
                flags: 19,
                egress: false,
            })?;
        } else if roll < 65 {
            let app = *rng.pick(&apps);
            // Each application host uses the same three databases.
            let index =
                (app.ip.len() + usize::from(app.ip.as_bytes()[app.ip.len() - 1]) + rng.below(3) as usize) % dbs.len();
            let db = dbs[index];
            let packets = 2 + rng.below(30);
            w.record(&Record {
                eni: &app.eni,
                subnet: app.subnet,
                src: &app.ip,
                dst: &db.ip,
                sport,
                dport: *rng.pick(&[5432u16, 6379]),
                protocol: 6,
                packets,
                bytes: packets * (100 + rng.below(900)),
                start,
                accept: true,
                flags: 3,
                egress: true,
            })?;
        } else if roll < 88 {
            let host = rng.pick(&hosts);
            let service = rng.pick(&services);
            let packets = 3 + rng.below(20);
            w.record(&Record {
                eni: &host.eni,
                subnet: host.subnet,
                src: &host.ip,
                dst: service,
                sport,
                dport: 443,
                protocol: 6,
                packets,
                bytes: packets * (300 + rng.below(1100)),
                start,
                accept: true,
                flags: 19,
                egress: true,
            })?;
        } else if roll < 97 {
            let host = rng.pick(&hosts);
            let prober = format!("185.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254));
            w.record(&Record {
                eni: &host.eni,
                subnet: host.subnet,
                src: &prober,
                dst: &host.ip,
                sport,
                dport: *rng.pick(&probe_ports),
                protocol: 6,
                packets: 1,
                bytes: 44,
                start,
                accept: false,
                flags: 2,
                egress: false,
            })?;
        } else {
            let host = rng.pick(&hosts);
            w.nodata(&host.eni, host.subnet, start)?;
        }
    }
    // The backup host: four 25 MB transfers every hour, day and night.
    let backup = Host {
        ip: "10.0.4.50".into(),
        eni: "eni-0backup0000000001".into(),
        subnet: 4,
    };
    for hour in 0..hours {
        for i in 0..4 {
            w.record(&Record {
                eni: &backup.eni,
                subnet: 4,
                src: &backup.ip,
                dst: "52.216.8.11",
                sport: 40000 + i,
                dport: 443,
                protocol: 6,
                packets: 17_000,
                bytes: 25_000_000,
                start: base + hour * 3600 + i64::from(i) * 900,
                accept: true,
                flags: 19,
                egress: true,
            })?;
        }
    }
    let mut planted = vec![];
    for (n, incident) in options.incidents.iter().enumerate() {
        planted.push(plant(&mut w, *incident, base, hours, n as i64)?);
    }
    Ok(planted)
}

/// The hour an incident happens in: business hours for most, 03:00 UTC for off-hours egress.
fn incident_hour(incident: Incident, base: i64, hours: i64, n: i64) -> i64 {
    let day = base - base.rem_euclid(86_400);
    let hour_of_day = match incident {
        Incident::OffHoursEgress => 3,
        _ => 9 + (n % 8),
    };
    let mut at = day + hour_of_day * 3600;
    if at < base {
        at += 86_400;
    }
    // Inside the generated span where possible.
    if at >= base + hours * 3600 {
        at = base + (hours - 1).max(0) * 3600;
    }
    at
}

fn plant(w: &mut Writer<'_>, incident: Incident, base: i64, hours: i64, n: i64) -> io::Result<Planted> {
    let hour = incident_hour(incident, base, hours, n);
    // Starts one minute into the hour and lasts at most five: inside one 10-minute window.
    let t0 = hour + 60;
    let record =
        |src: &str, dst: &str, eni: &str, sport: u16, dport: u16, bytes: u64, start: i64, accept: bool, flags: u8| {
            (
                src.to_owned(),
                dst.to_owned(),
                eni.to_owned(),
                sport,
                dport,
                bytes,
                start,
                accept,
                flags,
            )
        };
    let mut rows = vec![];
    let (subject, target) = match incident {
        Incident::PortScan => {
            let (src, dst) = ("203.0.113.66", "10.0.1.12");
            for port in 1..=300u16 {
                rows.push(record(
                    src,
                    dst,
                    "eni-0010ca1b2c3d4e5f6",
                    50000,
                    port,
                    44,
                    t0 + i64::from(port % 5) * 60,
                    false,
                    2,
                ));
            }
            (src, dst)
        }
        Incident::LateralMovement => {
            let src = "10.0.2.99";
            for host in 0..40u16 {
                let dst = format!("10.0.{}.{}", 1 + host % 4, 100 + host);
                rows.push(record(
                    src,
                    &dst,
                    "eni-0lateral00000001",
                    49152 + host,
                    445,
                    900,
                    t0 + i64::from(host % 5) * 60,
                    true,
                    3,
                ));
            }
            (src, "")
        }
        Incident::BruteForce => {
            let (src, dst) = ("198.51.100.77", "10.0.1.13");
            for attempt in 0..60u16 {
                rows.push(record(
                    src,
                    dst,
                    "eni-0010da1b2c3d4e5f6",
                    40000 + attempt,
                    22,
                    3000,
                    t0 + i64::from(attempt % 5) * 60,
                    true,
                    27,
                ));
            }
            (src, dst)
        }
        Incident::Exfiltration => {
            let src = "10.0.1.14";
            for i in 0..20u16 {
                rows.push(record(
                    src,
                    "45.33.32.156",
                    "eni-0010ea1b2c3d4e5f6",
                    43000 + i,
                    443,
                    100_000_000,
                    t0 + i64::from(i % 5) * 60,
                    true,
                    19,
                ));
            }
            (src, "")
        }
        Incident::OffHoursEgress => {
            // The backup host, 300 MB more at night: far under its own baseline factor, over the off-hours limit.
            let src = "10.0.4.50";
            for i in 0..3u16 {
                rows.push(record(
                    src,
                    "45.33.32.157",
                    "eni-0backup0000000001",
                    45000 + i,
                    443,
                    100_000_000,
                    t0 + i64::from(i) * 60,
                    true,
                    19,
                ));
            }
            (src, "")
        }
    };
    for (src, dst, eni, sport, dport, bytes, start, accept, flags) in &rows {
        w.record(&Record {
            eni,
            subnet: 1,
            src,
            dst,
            sport: *sport,
            dport: *dport,
            protocol: 6,
            packets: (bytes / 1400).max(1),
            bytes: *bytes,
            start: *start,
            accept: *accept,
            flags: *flags,
            egress: !src.starts_with("203.") && !src.starts_with("198."),
        })?;
    }
    Ok(Planted {
        detection: incident.detection(),
        subject: subject.to_owned(),
        target: target.to_owned(),
        window_start: hour,
    })
}

/// Splits generated records into files in the S3 key layout AWS delivers flow logs in
/// (`AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/…_YYYYMMDDTHHmmZ_….log[.gz]`): per hour of the
/// records' start, `files_per_hour` files, each with the format's header line when it has one.
/// Feed it [`generate`]'s output.
pub struct TreeWriter {
    root: std::path::PathBuf,
    region: String,
    files_per_hour: u32,
    gzip: bool,
    header: Option<Vec<u8>>,
    line: Vec<u8>,
    lines: u64,
    files: std::collections::BTreeMap<(i64, u32), TreeFile>,
    /// Records per hour so far: each hour's records go round its files.
    per_hour: std::collections::HashMap<i64, u32>,
}

impl std::fmt::Debug for TreeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWriter")
            .field("root", &self.root)
            .field("files", &self.files.len())
            .finish()
    }
}

impl TreeWriter {
    pub fn new(root: &std::path::Path, region: &str, files_per_hour: u32, gzip: bool) -> TreeWriter {
        TreeWriter {
            root: root.to_path_buf(),
            region: region.to_owned(),
            files_per_hour: files_per_hour.max(1),
            gzip,
            header: None,
            line: vec![],
            lines: 0,
            files: Default::default(),
            per_hour: Default::default(),
        }
    }

    /// The files written, when every one is complete.
    pub fn finish(mut self) -> io::Result<usize> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.route(&line)?;
        }
        let count = self.files.len();
        for (_, file) in std::mem::take(&mut self.files) {
            match file {
                TreeFile::Plain(mut out) => out.flush()?,
                TreeFile::Gzip(out) => out.finish()?.flush()?,
            }
        }
        Ok(count)
    }

    fn path(&self, hour: i64, shard: u32) -> std::path::PathBuf {
        let time = chrono::DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default();
        let region = &self.region;
        let mut path = self.root.join(format!(
            "AWSLogs/{ACCOUNT}/vpcflowlogs/{region}/{}",
            time.format("%Y/%m/%d")
        ));
        path.push(format!(
            "{ACCOUNT}_vpcflowlogs_{region}_fl-0a1b2c3d4e5f67890_{}_{shard:08x}.log{}",
            time.format("%Y%m%dT%H%MZ"),
            if self.gzip { ".gz" } else { "" }
        ));
        path
    }

    fn route(&mut self, line: &[u8]) -> io::Result<()> {
        self.lines += 1;
        if self.lines == 1 && line.starts_with(b"version") {
            self.header = Some(line.to_vec());
            return Ok(());
        }
        // Both generated formats have `start` eleventh.
        let start = line
            .split(|b| *b == b' ')
            .nth(10)
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|f| f.parse::<i64>().ok())
            .ok_or_else(|| io::Error::other("a generated record without its start"))?;
        let hour = start.div_euclid(3600);
        let count = self.per_hour.entry(hour).or_default();
        let shard = *count % self.files_per_hour;
        *count += 1;
        if !self.files.contains_key(&(hour, shard)) {
            let path = self.path(hour, shard);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let file = io::BufWriter::with_capacity(1 << 18, std::fs::File::create(&path)?);
            let mut out = if self.gzip {
                TreeFile::Gzip(Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::fast(),
                )))
            } else {
                TreeFile::Plain(file)
            };
            if let Some(header) = &self.header {
                out.write_all(header)?;
            }
            self.files.insert((hour, shard), out);
        }
        if let Some(out) = self.files.get_mut(&(hour, shard)) {
            out.write_all(line)?;
        }
        Ok(())
    }
}

enum TreeFile {
    Plain(io::BufWriter<std::fs::File>),
    Gzip(Box<flate2::write::GzEncoder<io::BufWriter<std::fs::File>>>),
}

impl TreeFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            TreeFile::Plain(out) => out.write_all(bytes),
            TreeFile::Gzip(out) => out.write_all(bytes),
        }
    }
}

impl Write for TreeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            self.line.extend_from_slice(&rest[..=newline]);
            let line = std::mem::take(&mut self.line);
            self.route(&line)?;
            self.line = line;
            self.line.clear();
            rest = &rest[newline + 1..];
        }
        self.line.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
