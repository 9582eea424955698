//! The time series: one row of rates and averages per sample interval.

use super::sim::{Event, Simulation};

impl Simulation<'_> {
    pub(super) fn on_sample(&mut self) {
        for index in 0..self.services.instances.len() {
            self.services.advance_areas(index as u32, self.kernel.now);
        }
        let services = self.kernel.scenario.services.len();
        self.recorder.running.busy_integral = vec![0; services];
        self.recorder.running.queue_integral = vec![0; services];
        for instance in &self.services.instances {
            let service = instance.service as usize;
            self.recorder.running.busy_integral[service] += instance.busy_area.integral();
            self.recorder.running.queue_integral[service] += instance.queue_area.integral();
        }
        for (service, state) in self.services.states.iter_mut().enumerate() {
            state
                .ready_area
                .advance(self.kernel.now, u64::from(state.ready));
            self.recorder.running.ready_integral[service] = state.ready_area.integral();
        }
        let workers: Vec<u64> = self
            .kernel
            .scenario
            .services
            .iter()
            .map(|s| u64::from(s.workers))
            .collect();
        for (queue, state) in self.queues.states.iter().enumerate() {
            self.recorder.running.queue_depth[queue] = state.depth();
            self.recorder.running.queue_in_flight[queue] = state.in_flight;
            self.recorder.running.queue_oldest_age_s[queue] =
                state.oldest_age(self.kernel.now).as_secs_f64();
        }
        self.gates_at_sample();
        self.recorder
            .timeseries
            .sample(self.kernel.now, &self.recorder.running, &workers);
        let next_at = self.kernel.now + self.kernel.scenario.sample_interval;
        if next_at <= self.kernel.end_at() {
            self.kernel.schedule(next_at, Event::Sample);
        }
    }
}
