//! The demo's raw material: names, places, departments and topics of a banner (county) in the
//! style of the 2024 work report the project was born from.

/// Government departments (承办单位): code and name.
pub const DEPARTMENTS: &[(&str, &str)] = &[
    ("jtj", "旗交通运输局"),
    ("jyj", "旗教育局"),
    ("wjw", "旗卫生健康委员会"),
    ("zjj", "旗住房和城乡建设局"),
    ("nmj", "旗农牧局"),
    ("slj", "旗水利局"),
    ("zrzyj", "旗自然资源局"),
    ("sthjj", "旗生态环境分局"),
    ("mzj", "旗民政局"),
    ("rsj", "旗人力资源和社会保障局"),
    ("czj", "旗财政局"),
    ("wlj", "旗文化旅游体育局"),
    ("yjj", "旗应急管理局"),
    ("scjgj", "旗市场监督管理局"),
    ("cgj", "旗城市管理综合执法局"),
    // The departments' superior: it answers a petition's 复核.
    ("qzf", "旗人民政府"),
];

/// Towns (苏木镇) where deputy homes and liaison stations are.
pub const TOWNS: &[&str] = &[
    "鲁北镇",
    "黄花山镇",
    "巨日合镇",
    "香山镇",
    "嘎亥图镇",
    "阿日昆都楞镇",
    "巴雅尔图胡硕镇",
    "乌力吉木仁苏木",
    "格日朝鲁苏木",
    "道老杜苏木",
    "前德门苏木",
    "查布嘎图苏木",
    "乌兰哈达苏木",
    "巴彦芒哈苏木",
];

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "郭",
    "马", "包", "白", "宝", "韩", "于", "董", "贾",
];

pub const GIVEN: &[&str] = &[
    "会刚",
    "晓峰",
    "志强",
    "秀英",
    "桂兰",
    "海龙",
    "建国",
    "丽娟",
    "文华",
    "玉梅",
    "立新",
    "春生",
    "巴特尔",
    "乌力吉",
    "其木格",
    "苏日娜",
    "额尔敦",
    "那仁",
    "达来",
    "宝音",
    "敖日格乐",
    "斯琴",
    "金花",
    "振华",
    "红梅",
    "国庆",
    "明月",
    "雪莲",
];

/// Suggestion topics: the title (with `{town}`), the lead department, a co-handler if any.
pub const SUGGESTIONS: &[(&str, &str, Option<&str>)] = &[
    ("关于加快{town}嘎查村道路硬化的建议", "jtj", Some("czj")),
    ("关于增开{town}至旗所在地客运班线的建议", "jtj", None),
    (
        "关于改善{town}中心学校冬季供暖条件的建议",
        "jyj",
        Some("zjj"),
    ),
    ("关于加强农村牧区学校寄宿生管理的建议", "jyj", None),
    ("关于提升{town}卫生院诊疗水平的建议", "wjw", None),
    ("关于完善嘎查村卫生室药品配备的建议", "wjw", Some("scjgj")),
    ("关于推进{town}老旧小区改造的建议", "zjj", Some("czj")),
    ("关于扶持{town}肉牛产业发展的建议", "nmj", Some("czj")),
    ("关于加强草原禁牧休牧管理的建议", "nmj", Some("zrzyj")),
    ("关于解决{town}牧区人畜饮水问题的建议", "slj", None),
    ("关于加快{town}灌区节水改造的建议", "slj", Some("nmj")),
    ("关于规范农村宅基地审批的建议", "zrzyj", None),
    ("关于加强{town}河道垃圾治理的建议", "sthjj", Some("cgj")),
    ("关于提高农村牧区特困人员供养标准的建议", "mzj", Some("czj")),
    ("关于加强农民工工资支付保障的建议", "rsj", None),
    ("关于扶持{town}文旅项目建设的建议", "wlj", Some("nmj")),
    ("关于加强{town}森林草原防火能力建设的建议", "yjj", None),
    ("关于加强校园周边食品安全监管的建议", "scjgj", Some("jyj")),
    ("关于规范鲁北镇主城区停车秩序的建议", "cgj", Some("jtj")),
    ("关于加快主城区供热管网改造的建议", "zjj", None),
];

/// Petition topics: the title (with `{town}`) and the department it goes to when transferred.
pub const PETITIONS: &[(&str, &str)] = &[
    ("反映{town}务工人员工资被拖欠问题", "rsj"),
    ("反映{town}草场边界纠纷问题", "zrzyj"),
    ("反映{town}宅基地确权登记问题", "zrzyj"),
    ("反映低保资格认定问题", "mzj"),
    ("反映{town}嘎查饮水水质问题", "slj"),
    ("反映{town}村道损毁影响出行问题", "jtj"),
    ("反映小区冬季供暖不达标问题", "zjj"),
    ("反映{town}征地补偿款发放问题", "zrzyj"),
    ("反映养殖场异味扰民问题", "sthjj"),
    ("反映子女入学报名问题", "jyj"),
];

/// Mediation: the kind of dispute in the workflow, and its title.
pub const DISPUTES: &[(&str, &str)] = &[
    ("contract", "买卖合同纠纷"),
    ("debt", "民间借贷纠纷"),
    ("family", "婚姻家庭纠纷"),
    ("neighbour", "相邻关系纠纷"),
    ("labour", "劳务合同纠纷"),
    ("traffic", "机动车交通事故责任纠纷"),
    ("property", "土地承包经营权纠纷"),
    ("other", "房屋租赁合同纠纷"),
];

/// The standing committee's leaders: login and name.
pub const LEADERS: &[(&str, &str)] = &[
    ("zhuren", "贾宝武"),
    ("fuzhuren1", "王会刚"),
    ("fuzhuren2", "包晓峰"),
    ("fuzhuren3", "达来"),
    ("fuzhuren4", "韩雪莲"),
];

/// A special work report: its title, the day (month, day) it was deliberated, and its opinions,
/// each with the department it goes to.
pub type SpecialReport = (
    &'static str,
    (i8, i8),
    &'static [(&'static str, &'static str)],
);

/// The special work reports of the government the committee deliberated (the seed names these
/// four): the report, the day the committee deliberated it, and its opinions with the
/// department each goes to.
pub const SPECIAL_REPORTS: &[SpecialReport] = &[
    (
        "旗人民政府关于全旗食品安全工作情况的报告",
        (3, 28),
        &[
            ("关于加强校园及周边食品安全监管的审议意见", "scjgj"),
            ("关于规范农村牧区集体聚餐食品安全管理的审议意见", "scjgj"),
            ("关于提升食品快检能力的审议意见", "wjw"),
            ("关于加强网络订餐食品安全监管的审议意见", "scjgj"),
            ("关于健全食品安全责任追溯体系的审议意见", "nmj"),
            ("关于加强食品安全宣传教育的审议意见", "jyj"),
        ],
    ),
    (
        "旗人民政府关于全旗校园安全工作情况的报告",
        (5, 30),
        &[
            ("关于完善校园安保设施配备的审议意见", "jyj"),
            ("关于加强校车安全管理的审议意见", "jtj"),
            ("关于加强学生心理健康教育的审议意见", "jyj"),
            ("关于开展校园周边治安环境整治的审议意见", "cgj"),
            ("关于加强寄宿制学校消防安全的审议意见", "yjj"),
        ],
    ),
    (
        "旗人民政府关于全旗道路交通安全工作情况的报告",
        (8, 29),
        &[
            ("关于加强农村牧区道路交通安全隐患排查的审议意见", "jtj"),
            ("关于完善主城区交通信号和标志标线的审议意见", "cgj"),
            ("关于加强重点车辆运输监管的审议意见", "jtj"),
            ("关于加强交通安全宣传进嘎查村的审议意见", "jtj"),
            ("关于规范电动自行车管理的审议意见", "cgj"),
            ("关于加快危险路段防护设施建设的审议意见", "jtj"),
        ],
    ),
    (
        "旗人民政府关于全旗乡村振兴工作情况的报告",
        (10, 30),
        &[
            ("关于壮大嘎查村集体经济的审议意见", "nmj"),
            ("关于做好产业发展带头人培育的审议意见", "nmj"),
            ("关于改善农村牧区人居环境的审议意见", "zjj"),
            ("关于加强乡村振兴项目资金监管的审议意见", "czj"),
            ("关于完善防止返贫监测帮扶机制的审议意见", "mzj"),
        ],
    ),
];

/// Livelihood projects (民生实事): the name, the lead department, the budget in yuan. The first
/// eleven are those the seed says were carried out; the rest are proposals that did not make
/// it.
pub const PROJECTS: &[(&str, &str, i64)] = &[
    ("主城区供热管网改造", "zjj", 38_000_000),
    ("体育公园建设", "wlj", 26_000_000),
    ("消防站建设", "yjj", 15_000_000),
    ("鲁北镇主城区污水处理提标改造", "sthjj", 21_000_000),
    ("农村牧区饮水安全巩固提升", "slj", 9_600_000),
    ("老旧小区改造", "zjj", 18_500_000),
    ("嘎查村卫生室标准化建设", "wjw", 4_200_000),
    ("中小学校供暖设施改造", "jyj", 6_800_000),
    ("城乡公交线路延伸", "jtj", 3_500_000),
    ("居家养老服务中心建设", "mzj", 5_200_000),
    ("农贸市场升级改造", "scjgj", 7_400_000),
    ("主城区停车场建设", "cgj", 12_000_000),
    ("草原防火物资储备库建设", "yjj", 2_900_000),
    ("旗图书馆新馆建设", "wlj", 30_000_000),
    ("农牧民技能培训中心建设", "rsj", 4_800_000),
    ("乡村道路路灯安装", "jtj", 2_600_000),
    ("嘎查村文化广场建设", "wlj", 3_300_000),
    ("社区食堂建设", "mzj", 1_900_000),
];

/// What deputies hear at a deputy home or on a village visit: the title, the category
/// (`opinion` 社情民意 or `help` 群众诉求), and the department it goes to if referred.
pub const VOICES: &[(&str, &str, &str)] = &[
    ("群众反映{town}村道路灯不亮", "help", "jtj"),
    ("建议{town}增设便民服务点", "opinion", "mzj"),
    ("群众反映冬季取暖煤价偏高", "opinion", "scjgj"),
    ("牧民咨询草原生态补奖政策", "help", "nmj"),
    ("建议加强{town}嘎查村垃圾清运", "opinion", "cgj"),
    ("群众反映{town}卫生室缺少常用药", "help", "wjw"),
    ("建议{town}小学开设课后托管", "opinion", "jyj"),
    ("群众反映房前排水沟堵塞", "help", "zjj"),
    ("建议完善{town}养老服务设施", "opinion", "mzj"),
    ("群众反映灌溉机井电费结算问题", "help", "slj"),
    ("建议扶持{town}特色种养殖", "opinion", "nmj"),
    ("群众反映农机补贴申领问题", "help", "nmj"),
];
