//! The comma-separated parameters after `+NAME: ` (TS 27.007 §4.1): numbers, quoted strings,
//! empty fields, and parenthesised lists in test answers.

/// One parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Empty,
    /// A quoted string, without its quotes.
    Quoted(String),
    /// Anything unquoted, trimmed (numbers, bare words, `(...)` lists).
    Bare(String),
}

impl Field {
    /// The field as a number, if it is one.
    pub fn number(&self) -> Option<u32> {
        match self {
            Field::Bare(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// The text of a quoted or bare field.
    pub fn text(&self) -> Option<&str> {
        match self {
            Field::Quoted(s) | Field::Bare(s) => Some(s),
            Field::Empty => None,
        }
    }
}

/// Splits parameters on commas outside quotes and parentheses. An unterminated quote runs to
/// the end of the line: the field is kept, not lost.
pub fn split(params: &str) -> Vec<Field> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut was_quoted, mut depth) = (String::new(), false, false, 0u32);
    let mut push = |cur: &mut String, was_quoted: &mut bool| {
        let f = if *was_quoted {
            Field::Quoted(std::mem::take(cur))
        } else {
            let t = cur.trim();
            let f = if t.is_empty() {
                Field::Empty
            } else {
                Field::Bare(t.to_string())
            };
            cur.clear();
            f
        };
        *was_quoted = false;
        out.push(f);
    };
    for c in params.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                if quoted {
                    cur.clear();
                }
                was_quoted = true;
            }
            '(' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            ')' if !quoted => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if !quoted && depth == 0 => push(&mut cur, &mut was_quoted),
            _ if was_quoted && !quoted => {} // stray characters after a closing quote
            _ => cur.push(c),
        }
    }
    push(&mut cur, &mut was_quoted);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_split_on_commas_outside_quotes() {
        use Field::*;
        let q = |s: &str| Quoted(s.into());
        let b = |s: &str| Bare(s.into());
        let cases: &[(&str, Vec<Field>)] = &[
            ("1,0,,23", vec![b("1"), b("0"), Empty, b("23")]),
            (
                "\"SM\",3,30,\"ME\",0,100",
                vec![q("SM"), b("3"), b("30"), q("ME"), b("0"), b("100")],
            ),
            ("\"a,b\", 7", vec![q("a,b"), b("7")]),
            (
                "(\"SM\",\"ME\"),(\"SM\")",
                vec![b("(\"SM\",\"ME\")"), b("(\"SM\")")],
            ),
            ("\"open", vec![q("open")]),
            ("", vec![Empty]),
        ];
        for (input, want) in cases {
            assert_eq!(&split(input), want, "{input:?}");
        }
    }
}
