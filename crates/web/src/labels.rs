//! Chinese names for the codes the workflow files use (field names, enum values, roles, kinds).
//! A code without a name here is shown as it is, so a new workflow field still works.

use duban_core::Role;

/// A payload field's label.
pub fn field(name: &str) -> &str {
    match name {
        "title" => "标题",
        "body" => "内容",
        "category" => "类别",
        "session" => "会议届次",
        "cosigners" => "联名代表",
        "deputy" => "代表",
        "station" => "代表之家/联络站",
        "constituent" => "群众",
        "summary" => "纠纷概要",
        "court" => "法院",
        "court_reference" => "法院案号",
        "dispute_type" => "纠纷类型",
        "amount_yuan" => "标的额（元）",
        "applicant" => "申请人",
        "respondent" => "被申请人",
        "reason" => "理由",
        "until" => "延至",
        "rating" => "评价",
        "notes" => "记录",
        "note" => "备注",
        "comment" => "意见",
        "supervisor" => "领衔督办领导",
        "outcome" => "办理结果",
        "opinion" => "协办意见",
        "mediators" => "调解员",
        "lead_department" => "主办单位",
        "co_departments" => "协办单位",
        "judicial_confirmation" => "申请司法确认",
        "instructions" => "交办意见",
        "held_on" => "调解日期",
        "consent" => "当事人同意",
        "conclusion" => "处理意见",
        "classification" => "答复分类",
        "answer" => "答复内容",
        "result" => "处理结果",
        "filer" => "提出人",
        "q" => "搜索词",
        "number" => "编号",
        "name" => "姓名",
        "id_number" => "身份证号",
        "phone" => "电话",
        "address" => "住址",
        other => other,
    }
}

/// An enum value's label.
pub fn value(v: &str) -> &str {
    match v {
        "satisfied" => "满意",
        "basically_satisfied" => "基本满意",
        "dissatisfied" => "不满意",
        "supported" => "支持",
        "partly_supported" => "部分支持",
        "not_supported" => "不予支持",
        "A" => "A类（已解决或采纳）",
        "B" => "B类（正在解决或列入计划）",
        "C" => "C类（因条件限制暂不能解决）",
        "D" => "D类（留作参考）",
        "agreement" => "调解成功",
        "failed" => "调解不成",
        "withdrawn" => "撤回",
        "economy" => "经济发展",
        "urban_rural" => "城乡建设",
        "social" => "社会事业",
        "education_health" => "教育卫生",
        "law_government" => "法治与政府建设",
        "land_housing" => "土地房屋",
        "labour_social_security" => "劳动社保",
        "urban_management" => "城市管理",
        "environment" => "生态环境",
        "law_litigation" => "涉法涉诉",
        "contract" => "合同纠纷",
        "debt" => "债务纠纷",
        "family" => "婚姻家庭",
        "neighbour" => "邻里纠纷",
        "labour" => "劳动争议",
        "traffic" => "交通事故",
        "property" => "物业纠纷",
        "other" => "其他",
        other => other,
    }
}

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Leader => "常委会领导",
        Role::Staff => "人大工作人员",
        Role::Deputy => "人大代表",
        Role::Department => "承办单位",
        Role::Mediator => "调解员",
        Role::Court => "法院",
        Role::Auditor => "审计员",
        Role::Admin => "系统管理员",
    }
}

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
        ("must be at most 200 characters", "搜索内容最多200个字"),
    ];
    if let Some((_, zh)) = known.iter().find(|(en, _)| *en == p) {
        return (*zh).to_string();
    }
    if let Some(rest) = p.strip_prefix("is required when ") {
        // "is required when `rating` is `dissatisfied`"
        let parts: Vec<&str> = rest.split('`').collect();
        if let [_, field_name, _, v, ..] = parts.as_slice() {
            return format!("{}为“{}”时必填", field(field_name), value(v));
        }
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
