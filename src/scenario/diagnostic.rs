//! Located, explained errors in a scenario file.
//!
//! A diagnostic says where (file:line:column), which key (a dotted path such
//! as `services.api.calls[0].retry.max_attempts`), what is wrong and, when it
//! can, what was probably meant. Rendering shows the offending line with a
//! caret, the way compilers do, because that is what people read fastest.

use std::fmt::Write as _;

use super::yaml::Position;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub position: Option<Position>,
    pub path: String,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        position: Option<Position>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            position,
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column: path: message`, then the source line, a caret, and help.
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = String::from("error: ");
        match self.position {
            Some(p) => write!(out, "{file}:{}:{}", p.line, p.column),
            None => write!(out, "{file}"),
        }
        .ok();
        if !self.path.is_empty() {
            write!(out, ": {}", self.path).ok();
        }
        write!(out, ": {}", self.message).ok();
        if let Some(position) = self.position {
            out.push_str(&snippet(source, position));
        }
        if let Some(help) = &self.help {
            write!(out, "\n  help: {help}").ok();
        }
        out
    }
}

/// The source line at `position` with a caret under its column.
fn snippet(source: &str, position: Position) -> String {
    let Some(line) = source.lines().nth(position.line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let number = position.line.to_string();
    let gutter = " ".repeat(number.len());
    let indent: String = line
        .chars()
        .take(position.column.saturating_sub(1) as usize)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("\n {gutter} |\n {number} | {line}\n {gutter} | {indent}^")
}

/// The dotted key path of the key written at `position`, worked out from the
/// indentation of the lines above it. Serde's own errors carry no path, and
/// block-style YAML (what people write by hand) makes the path recoverable.
pub fn key_path_at(source: &str, position: Position) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let index = position.line.saturating_sub(1) as usize;
    let Some(line) = lines.get(index).map(|line| LineInfo::of(line)) else {
        return String::new();
    };
    let column = position.column.saturating_sub(1) as usize;
    // Keys on this line, outermost first: the block key or the enclosing flow
    // maps' keys, then the key at the column itself.
    let flow = flow_keys_before(lines[index], column);
    let mut on_line: Vec<&str> = if flow.is_empty() {
        line.key.into_iter().collect()
    } else {
        flow
    };
    if let Some(key) = key_at(lines[index], column).filter(|&key| on_line.last() != Some(&key)) {
        on_line.push(key);
    }
    let mut segments: Vec<String> = on_line.iter().rev().map(|key| key.to_string()).collect();
    let mut indent = line.content_indent;
    let mut item_index = None;
    if line.is_list_item {
        item_index = Some(list_item_index(&lines, index, line.indent));
        indent = line.indent;
    }
    for (above_index, above) in lines[..index].iter().enumerate().rev() {
        let above = LineInfo::of(above);
        let Some(key) = above.key else { continue };
        if above.is_list_item && above.content_indent == indent && item_index.is_none() {
            item_index = Some(list_item_index(&lines, above_index, above.indent));
            indent = above.indent;
        } else if !above.is_list_item && above.indent < indent {
            let suffix = item_index
                .take()
                .map(|i| format!("[{i}]"))
                .unwrap_or_default();
            segments.push(format!("{key}{suffix}"));
            indent = above.indent;
            if indent == 0 {
                break;
            }
        }
    }
    segments.reverse();
    segments.join(".")
}

/// The key path at `position` on a line indented with tabs, which YAML
/// forbids: the tabs are read as the indentation the writer meant (one level
/// below a line that opens a block, else the previous line's), so the path
/// still names the service the line belongs to.
pub fn key_path_at_tab_line(source: &str, position: Position) -> String {
    let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
    let index = position.line.saturating_sub(1) as usize;
    let Some(line) = lines.get(index) else {
        return String::new();
    };
    let body = line.trim_start_matches([' ', '\t']).to_string();
    let previous = lines[..index]
        .iter()
        .rev()
        .map(|l| LineInfo::of(l))
        .find(|l| l.key.is_some());
    let opens_block = lines[..index]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .is_some_and(|l| l.trim_end().ends_with(':'));
    let indent = previous.map_or(0, |p| p.content_indent + if opens_block { 2 } else { 0 });
    lines[index] = format!("{}{body}", " ".repeat(indent));
    let column = indent as u64 + 1;
    key_path_at(
        &lines.join("\n"),
        Position {
            line: position.line,
            column,
        },
    )
}

/// The shape of one line of block YAML.
struct LineInfo<'a> {
    /// The key that starts the line (after any `- `).
    key: Option<&'a str>,
    /// Columns of indentation before the first character (the `-` of an item).
    indent: usize,
    /// Where the key starts: after the `- ` of a list item.
    content_indent: usize,
    is_list_item: bool,
}

impl<'a> LineInfo<'a> {
    fn of(line: &'a str) -> LineInfo<'a> {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let body = trimmed.strip_prefix("- ");
        let is_list_item = body.is_some();
        let body = body.unwrap_or(trimmed);
        let content_indent = line.len() - body.len();
        let key = if trimmed.starts_with('#') {
            None
        } else {
            body.split_once(':')
                .map(|(key, _)| key.trim())
                .filter(|key| !key.is_empty() && !key.contains(['{', '[', ' ', '"', '\'']))
        };
        LineInfo {
            key,
            indent,
            content_indent,
            is_list_item,
        }
    }
}

/// The keys of the flow maps (`{ … }`) open at byte `column` of `line`,
/// outermost first: in `a: { b: { c: 1 } }`, at `c` they are `a`, `b`.
fn flow_keys_before(line: &str, column: usize) -> Vec<&str> {
    let prefix = line.get(..column).unwrap_or(line);
    let mut open: Vec<Option<&str>> = Vec::new();
    let mut last_key = None;
    let mut token_start = 0;
    for (index, c) in prefix.char_indices() {
        match c {
            ':' => last_key = Some(prefix[token_start..index].trim().trim_start_matches("- ")),
            '{' => open.push(last_key.take()),
            '}' => {
                open.pop();
            }
            ',' => last_key = None,
            _ => continue,
        }
        token_start = index + 1;
    }
    open.into_iter().flatten().collect()
}

/// The key that begins at byte `column` of `line`, if a key does.
fn key_at(line: &str, column: usize) -> Option<&str> {
    let rest = line.get(column..)?;
    let (key, _) = rest.split_once(':')?;
    let key = key.trim();
    (!key.is_empty() && !key.contains(['{', '[', ' ', ','])).then_some(key)
}

/// The 0-based index of the list item on line `index` among the `- ` items at
/// `indent` above it in the same list.
fn list_item_index(lines: &[&str], index: usize, indent: usize) -> usize {
    let mut earlier_items = 0;
    for above in lines[..index].iter().rev() {
        let trimmed = above.trim_start();
        let above_indent = above.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if above_indent < indent {
            break;
        }
        if above_indent == indent && trimmed.starts_with("- ") {
            earlier_items += 1;
        }
    }
    earlier_items
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
name: x
services:
  api:
    wokers: 3
    retry: {max_atempts: 2}
    calls:
      - target: db
      - target: cache
        timout: 1s
";

    #[test]
    fn key_paths_follow_indentation_flow_maps_and_lists() {
        let cases = [
            (Position { line: 4, column: 5 }, "services.api.wokers"),
            (
                Position {
                    line: 5,
                    column: 13,
                },
                "services.api.retry.max_atempts",
            ),
            (
                Position { line: 7, column: 9 },
                "services.api.calls[0].target",
            ),
            (
                Position { line: 8, column: 9 },
                "services.api.calls[1].target",
            ),
            (
                Position { line: 9, column: 9 },
                "services.api.calls[1].timout",
            ),
            (Position { line: 1, column: 1 }, "name"),
        ];
        for (position, expected) in cases {
            assert_eq!(key_path_at(SOURCE, position), expected, "{position:?}");
        }
    }

    #[test]
    fn a_tab_indented_line_keeps_its_place_in_the_path() {
        let source = "services:\n  api:\n\tworkers: 8\n";
        let path = key_path_at_tab_line(source, Position { line: 3, column: 2 });
        assert_eq!(path, "services.api.workers");
    }

    #[test]
    fn rendering_shows_the_line_and_a_caret() {
        let diagnostic = Diagnostic::new(
            Some(Position { line: 4, column: 5 }),
            "services.api.wokers",
            "unknown key `wokers`",
        )
        .with_help("did you mean `workers`?");
        let text = diagnostic.render("x.yaml", SOURCE);
        assert!(
            text.starts_with("error: x.yaml:4:5: services.api.wokers: unknown key `wokers`"),
            "{text}"
        );
        assert!(text.contains(" 4 |     wokers: 3\n   |     ^"), "{text}");
        assert!(text.ends_with("help: did you mean `workers`?"), "{text}");
    }
}
