//! Reading log files: plain, gzip (`.gz`) and zstd (`.zst`), standard input
//! (`-`), and directories (every file beneath, in name order). Files are
//! read in parallel, and a large plain file is split into chunks at line
//! boundaries so both cores work on it; each chunk counts into its own
//! [`Tally`] and the tallies are merged.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::aggregate::{Malformed, Tally, Window};
use crate::formats::{detect, FormatKind, Parser};

/// Plain files at least this large are split into chunks.
const CHUNK_MIN: u64 = 16 * 1024 * 1024;
/// Read buffer of one worker.
const BLOCK: usize = 1 << 20;
/// Lines looked at to detect a format.
const DETECT_LINES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: the log format is not recognised (first line: {first_line:?}); name it with --format")]
    UnknownFormat { path: String, first_line: String },
}

fn io_error(path: &str) -> impl Fn(io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_string(),
        source,
    }
}

/// How to read.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The parser for every file; detected per file when `None`.
    pub parser: Option<Parser>,
    pub window: Window,
    /// Worker threads (0 = the number of cores).
    pub threads: usize,
    /// Split plain files into chunks of about this many bytes (by default,
    /// files of 16 MiB and more are split into two chunks per worker).
    pub chunk_bytes: Option<u64>,
}

/// What was read from one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub format: FormatKind,
    pub lines: u64,
    pub bytes: u64,
    /// Set when the file ended early (a truncated `.gz`): what was read
    /// before counts.
    pub warning: Option<String>,
}

/// Everything read.
#[derive(Debug, Default)]
pub struct Run {
    pub tally: Tally,
    pub files: Vec<FileReport>,
    /// Files found in directories whose format was not recognised, with
    /// their first line: skipped, not fatal (a README beside the logs).
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

fn compression_of(path: &Path) -> Compression {
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") | Some("gzip") => Compression::Gzip,
        Some("zst") | Some("zstd") => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Expands directories (recursively, name order) and keeps `-`. Each path
/// comes with whether it was named explicitly (not found in a directory).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, ReadError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            out.push((path.clone(), true));
            continue;
        }
        let mut stack = vec![path.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let shown = dir.display().to_string();
            for entry in std::fs::read_dir(&dir).map_err(io_error(&shown))? {
                let entry = entry.map_err(io_error(&shown))?;
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
                {
                    found.push(p);
                }
            }
        }
        found.sort();
        out.extend(found.into_iter().map(|p| (p, false)));
    }
    Ok(out)
}

fn open_decoded(path: &Path, shown: &str) -> Result<Box<dyn Read + Send>, ReadError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let file = File::open(path).map_err(io_error(shown))?;
    Ok(match compression_of(path) {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            BLOCK, file,
        ))),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(file).map_err(io_error(shown))?)
        }
    })
}

/// Counts the lines of `block` (complete lines only) into `tally`.
/// `line_base` is the number of lines before the block in its chunk.
fn process_block(
    block: &[u8],
    parser: &mut Parser,
    window: Window,
    file: &str,
    line_base: u64,
    tally: &mut Tally,
) -> u64 {
    let mut lines = 0u64;
    for raw in block.split(|&b| b == b'\n') {
        lines += 1;
        let text = match std::str::from_utf8(raw) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => String::from_utf8_lossy(raw),
        };
        match parser.parse(&text) {
            Ok(Some(event)) => {
                if window.contains(event.ts) {
                    tally.add(&event);
                } else {
                    tally.out_of_window += 1;
                }
            }
            Ok(None) => {}
            Err(e) => tally.malformed_line(file, line_base + lines, &e),
        }
    }
    lines
}

/// Reads lines from `reader` until it ends. Returns the lines read and
/// the bytes consumed; a read error after some data comes back with what
/// was read (counted).
fn stream_lines(
    reader: &mut dyn Read,
    parser: &mut Parser,
    window: Window,
    file: &str,
    tally: &mut Tally,
) -> (u64, u64, Option<io::Error>) {
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0usize;
    let mut lines = 0u64;
    let mut consumed = 0u64;
    loop {
        if filled == buf.len() {
            // A line longer than the buffer: grow it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if filled > 0 {
                    lines += process_block(&buf[..filled], parser, window, file, lines, tally);
                    consumed += filled as u64;
                }
                return (lines, consumed, Some(e));
            }
        };
        if n == 0 {
            // The last line may have no newline.
            if filled > 0 {
                lines += process_block(&buf[..filled], parser, window, file, lines, tally);
                consumed += filled as u64;
            }
            return (lines, consumed, None);
        }
        filled += n;
        // Every complete line now; the partial last one waits for more.
        let Some(end) = memchr::memrchr(b'\n', &buf[..filled]) else {
            continue;
        };
        lines += process_block(&buf[..end], parser, window, file, lines, tally);
        consumed += end as u64 + 1;
        buf.copy_within(end + 1..filled, 0);
        filled -= end + 1;
    }
}

/// The first lines of a file, for detection.
fn first_lines(path: &Path, shown: &str) -> Result<Vec<String>, ReadError> {
    let reader = open_decoded(path, shown)?;
    let mut reader = BufReader::new(reader);
    let mut lines = Vec::new();
    let mut line = Vec::new();
    while lines.len() < DETECT_LINES {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(n) => n,
            Err(_) if !lines.is_empty() => break,
            Err(e) => return Err(io_error(shown)(e)),
        };
        if n == 0 {
            break;
        }
        lines.push(String::from_utf8_lossy(&line).trim_end().to_string());
    }
    Ok(lines)
}

/// The byte offsets where each of `parts` chunks of a plain file begins:
/// just after a newline.
fn chunk_starts(path: &Path, shown: &str, size: u64, parts: usize) -> Result<Vec<u64>, ReadError> {
    let mut starts = vec![0u64];
    let mut file = File::open(path).map_err(io_error(shown))?;
    let mut probe = vec![0u8; 64 * 1024];
    for i in 1..parts {
        let target = size * i as u64 / parts as u64;
        if target <= *starts.last().unwrap_or(&0) {
            continue;
        }
        file.seek(SeekFrom::Start(target))
            .map_err(io_error(shown))?;
        let mut offset = target;
        loop {
            let n = file.read(&mut probe).map_err(io_error(shown))?;
            if n == 0 {
                offset = size;
                break;
            }
            if let Some(nl) = memchr::memchr(b'\n', &probe[..n]) {
                offset += nl as u64 + 1;
                break;
            }
            offset += n as u64;
        }
        if offset < size && offset > *starts.last().unwrap_or(&0) {
            starts.push(offset);
        }
    }
    Ok(starts)
}

fn threads(opts: &Options) -> usize {
    if opts.threads > 0 {
        opts.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// One unit of work: a whole file, or one chunk of a plain file.
struct Job {
    file_index: usize,
    path: PathBuf,
    shown: String,
    parser: Parser,
    start: u64,
    /// Bytes of the chunk; `None` for a whole (possibly compressed) file.
    len: Option<u64>,
}

struct JobResult {
    file_index: usize,
    start: u64,
    lines: u64,
    bytes: u64,
    tally: Tally,
    error: Option<String>,
}

fn run_job(job: &Job, window: Window) -> Result<JobResult, ReadError> {
    let mut tally = Tally::new();
    let mut parser = job.parser.clone();
    let (lines, bytes, error) = match job.len {
        Some(len) => {
            let mut file = File::open(&job.path).map_err(io_error(&job.shown))?;
            file.seek(SeekFrom::Start(job.start))
                .map_err(io_error(&job.shown))?;
            // Chunks begin and end at line boundaries.
            let mut chunk = file.take(len);
            stream_lines(&mut chunk, &mut parser, window, &job.shown, &mut tally)
        }
        None => {
            let mut reader = open_decoded(&job.path, &job.shown)?;
            stream_lines(&mut *reader, &mut parser, window, &job.shown, &mut tally)
        }
    };
    let error = match error {
        None => None,
        Some(e) if e.kind() == io::ErrorKind::UnexpectedEof => Some(format!(
            "the compressed file ends early (truncated): {lines} lines were read and counted"
        )),
        Some(e) if lines > 0 => Some(format!(
            "reading stopped with an error after {lines} lines (those are counted): {e}"
        )),
        Some(e) => return Err(io_error(&job.shown)(e)),
    };
    tally.lines = lines;
    Ok(JobResult {
        file_index: job.file_index,
        start: job.start,
        lines,
        bytes,
        tally,
        error,
    })
}

/// Reads every path (files, directories, `-`) and counts what it finds.
pub fn discover(paths: &[PathBuf], opts: &Options) -> Result<Run, ReadError> {
    let files = expand(paths)?;
    let workers = threads(opts).max(1);
    let mut reports = Vec::with_capacity(files.len());
    let mut skipped = Vec::new();
    let mut jobs = Vec::new();
    for (path, explicit) in &files {
        let file_index = reports.len();
        let shown = if path.as_os_str() == "-" {
            "standard input".to_string()
        } else {
            path.display().to_string()
        };
        let parser = match &opts.parser {
            Some(p) => p.clone(),
            None => {
                if path.as_os_str() == "-" {
                    return Err(ReadError::UnknownFormat {
                        path: shown,
                        first_line: "(standard input is read once: name its format with --format)"
                            .into(),
                    });
                }
                let lines = first_lines(path, &shown)?;
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                match detect(&refs) {
                    Some(kind) => Parser::new(kind),
                    None if !explicit => {
                        skipped.push((shown, lines.first().cloned().unwrap_or_default()));
                        continue;
                    }
                    None => {
                        return Err(ReadError::UnknownFormat {
                            path: shown,
                            first_line: lines.first().cloned().unwrap_or_default(),
                        })
                    }
                }
            }
        };
        reports.push(FileReport {
            path: shown.clone(),
            format: parser.kind(),
            lines: 0,
            bytes: 0,
            warning: None,
        });
        let size = if path.as_os_str() == "-" {
            0
        } else {
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        };
        let parts = match opts.chunk_bytes {
            Some(n) => size.div_ceil(n.max(1)).max(1) as usize,
            None if size >= CHUNK_MIN && workers > 1 => workers * 2,
            None => 1,
        };
        let splittable = path.as_os_str() != "-"
            && compression_of(path) == Compression::None
            && parser.kind().stateless()
            && parts > 1;
        if splittable {
            let starts = chunk_starts(path, &shown, size, parts)?;
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(size);
                jobs.push(Job {
                    file_index,
                    path: path.clone(),
                    shown: shown.clone(),
                    parser: parser.clone(),
                    start,
                    len: Some(end - start),
                });
            }
        } else {
            jobs.push(Job {
                file_index,
                path: path.clone(),
                shown,
                parser,
                start: 0,
                len: None,
            });
        }
    }

    // Workers take jobs in order; results are put back in file/offset order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Vec<JobResult>, ReadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(jobs.len()).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            return Ok(done);
                        };
                        done.push(run_job(job, opts.window)?);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(ReadError::Io {
                        path: "(worker)".into(),
                        source: io::Error::other("a worker thread panicked"),
                    })
                })
            })
            .collect()
    });
    let mut done = Vec::new();
    for r in results {
        done.extend(r?);
    }
    done.sort_by_key(|r| (r.file_index, r.start));

    let mut run = Run::default();
    let mut lines_before = 0u64;
    let mut current = usize::MAX;
    for mut result in done {
        if result.file_index != current {
            current = result.file_index;
            lines_before = 0;
        }
        // Malformed lines were numbered within their chunk.
        for m in &mut result.tally.malformed_samples {
            m.line += lines_before;
        }
        lines_before += result.lines;
        let report = &mut reports[result.file_index];
        report.lines += result.lines;
        report.bytes += result.bytes;
        if let Some(w) = result.error {
            report.warning = Some(w);
        }
        run.tally.merge(result.tally);
    }
    // Show malformed lines in file order.
    run.tally
        .malformed_samples
        .sort_by(|a: &Malformed, b: &Malformed| {
            (a.file.as_str(), a.line).cmp(&(b.file.as_str(), b.line))
        });
    run.files = reports;
    run.skipped = skipped;
    Ok(run)
}
