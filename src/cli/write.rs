//! Writing output files whole or not at all, and stopping on Ctrl-C.
//!
//! Each file is written to a temporary file in its own folder, synced, then
//! renamed over its final name: a rename within a folder is atomic, so a
//! reader, an interrupt, a kill or a full disk never finds half a CSV or an
//! empty JSON under that name, only the previous file or the new one (a
//! SIGKILL, which nothing can catch, may leave the hidden temporary file
//! beside it). Ctrl-C ends the process with exit code 130 at once, even in
//! the middle of a simulation, but never while a file is being written: the
//! handler waits for the file in hand to be finished (or removed) first.

use std::io::Write;
use std::path::{Component, Path};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};

/// The exit code of a command stopped by Ctrl-C: 128 + SIGINT, as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Set by the Ctrl-C handler; a writer that sees it stops before its next file.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Held while one file is written, from its temporary file to its rename,
/// so the handler cannot end the process with a temporary file on disk.
static WRITING: Mutex<()> = Mutex::new(());

/// The error a command returns when Ctrl-C stopped it between two files.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Ends the process with exit code 130 on Ctrl-C (SIGINT), as soon as no
/// file is half written. Without a handler the signal would kill the
/// process mid-write, leaving a temporary file behind.
pub fn stop_on_interrupt() {
    let installed = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        // A poisoned lock only means a writer panicked: nothing is half written.
        let _no_file_open = WRITING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Not eprintln: a closed stderr must not turn the exit into a panic.
        let _ = writeln!(std::io::stderr(), "interrupted{}", resume_note());
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    if let Err(error) = installed {
        eprintln!("warning: Ctrl-C will not stop cleanly: {error}");
    }
}

/// The journal of the study running, if any, and how many runs it holds,
/// for the message Ctrl-C leaves.
static JOURNAL: Mutex<Option<(std::path::PathBuf, usize)>> = Mutex::new(None);

/// Records that finished runs are kept in `path` (`runs` of them so far).
pub fn note_journal(path: &Path, runs: usize) {
    *JOURNAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((path.to_path_buf(), runs));
}

/// Counts one more run kept in the journal.
pub fn note_kept_run() {
    if let Some((_, runs)) = JOURNAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_mut()
    {
        *runs += 1;
    }
}

/// What an interrupted study keeps, and how to go on.
pub fn resume_note() -> String {
    let journal = JOURNAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match journal.as_ref() {
        Some((path, runs)) => format!(
            ": {runs} finished run{} kept in {}; run the same command again to go on",
            if *runs == 1 { " is" } else { "s are" },
            path.display()
        ),
        None => String::new(),
    }
}

/// Writes each (name, contents) under `dir`; a name may hold a sub-folder
/// (`variant/summary.json`). Says on stderr what was written: the files at
/// the top, and each sub-folder once. Stops at the first failure, naming the
/// file and the reason, and leaves no temporary file behind.
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let mut written: Vec<String> = Vec::new();
    for (name, contents) in files {
        let path = dir.join(name);
        check_inside(dir, name)?;
        write_atomically(&path, contents)?;
        let shown = match name.split_once('/') {
            Some((folder, _)) => format!("{folder}/"),
            None => name.clone(),
        };
        if !written.contains(&shown) {
            written.push(shown);
        }
    }
    eprintln!("wrote {} in {}", written.join(", "), dir.display());
    Ok(())
}

/// Writes one file whole or not at all, and says so on stderr.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomically(path, contents)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Whether `name` stays inside the folder it is written in: no `..`, no
/// root, nothing but plain names.
pub fn stays_inside(name: &str) -> bool {
    Path::new(name)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
}

/// Names come from scenario files (a variant's name is a folder): one
/// such as `../x` must not write outside the output folder.
fn check_inside(dir: &Path, name: &str) -> Result<()> {
    if !stays_inside(name) {
        bail!(
            "cannot write `{name}` in {}: the name leaves the folder",
            dir.display()
        );
    }
    Ok(())
}

/// Writes `contents` to a temporary file beside `path`, syncs it and renames
/// it to `path`. On any failure the temporary file is removed (dropping a
/// `NamedTempFile` deletes it) and the error names `path`.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let _writing = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(Interrupted.into());
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let context = || format!("cannot write {}", path.display());
    let mut file = temporary_file(parent).with_context(context)?;
    // Through the plain file: its errors do not name the temporary file, which is gone by the time they are read.
    file.as_file_mut()
        .write_all(contents)
        .with_context(context)?;
    file.as_file().sync_all().with_context(context)?;
    file.persist(path)
        .map_err(|error| error.error)
        .with_context(context)?;
    Ok(())
}

/// A hidden temporary file in `folder`, readable as a file written with
/// `std::fs::write` would be (tempfile's default, 0600, would hide reports
/// from other users).
fn temporary_file(folder: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".stampede-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The umask still applies, as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(folder)
}

/// Appends one line (a newline added) to a journal in a single write, never
/// cut by Ctrl-C: a reader finds whole lines, and at worst (a kill) a last
/// line cut short, which it drops.
pub fn append_line(file: &mut std::fs::File, line: &str) -> Result<()> {
    let _writing = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(Interrupted.into());
    }
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)?;
    Ok(())
}

/// Writes a shard's finished part whole (as [`write_file`] does, without
/// saying so), then removes its journal, still locked by `journal`: the
/// finished name appears whole or not at all, and the runs stay kept
/// until it does.
pub fn finish_part(
    journal: std::fs::File,
    working: &Path,
    finished: &Path,
    contents: &[u8],
) -> Result<()> {
    write_atomically(finished, contents)?;
    let _writing = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    drop(journal);
    std::fs::remove_file(working)
        .with_context(|| format!("cannot remove {}", working.display()))?;
    Ok(())
}
