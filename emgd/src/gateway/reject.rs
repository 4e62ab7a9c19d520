//! Why a message was not accepted. Each protocol maps these to its own error codes.

use crate::router::NoRoute;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Reject {
    /// Permanent: the routing table has nothing for it.
    #[error(transparent)]
    NoRoute(#[from] NoRoute),
    /// Temporary: the server-wide or the target connector's queue is full.
    #[error("queue full: {0}")]
    QueueFull(String),
    /// Temporary: the store could not commit it.
    #[error("message could not be stored: {0}")]
    Store(#[from] StoreError),
    /// The gateway is shutting down.
    #[error("gateway is shutting down")]
    ShuttingDown,
    /// Permanent: the connector is transmit-only (`mode`): it takes no messages in.
    #[error("connector {0} is transmit-only: it takes no messages")]
    NotReceiving(String),
    /// Temporary: a reload removed the connector; it takes nothing new while it stops.
    #[error("connector {0} is being removed from the configuration: it takes no new messages")]
    Removed(String),
    /// Permanent: the blacklist refuses the source or destination address.
    #[error(transparent)]
    Refused(#[from] crate::process::Refused),
    /// Permanent until the balance is topped up: the account's prepaid balance does not cover
    /// the price (or a postpaid one would pass its limit).
    #[error("the balance of account {0} does not cover the price")]
    NoBalance(String),
    /// A plugin refused it; its kind says whether for good and what about.
    #[error(transparent)]
    Plugin(#[from] crate::plugin::Refusal),
}

impl Reject {
    /// The sender may try again later.
    pub fn is_temporary(&self) -> bool {
        match self {
            Reject::Plugin(r) => r.kind.is_temporary(),
            other => !matches!(
                other,
                Reject::NoRoute(_)
                    | Reject::Refused(_)
                    | Reject::NotReceiving(_)
                    | Reject::NoBalance(_)
            ),
        }
    }
}
