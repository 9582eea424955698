//! The deterministic discrete-event kernel: simulated time, the future-event
//! list, seeded random streams and distribution samplers.
//!
//! Nothing here knows what a service or a retry is, and nothing here does I/O;
//! the model in `crate::model` drives these pieces.

pub mod dist;
pub mod keys;
pub mod queue;
pub mod rng;
pub mod time;

pub use dist::Dist;
pub use queue::EventQueue;
pub use rng::RngStream;
pub use time::{SimDuration, SimTime};
