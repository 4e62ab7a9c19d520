//! The MGP server: the control plane `emgclient` (and any JSON-lines client) talks to.
//!
//! Top to bottom: [`listen`] accepts clients (TCP, TLS, the local socket) and gives each a
//! [`session`], which logs it in ([`auth`] for passwords, [`peer`] for peer credentials) and
//! hands each operation to a [`session::Service`]; [`dispatch`] is emgd's, with who may call
//! what ([`dispatch::required_role`]); one handler module per operation family answers:
//! [`connectors`], [`queue`], [`msg`], [`admin`], [`logs`], [`stream`]; [`server`] is the
//! state they share. [`admin_http`] offers some of the same operations over HTTP (EMG's
//! `/admin/...` and Kannel's status page, drawn by [`status_page`]).

pub mod accounting;
pub mod admin;
pub mod admin_http;
pub mod auth;
pub mod browse;
pub mod connectors;
pub mod dispatch;
pub mod listen;
pub mod logs;
pub mod msg;
pub mod nodes;
pub mod peer;
pub mod queue;
pub mod rates;
pub mod server;
pub mod session;
pub mod status_page;
pub mod stream;
pub mod tls;
