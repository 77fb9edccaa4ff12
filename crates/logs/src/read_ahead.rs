//! A reader that runs a few blocks ahead of its consumer on a thread of its own: for work that
//! takes a core (inflating gzip), so that the consumer (parsing) runs beside it, not after it.
//! Memory is bounded: [`BLOCKS_AHEAD`] blocks of [`BLOCK_BYTES`] in flight.

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

const BLOCK_BYTES: usize = 1 << 20;
const BLOCKS_AHEAD: usize = 2;

struct ReadAhead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Blocks read, back to the producer to be filled again.
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

/// Fill `block` from `input` up to its capacity (empty at the end of the input); the error that
/// stopped it, if one did, after the bytes read before it.
fn fill(input: &mut dyn Read, block: &mut Vec<u8>) -> Option<io::Error> {
    block.resize(BLOCK_BYTES, 0);
    let mut filled = 0;
    let mut failed = None;
    while filled < block.len() {
        match input.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    block.truncate(filled);
    failed
}

/// `input`, read ahead on a thread of its own; `input` itself when no thread can be started.
pub(crate) fn read_ahead(input: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    let (block_sender, blocks) = sync_channel::<io::Result<Vec<u8>>>(BLOCKS_AHEAD);
    let (spare, spare_blocks) = sync_channel::<Vec<u8>>(BLOCKS_AHEAD + 2);
    // The input moves to the thread only once it has started, so a failed start leaves it here.
    let (input_sender, input_receiver) = sync_channel::<Box<dyn Read + Send>>(1);
    let started = std::thread::Builder::new()
        .name("netaudit-read-ahead".into())
        .spawn(move || {
            let Ok(mut input) = input_receiver.recv() else {
                return;
            };
            loop {
                let mut block = spare_blocks.try_recv().unwrap_or_default();
                let failed = fill(&mut *input, &mut block);
                let end = block.is_empty();
                // What was read before an error is delivered first, as a reader without the
                // thread would. A send fails once the consumer is gone: nothing more to do.
                if !end && block_sender.send(Ok(block)).is_err() {
                    return;
                }
                if let Some(e) = failed {
                    let _ = block_sender.send(Err(e));
                    return;
                }
                if end {
                    let _ = block_sender.send(Ok(vec![]));
                    return;
                }
            }
        });
    if started.is_err() {
        return input;
    }
    if let Err(returned) = input_sender.send(input) {
        return returned.0;
    }
    Box::new(ReadAhead {
        blocks,
        spare,
        current: vec![],
        at: 0,
        done: false,
    })
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.current.len() {
                let n = buf.len().min(self.current.len() - self.at);
                buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) if block.is_empty() => self.done = true,
                Ok(Ok(block)) => {
                    let used = std::mem::replace(&mut self.current, block);
                    // The producer makes a new block when no spare one is back.
                    let _ = self.spare.try_send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("the thread reading ahead stopped"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives `data`, a few bytes a call, then fails if `fail` is set.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return if self.fail {
                    Err(io::Error::other("cut off"))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(7).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn everything_arrives_in_order_across_blocks() -> io::Result<()> {
        let expected = data(3 * BLOCK_BYTES + 12_345);
        let mut reader = read_ahead(Box::new(Trickle {
            data: expected.clone(),
            at: 0,
            fail: false,
        }));
        let mut got = vec![];
        reader.read_to_end(&mut got)?;
        assert_eq!(got.len(), expected.len());
        assert!(got == expected);
        Ok(())
    }

    #[test]
    fn an_error_arrives_after_the_data_before_it() {
        let expected = data(BLOCK_BYTES + 10);
        let mut reader = read_ahead(Box::new(Trickle {
            data: expected.clone(),
            at: 0,
            fail: true,
        }));
        let mut got = vec![];
        let error = reader.read_to_end(&mut got).err();
        assert_eq!(error.map(|e| e.to_string()).as_deref(), Some("cut off"));
        // Every byte before the failure was delivered, the part block too.
        assert_eq!(got.len(), expected.len());
        assert!(got == expected);
    }

    #[test]
    fn dropping_the_reader_early_stops_the_thread() -> io::Result<()> {
        let mut reader = read_ahead(Box::new(Trickle {
            data: data(8 * BLOCK_BYTES),
            at: 0,
            fail: false,
        }));
        let mut first = [0u8; 100];
        reader.read_exact(&mut first)?;
        drop(reader);
        Ok(())
    }
}
