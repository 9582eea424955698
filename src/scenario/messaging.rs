//! The validated model of asynchronous messaging: queues with the semantics
//! of Amazon SQS, topics that fan messages out to queues, and the consumer
//! groups that poll queues and process what they receive in batches.
//!
//! These are plain data like the rest of [`super::spec`]: names resolved to
//! ids, values in range and in engine units.

use crate::engine::{Dist, SimDuration};

pub type QueueId = u32;
pub type TopicId = u32;
pub type ConsumerId = u32;

/// A message queue, with the keys SQS users know.
#[derive(Clone, Debug)]
pub struct QueueSpec {
    pub name: String,
    /// A received message stays invisible this long unless it is deleted.
    pub visibility_timeout: SimDuration,
    /// A sent message becomes visible only after this long.
    pub delay: SimDuration,
    /// A message this long after it was first sent expires, wherever it is.
    pub retention: SimDuration,
    /// Messages held at most (visible, delayed and in flight); `None`: unbounded, as SQS.
    pub capacity: Option<u32>,
    pub when_full: WhenFull,
    pub fifo: Option<MessageGroups>,
    pub redrive: Option<Redrive>,
}

/// What a full queue does with one more message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// The new message is refused: a synchronous producer hears a rejection.
    DropNewest,
    /// The oldest visible message is thrown away to make room.
    DropOldest,
    /// The producer waits until there is room (flow control), or gives up at its timeout.
    Block,
}

impl WhenFull {
    pub const NAMES: [&'static str; 3] = ["drop_newest", "drop_oldest", "block"];
}

/// How a FIFO queue groups its messages: order holds within a group, and a
/// group with a message in flight delivers nothing else until it is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageGroups {
    /// One group: a total order.
    Single,
    /// The request's key is the group (`keys:` on the source).
    ByKey,
}

/// SQS's redrive policy: a message received `max_receive_count` times and
/// still not deleted moves to the dead-letter queue at its next receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_queue: QueueId,
    pub max_receive_count: u32,
}

/// A topic: every message sent to it is copied to each subscribed queue.
#[derive(Clone, Debug)]
pub struct TopicSpec {
    pub name: String,
    pub subscribers: Vec<QueueId>,
}

/// A group of pollers receiving from one queue (competing consumers).
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    pub name: String,
    pub queue: QueueId,
    pub pollers: u32,
    /// At most this many messages per receive (the batch size).
    pub max_messages: u32,
    /// Long polling: an empty receive waits up to this long for a message;
    /// zero is a short poll, which answers at once.
    pub wait_time: SimDuration,
    /// After the first message, wait up to this long for a full batch
    /// (Lambda's maximum batching window); zero: take what is there.
    pub batch_window: SimDuration,
    /// A poller pauses this long after an empty receive.
    pub empty_receive_delay: SimDuration,
    /// Processing a batch takes this once, plus `time_per_message` per message.
    pub time_per_batch: Dist,
    pub time_per_message: Dist,
    /// Each message fails with this probability; a failed message is not
    /// deleted and returns when its visibility timeout ends.
    pub failure_rate: f64,
    /// The whole batch fails with this probability.
    pub batch_failure_rate: f64,
    /// This fraction of messages can never be processed (poison messages):
    /// the same messages fail at every receive.
    pub poison_fraction: f64,
    /// Calls made for each message after its processing, one after another.
    pub calls: Vec<u32>,
    /// A scheduled batch job instead of continuous polling.
    pub schedule: Option<Schedule>,
    /// On a failed message, hide it for a growing backoff instead of the
    /// rest of its visibility timeout (SQS `ChangeMessageVisibility`).
    pub redelivery: Option<Redelivery>,
}

/// The visibility a consumer gives a message it failed: after its n-th
/// receive, base · multiplier^(n−1), capped at max, jittered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Redelivery {
    pub backoff: super::spec::Backoff,
    pub jitter: super::spec::Jitter,
}

/// When a scheduled job runs: at `first_at`, then every `every`. Each run's
/// pollers receive until the queue is empty, then stop until the next run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub first_at: SimDuration,
    pub every: SimDuration,
}
