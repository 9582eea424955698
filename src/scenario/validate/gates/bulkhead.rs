//! Validating bulkheads: where they sit, how many attempts they let through
//! at once, and how many may wait for how long.

use crate::scenario::raw::RawBulkhead;
use crate::scenario::spec::BulkheadSpec;
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::super::{Checker, MAX_DURATION, positive_duration};

/// The most attempts a bulkhead lets through, or holds waiting: far beyond
/// any real pool, and small enough that its line's memory stays bounded.
const MAX_PLACES: u64 = 1_000_000;

impl Checker {
    pub(super) fn bulkhead(
        &mut self,
        name: &str,
        body: &Spanned<RawBulkhead>,
    ) -> Option<BulkheadSpec> {
        let path = format!("bulkheads.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let max_concurrent = self.required(
            &raw.max_concurrent,
            &format!("{path}.max_concurrent"),
            at,
            |t| units::parse_count(t, 1, MAX_PLACES),
        );
        let max_waiting = self.or(&raw.max_waiting, &format!("{path}.max_waiting"), 0, |t| {
            units::parse_count(t, 0, MAX_PLACES)
        }) as u32;
        let max_wait = raw.max_wait.as_ref().and_then(|text| {
            let wait_path = format!("{path}.max_wait");
            let wait = self.parse(text, &wait_path, |t| positive_duration(t, MAX_DURATION))?;
            if max_waiting == 0 {
                self.error(
                    Some(position_of(text)),
                    &wait_path,
                    "`max_wait` bounds the wait for a place, but `max_waiting` is 0, so no attempt \
                     ever waits: set `max_waiting` (how many may wait) or remove `max_wait`"
                        .to_string(),
                );
            }
            Some(wait)
        });
        let target = self.gate_target(raw.target.as_ref(), &path, at, "a bulkhead")?;
        Some(BulkheadSpec {
            name: name.to_string(),
            target,
            max_concurrent: max_concurrent? as u32,
            max_waiting,
            max_wait,
        })
    }
}
