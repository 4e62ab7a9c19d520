//! A V.250 command line (`AT` and what follows) split into its commands.
//!
//! Real software chains commands: basic ones back to back (`ATE0V1`), extended ones after `+`
//! separated by `;` (`AT+CMEE=1;+CMGF=0`). Each becomes one [`Cmd`]; the modem runs them in
//! order and stops at the first that fails, answering one final result code for the line.

/// What an extended command asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `+NAME`
    Exec,
    /// `+NAME?`
    Read,
    /// `+NAME=?`
    Test,
    /// `+NAME=<args>` (the raw argument text).
    Set(String),
}

/// One command of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// A basic command: a letter (or `&` and a letter) and an optional number (`E0`, `&F`, `Z`).
    Basic { name: String, value: Option<u32> },
    /// `S<n>=<v>` or `S<n>?`.
    Register { n: u32, value: Option<u32> },
    /// `D<dial string>`: the rest of the line up to `;`.
    Dial(String),
    /// `+NAME`, `^NAME`, ... with its operation; the name is upper case, prefix included.
    Extended { name: String, op: Op },
}

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// Splits the text after `AT` into commands.
pub fn parse(body: &str) -> Result<Vec<Cmd>, Malformed> {
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let number = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        (start < *i)
            .then(|| chars[start..*i].iter().collect::<String>().parse().ok())
            .flatten()
    };
    while i < chars.len() {
        let c = chars[i].to_ascii_uppercase();
        i += 1;
        match c {
            ' ' | ';' => {}
            '+' | '^' | '$' | '*' | '%' | '#' => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], '=' | '?' | ';') {
                    i += 1;
                }
                let name: String = std::iter::once(c)
                    .chain(chars[start..i].iter().map(|c| c.to_ascii_uppercase()))
                    .collect::<String>()
                    .trim()
                    .to_string();
                if name.len() < 2 {
                    return Err(Malformed);
                }
                let op = match (chars.get(i), chars.get(i + 1)) {
                    (Some('?'), _) => {
                        i += 1;
                        Op::Read
                    }
                    (Some('='), Some('?')) => {
                        i += 2;
                        Op::Test
                    }
                    (Some('='), _) => {
                        i += 1;
                        let start = i;
                        let mut quoted = false;
                        while i < chars.len() && (quoted || chars[i] != ';') {
                            quoted ^= chars[i] == '"';
                            i += 1;
                        }
                        Op::Set(
                            chars[start..i]
                                .iter()
                                .collect::<String>()
                                .trim()
                                .to_string(),
                        )
                    }
                    _ => Op::Exec,
                };
                out.push(Cmd::Extended { name, op });
            }
            'D' => {
                let start = i;
                while i < chars.len() && chars[i] != ';' {
                    i += 1;
                }
                out.push(Cmd::Dial(chars[start..i].iter().collect()));
            }
            'S' => {
                let n = number(&mut i).ok_or(Malformed)?;
                let value = match chars.get(i) {
                    Some('=') => {
                        i += 1;
                        Some(number(&mut i).unwrap_or(0))
                    }
                    Some('?') => {
                        i += 1;
                        None
                    }
                    _ => return Err(Malformed),
                };
                out.push(Cmd::Register { n, value });
            }
            '&' => {
                let letter = chars.get(i).ok_or(Malformed)?.to_ascii_uppercase();
                if !letter.is_ascii_alphabetic() {
                    return Err(Malformed);
                }
                i += 1;
                out.push(Cmd::Basic {
                    name: format!("&{letter}"),
                    value: number(&mut i),
                });
            }
            c if c.is_ascii_alphabetic() => out.push(Cmd::Basic {
                name: c.to_string(),
                value: number(&mut i),
            }),
            _ => return Err(Malformed),
        }
    }
    Ok(out)
}

/// Splits `+CMD=` arguments on commas outside quotes; quotes are removed.
pub fn args(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().expect("never empty").push(c),
        }
    }
    out.into_iter().map(|a| a.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, op: Op) -> Cmd {
        Cmd::Extended {
            name: name.into(),
            op,
        }
    }

    #[test]
    fn command_lines_split_as_v250_says() {
        let basic = |n: &str, v| Cmd::Basic {
            name: n.into(),
            value: v,
        };
        let cases: Vec<(&str, Vec<Cmd>)> = vec![
            ("", vec![]),
            ("E0V1", vec![basic("E", Some(0)), basic("V", Some(1))]),
            ("&FZ", vec![basic("&F", None), basic("Z", None)]),
            ("+CMGF=0", vec![ext("+CMGF", Op::Set("0".into()))]),
            (
                "+CMEE=1;+cpms?;+CNMI=?",
                vec![
                    ext("+CMEE", Op::Set("1".into())),
                    ext("+CPMS", Op::Read),
                    ext("+CNMI", Op::Test),
                ],
            ),
            (
                "E0+CMEE=1",
                vec![basic("E", Some(0)), ext("+CMEE", Op::Set("1".into()))],
            ),
            (
                "+CSCA=\"+4670;1\",145",
                vec![ext("+CSCA", Op::Set("\"+4670;1\",145".into()))],
            ),
            (
                "S0=0",
                vec![Cmd::Register {
                    n: 0,
                    value: Some(0),
                }],
            ),
            ("D0701234567", vec![Cmd::Dial("0701234567".into())]),
            ("+CGMI", vec![ext("+CGMI", Op::Exec)]),
            ("^CVOICE=0", vec![ext("^CVOICE", Op::Set("0".into()))]),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), Ok(want), "{line:?}");
        }
        for bad in ["S", "&", "+", "!"] {
            assert_eq!(parse(bad), Err(Malformed), "{bad:?}");
        }
        assert_eq!(args("\"SM\",\"ME\", 3"), ["SM", "ME", "3"]);
    }
}
