//! `cec mv SOURCE... TARGET`: server-side move / rename. Same rules as `cp`
//! (see `commands::cp`): an existing target folder receives the sources,
//! otherwise TARGET is the new full path of the single SOURCE; a trailing
//! `/` changes nothing; an existing destination needs `--force`; the move
//! job is awaited and its result checked (destination present, source gone).

use crate::api::jobs::CopyMove;
use crate::auth::GlobalArgs;
use crate::cli::CpMvArgs;
use crate::error::Result;

pub fn run(globals: &GlobalArgs, args: &CpMvArgs) -> Result<()> {
    super::cp::copy_or_move(globals, args, CopyMove::Move)
}
