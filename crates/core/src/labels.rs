//! Chinese names for the codes the workflow files use (field names, enum values, roles): what
//! the pages show and what the API document gives as each value's description. A code without a
//! name here is shown as it is, so a deployment's new field or value still works.

use crate::Role;

/// The kinds of notice the scheduler sends, by which SMS templates are chosen: a new item
/// (【新事项】), due soon (【到期提醒】), due today (【今日到期】), overdue (【逾期提醒】),
/// escalated to leaders (【督办升级】), and a notice of something that happened (【新交办】 …).
pub const NOTICE_KINDS: [&str; 6] = ["new", "due", "at_due", "overdue", "escalated", "notice"];

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
        "recheck_body" => "复核机关",
        "cause" => "中止原因",
        "activity" => "活动类型",
        "activity_on" => "活动日期",
        "participants" => "参加人员",
        "minutes" => "纪要或照片",
        "judicial_confirmation" => "双方同意申请司法确认",
        "applied_on" => "申请日期",
        "ruled_on" => "裁定日期",
        "decision" => "裁定结果",
        "filed_on" => "立案日期",
        "court_case_number" => "立案案号",
        "instructions" => "交办意见",
        "held_on" => "调解日期",
        "consent" => "当事人同意",
        "conclusion" => "处理意见",
        "classification" => "答复分类",
        "answer" => "答复内容",
        "letter" => "答复函",
        "promised_by" => "承诺落实日期",
        "condition" => "解决条件",
        "delivered_on" => "落实日期",
        "report" => "落实情况",
        "evidence" => "落实证明材料",
        "agreement" => "调解协议书",
        "ruling" => "司法确认裁定书",
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
        "confirmed" => "裁定确认有效",
        "not_confirmed" => "裁定不予确认",
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
        "inspection" => "视察",
        "forum" => "座谈会",
        "supervision_meeting" => "督办会",
        "evaluation_meeting" => "测评会",
        "appraisal" => "鉴定",
        "hearing" => "听证",
        "materials" => "等待信访人补充材料",
        "other" => "其他",
        other => other,
    }
}

/// A role's name.
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
