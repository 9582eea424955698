//! The names of things in flight: generational keys into the rooms' slot maps.
//!
//! Events that refer to a call, an attempt or a job carry one of these keys:
//! when that entity is gone (answered, abandoned, cancelled) the key no
//! longer resolves and the event is a no-op, which is how timers are
//! cancelled.

use slotmap::new_key_type;

new_key_type! {
    /// A logical call from a caller to a target, across all its attempts.
    pub struct CallKey;
    /// One try of a call, sent to one instance.
    pub struct AttemptKey;
    /// One request being queued or served at an instance.
    pub struct JobKey;
    /// An attempt delayed on its way by a latency fault.
    pub struct TransitKey;
    /// An attempt crossing an edge's network to its target.
    pub struct PacketKey;
    /// A cache's backend call filling one key.
    pub struct FillKey;
    /// A message in a queue.
    pub struct MessageKey;
    /// Messages a consumer's poller received together.
    pub struct BatchKey;
    /// An asynchronous job, from its submit until both the system and its
    /// client are done with it.
    pub struct AsyncJobKey;
}
