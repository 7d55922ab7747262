//! Constituents' personal data (names, ID-card numbers, phones, addresses) as a type that masks
//! itself: `Debug` and `Display` never print it in full, so it cannot leak into logs by accident.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A natural person named in a case: a petitioner, a party to a dispute.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Person({})", self.masked())
    }
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.masked())
    }
}

/// 张三丰 → 张**: the family name alone. A one-character name keeps nothing (`*`): its one
/// character would be the whole name.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(_)) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        (Some(_), None) => "*".into(),
        (None, _) => String::new(),
    }
}

/// Keeps the first `head` and last `tail` characters, starring the rest.
fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= chars.len() - tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// 110101199003071234 → 110***********1234.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 3, 4)
}

/// 13812345678 → 138****5678.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// A mainland mobile number as SMS gateways take it (11 digits, `1[3-9]…`), with spaces,
/// hyphens and a leading `+86` or `86` dropped; `None` if it is not one.
pub fn mobile_number(text: &str) -> Option<String> {
    let digits: String = text
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect();
    let digits = match digits.strip_prefix("86") {
        Some(rest) if rest.len() == 11 => rest.to_string(),
        _ => digits,
    };
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then_some(digits)
}

/// Keeps at most the first third of the characters (浙江省杭州市西湖区文三路100号 → 浙江省杭州****,
/// 龙门镇7号 → 龙****), then four stars whatever the length: a short address (a village and a
/// house number) is as identifying as a long one, and the stars must not count what they hide.
pub fn mask_address(address: &str) -> String {
    let keep = address.chars().count() / 3;
    let head: String = address.chars().take(keep).collect();
    format!("{head}****")
}

impl Person {
    /// The masked form shown in lists, logs and exports.
    pub fn masked(&self) -> String {
        let mut s = mask_name(&self.name);
        if let Some(id) = &self.id_number {
            s.push_str(&format!(" {}", mask_id_number(id)));
        }
        if let Some(p) = &self.phone {
            s.push_str(&format!(" {}", mask_phone(p)));
        }
        s
    }

    /// The masked form as JSON, stored in the event in place of the person.
    pub fn masked_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(mask_name(&self.name)));
        if let Some(id) = &self.id_number {
            m.insert("id_number".into(), json!(mask_id_number(id)));
        }
        if let Some(p) = &self.phone {
            m.insert("phone".into(), json!(mask_phone(p)));
        }
        if let Some(a) = &self.address {
            m.insert("address".into(), json!(mask_address(a)));
        }
        Value::Object(m)
    }

    /// Parses and validates a person from a payload value, naming the sub-field at fault.
    pub fn from_json(v: &Value) -> Result<Person, (String, String)> {
        let Value::Object(o) = v else {
            return Err((
                String::new(),
                "must be an object with name, id_number, phone, address".into(),
            ));
        };
        for k in o.keys() {
            if !["name", "id_number", "phone", "address"].contains(&k.as_str()) {
                return Err((
                    k.clone(),
                    "unknown field (a person has name, id_number, phone, address)".into(),
                ));
            }
        }
        let text = |k: &str| -> Result<Option<String>, (String, String)> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err((k.into(), "must be text".into())),
            }
        };
        let name = text("name")?.ok_or_else(|| ("name".to_string(), "is required".to_string()))?;
        if name.chars().count() > 50 {
            return Err(("name".into(), "is longer than 50 characters".into()));
        }
        let id_number = text("id_number")?.map(|s| s.to_ascii_uppercase());
        if let Some(id) = &id_number
            && let Err(why) = check_id_number(id)
        {
            return Err(("id_number".into(), why));
        }
        let phone = text("phone")?;
        if let Some(p) = &phone
            && !is_phone(p)
        {
            return Err((
                "phone".into(),
                "must be an 11-digit mobile number or a landline such as 0571-87654321".into(),
            ));
        }
        let address = text("address")?;
        if address.as_ref().is_some_and(|a| a.chars().count() > 200) {
            return Err(("address".into(), "is longer than 200 characters".into()));
        }
        Ok(Person {
            name,
            id_number,
            phone,
            address,
        })
    }
}

fn is_phone(p: &str) -> bool {
    let digits: String = p.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    mobile || landline
}

/// Checks an 18-character resident ID number (GB 11643-1999): digits, a real birth date, and
/// the ISO 7064 MOD 11-2 check character.
pub fn check_id_number(id: &str) -> Result<(), String> {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return Err("must be 18 characters".into());
    }
    if !chars[..17].iter().all(|c| c.is_ascii_digit()) {
        return Err("the first 17 characters must be digits".into());
    }
    let birth: String = chars[6..14].iter().collect();
    let valid_birth = format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..])
        .parse::<jiff::civil::Date>()
        .is_ok_and(|d| d.year() >= 1900);
    if !valid_birth {
        return Err("does not contain a valid birth date".into());
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = chars[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    if CHECK[(sum % 11) as usize] != chars[17] {
        return Err("has a wrong check digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_mainland_ones_in_any_usual_spelling() {
        for ok in [
            "13800135678",
            "138 0013 5678",
            "138-0013-5678",
            "+86 13800135678",
            "8613800135678",
        ] {
            assert_eq!(mobile_number(ok).as_deref(), Some("13800135678"), "{ok}");
        }
        for bad in [
            "0571-87654321",
            "1380013567",
            "12800135678",
            "1380013567x",
            "",
        ] {
            assert_eq!(mobile_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn id_numbers_are_checked_by_gb_11643() {
        // A published sample number and its check digit.
        assert_eq!(check_id_number("11010519491231002X"), Ok(()));
        assert_eq!(check_id_number("110101199003074477"), Ok(()));
        assert!(check_id_number("110101199003074478").is_err());
        assert!(check_id_number("110101199002304477").is_err(), "Feb 30");
        assert!(check_id_number("11010119900307447").is_err());
    }

    #[test]
    fn debug_and_display_never_show_the_full_data() {
        let p = Person {
            name: "张三丰".into(),
            id_number: Some("110101199003074477".into()),
            phone: Some("13812345678".into()),
            address: Some("浙江省杭州市西湖区文三路100号".into()),
        };
        for shown in [
            format!("{p:?}"),
            format!("{p}"),
            p.masked_json().to_string(),
        ] {
            assert!(!shown.contains("三丰"), "{shown}");
            assert!(!shown.contains("199003074477"), "{shown}");
            assert!(!shown.contains("12345678"), "{shown}");
            assert!(!shown.contains("文三路"), "{shown}");
        }
        assert_eq!(p.masked(), "张** 110***********4477 138****5678");
    }

    #[test]
    fn every_field_is_masked_whatever_its_length() {
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_address("龙门镇7号"), "龙****");
        assert_eq!(mask_address("3栋502室"), "3栋****");
        assert_eq!(mask_address("7号"), "****");
        assert_eq!(
            mask_address("浙江省杭州市西湖区文三路100号"),
            "浙江省杭州****"
        );
        // Masking what is already masked reveals nothing more (the migration relies on it).
        for a in [
            "龙门镇7号",
            "3栋502室",
            "浙江省杭州市西湖区文三路100号",
            "村",
        ] {
            let once = mask_address(a);
            let kept = |m: &str| m.trim_end_matches('*').to_string();
            assert!(kept(&once).starts_with(&kept(&mask_address(&once))), "{a}");
            assert!(!mask_address(&once).contains('号'), "{a}");
        }
        assert_eq!(mask_name(&mask_name("张三丰")), "张**");
        assert_eq!(
            mask_id_number(&mask_id_number("110101199003074477")),
            "110***********4477"
        );
        assert_eq!(mask_phone("1381"), "****");
        for any in ["a", "ab", "abc", "abcdefg"] {
            assert_ne!(mask_id_number(any), any);
            assert_ne!(mask_phone(any), any);
            assert_ne!(mask_address(any), any);
        }
        for name in ["a", "ab", "abc"] {
            assert_ne!(mask_name(name), name);
        }
    }

    #[test]
    fn a_person_names_the_sub_field_at_fault() {
        let bad = Person::from_json(&json!({"name": "李四", "phone": "12345"}));
        assert_eq!(bad.map_err(|e| e.0), Err("phone".to_string()));
        let bad = Person::from_json(&json!({"id_number": "110101199003074477"}));
        assert_eq!(bad.map_err(|e| e.0), Err("name".to_string()));
        let ok = Person::from_json(
            &json!({"name": " 王五 ", "phone": "0571-87654321", "id_number": "11010519491231002x"}),
        );
        assert_eq!(
            ok.map(|p| (p.name, p.id_number)),
            Ok(("王五".to_string(), Some("11010519491231002X".to_string())))
        );
    }
}
