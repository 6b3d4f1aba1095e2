//! Where log lines go: stdout, written in batches.
//!
//! Every request logs one line. Written as it is made, each line is a `write` system call on the
//! request's own thread; handed to a writer thread one by one (tracing-appender's non-blocking
//! writer), each line wakes that thread, and the profile of a validation load showed the wake-ups
//! costing more than the writes saved (9% of the handler's CPU in context switches of the writer
//! thread). Here a line is appended to a shared buffer under a short lock, and a thread writes the
//! buffer out every `FLUSH_INTERVAL`: one system call and one wake-up per interval, whatever the
//! load. Nothing is dropped: a buffer that grows past `FLUSH_AT` is written out at once by the
//! thread that filled it, and dropping the [`FlushGuard`] writes out what is left.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a line may wait: the Functions host reads stdout asynchronously anyway, and a
/// person reading the log does not notice.
const FLUSH_INTERVAL: Duration = Duration::from_millis(25);
/// Written out at once beyond this, so memory stays bounded under any load.
const FLUSH_AT: usize = 256 * 1024;

struct Shared {
    pending: Mutex<Vec<u8>>,
    stopping: AtomicBool,
    /// Where batches go: stdout, or a test's own sink.
    sink: fn(&[u8]),
}

impl Shared {
    fn new(sink: fn(&[u8])) -> Shared {
        Shared {
            pending: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            sink,
        }
    }

    fn pending(&self) -> MutexGuard<'_, Vec<u8>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes out what is pending. The buffer is swapped out under the lock and written outside
    /// it, so appending lines never waits for stdout.
    fn flush(&self) {
        let batch = std::mem::take(&mut *self.pending());
        if !batch.is_empty() {
            (self.sink)(&batch);
        }
    }
}

fn write_out(batch: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    // Nowhere to report a failure to: the log is where it would go.
    let _ = stdout.write_all(batch);
    let _ = stdout.flush();
}

/// A `MakeWriter` for tracing-subscriber: each event's formatted line is appended to the batch.
#[derive(Clone)]
pub struct BatchedStdout {
    shared: Arc<Shared>,
}

/// Stops the flushing thread and writes out what is pending when dropped.
#[must_use = "dropping the guard stops the log writer"]
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BatchedStdout {
    /// The writer and the guard of its flushing thread; hold the guard until the process ends.
    pub fn start() -> std::io::Result<(BatchedStdout, FlushGuard)> {
        let shared = Arc::new(Shared::new(write_out));
        let flushing = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".to_owned())
            .spawn(move || {
                while !flushing.stopping.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_INTERVAL);
                    flushing.flush();
                }
            })?;
        Ok((
            BatchedStdout {
                shared: shared.clone(),
            },
            FlushGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
        self.shared.flush();
    }
}

/// One event's line on its way into the batch.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.pending();
        pending.extend_from_slice(bytes);
        if pending.len() >= FLUSH_AT {
            let batch = std::mem::take(&mut *pending);
            drop(pending);
            (self.shared.sink)(&batch);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedStdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discard(_: &[u8]) {}

    #[test]
    fn lines_wait_in_the_batch_until_it_is_written_out() {
        let shared = Shared::new(discard);
        let mut writer = LineWriter { shared: &shared };
        writer.write_all(b"{\"message\":\"one\"}\n").unwrap();
        writer.write_all(b"{\"message\":\"two\"}\n").unwrap();
        assert_eq!(
            shared.pending().as_slice(),
            b"{\"message\":\"one\"}\n{\"message\":\"two\"}\n"
        );
        shared.flush();
        assert!(shared.pending().is_empty());
    }

    #[test]
    fn a_full_batch_is_written_out_by_the_thread_that_filled_it() {
        let shared = Shared::new(discard);
        let mut writer = LineWriter { shared: &shared };
        let line = vec![b' '; FLUSH_AT / 4];
        for _ in 0..4 {
            writer.write_all(&line).unwrap();
        }
        assert!(
            shared.pending().is_empty(),
            "bounded: written out at FLUSH_AT"
        );
    }
}
