//! Validating shapers: where they sit, their pace, and how long they may
//! hold an attempt back.

use crate::engine::SimDuration;
use crate::scenario::raw::{RawShaper, Text};
use crate::scenario::spec::ShaperSpec;
use crate::scenario::units;
use crate::scenario::yaml::{Spanned, position_of};

use super::super::{Checker, MAX_DURATION};

impl Checker {
    pub(super) fn shaper(&mut self, name: &str, body: &Spanned<RawShaper>) -> Option<ShaperSpec> {
        let path = format!("shapers.{name}");
        let raw = &body.value;
        let at = Some(position_of(body));
        let rate_per_s = self.gate_rate(&raw.rate, &path, at, "a shaper's");
        let max_delay = self.or(
            &raw.max_delay,
            &format!("{path}.max_delay"),
            SimDuration::ZERO,
            |t| match units::parse_duration(t)? {
                delay if delay > MAX_DURATION => {
                    Err(format!("`{t}` is longer than the limit of {MAX_DURATION}"))
                }
                delay => Ok(delay),
            },
        );
        if let Some(text) = &raw.max_delay {
            self.check_callers_wait(name, max_delay, text, &format!("{path}.max_delay"));
        }
        let target = self.gate_target(raw.target.as_ref(), &path, at, "a shaper")?;
        Some(ShaperSpec {
            name: name.to_string(),
            target,
            rate_per_s: rate_per_s?,
            max_delay,
        })
    }

    /// A shaper that holds an attempt back longer than its caller waits
    /// spends that attempt's turn on nobody: once turns are that far away,
    /// every attempt held back is given up on and the target starves.
    fn check_callers_wait(&mut self, name: &str, max_delay: SimDuration, text: &Text, path: &str) {
        let Some(&shaper) = self.targets.get(name) else {
            return;
        };
        let shortest = self
            .edges
            .iter()
            .filter(|edge| edge.target == shaper)
            .filter_map(|edge| {
                let policy = &edge.policy;
                let wait = match (policy.timeout_per_attempt, policy.deadline) {
                    (Some(timeout), Some(deadline)) => Some(timeout.min(deadline)),
                    (timeout, deadline) => timeout.or(deadline),
                };
                wait.map(|wait| (wait, edge.caller.clone()))
            })
            .min();
        if let Some((wait, caller)) = shortest.filter(|(wait, _)| max_delay >= *wait) {
            self.error(
                Some(position_of(text)),
                path,
                format!(
                    "a max_delay of {max_delay} is not shorter than the {wait} that `{caller}` waits for its calls \
                     to `{name}`: an attempt held back that long is given up on before its turn, and its turn \
                     is spent, so the shaper would starve what it guards; keep max_delay below {wait}"
                ),
            );
        }
    }
}
