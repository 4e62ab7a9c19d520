//! What kind of connector a table describes: its direction and protocol. Every other module
//! of the model refers to these, so they stand apart, below all of them.

/// Whether a connector accepts (incoming) or initiates (outgoing) connections. Says nothing about
/// which way messages flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Listens for clients.
    Incoming,
    /// Connects to an SMSC or other peer.
    Outgoing,
}

/// Wire protocol of a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// SMPP 3.3/3.4/5.0.
    Smpp,
    /// HTTP.
    Http,
    /// SMTP (e-mail).
    Smtp,
    /// UCP/EMI.
    Ucp,
    /// CIMD2.
    Cimd2,
    /// Messaging Gateway Protocol.
    Mgp,
    /// External program ("EBE"); the address is a program path.
    Ebe,
    /// GSM modem on a tty.
    Gsm,
    /// Built-in SMSC simulator, for tests and load runs; needs no address.
    Sim,
}
