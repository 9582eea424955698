//! Validating the `cost:` block: a price per component, by name.
//!
//! A service is priced per instance-hour and per million requests, a
//! consumer group per poller-hour, a queue per million API requests; a
//! price a kind cannot have is an error, as is a name that is none of them.

use crate::scenario::raw::{RawPrice, RawScenario};
use crate::scenario::spec::{ConsumerSpec, Price, Priced, Target};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::{Spanned, position_of};

use super::{Checker, number_in};

impl Checker {
    pub(super) fn prices(&mut self, raw: &RawScenario, consumers: &[ConsumerSpec]) -> Vec<Price> {
        let entries = raw.cost.iter().flat_map(|c| c.iter());
        entries
            .filter_map(|(name, body)| self.price(name, body, consumers))
            .collect()
    }

    fn price(
        &mut self,
        name: &str,
        body: &Spanned<RawPrice>,
        consumers: &[ConsumerSpec],
    ) -> Option<Price> {
        let path = format!("cost.{name}");
        let at = Some(position_of(body));
        let raw = &body.value;
        let amount = |checker: &mut Checker, text, key: &str| {
            checker.or(text, &format!("{path}.{key}"), 0.0, |t| {
                number_in(t, 0.0, 1e12)
            })
        };
        let per_instance_hour = amount(self, &raw.per_instance_hour, "per_instance_hour");
        let per_million_requests = amount(self, &raw.per_million_requests, "per_million_requests");
        let consumer = consumers.iter().position(|c| c.name == name);
        let component = match (self.targets.get(name).copied(), consumer) {
            (Some(Target::Service(id)), _) => Priced::Service(id),
            (Some(Target::Queue(id)), _) => Priced::Queue(id),
            (_, Some(id)) => Priced::Consumer(id as u32),
            _ => {
                let known = self
                    .targets
                    .iter()
                    .filter(|(_, t)| matches!(t, Target::Service(_) | Target::Queue(_)))
                    .map(|(n, _)| n.clone())
                    .chain(consumers.iter().map(|c| c.name.clone()))
                    .collect::<Vec<_>>();
                let mut message = format!(
                    "`{name}` is not a service, consumer group or queue of this scenario: only those are priced"
                );
                if let Some(close) = did_you_mean(name, known.iter().map(String::as_str)) {
                    message.push_str(&format!(" (did you mean `{close}`?)"));
                }
                self.error(at, &path, message);
                return None;
            }
        };
        let wrong = match component {
            Priced::Consumer(_) => raw.per_million_requests.as_ref().map(|t| {
                (t, "a consumer group is priced per poller-hour (`per_instance_hour`); its queue's requests are priced on the queue")
            }),
            Priced::Queue(_) => raw.per_instance_hour.as_ref().map(|t| {
                (t, "a queue is priced per million requests (`per_million_requests`), as SQS is")
            }),
            Priced::Service(_) => None,
        };
        if let Some((text, why)) = wrong {
            self.error(Some(position_of(text)), &path, why);
            return None;
        }
        Some(Price {
            component,
            per_instance_hour,
            per_million_requests,
        })
    }
}
