//! A small deterministic generator for the codec fuzz tests, so a failure reproduces.
#![allow(dead_code)]

pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    pub fn digits(&mut self, max: usize) -> String {
        (0..self.below(max + 1))
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    pub fn fixed(&mut self, len: usize) -> String {
        if self.chance(2) {
            String::new()
        } else {
            (0..len)
                .map(|_| char::from(b'0' + self.below(10) as u8))
                .collect()
        }
    }
    pub fn flag(&mut self) -> Option<bool> {
        [None, Some(false), Some(true)][self.below(3)]
    }
    pub fn digit(&mut self, max: u8) -> Option<u8> {
        (!self.chance(2)).then(|| self.below(usize::from(max) + 1) as u8)
    }
    pub fn num(&mut self, max: u16) -> Option<u16> {
        (!self.chance(2)).then(|| self.below(usize::from(max) + 1) as u16)
    }
    pub fn octets(&mut self, max: usize) -> Vec<u8> {
        (0..self.below(max + 1))
            .map(|_| self.next() as u8)
            .collect()
    }
    pub fn septets(&mut self, max: usize) -> Vec<u8> {
        (0..self.below(max + 1))
            .map(|_| self.below(128) as u8)
            .collect()
    }
    /// Printable IRA without the separator.
    pub fn ira(&mut self, max: usize) -> String {
        (0..self.below(max + 1))
            .map(|_| loop {
                let c = char::from(0x20 + self.below(95) as u8);
                if c != '/' {
                    break c;
                }
            })
            .collect()
    }
    pub fn extra(&mut self) -> Vec<String> {
        if self.chance(4) {
            (0..1 + self.below(3)).map(|_| self.ira(5)).collect()
        } else {
            Vec::new()
        }
    }
}
