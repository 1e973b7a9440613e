//! Ctrl-C: the binary's signal handler calls [`request`]; long loops (scanning files,
//! following links, auditing) check [`requested`] and stop taking new work, so every
//! result already obtained is still written and the run ends quickly.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running loop to stop.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// True once a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
