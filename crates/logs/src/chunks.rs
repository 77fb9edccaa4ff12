//! Parallel reading of text flow sources for the built-in answers: reader threads, one per source
//! at a time and up to one per worker, read (and decompress) the sources into chunks of whole
//! lines, and worker threads check the lines and fold the records into their own [`RecordSink`]s.
//!
//! Lines are checked by the same [`LineParser`] as the SQL path, with the same line numbers
//! (each chunk knows how many lines came before it), so a bad line is the same issue on both.
//! Memory is bounded by the chunks in flight: at most `2 × workers` queued, one being parsed per
//! worker and one being filled per reader, of about [`CHUNK_BYTES`] each, whatever the size of the
//! sources.

use crate::flow_format::FlowFormat;
use crate::flow_reader::{leading_format, maybe_gunzip, FlowReadOptions, LineParser, RecordSink};
use crate::issues::{Issue, Issues};
use crate::session::report_unreadable;
use crate::sources::Input;
use crate::LogError;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// The size a chunk is read to before it is cut at its last newline.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Lines of one source, whole.
struct Chunk {
    source: Arc<str>,
    /// The source's format when it is known (not for its first chunk: the parser reads the
    /// header line there itself).
    format: Option<FlowFormat>,
    /// Lines of the source before this chunk.
    lines_before: u64,
    bytes: Vec<u8>,
}

/// Read every input and fold its records into `sinks`, one worker thread per sink. Returns the
/// sinks with everything folded. Bad lines and truncated sources are reported to `issues`; an
/// input that cannot be opened is an error.
pub(crate) fn fold_inputs<S: RecordSink + Send>(
    inputs: &[Input],
    options: &FlowReadOptions,
    issues: &Issues,
    sinks: Vec<S>,
) -> Result<Vec<S>, LogError> {
    let workers = sinks.len().max(1);
    let (send_chunk, receive_chunk) = sync_channel::<Chunk>(workers * 2);
    // Shared by the workers only: when they are all gone, readers' sends fail and they stop.
    let receive_chunk = Arc::new(Mutex::new(receive_chunk));
    let (return_buffer, reuse_buffer) = sync_channel::<Vec<u8>>(workers * 2 + 1);
    let reuse_buffer = Mutex::new(reuse_buffer);
    let next_input = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = sinks
            .into_iter()
            .map(|mut sink| {
                let receive_chunk = receive_chunk.clone();
                let return_buffer = return_buffer.clone();
                scope.spawn(move || -> Result<S, LogError> {
                    loop {
                        let next = match receive_chunk.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return Err(LogError::Internal("a reader thread failed".into())),
                        };
                        let Ok(chunk) = next else {
                            return Ok(sink);
                        };
                        parse_chunk(&chunk, options, issues, &mut sink)?;
                        // The reader may have stopped: then the buffer is simply dropped.
                        let _ = return_buffer.try_send(chunk.bytes);
                    }
                })
            })
            .collect();
        drop(return_buffer);
        drop(receive_chunk);
        let readers: Vec<_> = (0..workers.min(inputs.len()).max(1))
            .map(|_| {
                let send_chunk = send_chunk.clone();
                let (next_input, reuse_buffer) = (&next_input, &reuse_buffer);
                scope.spawn(move || read_inputs(inputs, next_input, options, issues, &send_chunk, reuse_buffer))
            })
            .collect();
        drop(send_chunk);
        let mut read = Ok(());
        for reader in readers {
            let outcome = reader
                .join()
                .unwrap_or_else(|_| Err(LogError::Internal("a reader thread panicked".into())));
            if read.is_ok() {
                read = outcome;
            }
        }
        let mut sinks = vec![];
        for handle in handles {
            match handle.join() {
                Ok(Ok(sink)) => sinks.push(sink),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(LogError::Internal("a reader thread panicked".into())),
            }
        }
        read.map(|()| sinks)
    })
}

fn parse_chunk(
    chunk: &Chunk,
    options: &FlowReadOptions,
    issues: &Issues,
    sink: &mut impl RecordSink,
) -> Result<(), LogError> {
    let mut parser = LineParser::new(
        chunk.source.to_string(),
        options.clone(),
        issues.clone(),
        chunk.format.clone(),
    );
    parser.line_number = chunk.lines_before;
    let bytes = &chunk.bytes;
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', bytes) {
        parser.line(&bytes[start..newline], sink)?;
        start = newline + 1;
    }
    // The source's last line may lack its newline.
    if start < bytes.len() {
        parser.line(&bytes[start..], sink)?;
    }
    Ok(())
}

/// Take the next unread input until none is left.
fn read_inputs(
    inputs: &[Input],
    next: &std::sync::atomic::AtomicUsize,
    options: &FlowReadOptions,
    issues: &Issues,
    send: &SyncSender<Chunk>,
    reuse: &Mutex<Receiver<Vec<u8>>>,
) -> Result<(), LogError> {
    while let Some(input) = inputs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
        let name = input.name();
        let opened = input.open().and_then(|reader| {
            maybe_gunzip(reader).map_err(|e| LogError::Io {
                path: name.clone(),
                source: e,
            })
        });
        let reader = match opened {
            Ok(reader) => reader,
            // As the SQL path does: an object that cannot be fetched is reported, the rest read.
            Err(e) => {
                report_unreadable(input, e, options.strict, issues)?;
                continue;
            }
        };
        if !read_source(Arc::from(name.as_str()), reader, options, issues, send, reuse) {
            // Every worker is gone: one of them failed and says why.
            break;
        }
    }
    Ok(())
}

/// Cut one source into chunks; false when the workers are gone.
fn read_source(
    source: Arc<str>,
    mut reader: Box<dyn Read + Send>,
    options: &FlowReadOptions,
    issues: &Issues,
    send: &SyncSender<Chunk>,
    reuse: &Mutex<Receiver<Vec<u8>>>,
) -> bool {
    let mut format: Option<FlowFormat> = None;
    let mut lines_before = 0u64;
    let mut carry: Vec<u8> = vec![];
    loop {
        let mut buffer = reuse.lock().ok().and_then(|r| r.try_recv().ok()).unwrap_or_default();
        buffer.clear();
        buffer.append(&mut carry);
        let mut ended = false;
        let mut failure = None;
        // Fill to the chunk size, and past it until the chunk holds a newline.
        while buffer.len() < CHUNK_BYTES || (!ended && memchr::memchr(b'\n', &buffer).is_none()) {
            let filled = buffer.len();
            buffer.resize(filled.max(CHUNK_BYTES / 2) + CHUNK_BYTES / 2, 0);
            match reader.read(&mut buffer[filled..]) {
                Ok(0) => {
                    buffer.truncate(filled);
                    ended = true;
                    break;
                }
                Ok(n) => buffer.truncate(filled + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buffer.truncate(filled),
                Err(e) => {
                    buffer.truncate(filled);
                    failure = Some(e);
                    break;
                }
            }
        }
        if !ended {
            // Whole lines only: the rest starts the next chunk. A failed read drops its partial line.
            let cut = memchr::memrchr(b'\n', &buffer).map_or(0, |newline| newline + 1);
            if failure.is_none() {
                carry.extend_from_slice(&buffer[cut..]);
            }
            buffer.truncate(cut);
        }
        let lines = memchr::memchr_iter(b'\n', &buffer).count() as u64;
        let chunk_format = format.clone();
        if format.is_none() {
            format = leading_format(&buffer, &options.format);
        }
        if !buffer.is_empty() {
            let chunk = Chunk {
                source: source.clone(),
                format: chunk_format,
                lines_before,
                bytes: buffer,
            };
            if send.send(chunk).is_err() {
                return false;
            }
        }
        lines_before += lines;
        if let Some(e) = failure {
            issues.report(Issue {
                source: source.to_string(),
                line: Some(lines_before + 1),
                message: format!("the input ends early or is corrupt: {e}"),
            });
            return true;
        }
        if ended {
            return true;
        }
    }
}
