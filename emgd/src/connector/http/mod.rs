//! HTTP, both ways, on the connector runtime.
//!
//! | file | what |
//! |---|---|
//! | [`incoming`] | the send API for applications (`/bin/send`, `/cgi-bin/sendsms`, `/send`), status lookups |
//! | [`balance`] | Jasmin's `/balance` and `/rate` queries |
//! | [`callback`] | incoming HTTP's outgoing side: DLR callbacks to the URL each sender gave, MO pushes |
//! | [`mo_push`] | the request pushing an MO message to the application's `mo_url` |
//! | [`outgoing`] | messages sent to a provider's HTTP API |
//! | [`provider`] | outgoing HTTP's incoming side: the provider's DLRs and MO messages (`dlr_address`) |
//! | [`convert`] | requests <-> `Message`: send requests, provider requests and answers, provider DLRs and MO |
//! | [`params`], [`send`] | request parameters, and what a send request's parameters mean |
//! | [`request`], [`reply`] | reading a request (credentials, body); refusals and error codes |
//! | [`answer`] | a send's answer in each dialect's shape (Kannel, Jasmin, EMG text/XML/JSON) |
//! | [`listener`] | the listening socket: one instance per connection |
//! | [`client`], [`template`] | the HTTP client; `{placeholder}` templates for provider requests |

pub mod answer;
pub mod balance;
pub mod callback;
pub mod client;
pub mod convert;
pub mod incoming;
pub mod limits;
pub mod listener;
pub mod mo_push;
pub mod outgoing;
pub mod params;
pub mod provider;
pub mod reply;
pub mod request;
pub mod send;
pub mod template;
