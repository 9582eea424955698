//! The future-event list: a priority queue keyed by (time, sequence number).
//!
//! A binary heap alone does not say which of two events at the same instant
//! comes first, and "heap accident" order would make results depend on the
//! heap's internals. Every event therefore gets a sequence number when it is
//! scheduled, and ties in time break by that number: first scheduled, first
//! delivered. The queue is generic over the event type so that the kernel knows
//! nothing about the model.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::SimTime;

struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, because `BinaryHeap` is a max-heap and we want the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Pending events in (time, insertion) order.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Events scheduled for the current instant, in the order scheduled.
    /// They need no heap round-trip: each comes after every event already
    /// due now (a larger sequence number) and before anything later, so a
    /// queue in arrival order keeps the (time, sequence) order exactly.
    due_now: VecDeque<Entry<E>>,
    next_seq: u64,
    /// The time of the last event popped: the clock. Nothing may be
    /// scheduled before it.
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            due_now: VecDeque::with_capacity(64),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// Schedules `event` at `at`, which must not be in the past: an event
    /// before the clock would be delivered out of order.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        debug_assert!(
            at >= self.now,
            "scheduled into the past: {at:?} < {:?}",
            self.now
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry { at, seq, event };
        if at == self.now {
            self.due_now.push_back(entry);
        } else {
            self.heap.push(entry);
        }
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        // Most events are scheduled ahead: the heap alone, first.
        let from_due_now = match self.due_now.front() {
            None => false,
            Some(now) => self
                .heap
                .peek()
                .is_none_or(|next| (now.at, now.seq) < (next.at, next.seq)),
        };
        let entry = if from_due_now {
            self.due_now.pop_front()?
        } else {
            self.heap.pop()?
        };
        debug_assert!(entry.at >= self.now, "time went backwards");
        self.now = entry.at;
        Some((entry.at, entry.event))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        match (self.due_now.front(), self.heap.peek()) {
            (Some(now), _) => Some(now.at),
            (None, next) => next.map(|entry| entry.at),
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.due_now.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.due_now.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut queue = EventQueue::new();
        let schedule = [(5, 'a'), (1, 'b'), (5, 'c'), (1, 'd'), (3, 'e'), (5, 'f')];
        for (at, label) in schedule {
            queue.schedule(SimTime(at), label);
        }
        let mut order = Vec::new();
        while let Some((at, label)) = queue.pop() {
            order.push((at.0, label));
        }
        assert_eq!(
            order,
            vec![(1, 'b'), (1, 'd'), (3, 'e'), (5, 'a'), (5, 'c'), (5, 'f')]
        );
    }

    /// Events scheduled for the current instant, mixed with events already
    /// due at it and with later ones, come out in (time, sequence) order.
    #[test]
    fn events_due_now_keep_the_order_of_a_plain_heap() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime(5), 0u32);
        queue.schedule(SimTime(5), 1);
        queue.schedule(SimTime(9), 2);
        let mut order = Vec::new();
        while let Some((at, label)) = queue.pop() {
            order.push((at.0, label));
            // On first reaching 5: two more at once, one later.
            if label == 0 {
                queue.schedule(SimTime(5), 10);
                queue.schedule(SimTime(5), 11);
                queue.schedule(SimTime(7), 12);
            }
            if label == 10 {
                queue.schedule(SimTime(5), 13);
            }
        }
        assert_eq!(
            order,
            vec![(5, 0), (5, 1), (5, 10), (5, 11), (5, 13), (7, 12), (9, 2)]
        );
        assert!(queue.is_empty());
    }

    #[test]
    fn many_ties_keep_fifo_order_across_heap_growth() {
        let mut queue = EventQueue::new();
        for label in 0..10_000u32 {
            queue.schedule(SimTime(42), label);
        }
        let popped: Vec<u32> = std::iter::from_fn(|| queue.pop().map(|(_, l)| l)).collect();
        assert_eq!(popped, (0..10_000).collect::<Vec<_>>());
    }
}
