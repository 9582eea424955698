//! The future-event list: a priority queue keyed by (time, sequence number).
//!
//! A binary heap alone does not say which of two events at the same instant
//! comes first, and "heap accident" order would make results depend on the
//! heap's internals. Every event therefore gets a sequence number when it is
//! scheduled, and ties in time break by that number: first scheduled, first
//! delivered. The queue is generic over the event type so that the kernel knows
//! nothing about the model.
//!
//! Two kinds of event skip most of the heap's work without changing that
//! order. Events due at the current instant go to a FIFO. And timers that a
//! caller promises to schedule in non-decreasing time order on one *lane*
//! (an edge's per-attempt timeouts: always now plus the same duration) wait
//! in that lane's FIFO, with only the lane's earliest in the heap; when it
//! is popped, the lane's next takes its place with its own (time, sequence).
//! The heap then holds one entry per lane instead of one per pending timer,
//! and most of those timers are dead by the time they are due.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::time::SimTime;

/// An event with its place in the order: time in the high 64 bits of `key`,
/// sequence number in the low, so one integer comparison orders two
/// entries (the heap's sifting compares at every level).
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn new(at: SimTime, seq: u64, event: E) -> Self {
        Entry {
            key: (u128::from(at.0) << 64) | u128::from(seq),
            event,
        }
    }

    fn at(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
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
        other.key.cmp(&self.key)
    }
}

/// What a heap entry stands for: an event, or the earliest event of a lane.
enum Pending<E> {
    Event(E),
    LaneHead(u32),
}

/// Pending events in (time, insertion) order.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<Pending<E>>>,
    /// Per lane, its events in the order scheduled, which is time order.
    lanes: Vec<VecDeque<Entry<E>>>,
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
            lanes: Vec::new(),
            due_now: VecDeque::with_capacity(64),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// A queue with `lanes` lanes for [`EventQueue::schedule_in_lane`].
    pub fn with_lanes(lanes: usize) -> Self {
        let mut queue = EventQueue::new();
        queue.lanes = (0..lanes).map(|_| VecDeque::new()).collect();
        queue
    }

    /// The next sequence number, checking that `at` is not in the past: an
    /// event before the clock would be delivered out of order.
    fn next_seq_at(&mut self, at: SimTime) -> u64 {
        debug_assert!(
            at >= self.now,
            "scheduled into the past: {at:?} < {:?}",
            self.now
        );
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Schedules `event` at `at`, which must not be in the past.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq_at(at);
        if at == self.now {
            self.due_now.push_back(Entry::new(at, seq, event));
        } else {
            self.heap.push(Entry::new(at, seq, Pending::Event(event)));
        }
    }

    /// Schedules `event` at `at` on `lane`, whose events must be scheduled
    /// in non-decreasing time order (checked in debug builds). It comes out
    /// exactly where [`EventQueue::schedule`] would have put it.
    pub fn schedule_in_lane(&mut self, lane: u32, at: SimTime, event: E) {
        let seq = self.next_seq_at(at);
        if at == self.now {
            self.due_now.push_back(Entry::new(at, seq, event));
            return;
        }
        let queue = &mut self.lanes[lane as usize];
        debug_assert!(
            queue.back().is_none_or(|last| last.at() <= at),
            "lane {lane} scheduled out of time order"
        );
        queue.push_back(Entry::new(at, seq, event));
        if queue.len() == 1 {
            self.heap.push(Entry::new(at, seq, Pending::LaneHead(lane)));
        }
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        // Most events are scheduled ahead: the heap alone, first.
        let from_due_now = match self.due_now.front() {
            None => false,
            Some(now) => self.heap.peek().is_none_or(|next| now.key < next.key),
        };
        let entry = if from_due_now {
            self.due_now.pop_front()?
        } else {
            let head = self.heap.pop()?;
            match head.event {
                Pending::Event(event) => Entry {
                    key: head.key,
                    event,
                },
                Pending::LaneHead(lane) => self.pop_lane(lane),
            }
        };
        let at = entry.at();
        debug_assert!(at >= self.now, "time went backwards");
        self.now = at;
        Some((at, entry.event))
    }

    /// Takes a lane's earliest event, putting the next one in the heap.
    fn pop_lane(&mut self, lane: u32) -> Entry<E> {
        let queue = &mut self.lanes[lane as usize];
        let entry = queue.pop_front().expect("a lane in the heap has an event");
        if let Some(next) = queue.front() {
            let key = next.key;
            let event = Pending::LaneHead(lane);
            self.heap.push(Entry { key, event });
        }
        entry
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        match (self.due_now.front(), self.heap.peek()) {
            (Some(now), _) => Some(now.at()),
            (None, next) => next.map(Entry::at),
        }
    }

    pub fn len(&self) -> usize {
        let in_lanes: usize = self.lanes.iter().map(VecDeque::len).sum();
        let lane_heads = self.lanes.iter().filter(|lane| !lane.is_empty()).count();
        self.heap.len() - lane_heads + in_lanes + self.due_now.len()
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

    /// Lanes change where an event waits, never when it comes out: random
    /// schedules, some on lanes (non-decreasing per lane) and some not, pop
    /// in the same order from a queue with lanes as from one without.
    #[test]
    fn lanes_keep_the_order_of_a_plain_heap() {
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let mut laned = EventQueue::with_lanes(3);
        let mut plain = EventQueue::new();
        let mut label = 0u32;
        for _ in 0..20_000 {
            if next(3) > 0 || laned.is_empty() {
                let now = laned.now;
                let lane = next(4);
                let at = match lane {
                    3 => now + crate::engine::SimDuration(next(50)),
                    // A lane's timers: now plus the lane's own constant.
                    _ => now + crate::engine::SimDuration(10 * (lane + 1)),
                };
                match lane {
                    3 => laned.schedule(at, label),
                    _ => laned.schedule_in_lane(lane as u32, at, label),
                }
                plain.schedule(at, label);
                label += 1;
            } else {
                assert_eq!(laned.pop(), plain.pop());
                assert_eq!(laned.len(), plain.len());
            }
        }
        while let Some(popped) = plain.pop() {
            assert_eq!(laned.pop(), Some(popped));
        }
        assert!(laned.is_empty());
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
