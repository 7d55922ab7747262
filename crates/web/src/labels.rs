//! Chinese words for the pages: the names of codes (kept in core, shared with the API
//! document) and the validation problems the state machine reports in English.

pub use duban_core::labels::{field, role, value};

/// A validation problem from the state machine, said in Chinese where it is a common one.
pub fn problem(p: &str) -> String {
    let known = [
        ("is required", "必填"),
        ("must not be empty", "不能为空"),
        ("must be text", "须为文字"),
        ("must be a whole number", "须为整数"),
        ("must be true or false", "须为是或否"),
        ("must be a date YYYY-MM-DD", "须为日期"),
        ("must be a list of codes", "须从列表中选择"),
        ("must be 18 characters", "身份证号应为18位"),
        (
            "the first 17 characters must be digits",
            "身份证号前17位应为数字",
        ),
        (
            "does not contain a valid birth date",
            "身份证号中的出生日期无效",
        ),
        ("has a wrong check digit", "身份证号校验位不正确，请核对"),
        (
            "must be an 11-digit mobile number or a landline such as 0571-87654321",
            "应为11位手机号码，或带区号的固定电话（如0571-87654321）",
        ),
        (
            "each word must be at least 2 characters",
            "每个搜索词至少两个字",
        ),
        (
            "each word must be at most 100 characters",
            "每个搜索词最多100个字",
        ),
        ("takes at most 5 words", "最多输入5个搜索词"),
        ("names no attachment of this case", "所选附件不属于本事项"),
        ("unknown column", "无法识别的列（请用导出表格的中文表头）"),
        (
            "is required (the login of who filed it)",
            "必填（提出人的登录名或姓名）",
        ),
        (
            "is not a date or date-time",
            "不是日期（可写 2024-03-05、2024年3月5日 或 2024-03-05 10:30）",
        ),
        (
            "is in the future: only what has happened can be imported",
            "晚于现在：只能导入已经发生的事",
        ),
        ("is earlier than the step before it", "早于前一步骤的时间"),
        ("is not a whole number", "须为整数"),
        ("is not 是/否", "须填“是”或“否”"),
        (
            "is required: an answers sheet names each case by its number",
            "必填：答复与评价表按编号找到事项",
        ),
        (
            "must be the id of an attachment (att_ and 32 hex digits)",
            "请上传文件",
        ),
        ("must be at most 200 characters", "搜索内容最多200个字"),
        (duban_core::machine::NEGATIVE, "不能为负数"),
        (
            duban_core::machine::TOO_MANY,
            "少于各项票数之和（票数之和不能超过应参加表决的人数）",
        ),
        (
            duban_core::machine::MISMATCH,
            "与票数不符（赞成票超过应参加表决人数的一半方为通过）",
        ),
    ];
    if let Some((_, zh)) = known.iter().find(|(en, _)| *en == p) {
        return (*zh).to_string();
    }
    if let Some(n) = p.strip_prefix("must be at least ") {
        return format!("不能小于{n}");
    }
    if let Some(n) = p.strip_prefix("must be at most ") {
        return format!("不能大于{n}");
    }
    if let Some(rest) = p.strip_prefix("is required when ") {
        // "is required when `rating` is `dissatisfied`"
        let parts: Vec<&str> = rest.split('`').collect();
        if let [_, field_name, _, v, ..] = parts.as_slice() {
            return format!("{}为“{}”时必填", field(field_name), value(v));
        }
    }
    // What an import says of a row's number, a step or the case.
    if let Some(n) = p.strip_suffix(" is already the number of a case") {
        return format!("编号 {n} 已是一件事项的编号，不重复导入");
    }
    if let Some((n, row)) = p.split_once(" is also the number of row ") {
        return format!("编号 {n} 与第 {row} 行重复");
    }
    if let Some((n, _)) = p.split_once(" is the number of no ") {
        return format!("没有编号为 {n} 的这类事项");
    }
    if p.starts_with("records no step") {
        return "没有填写任何办理步骤（如“答复代表·时间”）".into();
    }
    if p.starts_with("is needed when") {
        return "填写了这一步的其他列，也要填写它的时间".into();
    }
    // What an extension, asked for or granted, is refused for.
    if let Some((_, day)) = p.split_once(" is not later than the current last day ") {
        return format!("须晚于现在的期限最后一日 {day}");
    }
    if let Some((_, rest)) = p.split_once(" is past the latest allowed last day ") {
        let day = rest.split(' ').next().unwrap_or(rest);
        return format!("超过了最晚可延至的日期 {day}");
    }
    if let Some(rest) = p.strip_prefix("the deadline may be extended at most ") {
        let times = rest.split(' ').next().unwrap_or(rest);
        return format!("期限最多可延长 {times} 次，已经延长过");
    }
    if let Some(day) = p
        .strip_prefix("the last day ")
        .and_then(|rest| rest.split_once(" has passed"))
        .map(|(day, _)| day)
    {
        return format!("期限最后一日 {day} 已过：延期须在期限届满前申请");
    }
    if let Some((f, v)) = p
        .split_once("` is open only when `")
        .and_then(|(_, rest)| rest.split_once("` is `"))
    {
        return format!(
            "只有「{}」为「{}」时才能办理这一步",
            field(f),
            value(v.trim_end_matches('`'))
        );
    }
    if p.contains("is open only once the case has a supervisor") {
        return "只有列为重点建议（有领衔督办领导）后才能办理这一步".into();
    }
    if let Some((_, party)) = p.split_once("is open only once the case has a ") {
        return format!("事项还没有「{}」，不能办理这一步", field(party));
    }
    if p.contains("is open only to whoever still owes it here") {
        return "这一步您已经办理过（每次答复只需办理一次），不能重复办理".into();
    }
    if p.contains("resumes a paused deadline, and none is paused") {
        return "办理期限没有中止，无需恢复".into();
    }
    if p.contains("pauses a running deadline, and none is running") {
        return "没有正在计算的办理期限（可能已经中止），不能中止".into();
    }
    if let Some((day, _)) = p
        .split_once(" is not open once the last day ")
        .and_then(|(_, rest)| rest.split_once(" has passed"))
    {
        return format!("期限最后一日 {day} 已过：中止计算须在期限届满前办理");
    }
    if p.contains("answers a request, and none is pending") {
        return "没有待决定的申请，不能办理这一步".into();
    }
    if p.contains("cannot be taken in state") {
        return "事项现在所处的状态不能办理这一步（可能已经办理过）".into();
    }
    if p.starts_with("the case is closed") {
        return "事项已办结，不能再办理".into();
    }
    if let Some(rest) = p.strip_prefix("field `")
        && let Some((name, inner)) = rest.split_once("`: ")
    {
        return format!("「{}」{}", field(name), problem(inner));
    }
    if p.starts_with("is longer than") {
        return format!("超出长度上限（{p}）");
    }
    if p.starts_with("must be one of") {
        return "请从选项中选择".into();
    }
    if p.ends_with("names no organisation") {
        return "所填单位不存在".into();
    }
    if p.ends_with("names no user") {
        return "所填人员不存在".into();
    }
    if let Some((_, kind)) = p.split_once("names an organisation that is not a ") {
        let wanted = kind.split(' ').next().unwrap_or_default();
        let zh = match wanted {
            "department" => "承办单位",
            "station" => "代表之家/联络站",
            "court" => "法院",
            _ => "所要求的单位",
        };
        return format!("所填单位类型不符，应为{zh}");
    }
    if p.contains("names a user who is not a ") {
        return "所填人员的身份不符".into();
    }
    if p.ends_with("may name only their own organisation here") {
        return "只能填写本人所在的单位".into();
    }
    p.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_chinese_names_and_unknown_ones_pass_through() {
        assert_eq!(value("dissatisfied"), "不满意");
        assert_eq!(field("lead_department"), "主办单位");
        assert_eq!(field("brand_new_field"), "brand_new_field");
        assert_eq!(problem("is required"), "必填");
        assert_eq!(
            problem(
                "the last day 2024-10-08 has passed: an extension is asked for before it, not after"
            ),
            "期限最后一日 2024-10-08 已过：延期须在期限届满前申请"
        );
        assert_eq!(
            problem("2024-10-01 is not later than the current last day 2024-10-08"),
            "须晚于现在的期限最后一日 2024-10-08"
        );
        assert_eq!(
            problem(
                "2025-01-03 is past the latest allowed last day 2025-01-02 (自交办之日起6个月)"
            ),
            "超过了最晚可延至的日期 2025-01-02"
        );
        assert_eq!(
            problem("the deadline may be extended at most 1 time(s) and already was"),
            "期限最多可延长 1 次，已经延长过"
        );
        assert_eq!(
            problem("has a wrong check digit"),
            "身份证号校验位不正确，请核对"
        );
        assert_eq!(problem("must be one of: a, b"), "请从选项中选择");
        assert_eq!(problem("item 2 names no organisation"), "所填单位不存在");
        assert_eq!(
            problem("names an organisation that is not a station (it is a department)"),
            "所填单位类型不符，应为代表之家/联络站"
        );
    }
}
