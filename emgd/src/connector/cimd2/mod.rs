//! CIMD2 (Nokia's "CIMD Interface Specification", CIMD 2), both ways, on the connector
//! runtime.
//!
//! | file | what |
//! |---|---|
//! | [`codec`] | `common::cimd2`'s codec for the runtime; which packets are responses |
//! | [`convert`] | submit / deliver message / status report <-> `Message`, `destination:SCTS` identities |
//! | [`outgoing`] | we are the client of an SMSC: login, alive, submits, deliveries and status reports taken |
//! | [`incoming`] | we are the SMSC: login against the users, submits stored then answered, 20 and 23 delivered |

pub mod codec;
pub mod convert;
pub mod incoming;
pub mod outgoing;
