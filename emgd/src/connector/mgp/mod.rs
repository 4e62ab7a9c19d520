//! MGP for applications (`protocol = "mgp"`, incoming), on the connector runtime: the same
//! newline-delimited JSON as emgd's control listener (`common::mgp`, `man/mgp.7`), spoken by
//! applications that log in as `[user.NAME]` to submit messages and be delivered their
//! reports and MO messages.
//!
//! | file | what |
//! |---|---|
//! | [`codec`] | `common::mgp`'s line codec for the runtime; which frames answer ours |
//! | [`options`] | EMG's MGP options by name <-> `Message`; `MSGTYPE`=5 injected reports |
//! | [`incoming`] | login against the users, `submit` stored then answered, `deliver` pushed, own messages only |

pub mod codec;
pub mod incoming;
pub mod options;
