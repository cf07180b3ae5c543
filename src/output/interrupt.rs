//! Ctrl-C (SIGINT) handling.
//!
//! `install()` (called by `main`) catches SIGINT. By default a Ctrl-C restores
//! the terminal settings saved at start (a Ctrl-C during a hidden password
//! prompt must not leave the terminal without echo), then ends the process by
//! SIGINT itself. Long operations that want to stop cleanly (scp journals,
//! temp files, the rm prompt) call `set_graceful(true)`: SIGINT then only sets
//! a flag that they poll with `interrupted()` and turn into
//! `Error::interrupted()`; once they have cleaned up, `main` calls
//! [`exit_interrupted`]. A second Ctrl-C ends the process at once.
//!
//! Dying of SIGINT, rather than exiting with 130, lets a calling shell see the
//! Ctrl-C: `for f in *; do cec ...; done` stops instead of going on with the
//! next file. A parent that only reads `$?` still sees 130.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static GRACEFUL: AtomicBool = AtomicBool::new(false);
/// Sections running under [`deferred`]: Ctrl-C waits for them to end.
static DEFERRING: AtomicUsize = AtomicUsize::new(0);
static HAVE_TERMIOS: AtomicBool = AtomicBool::new(false);
static mut SAVED: std::mem::MaybeUninit<libc::termios> = std::mem::MaybeUninit::uninit();

extern "C" fn on_sigint(_: libc::c_int) {
    let first = !INTERRUPTED.swap(true, Ordering::SeqCst);
    if DEFERRING.load(Ordering::SeqCst) > 0 || first && GRACEFUL.load(Ordering::SeqCst) {
        return;
    }
    // SAFETY: only async-signal-safe calls (tcsetattr, write, signal, sigprocmask, raise, _exit).
    unsafe {
        let nl = b"\n";
        libc::write(2, nl.as_ptr() as *const libc::c_void, 1);
        die_of_sigint();
    }
}

/// Restore the terminal, then end the process by SIGINT with its default
/// action (exit status 130 in shells). Async-signal-safe.
unsafe fn die_of_sigint() -> ! {
    if HAVE_TERMIOS.load(Ordering::SeqCst) {
        let t = std::ptr::addr_of!(SAVED);
        libc::tcsetattr(0, libc::TCSANOW, (*t).as_ptr());
    }
    libc::signal(libc::SIGINT, libc::SIG_DFL);
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    libc::sigemptyset(set.as_mut_ptr());
    libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
    // Inside the handler SIGINT is blocked: unblock it so that it is delivered now.
    libc::sigprocmask(libc::SIG_UNBLOCK, set.as_ptr(), std::ptr::null_mut());
    libc::raise(libc::SIGINT);
    libc::_exit(130)
}

/// Install the SIGINT handler (once, from `main`). A SIGINT ignored by the
/// parent (a background job of a script) stays ignored.
pub fn install() {
    // SAFETY: querying and setting the disposition of SIGINT; the terminal
    // attributes are saved before the handler that reads them exists.
    unsafe {
        let mut old = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), old.as_mut_ptr());
        if old.assume_init().sa_sigaction == libc::SIG_IGN {
            return;
        }
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

/// Run `f` with Ctrl-C (even a second one) held back until it returns: for work that
/// must not be cut in half, such as spending a refresh token and saving its successor
/// (the server has already spent the old one: dying in between would lose the session).
/// A Ctrl-C that came meanwhile then ends the process as usual.
pub fn deferred<T>(f: impl FnOnce() -> T) -> T {
    DEFERRING.fetch_add(1, Ordering::SeqCst);
    let out = f();
    let last = DEFERRING.fetch_sub(1, Ordering::SeqCst) == 1;
    if last && interrupted() && !GRACEFUL.load(Ordering::SeqCst) {
        exit_interrupted();
    }
    out
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `true`: Ctrl-C only sets the flag (poll [`interrupted`]); `false` (default): the
/// process ends at once.
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

/// End an interrupted command, after its clean-up: by SIGINT when Ctrl-C was
/// pressed, else with exit code 130.
pub fn exit_interrupted() -> ! {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    if interrupted() {
        // SAFETY: see `die_of_sigint`; no lock is held here.
        unsafe { die_of_sigint() }
    }
    std::process::exit(130)
}
