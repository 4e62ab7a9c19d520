//! Between SMPP's short-message bodies and the gateway's [`Message`]: one place for both
//! SMPP connectors, so incoming submits and MO from an SMSC read the same way, and outgoing
//! submit_sm and deliver_sm write the same way.

use common::message::{Address, Message, Origin};
use common::smpp::{Sm, SmppAddr};

pub fn smpp_addr(a: &Address) -> SmppAddr {
    SmppAddr::new(a.ton, a.npi, a.addr.clone())
}

pub fn address(a: &SmppAddr) -> Address {
    Address {
        ton: a.ton,
        npi: a.npi,
        addr: a.addr.clone(),
    }
}

/// A message received as submit_sm or deliver_sm, from `origin`.
pub fn message_from_sm(sm: &Sm, origin: Origin) -> Message {
    Message {
        source: address(&sm.source),
        dest: address(&sm.dest),
        data_coding: sm.data_coding,
        esm_class: sm.esm_class,
        protocol_id: sm.protocol_id,
        priority: sm.priority_flag,
        body: sm.payload().to_vec(),
        dlr_requested: sm.registered_delivery & 0x03 != 0,
        origin,
        ..Default::default()
    }
}

/// The body that carries `m` onwards (long bodies move into message_payload in the encoder).
pub fn sm_from_message(m: &Message) -> Sm {
    Sm {
        source: smpp_addr(&m.source),
        dest: smpp_addr(&m.dest),
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority,
        registered_delivery: u8::from(m.dlr_requested),
        data_coding: m.data_coding,
        short_message: m.body.clone().into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_round_trip_through_a_body() {
        let m = Message {
            source: Address {
                ton: 5,
                npi: 0,
                addr: "emg".into(),
            },
            dest: Address::new("46701234567"),
            data_coding: 8,
            esm_class: 0x40,
            protocol_id: 0x7f,
            priority: 2,
            body: vec![5, 0, 3, 1, 2, 1, 0, 0x41],
            dlr_requested: true,
            origin: Origin {
                connector: "smsc".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let back = message_from_sm(&sm_from_message(&m), m.origin.clone());
        assert_eq!(back, m);
    }
}
