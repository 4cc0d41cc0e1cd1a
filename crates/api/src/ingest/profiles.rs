//! Usernames and display names seen on webhooks go to the `profiles` table (personal data stays
//! out of events, so a member can be erased without editing the log). Written only when they
//! change, so a busy commenter costs one write, not one per comment.

use domain::ids::ProgramId;
use domain::network::ExternalIdentity;
use parking_lot::Mutex;
use projections::identities::{Profile, upsert_profile};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;

/// Profiles remembered as written; past this the memory is cleared and rebuilt by writes.
const MAX_REMEMBERED: usize = 200_000;

type Written = HashMap<(ProgramId, ExternalIdentity), (Option<String>, Option<String>)>;

#[derive(Clone, Default)]
pub struct ProfileWriter {
    written: Arc<Mutex<Written>>,
}

impl ProfileWriter {
    pub async fn record(
        &self,
        pool: &PgPool,
        program_id: ProgramId,
        identity: &ExternalIdentity,
        username: Option<&str>,
        display_name: Option<&str>,
    ) -> Result<(), projections::ProjectionError> {
        if username.is_none() && display_name.is_none() {
            return Ok(());
        }
        let key = (program_id, identity.clone());
        let value = (
            username.map(str::to_string),
            display_name.map(str::to_string),
        );
        if self.written.lock().get(&key) == Some(&value) {
            return Ok(());
        }
        let profile = Profile {
            program_id: program_id.0,
            identity: identity.clone(),
            username: value.0.clone(),
            display_name: value.1.clone(),
        };
        upsert_profile(pool, &profile).await?;
        let mut written = self.written.lock();
        if written.len() >= MAX_REMEMBERED {
            written.clear();
        }
        written.insert(key, value);
        Ok(())
    }
}
