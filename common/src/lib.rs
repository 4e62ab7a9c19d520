//! Shared by every emg program: the message model and the sans-io protocol codecs.
//!
//! Nothing in this crate performs I/O. A codec turns bytes into typed frames and back;
//! sockets, timers and tasks live in `emgd` and `emgclient`.

pub mod at;
pub mod cimd2;
pub mod concat;
pub mod dlr;
pub mod dlrid;
pub mod gsm;
pub mod hex;
pub mod message;
pub mod mgp;
pub mod mime;
pub mod smpp;
pub mod sms_pdu;
pub mod smtp;
pub mod ucp;
