//! Ctrl-C (SIGINT) handling.
//!
//! `install()` (called by `main`) makes SIGINT end the process with exit code 130,
//! restoring the terminal settings saved at start (so a Ctrl-C during a hidden
//! password prompt does not leave the terminal without echo).
//! Long operations that want to stop cleanly (scp journals, temp files) call
//! `set_graceful(true)`: SIGINT then only sets a flag that they poll with
//! `interrupted()` and turn into `Error::interrupted()`; a second Ctrl-C exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GRACEFUL: AtomicBool = AtomicBool::new(false);
static HAVE_TERMIOS: AtomicBool = AtomicBool::new(false);
static mut SAVED: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::uninit();

extern "C" fn on_sigint(_: libc::c_int) {
    let first = !INTERRUPTED.swap(true, Ordering::SeqCst);
    if first && GRACEFUL.load(Ordering::SeqCst) {
        return;
    }
    // SAFETY: only async-signal-safe calls (tcsetattr, write, _exit).
    unsafe {
        if HAVE_TERMIOS.load(Ordering::SeqCst) {
            let t = std::ptr::addr_of!(SAVED);
            libc::tcsetattr(0, libc::TCSANOW, (*t).as_ptr());
        }
        let nl = b"\n";
        libc::write(2, nl.as_ptr() as *const libc::c_void, 1);
        libc::_exit(130);
    }
}

/// Install the SIGINT handler (once, from `main`).
pub fn install() {
    // SAFETY: saving the terminal attributes before the handler exists; the handler
    // only reads them.
    unsafe {
        if libc::isatty(0) == 1 {
            let p = std::ptr::addr_of_mut!(SAVED);
            if libc::tcgetattr(0, (*p).as_mut_ptr()) == 0 {
                HAVE_TERMIOS.store(true, Ordering::SeqCst);
            }
        }
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `true`: Ctrl-C only sets the flag (poll [`interrupted`]); `false` (default): exit 130 at once.
pub fn set_graceful(on: bool) {
    GRACEFUL.store(on, Ordering::SeqCst);
}

/// `Err(Error::interrupted())` once Ctrl-C was pressed; for polling loops.
pub fn check() -> crate::error::Result<()> {
    if interrupted() {
        Err(crate::error::Error::interrupted())
    } else {
        Ok(())
    }
}
