//! The modem's message memories (TS 27.005 §3.1): SIM ("SM"), phone ("ME") and status
//! reports ("SR"), each a bounded set of numbered slots holding a PDU and its status.

use std::collections::BTreeMap;

/// `<stat>` in PDU mode.
pub const REC_UNREAD: u8 = 0;
pub const REC_READ: u8 = 1;
pub const STO_UNSENT: u8 = 2;
pub const STO_SENT: u8 = 3;

/// One stored message: SCA + TPDU as `+CMGL` shows it, and the TPDU length.
#[derive(Debug, Clone)]
pub struct Slot {
    pub stat: u8,
    pub pdu: Vec<u8>,
    pub tpdu_len: usize,
}

/// One memory.
#[derive(Debug, Clone)]
pub struct Memory {
    pub capacity: usize,
    /// The lowest index (most modems count from 1, some from 0).
    pub first_index: u32,
    pub slots: BTreeMap<u32, Slot>,
}

impl Memory {
    pub fn new(capacity: usize, first_index: u32) -> Memory {
        Memory {
            capacity,
            first_index,
            slots: BTreeMap::new(),
        }
    }

    /// Stores in the lowest free slot; `None` when full.
    pub fn store(&mut self, slot: Slot) -> Option<u32> {
        if self.slots.len() >= self.capacity {
            return None;
        }
        let index = (self.first_index..).find(|i| !self.slots.contains_key(i))?;
        self.slots.insert(index, slot);
        Some(index)
    }

    pub fn valid_index(&self, index: u32) -> bool {
        index >= self.first_index && index < self.first_index + self.capacity as u32
    }

    /// `AT+CMGD=<index>,<delflag>`: 0 the one, 1 all read, 2 read and sent, 3 read, sent and
    /// unsent, 4 all. Returns the indexes deleted.
    pub fn delete(&mut self, index: u32, delflag: u8) -> Vec<u32> {
        let keep = |stat: u8| match delflag {
            1 => stat != REC_READ,
            2 => !matches!(stat, REC_READ | STO_SENT),
            3 => stat == REC_UNREAD,
            _ => false,
        };
        if delflag == 0 {
            return self
                .slots
                .remove(&index)
                .map(|_| index)
                .into_iter()
                .collect();
        }
        let gone: Vec<u32> = self
            .slots
            .iter()
            .filter(|(_, s)| !keep(s.stat))
            .map(|(&i, _)| i)
            .collect();
        for i in &gone {
            self.slots.remove(i);
        }
        gone
    }
}
