//! Any list as an Excel sheet, as offices want one: Chinese headers in bold and frozen, a
//! filter on them, dates as real date cells (so Excel sorts and sums them), column widths that
//! fit Chinese text. Text is always written as text: a cell starting with `=` is never a formula.

use jiff::civil::Date;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Date(Date),
    Number(f64),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Option<Date>> for Cell {
    fn from(d: Option<Date>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }
}

/// A sheet: its name (at most 31 characters, as Excel allows), headers, and rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// How wide a column shows `text`: a Chinese character takes two widths.
fn width_of(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.1 })
        .sum()
}

/// Excel's limit on a sheet's name, and the characters it refuses.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.is_empty() {
        "Sheet1".into()
    } else {
        clean
    }
}

fn fill(sheet: &mut Worksheet, t: &Table) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    sheet.set_name(sheet_name(&t.name))?;
    let mut widths: Vec<f64> = t.headers.iter().map(|h| width_of(h)).collect();
    for (c, h) in t.headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let w = match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, col, s)?;
                    width_of(s)
                }
                Cell::Date(d) => {
                    let when =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    sheet.write_datetime_with_format(r, col, &when, &day)?;
                    10.0
                }
                Cell::Number(n) => {
                    sheet.write_number(r, col, *n)?;
                    8.0
                }
                Cell::Empty => 0.0,
            };
            if let Some(max) = widths.get_mut(c) {
                *max = max.max(w);
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // Room for the filter's button; a long title wraps at 60 rather than filling the screen.
        sheet.set_column_width(c as u16, (w + 3.0).clamp(6.0, 60.0))?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if !t.headers.is_empty() {
        sheet.autofilter(0, 0, t.rows.len() as u32, t.headers.len() as u16 - 1)?;
    }
    Ok(())
}

/// The tables as one workbook, a sheet each.
pub fn workbook(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    for t in tables {
        fill(wb.add_worksheet(), t)?;
    }
    wb.save_to_buffer()
}

/// Sheets added to `wb`, for a workbook with others before them.
pub fn add_to(wb: &mut Workbook, tables: &[Table]) -> Result<(), XlsxError> {
    for t in tables {
        fill(wb.add_worksheet(), t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_becomes_a_sheet_that_reads_back_with_dates_as_dates() {
        let t = Table {
            name: "全部事项".into(),
            headers: vec![
                "编号".into(),
                "标题".into(),
                "办理期限".into(),
                "件数".into(),
            ],
            rows: vec![vec![
                "建议〔2024〕001号".into(),
                "=cmd|' /C calc'!A0".into(),
                Cell::Date(jiff::civil::date(2024, 6, 3)),
                Cell::Number(3.0),
            ]],
        };
        let bytes = workbook(&[t]).expect("xlsx");
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("open");
        assert_eq!(book.sheet_names(), vec!["全部事项".to_string()]);
        let range = book.worksheet_range("全部事项").expect("sheet");
        assert_eq!(range.get((0, 0)), Some(&Data::String("编号".into())));
        assert_eq!(
            range.get((1, 1)),
            Some(&Data::String("=cmd|' /C calc'!A0".into())),
            "text stays text"
        );
        assert!(
            matches!(range.get((1, 2)), Some(Data::DateTime(_))),
            "{:?}",
            range.get((1, 2))
        );
        assert_eq!(range.get((1, 3)), Some(&Data::Float(3.0)));
    }

    #[test]
    fn sheet_names_keep_to_what_excel_allows() {
        assert_eq!(sheet_name("a/b:c"), "a_b_c");
        assert_eq!(sheet_name(&"长".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name(""), "Sheet1");
    }
}
