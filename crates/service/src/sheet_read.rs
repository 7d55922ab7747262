//! Reading spreadsheets as offices keep them: .xlsx and .xls workbooks (the first sheet), and
//! CSV in UTF-8 or in GBK as Chinese Excel saves it. Each cell is decoded strictly, the header
//! is checked, and every problem is named by row and column; nothing is guessed.

use calamine::{Data, Reader};

use crate::sheet::{Row, column_of};

/// Whether `bytes` are a workbook (an .xlsx is a ZIP file, an .xls an OLE compound file)
/// rather than CSV text.
pub fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0")
}

/// A sheet's rows, whichever of the two it is.
pub fn rows(bytes: &[u8]) -> Result<Vec<Row>, String> {
    if is_workbook(bytes) {
        workbook(bytes)
    } else {
        csv(bytes)
    }
}

/// Excel's name of a column: A, B, … Z, AA, AB …
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// How a CSV file's cells are encoded: UTF-8 (with or without a byte-order mark) when the whole
/// file is, else GBK as offices export it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Gbk,
}

/// One cell's text, decoded strictly: a cell that is not valid in the file's encoding, or a
/// UTF-8 cell in a GBK file (a file pasted together from two), is refused rather than stored
/// with replacement characters or garbled.
fn decode_cell(bytes: &[u8], encoding: Encoding) -> Result<String, &'static str> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| "is not valid UTF-8 text"),
        Encoding::Gbk if bytes.is_ascii() => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Encoding::Gbk if reads_as_utf8_chinese(bytes) => Err(
            "is UTF-8 text in a file that is otherwise GBK: save the whole file in one encoding",
        ),
        Encoding::Gbk => encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|s| s.into_owned())
            .ok_or("is neither valid GBK nor valid UTF-8 text"),
    }
}

/// Whether a cell of a GBK file is really UTF-8 Chinese. Some GBK text is valid UTF-8 by
/// chance (路 is `C2 B7`, which UTF-8 reads as ·), so validity alone does not tell: UTF-8
/// Chinese reads as Chinese characters and the punctuation around them, while GBK read as
/// UTF-8 gives Latin and other scripts' letters.
fn reads_as_utf8_chinese(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let chinese = |c: char| matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3000..=0x303F | 0xFF00..=0xFFEF | 0x2000..=0x206F);
    text.chars().any(|c| matches!(c as u32, 0x4E00..=0x9FFF))
        && text.chars().all(|c| c.is_ascii() || chinese(c))
}

/// A row-number column offices keep (序号): it numbers the rows, and is no data of the case.
fn is_row_number(header: &str) -> bool {
    let h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    matches!(h.as_str(), "序号" | "序" | "No." | "NO.")
}

/// Checks the header and the rows under it: an empty file, a column named twice and a cell
/// with no column above it are refused, each naming its row and column. The header is the
/// first line with two cells or more filled: a title above it (merged across the columns, so
/// one cell filled) is passed over, and a 序号 column is left out. `first_row` is the line's
/// number in the file (1 for the first), `first_col` its first column's index.
/// The lines come one by one (a reading problem ends them), so that a long sheet read cell by
/// cell is held only as the rows built from it.
fn rows_from(
    lines: impl IntoIterator<Item = Result<Vec<String>, String>>,
    first_row: usize,
    first_col: usize,
) -> Result<Vec<Row>, String> {
    let filled = |l: &Vec<String>| l.iter().filter(|c| !c.trim().is_empty()).count();
    let mut lines = lines.into_iter();
    let mut at = 0;
    let headers = loop {
        match lines.next().transpose()? {
            Some(l) if filled(&l) >= 2 => break l,
            Some(_) => at += 1,
            None => {
                return Err(format!(
                    "row {first_row}: the file is empty: it needs a header row naming the columns, and a row per case under it"
                ));
            }
        }
    };
    let header_row = first_row + at;
    let ignored: Vec<bool> = headers.iter().map(|h| is_row_number(h)).collect();
    let columns: Vec<String> = headers
        .iter()
        .map(|h| {
            if is_row_number(h) {
                String::new()
            } else {
                column_of(h)
            }
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for c in &columns {
        if !c.is_empty() && !seen.insert(c.clone()) {
            return Err(format!("row {header_row}: column `{c}` appears twice"));
        }
    }
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in lines.enumerate() {
        let r = r?;
        let number = header_row + 1 + i;
        for (at, cell) in r.iter().enumerate() {
            let named = columns.get(at).is_some_and(|c| !c.is_empty());
            let skipped = ignored.get(at).copied().unwrap_or(false);
            if !named && !skipped && !cell.trim().is_empty() {
                problems.push(format!(
                    "row {number}, column {}: a cell beyond the header (no column name above it)",
                    column_letter(first_col + at)
                ));
            }
        }
        // A row with nothing but its 序号 is an empty row.
        let data = r
            .iter()
            .enumerate()
            .any(|(at, c)| !ignored.get(at).copied().unwrap_or(false) && !c.trim().is_empty());
        if !data {
            continue;
        }
        rows.push(Row {
            number,
            cells: columns
                .iter()
                .zip(r)
                .filter(|(c, v)| !c.is_empty() && !v.trim().is_empty())
                .map(|(c, v)| (c.clone(), v))
                .collect(),
        });
    }
    if !problems.is_empty() {
        return Err(format!("{}\nnothing was imported", problems.join("\n")));
    }
    if rows.is_empty() {
        return Err(format!(
            "row {}: the file has a header but no rows under it: nothing to import",
            header_row + 1
        ));
    }
    Ok(rows)
}

/// A CSV file's rows: UTF-8 (with or without a byte-order mark) or GBK, each cell decoded
/// strictly; every problem named by row and column.
pub fn csv(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match std::str::from_utf8(bytes) {
        Ok(_) => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    };
    // Parsed as bytes and decoded cell by cell, so a problem is placed by row and column. No
    // byte of a GBK character is a comma, a quote or a line end, so the split is the same.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (i, r) in reader.byte_records().enumerate() {
        let r = r.map_err(|_| format!("row {}: not valid CSV", i + 1))?;
        let mut cells = Vec::new();
        for (at, cell) in r.iter().enumerate() {
            match decode_cell(cell, encoding) {
                Ok(text) => cells.push(text),
                Err(why) => {
                    // By the header above it too, once the header row is read.
                    let named = lines
                        .first()
                        .and_then(|h| h.get(at))
                        .filter(|h| !h.trim().is_empty())
                        .map(|h| format!(" (`{}`)", column_of(h)))
                        .unwrap_or_default();
                    problems.push(format!(
                        "row {}, column {}{named}: {why}",
                        i + 1,
                        column_letter(at)
                    ));
                    cells.push(String::new());
                }
            }
        }
        lines.push(cells);
    }
    if !problems.is_empty() {
        return Err(format!("{}\nnothing was imported", problems.join("\n")));
    }
    rows_from(lines.into_iter().map(Ok), 1, 0)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => {
            if *b {
                "是".into()
            } else {
                "否".into()
            }
        }
        Data::DateTime(dt) => {
            // Excel's serial days since 1899-12-30, with the fraction for the time of day.
            let serial = dt.as_f64();
            let day = jiff::civil::date(1899, 12, 30)
                .saturating_add(jiff::Span::new().days(serial.floor() as i64));
            let minutes = ((serial.fract() * 1440.0).round()) as i64;
            format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A workbook's (.xlsx, .xls) first sheet as rows.
pub fn workbook(bytes: &[u8]) -> Result<Vec<Row>, String> {
    match calamine::Xlsx::new(std::io::Cursor::new(bytes)) {
        Ok(book) => xlsx(book),
        // Not an .xlsx (an .xls, or an .ods, also a ZIP file): read whole.
        Err(_) => whole_workbook(bytes),
    }
}

/// An .xlsx file's first sheet, read cell by cell as the file gives them and turned into
/// lines as each row ends: never held as a whole grid of cells, so a sheet of 100,000 rows
/// costs the rows built from it and little more. Rows and columns are numbered as the sheet
/// numbers them (leading empty columns are empty cells, which no header names).
fn xlsx(mut book: calamine::Xlsx<std::io::Cursor<&[u8]>>) -> Result<Vec<Row>, String> {
    let Some(sheet) = book.sheet_names().first().cloned() else {
        return Err("the workbook has no sheet".into());
    };
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| format!("cannot read sheet {sheet}: {e}"))?;
    // The line being filled, the sheet row it is (from 0), a cell read from the next row,
    // and whether the sheet has ended.
    let (mut line, mut at, mut ahead, mut ended) = (Vec::new(), 0u32, None, false);
    let lines = std::iter::from_fn(move || {
        while !ended {
            let cell = match ahead.take() {
                Some(cell) => Some(cell),
                None => match cells.next_cell() {
                    Ok(Some(c)) => {
                        let (row, col) = c.get_position();
                        let text = match calamine::Data::from(c.get_value().clone()) {
                            calamine::Data::String(s) => s,
                            d => cell_text(&d),
                        };
                        Some((row, col as usize, text))
                    }
                    Ok(None) => None,
                    Err(e) => {
                        ended = true;
                        return Some(Err(format!("cannot read sheet {sheet}: {e}")));
                    }
                },
            };
            match cell {
                Some((row, col, text)) if row == at => {
                    if line.len() <= col {
                        line.resize(col + 1, String::new());
                    }
                    line[col] = text;
                }
                // A later row: this line is whole (and any rows between are empty lines).
                Some(cell) => {
                    ahead = Some(cell);
                    at += 1;
                    return Some(Ok(std::mem::take(&mut line)));
                }
                // The sheet's end: its last line is whole.
                None => {
                    ended = true;
                    return Some(Ok(std::mem::take(&mut line)));
                }
            }
        }
        None
    });
    rows_from(lines, 1, 0)
}

/// A workbook other than .xlsx, read whole: an .xls sheet has at most 65,536 rows.
fn whole_workbook(bytes: &[u8]) -> Result<Vec<Row>, String> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("cannot open the workbook: {e}"))?;
    let Some(sheet) = book.sheet_names().first().cloned() else {
        return Err("the workbook has no sheet".into());
    };
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| format!("cannot read sheet {sheet}: {e}"))?;
    // The range starts at the sheet's first filled cell: rows and columns are numbered from it.
    let (first_row, first_col) = range
        .start()
        .map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let lines: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    // The workbook's own copy of the cells goes before the rows are built from the text: a
    // long sheet is held twice at most, not three times.
    drop((range, book));
    rows_from(lines.into_iter().map(Ok), first_row + 1, first_col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_that_happens_to_be_valid_utf8_is_still_gbk() {
        // 路 in GBK is C2 B7, valid UTF-8 for ·; a GBK file's cell of it stays 路.
        let (lu, _, _) = encoding_rs::GBK.encode("路");
        assert!(std::str::from_utf8(&lu).is_ok());
        assert_eq!(decode_cell(&lu, Encoding::Gbk), Ok("路".to_string()));
        // Real UTF-8 Chinese in a GBK file is refused.
        assert!(decode_cell("村道损毁".as_bytes(), Encoding::Gbk).is_err());
        // And a byte no GBK character has.
        assert!(decode_cell(b"\xC4\xFF", Encoding::Gbk).is_err());
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
    }

    /// An .xlsx read cell by cell numbers rows and columns as the sheet does: a title above
    /// the header, a first empty column, an empty row between cases.
    #[test]
    fn an_xlsx_read_cell_by_cell_keeps_the_sheets_rows_and_columns() {
        let sheet = |beyond: bool| {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let mut put = |r: u32, c: u16, v: &str| {
                ws.write_string(r, c, v).expect("cell");
            };
            put(0, 1, "2024年代表建议");
            for (c, h) in ["标题", "提出人"].iter().enumerate() {
                put(2, 1 + c as u16, h);
            }
            put(3, 1, "关于路灯的建议");
            put(3, 2, "liu");
            put(5, 1, "关于村道的建议");
            put(5, 2, "wang");
            if beyond {
                put(5, 3, "多出的一格");
            }
            wb.save_to_buffer().expect("save")
        };
        let rows = workbook(&sheet(false)).expect("rows");
        let got: Vec<(usize, Option<&str>)> = rows
            .iter()
            .map(|r| (r.number, r.cells.get("提出人").map(String::as_str)))
            .collect();
        assert_eq!(got, [(4, Some("liu")), (6, Some("wang"))]);
        let refused = workbook(&sheet(true)).expect_err("a cell beyond the header");
        assert!(refused.starts_with("row 6, column D:"), "{refused}");
    }
}
