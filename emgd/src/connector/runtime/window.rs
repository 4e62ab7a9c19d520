//! The window of a windowed request/response protocol: the requests we sent that wait for
//! their response, by sequence number, with when each left (response timeouts), and the
//! sequence numbers themselves, drawn from the protocol's space.

use std::collections::{HashMap, VecDeque};
use tokio::time::Instant;

/// The sequence numbers one side gives its requests: SMPP 1..=0x7FFF_FFFF, UCP/EMI's TRN
/// 0..=99, CIMD2's packet numbers (odd ones, 1..=255, from the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqSpace {
    pub first: u32,
    pub last: u32,
    pub step: u32,
}

impl SeqSpace {
    fn after(&self, seq: u32) -> u32 {
        match seq.checked_add(self.step.max(1)) {
            Some(n) if n <= self.last => n,
            _ => self.first,
        }
    }

    fn size(&self) -> usize {
        ((self.last - self.first) / self.step.max(1)) as usize + 1
    }
}

/// Requests waiting for a response, each tagged with what it was (`T`).
#[derive(Debug)]
pub struct Window<T> {
    space: SeqSpace,
    next: u32,
    waiting: HashMap<u32, (T, Instant)>,
    /// (sequence, sent) in the order sent, for the oldest; answered ones are dropped lazily
    /// (the time tells a number reused since from the request it first stood for).
    order: VecDeque<(u32, Instant)>,
}

impl<T> Window<T> {
    pub fn new(space: SeqSpace) -> Window<T> {
        Window {
            space,
            next: space.first,
            waiting: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The next sequence number, skipping any still waiting (a small space such as UCP's
    /// wraps while old requests are outstanding). `None` when every number is taken.
    pub fn next_seq(&mut self) -> Option<u32> {
        if self.waiting.len() >= self.space.size() {
            return None;
        }
        loop {
            let seq = self.next;
            self.next = self.space.after(seq);
            if !self.waiting.contains_key(&seq) {
                return Some(seq);
            }
        }
    }

    /// Request `seq` (tagged `what`) left now.
    pub fn sent(&mut self, seq: u32, what: T) {
        let now = Instant::now();
        self.waiting.insert(seq, (what, now));
        self.order.push_back((seq, now));
    }

    /// The response to `seq` came: what it answers and when that left, unless nothing waits
    /// under that number.
    pub fn answered(&mut self, seq: u32) -> Option<(T, Instant)> {
        let found = self.waiting.remove(&seq);
        if self.order.front().is_some_and(|(s, _)| *s == seq) {
            self.order.pop_front();
        }
        found
    }

    /// When the oldest request still waiting left.
    pub fn oldest(&mut self) -> Option<Instant> {
        while let Some((seq, sent)) = self.order.front() {
            if self.waiting.get(seq).is_some_and(|(_, at)| at == sent) {
                return Some(*sent);
            }
            self.order.pop_front();
        }
        None
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Everything still waiting (the session ends).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.order.clear();
        self.waiting.drain().map(|(_, (t, _))| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_and_skip_those_in_use() {
        let ucp = SeqSpace {
            first: 0,
            last: 99,
            step: 1,
        };
        let mut w: Window<()> = Window::new(ucp);
        for want in 0..100 {
            let seq = w.next_seq().unwrap();
            assert_eq!(seq, want);
            if seq != 5 {
                w.sent(seq, ());
                w.answered(seq);
            } else {
                w.sent(seq, ());
            }
        }
        assert_eq!(w.next_seq(), Some(0), "wrapped");
        for _ in 1..5 {
            w.next_seq();
        }
        assert_eq!(w.next_seq(), Some(6), "5 is still waiting");
        let cimd = SeqSpace {
            first: 1,
            last: 255,
            step: 2,
        };
        let mut w: Window<()> = Window::new(cimd);
        let seqs: Vec<u32> = (0..129).map(|_| w.next_seq().unwrap()).collect();
        assert_eq!(&seqs[..3], &[1, 3, 5]);
        assert_eq!(seqs[127], 255);
        assert_eq!(seqs[128], 1);
    }

    #[test]
    fn a_full_space_gives_no_number_and_the_oldest_is_tracked() {
        let tiny = SeqSpace {
            first: 1,
            last: 3,
            step: 1,
        };
        let mut w: Window<&str> = Window::new(tiny);
        for what in ["a", "b", "c"] {
            let seq = w.next_seq().unwrap();
            w.sent(seq, what);
        }
        assert_eq!(w.next_seq(), None);
        let first = w.oldest().unwrap();
        assert_eq!(w.answered(1).map(|(t, _)| t), Some("a"));
        assert!(w.oldest().unwrap() >= first);
        assert_eq!(w.answered(1).map(|(t, _)| t), None, "answered once");
        assert_eq!(w.len(), 2);
        let mut rest: Vec<&str> = w.drain().collect();
        rest.sort();
        assert_eq!(rest, ["b", "c"]);
        assert!(w.oldest().is_none());
    }
}
