//! The console's manual, made from the keymap and the command table so that `emgclient
//! tui --help` and the man pages (generated from clap) always tell what the code does.

use super::state::command::COMMANDS;
use super::state::keymap::{Scope, TABLE};

/// Where a binding works, as the manual says it.
fn scope_name(s: Scope) -> &'static str {
    match s {
        Scope::All => "everywhere",
        Scope::Connectors => "connectors",
        Scope::AnyConnector => "connectors, connector",
        Scope::Messages => "messages",
        Scope::AnyMessage => "messages, message",
        Scope::AnyQueue => "connectors, connector, queues",
        Scope::Log => "connectors, connector, logs",
        Scope::LogsOnly => "logs",
    }
}

/// The whole text: views, commands, keys, settings.
pub fn text() -> String {
    let mut out = String::from(
        "THE CONSOLE

`emgclient` without a command (or `emgclient tui`) opens the operator console, a full-screen \
view of the gateway in the manner of k9s. Each view lists one kind of thing; `:` switches \
views, Enter opens the selected row (a connector, then its queue, then a message), Esc goes \
back; the second line shows the trail (breadcrumbs). `/` filters the rows of every view, `?` \
lists the keys of the view on screen. The mouse selects rows and its wheel scrolls. State \
comes pushed by emgd (MGP watch); the console reconnects by itself when emgd restarts.

Views and commands (Tab completes commands, connector names and search criteria):
",
    );
    for (name, aliases, arg, what) in COMMANDS {
        let mut head = format!(":{name}");
        if !arg.is_empty() {
            head.push(' ');
            head.push_str(arg);
        }
        if !aliases.is_empty() {
            head.push_str(&format!(" (also :{})", aliases.join(", :")));
        }
        out.push_str(&format!("  {head}\n      {what}\n"));
    }
    out.push_str(
        "
Messages are read from emgd's store: a queue page by page (oldest first), a search newest \
first, messages under way from the store and finished ones from the routelog. A search stops \
after 3 seconds with what it found and says so. Cancel, move, resend and DLR injection act on \
the marked rows (space, a) or on the one under the cursor, after a confirmation; several at \
once show a progress bar.

Keys (ACTION names for the settings file; where the key works):
",
    );
    for (_, name, keys, scope, acts, what) in TABLE {
        let mark = if *acts { " *" } else { "" };
        out.push_str(&format!(
            "  {}  ({name}; {}){mark}\n      {what}\n",
            keys.join(" "),
            scope_name(*scope)
        ));
    }
    out.push_str(
        "  (* changes something on emgd: not offered to an operator of role readonly)

Keys are set in ~/.config/emgclient/config.toml (or $XDG_CONFIG_HOME/emgclient/config.toml), \
table [keys], ACTION = \"KEY\" or [\"KEY\", ...]; a key is a character, ctrl-X, alt-X, enter, \
esc, tab, space, up, down, left, right, pgup, pgdn, home, end, delete, backspace or f1-f12. \
An unknown action, a key that is none, or one key for two actions of the same view is refused \
at start with the file's name.

Colours follow the terminal: 24-bit ones with COLORTERM=truecolor (or 24bit), the xterm \
256-colour palette when TERM names a 256-colour terminal (xterm-256color, tmux-256color ...), \
the 16 basic ones otherwise. With NO_COLOR set (to anything but empty) or TERM=dumb the \
console draws without colours: states read by their words, the selection by reverse video. \
EMGCLIENT_COLORS=none|16|256|truecolor overrides the detection. It fits 80x24; wider \
terminals get more columns.
",
    );
    out
}

/// The root command's long help: the console, then the exit codes.
pub fn root_after_long_help() -> String {
    format!("{}\n{}", text(), crate::exit::EXIT_CODES_HELP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_command_is_in_the_manual() {
        let t = text();
        for (_, name, keys, ..) in TABLE {
            let head = format!("  {}  ({name}; ", keys.join(" "));
            assert!(
                t.lines().any(|l| l.starts_with(&head)),
                "{head} not in the manual"
            );
        }
        for (name, ..) in COMMANDS {
            assert!(t.contains(&format!("  :{name}")), "{name}");
        }
    }
}
