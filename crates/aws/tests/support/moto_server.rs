//! A moto server of a test's own on a free loopback port, from `NETAUDIT_MOTO_SERVER` (set by
//! `scripts/test.sh`). Shared by the test files that need the emulator.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server of this test's own, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    pub fn start() -> Moto {
        let bin = std::env::var("NETAUDIT_MOTO_SERVER").expect(
            "NETAUDIT_MOTO_SERVER is not set: run the tests with `bash scripts/test.sh`, which installs the pinned moto server",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = stream.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut head = [0u8; 12];
                if stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") {
                    return moto;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("moto did not start on port {port}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of the emulator's virtualenv (it has boto3 and cfn-lint).
pub fn venv_bin(name: &str) -> std::path::PathBuf {
    let server =
        std::env::var("NETAUDIT_MOTO_SERVER").expect("NETAUDIT_MOTO_SERVER is not set: run `bash scripts/test.sh`");
    std::path::Path::new(&server).with_file_name(name)
}
