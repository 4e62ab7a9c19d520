//! Accounting: what a message is charged and costs ([`price`]).

pub mod price;
