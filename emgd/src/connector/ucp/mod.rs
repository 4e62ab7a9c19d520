//! UCP/EMI (CMG/LogicaCMG "EMI - UCP Interface" 4.x), both ways, on the connector runtime.
//!
//! | file | what |
//! |---|---|
//! | [`codec`] | `common::ucp`'s codec for the runtime; which frames are results |
//! | [`convert`] | 5x operations <-> `Message`: text and data, UDH in XSer, `AdC:SCTS` identities, notifications |
//! | [`outgoing`] | we are the client of an SMSC: operation 60 login, 31 keepalive, 51 submits, 52 and 53 taken |
//! | [`dialup`] | the transport of an outgoing connector with `phone` and `tty`: ATD, CONNECT, the call bridged, `+++`/ATH |
//! | [`incoming`] | we are the SMSC: operation 60 against the users, 51 stored then answered, 52 and 53 delivered |

pub mod codec;
pub mod convert;
pub mod dialup;
pub mod incoming;
pub mod outgoing;
