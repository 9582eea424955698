//! Every unknown key in a file, not just the first.
//!
//! The raw types deny unknown keys, so that a typo is never silently ignored,
//! and serde stops at the first one. To report all of them together with every
//! value error, the loader asks serde again after blanking each unknown key
//! (its value and continuation lines too) with spaces: line and column numbers
//! stay true, and the remaining text is the scenario without its typos. The
//! loop is bounded, and a key that cannot be blanked safely ends it.

use super::yaml::Position;

/// More unknown keys than this are a file of another format, not typos.
pub const MAX_UNKNOWN_KEYS: usize = 32;

/// How much text the loop may parse again, in all (one more parse is
/// always allowed): each unknown key costs a parse of the whole file, so a
/// large file stops after fewer, a megabyte after five keys, in a few
/// seconds (thirty-two took twenty). The rest are reported once these are
/// fixed.
pub const MAX_REPARSED_BYTES: usize = 4 << 20;

/// `text` with the key written at `position` (1-based line and column, in
/// characters) and its value replaced by spaces, or `None` when the key is not
/// where the position says or its extent is unclear (a flow map over lines).
pub fn blank_key(text: &str, position: Position) -> Option<String> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let index = usize::try_from(position.line).ok()?.checked_sub(1)?;
    let column = usize::try_from(position.column).ok()?.checked_sub(1)?;
    let line = lines.get(index)?;
    let chars: Vec<char> = line.chars().collect();
    if column >= chars.len() || chars[column].is_whitespace() {
        return None;
    }
    if open_flow_depth(&chars[..column]) > 0 {
        let blanked = blank_flow_entry(&chars, column)?;
        lines[index] = blanked;
    } else {
        lines[index] = blank_chars(&chars, column, chars.len());
        let has_siblings = blank_continuation(&mut lines[index + 1..], column);
        let starts_item = chars[..column].iter().collect::<String>().trim() == "-";
        if starts_item && !has_siblings && chars[..column].iter().all(char::is_ascii) {
            // An item whose only key was unknown stays a map, not a null.
            lines[index].replace_range(column..column + 2, "{}");
        }
    }
    Some(lines.join("\n"))
}

/// The characters outside quotes, each with the flow depth (`{` and `[`
/// open) before it; a `#` outside quotes ends the line.
fn unquoted(chars: &[char]) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let mut depth = 0;
    let mut quote = None;
    chars
        .iter()
        .enumerate()
        .filter_map(move |(index, &c)| {
            let before = depth;
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => return None,
                (None, '"' | '\'') => quote = Some(c),
                (None, '{' | '[') => depth += 1,
                (None, '}' | ']') => depth -= 1,
                _ => {}
            }
            Some((index, c, before))
        })
        .take_while(|&(_, c, _)| c != '#')
}

/// How many `{` or `[` are open before the key on its line.
fn open_flow_depth(prefix: &[char]) -> i32 {
    unquoted(prefix).fold(0, |_, (_, c, before)| match c {
        '{' | '[' => before + 1,
        '}' | ']' => before - 1,
        _ => before,
    })
}

/// Blanks `key: value` inside a flow map, with the comma that separates it
/// from its neighbours. `None` when the entry does not end on this line.
fn blank_flow_entry(chars: &[char], start: usize) -> Option<String> {
    // The entry ends at the first `,`, `}` or `]` at its own depth.
    let end = unquoted(&chars[start..]).find_map(|(offset, c, depth)| match (c, depth) {
        (',', 0) => Some((start + offset, true)),
        ('}' | ']', 0) => Some((start + offset, false)),
        _ => None,
    });
    let (end, comma_after) = end?;
    if comma_after {
        return Some(blank_chars(chars, start, end + 1));
    }
    // The last entry: take the comma before it instead, if there is one.
    let before = chars[..start].iter().rposition(|c| !c.is_whitespace());
    let from = match before {
        Some(comma) if chars[comma] == ',' => comma,
        _ => start,
    };
    Some(blank_chars(chars, from, end))
}

/// Blanks the lines that belong to a block key's value: those indented deeper
/// than the key, a list at the key's own indentation, and blank lines between.
/// Says whether a sibling key follows at the key's indentation.
fn blank_continuation(lines: &mut [String], key_column: usize) -> bool {
    for line in lines {
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        let belongs = trimmed.is_empty()
            || indent > key_column
            || (indent == key_column && (trimmed == "-" || trimmed.starts_with("- ")));
        if !belongs {
            return indent == key_column && !trimmed.starts_with('#');
        }
        let chars: Vec<char> = line.chars().collect();
        *line = blank_chars(&chars, 0, chars.len());
    }
    false
}

fn blank_chars(chars: &[char], from: usize, to: usize) -> String {
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if (from..to).contains(&i) { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Position {
        Position { line, column }
    }

    #[test]
    fn block_keys_go_with_their_values_and_nested_lines() {
        let text = "a:\n  wokers:\n    x: 1\n    y: 2\n  b: 3\n";
        let blanked = blank_key(text, at(2, 3)).unwrap();
        assert_eq!(blanked, "a:\n         \n        \n        \n  b: 3\n");
    }

    #[test]
    fn list_items_keep_their_other_keys() {
        let text = "calls:\n  - targett: db\n    timeout: 1s\n";
        let blanked = blank_key(text, at(2, 5)).unwrap();
        assert_eq!(blanked, "calls:\n  -            \n    timeout: 1s\n");
    }

    #[test]
    fn an_item_left_without_keys_stays_a_map() {
        let text = "calls:\n  - targett: db\n  - target: x\n";
        let blanked = blank_key(text, at(2, 5)).unwrap();
        assert_eq!(blanked, "calls:\n  - {}         \n  - target: x\n");
    }

    #[test]
    fn flow_entries_take_one_comma() {
        let cases = [
            (
                "q: { a: 1, dicipline: fifo }",
                12,
                "q: { a: 1                  }",
            ),
            (
                "q: {dicipline: fifo, a: 1}",
                5,
                "q: {                 a: 1}",
            ),
            ("q: {x: {y: 1}, z: 2}", 5, "q: {           z: 2}"),
            ("q: {x: 1", 5, ""),
        ];
        for (text, column, expected) in cases {
            let blanked = blank_key(text, at(1, column));
            assert_eq!(blanked.as_deref().unwrap_or(""), expected, "{text}");
        }
    }

    #[test]
    fn a_position_off_any_key_is_refused() {
        assert!(blank_key("a: 1\n", at(3, 1)).is_none());
        assert!(blank_key("a: 1\n", at(1, 9)).is_none());
        assert!(blank_key("  a: 1\n", at(1, 1)).is_none());
    }
}
