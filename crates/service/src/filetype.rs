//! What kind of document a file is, judged by its bytes, never by its name: an executable
//! renamed `.pdf` is still an executable. The kinds an office exchanges, and the allow-list
//! an installation accepts.

use std::io::Cursor;

/// A kind of document Duban may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileType {
    Pdf,
    /// 版式文档 (GB/T 33190): China's format for official documents, a ZIP with `OFD.xml`.
    Ofd,
    Jpeg,
    Png,
    Docx,
    Xlsx,
    /// Word 97–2003, an OLE compound file with a `WordDocument` stream.
    Doc,
    /// Excel 97–2003, an OLE compound file with a `Workbook` (or `Book`) stream.
    Xls,
}

impl FileType {
    pub const ALL: [FileType; 8] = [
        FileType::Pdf,
        FileType::Ofd,
        FileType::Jpeg,
        FileType::Png,
        FileType::Docx,
        FileType::Xlsx,
        FileType::Doc,
        FileType::Xls,
    ];

    /// The name used in configuration (`--attachment-types pdf,ofd,…`) and as the extension.
    pub fn name(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Ofd => "ofd",
            FileType::Jpeg => "jpeg",
            FileType::Png => "png",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Doc => "doc",
            FileType::Xls => "xls",
        }
    }

    /// The kind a configuration names (`jpg` is taken for `jpeg`).
    pub fn from_name(name: &str) -> Option<FileType> {
        let name = name.trim().to_ascii_lowercase();
        let name = if name == "jpg" { "jpeg" } else { name.as_str() };
        FileType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The media type a download is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Ofd => "application/ofd",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Doc => "application/msword",
            FileType::Xls => "application/vnd.ms-excel",
        }
    }

    /// What a person calls it, for the page and for refusals.
    pub fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "PDF",
            FileType::Ofd => "OFD",
            FileType::Jpeg => "JPEG 图片",
            FileType::Png => "PNG 图片",
            FileType::Docx => "Word 文档",
            FileType::Xlsx => "Excel 表格",
            FileType::Doc => "Word 97-2003 文档",
            FileType::Xls => "Excel 97-2003 表格",
        }
    }

    /// The kind a stored media type names, for showing a kept file.
    pub fn from_content_type(content_type: &str) -> Option<FileType> {
        FileType::ALL
            .into_iter()
            .find(|t| t.content_type() == content_type)
    }
}

/// The OLE compound file signature (Word, Excel and PowerPoint 97–2003, and others).
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// `name` as a compound file's directory spells it: UTF-16LE.
fn utf16(name: &str) -> Vec<u8> {
    name.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What `bytes` are, if one of the kinds Duban knows.
pub fn sniff(bytes: &[u8]) -> Option<FileType> {
    if bytes.starts_with(b"%PDF-") {
        return Some(FileType::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileType::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(FileType::Png);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // The archive's own directory says what it holds.
        let zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
        let has = |name: &str| zip.index_for_name(name).is_some();
        return if has("OFD.xml") {
            Some(FileType::Ofd)
        } else if has("word/document.xml") {
            Some(FileType::Docx)
        } else if has("xl/workbook.xml") {
            Some(FileType::Xlsx)
        } else {
            None
        };
    }
    if bytes.starts_with(OLE) {
        // A compound file's directory entries carry their stream names in UTF-16LE.
        return if contains(bytes, &utf16("WordDocument")) {
            Some(FileType::Doc)
        } else if contains(bytes, &utf16("Workbook")) || contains(bytes, &utf16("Book\0")) {
            Some(FileType::Xls)
        } else {
            None
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for n in names {
            w.start_file(
                *n,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
            w.write_all(b"<x/>").unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn documents_are_known_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some(FileType::Png));
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "word/document.xml"])),
            Some(FileType::Docx)
        );
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "xl/workbook.xml"])),
            Some(FileType::Xlsx)
        );
        assert_eq!(
            sniff(&zip_with(&["OFD.xml", "Doc_0/Document.xml"])),
            Some(FileType::Ofd)
        );
        let mut doc = OLE.to_vec();
        doc.extend(vec![0; 100]);
        doc.extend(utf16("WordDocument"));
        assert_eq!(sniff(&doc), Some(FileType::Doc));
        let mut xls = OLE.to_vec();
        xls.extend(utf16("Workbook"));
        assert_eq!(sniff(&xls), Some(FileType::Xls));
    }

    #[test]
    fn anything_else_is_unknown_whatever_its_name() {
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None); // a Windows executable
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n"), None);
        assert_eq!(sniff(&zip_with(&["payload.exe"])), None);
        assert_eq!(sniff(b"PK\x03\x04 broken"), None);
        assert_eq!(sniff(OLE), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn configuration_names_each_kind() {
        for t in FileType::ALL {
            assert_eq!(FileType::from_name(t.name()), Some(t));
            assert_eq!(FileType::from_content_type(t.content_type()), Some(t));
        }
        assert_eq!(FileType::from_name("JPG"), Some(FileType::Jpeg));
        assert_eq!(FileType::from_name("exe"), None);
    }
}
