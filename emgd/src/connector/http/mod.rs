//! Pieces shared by the HTTP connectors: request parameters and answers, the listener that
//! maps connections to instances, the client, and the DLR callbacks of incoming HTTP.

pub mod callback;
pub mod client;
pub mod listener;
pub mod params;
pub mod provider;
pub mod reply;
pub mod request;
pub mod template;
