//! Reading one input as it is written, for `report --follow`: a tracer
//! that prints every second into a pipe or a FIFO and never ends. The
//! bytes are read on a thread of their own and handed over as they come,
//! so that the parser sees each line when it arrives and an interrupt
//! (Ctrl-C) ends the reading even while the tracer is silent; the format
//! is detected from the first lines that tell it, not from 64 KiB that a
//! slow tracer may take minutes to print.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use super::source::{self, Source};
use crate::error::{InputError, Result};
use crate::parse::{InputFormat, detect};

/// How often a silent input looks whether it was interrupted.
const POLL: Duration = Duration::from_millis(50);

/// What each read hands over at most.
const CHUNK: usize = 64 * 1024;

/// The exit status of a second interrupt, as a shell reports SIGINT.
const INTERRUPTED: i32 = 130;

/// A flag the first SIGINT raises (the follow ends, the report of what was
/// read is printed); a second SIGINT exits at once, 130.
pub fn stop_on_interrupt() -> io::Result<Arc<AtomicBool>> {
    use signal_hook::consts::SIGINT;
    use signal_hook::flag;
    let stop = Arc::new(AtomicBool::new(false));
    // Registered first, so that it sees the flag as the first interrupt
    // left it: unset on the first, set on the second.
    flag::register_conditional_shutdown(SIGINT, INTERRUPTED, Arc::clone(&stop))?;
    flag::register(SIGINT, Arc::clone(&stop))?;
    Ok(stop)
}

/// The source's decoded bytes, read on a thread and handed over as they
/// come, with its format (named, or detected from its first telling
/// lines). The reader ends at the input's end or once `stop` is raised.
pub fn open(
    source: &Source,
    format: InputFormat,
    stop: Arc<AtomicBool>,
) -> Result<(Box<dyn BufRead>, InputFormat)> {
    let mut reader = Handover::spawn(source.clone(), stop);
    if format != InputFormat::Auto {
        return Ok((Box::new(reader), format));
    }
    let (head, format) = detect_as_it_comes(&mut reader, &source.name)?;
    Ok((Box::new(Cursor::new(head).chain(reader)), format))
}

/// Reads until the head tells the format (or the input ends, or detection's
/// 64 KiB are read): the head and its format.
fn detect_as_it_comes(reader: &mut Handover, name: &str) -> Result<(Vec<u8>, InputFormat)> {
    let mut head = Vec::new();
    loop {
        let chunk = reader
            .fill_buf()
            .map_err(|err| InputError::whole(name, format!("cannot read: {err}")))?;
        let ended = chunk.is_empty();
        let take = chunk.len().min(detect::HEAD_BYTES - head.len());
        head.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        let full = head.len() >= detect::HEAD_BYTES;
        match detect::detect(&head, ended) {
            Ok(format) => return Ok((head, format)),
            Err(message) if ended || full => return Err(InputError::whole(name, message).into()),
            // Not yet: the telling line may be the next one.
            Err(_) => {}
        }
    }
}

/// The reading end of a reader thread: chunks as they come.
struct Handover {
    chunks: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
    ended: bool,
    stop: Arc<AtomicBool>,
}

impl Handover {
    /// Opens `source` on a thread of its own and reads it there; an error
    /// opening it comes as the first chunk.
    fn spawn(source: Source, stop: Arc<AtomicBool>) -> Handover {
        let (send, chunks) = mpsc::sync_channel(16);
        // The thread may stay blocked in a read when the follow ends (an
        // interrupt, a tracer still running): the process's exit ends it.
        std::thread::spawn(move || {
            let mut reader = match source::open_decoded(&source) {
                Ok(reader) => reader,
                Err(err) => {
                    let _ = send.send(Err(io::Error::other(err.to_string())));
                    return;
                }
            };
            loop {
                let chunk = match reader.fill_buf() {
                    Ok(block) => block[..block.len().min(CHUNK)].to_vec(),
                    Err(err) => {
                        let _ = send.send(Err(err));
                        return;
                    }
                };
                reader.consume(chunk.len());
                let ended = chunk.is_empty();
                if send.send(Ok(chunk)).is_err() || ended {
                    return;
                }
            }
        });
        Handover {
            chunks,
            chunk: Vec::new(),
            at: 0,
            ended: false,
            stop,
        }
    }
}

impl Read for Handover {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Handover {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.chunk.len() && !self.ended {
            if self.stop.load(Ordering::Relaxed) {
                self.ended = true;
                break;
            }
            match self.chunks.recv_timeout(POLL) {
                Ok(Ok(chunk)) => {
                    self.ended = chunk.is_empty();
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(err)) => return Err(err),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
        Ok(&self.chunk[self.at..])
    }

    fn consume(&mut self, amount: usize) {
        self.at = (self.at + amount).min(self.chunk.len());
    }
}
