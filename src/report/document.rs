//! A report as a list of blocks (headings, paragraphs, findings, tables,
//! charts), written out as Markdown (`report.md`) and as one self-contained
//! HTML page (`report.html`): the same content, so the two never disagree.
//!
//! The HTML page needs nothing beyond itself: its style is inline, its
//! charts are the SVG files embedded, and it names no font, script or
//! address to fetch. Text may carry two kinds of inline markup, as in
//! Markdown: `code` and **bold**; everything else is escaped.

use comfy_table::Table;
use comfy_table::presets::ASCII_MARKDOWN;

/// One piece of a report.
pub enum Block {
    Heading(u8, String),
    Paragraph(String),
    /// A highlighted remark: a run stopped early.
    Note(String),
    Bullets(Vec<String>),
    Table(Table),
    /// A chart file beside the report (an SVG), with its caption.
    Chart {
        file: String,
        caption: String,
    },
    /// Text laid out in columns already (a command's output).
    Preformatted(String),
}

pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Heading(level, text) => {
                    out.push_str(&format!("{} {text}\n\n", "#".repeat(*level as usize)))
                }
                Block::Paragraph(text) => out.push_str(&format!("{text}\n\n")),
                Block::Note(text) => out.push_str(&format!("> {text}\n\n")),
                Block::Bullets(items) => {
                    for item in items {
                        out.push_str(&format!("- {item}\n"));
                    }
                    out.push('\n');
                }
                Block::Table(table) => {
                    let mut table = table.clone();
                    table.load_style(ASCII_MARKDOWN);
                    out.push_str(&format!("{table}\n\n"));
                }
                Block::Chart { file, caption } => {
                    out.push_str(&format!("![{caption}]({file})\n\n"))
                }
                Block::Preformatted(text) => {
                    out.push_str(&format!("```\n{}\n```\n\n", text.trim_end()))
                }
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    }

    /// The page, with each chart's SVG taken from `files` (name, contents).
    pub fn to_html(&self, files: &[(String, Vec<u8>)]) -> String {
        let mut body = String::new();
        for block in &self.blocks {
            body.push_str(&html_block(block, files));
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
            escape(&self.title)
        )
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1b1b;background:#fff}main{max-width:1100px;margin:0 auto;padding:1.5rem}h1{font-size:1.7rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}pre{background:#f6f6f6;padding:.8rem;overflow-x:auto}.note{border-left:4px solid #c62828;background:#fdecea;padding:.6rem 1rem}.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .5rem;white-space:nowrap}th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.85rem}";

fn html_block(block: &Block, files: &[(String, Vec<u8>)]) -> String {
    match block {
        Block::Heading(level, text) => format!("<h{level}>{}</h{level}>\n", inline(text)),
        Block::Paragraph(text) => format!("<p>{}</p>\n", inline(text)),
        Block::Note(text) => format!("<p class=\"note\">{}</p>\n", inline(text)),
        Block::Bullets(items) => {
            let items: String = items
                .iter()
                .map(|item| format!("<li>{}</li>\n", inline(item)))
                .collect();
            format!("<ul>\n{items}</ul>\n")
        }
        Block::Table(table) => html_table(table),
        Block::Chart { file, caption } => {
            let svg = files
                .iter()
                .find(|(name, _)| name == file)
                .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            // The XML declaration belongs to a file, not to a page.
            let svg = svg.find("<svg").map_or("", |at| &svg[at..]);
            format!(
                "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>\n",
                escape(caption)
            )
        }
        Block::Preformatted(text) => format!("<pre>{}</pre>\n", escape(text.trim_end())),
    }
}

fn html_table(table: &Table) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n");
    if let Some(header) = table.header() {
        out.push_str("<thead><tr>");
        for cell in header.cell_iter() {
            out.push_str(&format!("<th>{}</th>", inline(&cell.content())));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for row in table.row_iter() {
        out.push_str("<tr>");
        for cell in row.cell_iter() {
            let content = cell.content();
            let class = match looks_numeric(&content) {
                true => " class=\"num\"",
                false => "",
            };
            out.push_str(&format!(
                "<td{class}>{}</td>",
                inline(&content).replace('\n', "<br>")
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// Numbers, durations, rates and dashes line up on the right.
fn looks_numeric(text: &str) -> bool {
    text.trim()
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || "+−-–".contains(c))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes `text`, then turns `code` and **bold** into their elements.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (index, part) in escape(text).split('`').enumerate() {
        match index % 2 {
            1 => out.push_str(&format!("<code>{part}</code>")),
            _ => {
                for (index, piece) in part.split("**").enumerate() {
                    match index % 2 {
                        1 => out.push_str(&format!("<strong>{piece}</strong>")),
                        _ => out.push_str(piece),
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_inline_markup_kept() {
        assert_eq!(
            inline("a < b & `x<y>` **now**"),
            "a &lt; b &amp; <code>x&lt;y&gt;</code> <strong>now</strong>"
        );
    }

    #[test]
    fn one_document_two_formats() {
        let mut table = Table::new();
        table.set_header(vec!["metric", "value"]);
        table.add_row(vec!["p99", "12ms"]);
        let document = Document {
            title: "t".into(),
            blocks: vec![
                Block::Heading(1, "t".into()),
                Block::Bullets(vec!["`db` is busy".into()]),
                Block::Table(table),
            ],
        };
        let markdown = document.to_markdown();
        assert!(markdown.starts_with("# t\n\n- `db` is busy\n\n| metric | value |"));
        let html = document.to_html(&[]);
        assert!(html.contains("<li><code>db</code> is busy</li>"));
        assert!(html.contains("<th>metric</th><th>value</th>"));
        assert!(html.contains("<td class=\"num\">12ms</td>"));
        assert!(!html.contains("http"));
    }
}
