//! Stored files: list, upload (with progress, bytes intact), delete, and their errors.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use polyprint::{ErrorKind, Feature, FileEntry, Upload};

use crate::cases::lifecycle::{cleanup_cancel, start_and_wait_printing};
use crate::cases::Case;
use crate::harness::{Harness, Target};
use crate::outcome::{ensure, expect_err, expect_ok, finish, Outcome, Step};

/// A file name no other run uses.
pub(crate) fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{nanos}.gcode")
}

/// A small G-code file.
pub(crate) fn small_gcode() -> String {
    let mut g = String::from("; polyprint conformance upload\nG28\n");
    for i in 0..20 {
        g.push_str(&format!("G1 X{} Y{} F3000\n", 10 + i, 10 + i));
    }
    g
}

fn listed(files: &[FileEntry], path: &str) -> bool {
    files.iter().any(|f| f.path == path || f.name == path)
}

/// The listing contains the file the harness stores for prints, with non-empty names.
pub async fn case_list(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let files = expect_ok(t.printer.list_files().await, "list_files")?;
            let want = h.short_print_file();
            ensure(listed(&files, &want), || {
                let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
                format!("{want:?} is not in the listing {names:?}")
            })?;
            ensure(
                files
                    .iter()
                    .all(|f| !f.path.is_empty() && !f.name.is_empty()),
                || "an entry has an empty path or name".into(),
            )
        }
        .await,
    )
}

async fn upload_small(t: &Target, name: &str) -> Step<(FileEntry, String)> {
    let content = small_gcode();
    let calls = Arc::new(AtomicUsize::new(0));
    let last_sent = Arc::new(AtomicU64::new(0));
    let last_total = Arc::new(AtomicU64::new(0));
    let upload = {
        let (calls, last_sent, last_total) = (calls.clone(), last_sent.clone(), last_total.clone());
        Upload::from_bytes(name.to_string(), content.clone()).on_progress(move |p| {
            calls.fetch_add(1, Ordering::SeqCst);
            last_sent.store(p.sent, Ordering::SeqCst);
            last_total.store(p.total, Ordering::SeqCst);
        })
    };
    let entry = expect_ok(t.printer.upload(upload).await, "upload")?;
    ensure(entry.path.ends_with(name) || entry.name == name, || {
        format!(
            "uploaded {name:?}, the entry says path {:?} name {:?}",
            entry.path, entry.name
        )
    })?;
    let len = content.len() as u64;
    ensure(calls.load(Ordering::SeqCst) > 0, || {
        "the progress callback was never called".into()
    })?;
    let (sent, total) = (
        last_sent.load(Ordering::SeqCst),
        last_total.load(Ordering::SeqCst),
    );
    ensure(sent == len && total == len, || {
        format!("last progress {sent}/{total}, expected {len}/{len}")
    })?;
    if let Some(size) = entry.size {
        ensure(size == len, || {
            format!("entry size {size}, uploaded {len} bytes")
        })?;
    }
    Ok((entry, content))
}

/// Uploads a small file: the entry names it, progress reaches the total, and (with control)
/// the printer stored exactly the bytes sent.
pub async fn case_upload(t: &Target, _h: &dyn Harness) -> Outcome {
    let name = unique_name("polyprint-conformance-upload");
    let result = async {
        let (entry, content) = upload_small(t, &name).await?;
        if let Some(c) = &t.control {
            let stored = c.printer().lock().file(&name);
            ensure(
                stored
                    .as_ref()
                    .is_some_and(|f| f.content == content.as_bytes()),
                || {
                    format!(
                        "the virtual printer holds {:?} bytes under {name:?}",
                        stored.map(|f| f.content.len())
                    )
                },
            )?;
        }
        if expect_ok(t.printer.features().await, "features")?.contains(Feature::FileList) {
            let files = expect_ok(t.printer.list_files().await, "list_files")?;
            ensure(listed(&files, &entry.path), || {
                format!("{:?} not listed after upload", entry.path)
            })?;
        }
        Ok(())
    }
    .await;
    if t.printer
        .features()
        .await
        .is_ok_and(|f| f.contains(Feature::FileDelete))
    {
        let _ = t.printer.delete_file(&name).await;
    }
    finish(result)
}

/// Uploads a file and deletes it: gone from the listing and (with control) the printer.
pub async fn case_delete(t: &Target, _h: &dyn Harness) -> Outcome {
    finish(
        async {
            let name = unique_name("polyprint-conformance-delete");
            let (entry, _) = upload_small(t, &name).await?;
            expect_ok(t.printer.delete_file(&entry.path).await, "delete_file")?;
            if expect_ok(t.printer.features().await, "features")?.contains(Feature::FileList) {
                let files = expect_ok(t.printer.list_files().await, "list_files")?;
                ensure(!listed(&files, &entry.path), || {
                    format!("{:?} still listed after delete", entry.path)
                })?;
            }
            if let Some(c) = &t.control {
                ensure(c.printer().lock().file(&name).is_none(), || {
                    "the virtual printer still has the file".into()
                })?;
            }
            Ok(())
        }
        .await,
    )
}

/// Deleting a file that does not exist is NotFound.
pub async fn case_delete_missing(t: &Target, _h: &dyn Harness) -> Outcome {
    let r = t
        .printer
        .delete_file("polyprint-conformance-missing.gcode")
        .await;
    finish(expect_err(r, ErrorKind::NotFound, "delete_file(missing)").map(|_| ()))
}

/// Deleting the file being printed is InvalidState, and the file stays.
pub async fn case_delete_while_printing(t: &Target, h: &dyn Harness) -> Outcome {
    let result = async {
        let file = h.long_print_file();
        start_and_wait_printing(t, h, &file).await?;
        let r = t.printer.delete_file(&file).await;
        expect_err(
            r,
            ErrorKind::InvalidState,
            "delete_file(file being printed)",
        )?;
        if let Some(c) = &t.control {
            ensure(c.printer().lock().file(&file).is_some(), || {
                "the file was deleted anyway".into()
            })?;
        }
        expect_ok(t.printer.cancel().await, "cancel").map(|_| ())
    }
    .await;
    if result.is_err() {
        cleanup_cancel(t).await;
    }
    finish(result)
}

/// Adds the demo file to the print queue: the queue grows by one entry for that file, in last
/// place; a file that is not stored is NotFound.
pub async fn case_print_queue(t: &Target, h: &dyn Harness) -> Outcome {
    finish(
        async {
            let file = h.short_print_file();
            let before = expect_ok(t.printer.print_queue().await, "print_queue")?;
            expect_ok(t.printer.enqueue(&file).await, "enqueue")?;
            let after = expect_ok(t.printer.print_queue().await, "print_queue after enqueue")?;
            ensure(after.len() == before.len() + 1, || {
                format!("queue had {} entries, then {}", before.len(), after.len())
            })?;
            let base = file.rsplit('/').next().unwrap_or(&file).to_string();
            ensure(
                after.last().is_some_and(|j| j.file.ends_with(&base)),
                || format!("the last queued job is {:?}, not {base}", after.last()),
            )?;
            expect_err(
                t.printer.enqueue("polyprint-missing.gcode").await,
                ErrorKind::NotFound,
                "enqueue of a missing file",
            )
            .map(|_| ())
        }
        .await,
    )
}

/// This group's cases, each with the features and control it needs.
pub fn cases() -> Vec<Case> {
    use Feature::*;
    vec![
        case!("files.list", FileList.into(), Printer, false, case_list),
        case!(
            "files.upload",
            FileUpload.into(),
            Printer,
            false,
            case_upload
        ),
        case!(
            "files.delete",
            FileUpload | FileDelete,
            Printer,
            false,
            case_delete
        ),
        case!(
            "files.delete_missing",
            FileDelete.into(),
            Printer,
            false,
            case_delete_missing
        ),
        case!(
            "files.delete_while_printing",
            FileDelete | PrintStart | Cancel,
            Printer,
            true,
            case_delete_while_printing
        ),
        case!(
            "files.print_queue",
            PrintQueue.into(),
            Printer,
            false,
            case_print_queue
        ),
    ]
}
