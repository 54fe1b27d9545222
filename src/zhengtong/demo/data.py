"""Names for the fictional 示范市: its counties, townships, units and their internal departments.

Region codes start with 99 so they never collide with a real 行政区划代码 (GB/T 2260). The city is
sized like 新余 in the seeds (MISSION.md): 51 city units, 6 counties/districts with 34 units each and
60 townships/streets with a party committee and a government each: 51 + 6 × 34 + 60 × 2 = 375 units.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CITY_NAME = "示范市"
CITY_ABBR = "示"  # 机关代字 prefix: 示政发, 示政办发, 示教发…
CITY_CODE = "990100"


@dataclass(frozen=True)
class County:
    name: str  # 青川县 / 东湖区
    abbr: str  # one character for 机关代字: 青政发
    code: str  # 6-digit region code, 99xxxx
    townships: tuple[str, ...]

    @property
    def is_district(self) -> bool:
        return self.name.endswith("区")

    @property
    def short(self) -> str:  # 县 / 区: 县委, 区委…
        return self.name[-1]

    @property
    def head_title(self) -> str:
        return "区长" if self.is_district else "县长"


# Counties first: `xian1.sfy` is the 收发员 of the first county's government office (青川县).
COUNTIES: tuple[County, ...] = (
    County("青川县", "青", "990121", ("城关镇", "河口镇", "石桥镇", "柳林镇", "双溪镇", "龙潭镇", "白沙乡", "桃源乡",
                                  "云台乡", "杨家乡", "马鞍乡")),
    County("临溪县", "临", "990122", ("临溪镇", "清水镇", "高坪镇", "三合镇", "新民镇", "黄岭乡", "梅子乡", "松林乡",
                                  "长岗乡")),
    County("安平县", "安", "990123", ("安平镇", "永兴镇", "太平镇", "金鸡镇", "凤凰镇", "红星乡", "平安乡", "花桥乡",
                                  "竹园乡", "大坪乡")),
    County("明水县", "明", "990124", ("明水镇", "朝阳镇", "兴隆镇", "古城镇", "新华镇", "东岳镇", "西河乡", "南山乡",
                                  "北塘乡", "青龙乡", "落霞乡", "仙岩乡")),
    County("东湖区", "东", "990102", ("东湖街道", "滨江街道", "文昌街道", "人民路街道", "新城街道", "湖心街道",
                                  "望江镇", "渔湾镇")),
    County("西山区", "西", "990103", ("西山街道", "钟楼街道", "翠屏街道", "长春街道", "工业园街道", "金山镇",
                                  "枫林镇", "罗家镇", "石门镇", "清风镇")),
)


@dataclass(frozen=True)
class UnitSpec:
    """One unit in the catalogue. `name` and `short` may use {city}/{county}/{c} placeholders."""

    key: str  # stable key: demo accounts and parents refer to it
    name: str
    short: str
    kind: str  # org.Unit.Kind value
    doc_code: str  # 机关代字 suffix after the place abbreviation: 政发 → 示政发 / 青政发
    head: str  # principal's title; deputies get 副 + head unless `deputy` says otherwise
    departments: tuple[str, ...] = ()
    parent: str = ""  # key of the parent unit at the same level ("" = top of its level)
    deputy: str = ""
    deputies: tuple[int, int] = (2, 4)  # how many 分管领导 (min, max)
    credit_kind: str = "11"  # 机构编制 + 机关 (11), 事业单位 (12), 群众团体 (13)
    extra: dict = field(default_factory=dict)

    @property
    def deputy_title(self) -> str:
        return self.deputy or ("副" + self.head)


# City level: 处室 inside units, except the government office, whose 科 names are fixed by custom (秘书科).
CITY_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("party", "中共{city}委员会", "市委", "party", "发", "市委书记", ("综合室",),
             deputy="市委副书记", deputies=(2, 3)),
    UnitSpec("congress", "{city}人民代表大会常务委员会", "市人大常委会", "congress", "人大常发", "主任",
             ("办公室", "法制工作委员会", "财政经济工作委员会", "代表工作委员会", "研究室"), deputies=(4, 5)),
    UnitSpec("gov", "{city}人民政府", "市政府", "government", "政发", "市长", ("综合室",),
             deputy="副市长", deputies=(4, 5)),
    UnitSpec("cppcc", "中国人民政治协商会议{city}委员会", "市政协", "cppcc", "政协发", "主席",
             ("办公室", "提案委员会", "经济委员会", "文史和学习委员会"), deputies=(4, 5), credit_kind="13"),
    UnitSpec("discipline", "中共{city}纪律检查委员会（{city}监察委员会）", "市纪委监委", "discipline", "纪发",
             "书记、主任", ("办公厅", "党风政风监督室", "信访室", "案件监督管理室", "第一监督检查室", "第二监督检查室"),
             deputy="副书记、副主任", deputies=(3, 4)),
    UnitSpec("party_office", "中共{city}委员会办公室", "市委办公室", "party_dept", "办发", "主任",
             ("秘书处", "综合处", "督查室", "机要处", "信息处"), parent="party"),
    UnitSpec("organization", "中共{city}委员会组织部", "市委组织部", "party_dept", "组发", "部长",
             ("办公室", "组织处", "干部一处", "干部二处", "公务员管理处"), parent="party"),
    UnitSpec("propaganda", "中共{city}委员会宣传部", "市委宣传部", "party_dept", "宣发", "部长",
             ("办公室", "理论处", "新闻处", "文艺处"), parent="party"),
    UnitSpec("united_front", "中共{city}委员会统一战线工作部", "市委统战部", "party_dept", "统发", "部长",
             ("办公室", "党派处", "民族宗教处"), parent="party"),
    UnitSpec("politics_law", "中共{city}委员会政法委员会", "市委政法委", "party_dept", "政法发", "书记",
             ("办公室", "综治督导处", "执法监督处"), parent="party"),
    UnitSpec("establishment", "中共{city}委员会机构编制委员会办公室", "市委编办", "party_dept", "编发", "主任",
             ("综合处", "机构编制处"), parent="party", deputies=(1, 2)),
    UnitSpec("cyberspace", "中共{city}委员会网络安全和信息化委员会办公室", "市委网信办", "party_dept", "网信发", "主任",
             ("综合处", "网络安全协调处", "网络舆情处"), parent="party", deputies=(1, 2)),
    UnitSpec("party_school", "中共{city}委员会党校", "市委党校", "institution", "校发", "常务副校长",
             ("办公室", "教务处", "科研处"), parent="party", deputy="副校长", deputies=(2, 3), credit_kind="12"),
    UnitSpec("gov_office", "{city}人民政府办公室", "市政府办公室", "gov_dept", "政办发", "主任",
             ("秘书科", "综合科", "督查科", "文电科", "信息科", "政务公开科", "人事科"), parent="gov",
             deputies=(3, 4)),
    UnitSpec("development", "{city}发展和改革委员会", "市发改委", "gov_dept", "发改发", "主任",
             ("办公室", "综合规划处", "固定资产投资处", "价格管理处", "能源处"), parent="gov"),
    UnitSpec("education", "{city}教育局", "市教育局", "gov_dept", "教发", "局长",
             ("办公室", "基础教育处", "职业教育与成人教育处", "教师工作处", "计划财务处", "安全稳定处"),
             parent="gov", deputies=(3, 4)),
    UnitSpec("science", "{city}科学技术局", "市科技局", "gov_dept", "科发", "局长",
             ("办公室", "高新技术处", "农村科技处"), parent="gov"),
    UnitSpec("industry", "{city}工业和信息化局", "市工信局", "gov_dept", "工信发", "局长",
             ("办公室", "产业发展处", "信息化推进处", "中小企业处"), parent="gov"),
    UnitSpec("public_security", "{city}公安局", "市公安局", "gov_dept", "公发", "局长",
             ("办公室", "治安管理支队", "刑事侦查支队", "交通管理支队", "出入境管理处", "法制处"), parent="gov",
             deputies=(3, 4)),
    UnitSpec("civil_affairs", "{city}民政局", "市民政局", "gov_dept", "民发", "局长",
             ("办公室", "社会救助处", "养老服务处", "区划地名处"), parent="gov"),
    UnitSpec("justice", "{city}司法局", "市司法局", "gov_dept", "司发", "局长",
             ("办公室", "法治督察处", "行政复议处", "普法与依法治理处"), parent="gov"),
    UnitSpec("finance", "{city}财政局", "市财政局", "gov_dept", "财发", "局长",
             ("办公室", "预算处", "国库处", "行政政法处", "教科文处", "政府采购管理处"), parent="gov"),
    UnitSpec("human_resources", "{city}人力资源和社会保障局", "市人社局", "gov_dept", "人社发", "局长",
             ("办公室", "就业促进处", "养老保险处", "劳动关系处", "事业单位人事管理处"), parent="gov"),
    UnitSpec("natural_resources", "{city}自然资源和规划局", "市自然资源和规划局", "gov_dept", "自然资规发", "局长",
             ("办公室", "国土空间规划处", "耕地保护处", "不动产登记处", "执法监察支队"), parent="gov"),
    UnitSpec("ecology", "{city}生态环境局", "市生态环境局", "gov_dept", "环发", "局长",
             ("办公室", "大气环境处", "水生态环境处", "环境影响评价处"), parent="gov"),
    UnitSpec("housing", "{city}住房和城乡建设局", "市住建局", "gov_dept", "建发", "局长",
             ("办公室", "住房保障处", "建筑市场监管处", "城市建设处", "房地产市场处"), parent="gov"),
    UnitSpec("transport", "{city}交通运输局", "市交通运输局", "gov_dept", "交发", "局长",
             ("办公室", "综合规划处", "公路管理处", "运输管理处"), parent="gov"),
    UnitSpec("water", "{city}水利局", "市水利局", "gov_dept", "水发", "局长",
             ("办公室", "水资源处", "河湖管理处", "水旱灾害防御处"), parent="gov"),
    UnitSpec("agriculture", "{city}农业农村局", "市农业农村局", "gov_dept", "农发", "局长",
             ("办公室", "乡村产业处", "种植业管理处", "农村合作经济指导处", "畜牧兽医处"), parent="gov"),
    UnitSpec("commerce", "{city}商务局", "市商务局", "gov_dept", "商发", "局长",
             ("办公室", "对外贸易处", "外资处", "市场运行处"), parent="gov"),
    UnitSpec("culture", "{city}文化广电新闻出版旅游局", "市文广旅局", "gov_dept", "文旅发", "局长",
             ("办公室", "公共服务处", "艺术处", "资源开发处", "市场管理处"), parent="gov"),
    UnitSpec("health", "{city}卫生健康委员会", "市卫健委", "gov_dept", "卫健发", "主任",
             ("办公室", "医政医管处", "疾病预防控制处", "基层卫生健康处", "妇幼健康处"), parent="gov"),
    UnitSpec("veterans", "{city}退役军人事务局", "市退役军人事务局", "gov_dept", "退役军人发", "局长",
             ("办公室", "移交安置处", "褒扬纪念处"), parent="gov"),
    UnitSpec("emergency", "{city}应急管理局", "市应急管理局", "gov_dept", "应急发", "局长",
             ("办公室", "应急指挥中心", "安全生产基础处", "危险化学品安全监督管理处", "防汛抗旱处"), parent="gov"),
    UnitSpec("audit", "{city}审计局", "市审计局", "gov_dept", "审发", "局长",
             ("办公室", "财政审计处", "经济责任审计处", "固定资产投资审计处"), parent="gov"),
    UnitSpec("market", "{city}市场监督管理局", "市市场监管局", "gov_dept", "市监发", "局长",
             ("办公室", "登记注册处", "食品安全协调处", "价格监督检查和反不正当竞争处", "质量发展处", "特种设备安全监察处"),
             parent="gov", deputies=(3, 4)),
    UnitSpec("statistics", "{city}统计局", "市统计局", "gov_dept", "统发", "局长",
             ("办公室", "综合处", "国民经济核算处", "工业统计处"), parent="gov"),
    UnitSpec("medical_insurance", "{city}医疗保障局", "市医保局", "gov_dept", "医保发", "局长",
             ("办公室", "待遇保障处", "医药服务管理处", "基金监管处"), parent="gov"),
    UnitSpec("petition", "{city}信访局", "市信访局", "gov_dept", "信访发", "局长",
             ("办公室", "来访接待处", "网上信访处", "督查督办处"), parent="gov"),
    UnitSpec("approval", "{city}行政审批局", "市行政审批局", "gov_dept", "审批发", "局长",
             ("办公室", "投资建设审批处", "社会事务审批处", "市场准入审批处", "勘验踏勘处"), parent="gov"),
    UnitSpec("data", "{city}政务服务和大数据管理局", "市数据局", "gov_dept", "数据发", "局长",
             ("办公室", "政务服务处", "数据资源处", "电子政务处", "12345热线管理处"), parent="gov"),
    UnitSpec("urban", "{city}城市管理局", "市城管局", "gov_dept", "城管发", "局长",
             ("办公室", "市容环卫处", "市政公用处", "综合执法支队"), parent="gov"),
    UnitSpec("forestry", "{city}林业局", "市林业局", "gov_dept", "林发", "局长",
             ("办公室", "生态保护修复处", "森林资源管理处"), parent="gov"),
    UnitSpec("assets", "{city}人民政府国有资产监督管理委员会", "市国资委", "gov_dept", "国资发", "主任",
             ("办公室", "产权管理处", "企业改革处", "考核分配处"), parent="gov"),
    UnitSpec("affairs", "{city}机关事务管理局", "市机关事务管理局", "gov_dept", "机管发", "局长",
             ("办公室", "公共机构节能处", "公务用车管理处"), parent="gov", deputies=(1, 2)),
    UnitSpec("civil_defense", "{city}人民防空办公室", "市人防办", "gov_dept", "人防发", "主任",
             ("综合处", "工程处"), parent="gov", deputies=(1, 2)),
    UnitSpec("housing_fund", "{city}住房公积金管理中心", "市公积金中心", "institution", "公积金发", "主任",
             ("综合科", "归集科", "信贷科", "稽核科"), parent="gov", deputies=(1, 2), credit_kind="12"),
    UnitSpec("archives", "{city}档案馆", "市档案馆", "institution", "档发", "馆长",
             ("办公室", "档案接收征集处", "档案保管利用处"), parent="party", deputies=(1, 2), credit_kind="12"),
    UnitSpec("court", "{city}中级人民法院", "市中级法院", "court", "中法发", "院长",
             ("办公室", "立案庭", "刑事审判第一庭", "民事审判第一庭", "行政审判庭", "执行局"), deputies=(3, 4)),
    UnitSpec("procuratorate", "{city}人民检察院", "市检察院", "procuratorate", "检发", "检察长",
             ("办公室", "第一检察部", "第二检察部", "案件管理部"), deputies=(2, 3)),
    UnitSpec("union", "{city}总工会", "市总工会", "other", "工发", "主席",
             ("办公室", "组织部", "权益保障部"), parent="party", deputies=(2, 3), credit_kind="13"),
)

# County level: 科室 inside units. {county} = 青川县, {c} = 县 / 区.
COUNTY_UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("party", "中共{county}委员会", "{c}委", "party", "发", "{c}委书记", ("综合股",),
             deputy="{c}委副书记", deputies=(1, 2), extra={"up": "party"}),
    UnitSpec("congress", "{county}人民代表大会常务委员会", "{c}人大常委会", "congress", "人大常发", "主任",
             ("办公室", "法制工作委员会", "代表工作委员会"), deputies=(3, 4), extra={"up": "congress"}),
    UnitSpec("gov", "{county}人民政府", "{c}政府", "government", "府发", "{head}", ("综合股",),
             deputy="副{head}", deputies=(3, 4), extra={"up": "gov"}),
    UnitSpec("cppcc", "中国人民政治协商会议{county}委员会", "{c}政协", "cppcc", "政协发", "主席",
             ("办公室", "提案委员会"), deputies=(3, 4), credit_kind="13", extra={"up": "cppcc"}),
    UnitSpec("discipline", "中共{county}纪律检查委员会（{county}监察委员会）", "{c}纪委监委", "discipline", "纪发",
             "书记、主任", ("办公室", "党风政风监督室", "信访室", "第一监督检查室"),
             deputy="副书记、副主任", deputies=(2, 3), extra={"up": "discipline"}),
    UnitSpec("party_office", "中共{county}委员会办公室", "{c}委办公室", "party_dept", "办发", "主任",
             ("秘书科", "综合科", "督查室", "机要科"), parent="party"),
    UnitSpec("organization", "中共{county}委员会组织部", "{c}委组织部", "party_dept", "组发", "部长",
             ("办公室", "组织股", "干部股"), parent="party"),
    UnitSpec("propaganda", "中共{county}委员会宣传部", "{c}委宣传部", "party_dept", "宣发", "部长",
             ("办公室", "宣传股", "网络信息股"), parent="party"),
    UnitSpec("united_front", "中共{county}委员会统一战线工作部", "{c}委统战部", "party_dept", "统发", "部长",
             ("办公室", "民族宗教股"), parent="party", deputies=(1, 2)),
    UnitSpec("politics_law", "中共{county}委员会政法委员会", "{c}委政法委", "party_dept", "政法发", "书记",
             ("办公室", "综治督导股"), parent="party", deputies=(1, 2)),
    UnitSpec("gov_office", "{county}人民政府办公室", "{c}政府办公室", "gov_dept", "府办发", "主任",
             ("秘书科", "综合科", "督查科", "文电科", "政务公开科"), parent="gov", deputies=(2, 3)),
    UnitSpec("development", "{county}发展和改革局", "{c}发改局", "gov_dept", "发改发", "局长",
             ("办公室", "规划投资股", "价格股"), parent="gov"),
    UnitSpec("education", "{county}教育体育局", "{c}教体局", "gov_dept", "教体发", "局长",
             ("办公室", "基础教育股", "人事股", "计划财务股", "体育卫生艺术股"), parent="gov", deputies=(3, 4)),
    UnitSpec("industry", "{county}科技和工业信息化局", "{c}科工信局", "gov_dept", "科工信发", "局长",
             ("办公室", "工业股", "科技股"), parent="gov"),
    UnitSpec("public_security", "{county}公安局", "{c}公安局", "gov_dept", "公发", "局长",
             ("办公室", "治安管理大队", "刑事侦查大队", "交通管理大队"), parent="gov", deputies=(3, 4)),
    UnitSpec("civil_affairs", "{county}民政局", "{c}民政局", "gov_dept", "民发", "局长",
             ("办公室", "社会救助股", "养老服务股"), parent="gov"),
    UnitSpec("justice", "{county}司法局", "{c}司法局", "gov_dept", "司发", "局长",
             ("办公室", "法治督察股", "普法股"), parent="gov"),
    UnitSpec("finance", "{county}财政局", "{c}财政局", "gov_dept", "财发", "局长",
             ("办公室", "预算股", "国库股", "农业农村股"), parent="gov"),
    UnitSpec("human_resources", "{county}人力资源和社会保障局", "{c}人社局", "gov_dept", "人社发", "局长",
             ("办公室", "就业股", "社会保险股"), parent="gov"),
    UnitSpec("natural_resources", "{county}自然资源局", "{c}自然资源局", "gov_dept", "自然资发", "局长",
             ("办公室", "规划股", "耕地保护股", "不动产登记中心"), parent="gov"),
    UnitSpec("housing", "{county}住房和城乡建设局", "{c}住建局", "gov_dept", "建发", "局长",
             ("办公室", "住房保障股", "建筑管理股"), parent="gov"),
    UnitSpec("transport", "{county}交通运输局", "{c}交通运输局", "gov_dept", "交发", "局长",
             ("办公室", "公路股", "运输股"), parent="gov"),
    UnitSpec("water", "{county}水利局", "{c}水利局", "gov_dept", "水发", "局长",
             ("办公室", "水资源股", "河湖管理股"), parent="gov"),
    UnitSpec("agriculture", "{county}农业农村局", "{c}农业农村局", "gov_dept", "农发", "局长",
             ("办公室", "乡村产业股", "农村经营管理股", "畜牧兽医股"), parent="gov"),
    UnitSpec("commerce", "{county}商务局", "{c}商务局", "gov_dept", "商发", "局长",
             ("办公室", "市场运行股"), parent="gov", deputies=(1, 2)),
    UnitSpec("culture", "{county}文化广电旅游局", "{c}文广旅局", "gov_dept", "文旅发", "局长",
             ("办公室", "文化艺术股", "旅游发展股"), parent="gov"),
    UnitSpec("health", "{county}卫生健康局", "{c}卫健局", "gov_dept", "卫健发", "局长",
             ("办公室", "医政医管股", "疾病预防控制股", "基层卫生股"), parent="gov"),
    UnitSpec("veterans", "{county}退役军人事务局", "{c}退役军人事务局", "gov_dept", "退役军人发", "局长",
             ("办公室", "优抚安置股"), parent="gov", deputies=(1, 2)),
    UnitSpec("emergency", "{county}应急管理局", "{c}应急管理局", "gov_dept", "应急发", "局长",
             ("办公室", "应急指挥股", "安全生产监督管理股"), parent="gov"),
    UnitSpec("audit", "{county}审计局", "{c}审计局", "gov_dept", "审发", "局长",
             ("办公室", "财政审计股", "经济责任审计股"), parent="gov", deputies=(1, 2)),
    UnitSpec("market", "{county}市场监督管理局", "{c}市场监管局", "gov_dept", "市监发", "局长",
             ("办公室", "登记注册股", "食品安全股", "特种设备安全股"), parent="gov"),
    UnitSpec("statistics", "{county}统计局", "{c}统计局", "gov_dept", "统发", "局长",
             ("办公室", "综合统计股"), parent="gov", deputies=(1, 2)),
    UnitSpec("medical_insurance", "{county}医疗保障局", "{c}医保局", "gov_dept", "医保发", "局长",
             ("办公室", "待遇保障股", "基金监管股"), parent="gov", deputies=(1, 2)),
    UnitSpec("approval", "{county}行政审批局", "{c}行政审批局", "gov_dept", "审批发", "局长",
             ("办公室", "政务服务股", "投资项目审批股"), parent="gov"),
)

# Township/street level: a party committee and a government (街道: 党工委 and 办事处).
TOWNSHIP_PARTY = UnitSpec("twp_party", "", "", "party", "委发", "党委书记", ("党建工作办公室",),
                          deputy="党委副书记", deputies=(1, 2))
TOWNSHIP_GOV = UnitSpec("twp_gov", "", "", "government", "府发", "", (
    "党政综合办公室", "经济发展办公室", "社会事务办公室", "综合行政执法队", "便民服务中心"), deputies=(2, 3))

CLERK_TITLES = ("科员", "科员", "科员", "一级科员", "二级科员", "四级主任科员", "三级主任科员")

GROUPS = (
    # (unit key at city level, group name, description, which identities: "leaders"/"gov_leaders"…)
    ("gov", "市政府党组成员", "市政府党组书记、副书记和成员", "gov_leaders"),
    ("party", "市委常委会组成人员", "市委书记、副书记和常委", "party_leaders"),
    ("gov_office", "市政府办公室值班组", "节假日和重要时段值班", "office_staff"),
    ("", "全市收发员", "各单位公文收发员（平台级群组）", "doc_clerks"),
)

ROLES = (
    # (unit key, code, name, which identities)
    ("gov_office", "reviewer", "核稿人", "office_dept_heads"),
    ("gov_office", "inspector", "督查专员", "office_inspectors"),
    ("", "info_liaison", "政务信息联络员", "liaisons"),
)

NOTICES = (
    # (unit key, title, body, platform_wide, pinned, days ago)
    ("gov_office", "关于启用政通协同办公平台的通知",
     "各县（区）人民政府，市政府各部门：\n\n经市政府同意，政通协同办公平台自即日起在全市各级机关单位启用，"
     "公文收发、流转和办理一律通过平台进行。请各单位指定收发员，及时签收来文，按时限办结。\n\n"
     "平台使用中遇到问题，请联系市政务服务和大数据管理局电子政务处。", True, True, 2),
    ("gov_office", "关于做好2027年元旦春节期间值班工作的通知",
     "各县（区）人民政府，市政府各部门：\n\n为确保元旦春节期间各项工作正常运转，现就做好值班工作通知如下："
     "一、严格落实领导带班和24小时值班制度；二、值班人员要坚守岗位，保持通讯畅通；三、遇有重大突发事件，"
     "要第一时间报告，不得迟报、漏报、瞒报。\n\n请各单位于12月25日前将值班表报市政府办公室督查科。", True, False, 1),
    ("gov_office", "关于开展2026年度政务公开工作考核的通知",
     "市政府各部门：\n\n根据《中华人民共和国政府信息公开条例》和年度政务公开工作要点，"
     "市政府办公室将对各单位2026年度政务公开工作进行考核，请各单位做好自查并于规定时间内报送自查报告。", True, False, 5),
    ("emergency", "关于做好冬季安全生产工作的通知",
     "各县（区）应急管理局，市直有关单位：\n\n冬季是安全生产事故易发多发期，请各单位压实安全生产责任，"
     "开展隐患排查整治，加强值班值守，确保全市安全生产形势稳定。", True, False, 7),
    ("gov_office", "关于调整市政府领导工作分工的通知",
     "市政府各部门：\n\n根据工作需要，市政府领导工作分工作相应调整，详见附件。调整后，"
     "请各单位按照新的分工报送文件和请示事项。", False, False, 10),
    ("education", "关于做好寒假期间校园安全工作的通知",
     "各县（区）教育体育局，市直各学校：\n\n寒假将至，请各地各校切实做好校园安全、防溺水、"
     "交通安全和消防安全教育工作，落实假期值班制度。", False, False, 3),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    gender: str
    level: str  # "city" | "county1"
    unit: str  # unit key
    duty: str  # org.Duty code
    title: str
    department: str = ""
    second: tuple[str, str, str] | None = None  # (unit key, duty code, title) of a second, non-main post


# The demo accounts (README, scripts/run-demo.sh). Each takes the slot of one generated person.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("shizhang", "林国栋", "M", "city", "gov", "principal", "市长",
                second=("party", "deputy", "市委副书记")),
    DemoAccount("fushizhang", "陈志远", "M", "city", "gov", "deputy", "副市长"),
    DemoAccount("bgs.zhuren", "王建华", "M", "city", "gov_office", "principal", "主任",
                second=("gov", "deputy", "市政府副秘书长")),
    DemoAccount("bgs.keyuan", "李晓雯", "F", "city", "gov_office", "clerk", "科员", department="秘书科"),
    DemoAccount("bgs.sfy", "赵静", "F", "city", "gov_office", "doc_clerk", "收发员", department="文电科"),
    DemoAccount("jyj.juzhang", "周明辉", "M", "city", "education", "principal", "局长"),
    DemoAccount("jyj.sfy", "孙丽娟", "F", "city", "education", "doc_clerk", "收发员", department="办公室"),
    DemoAccount("xian1.sfy", "吴海燕", "F", "county1", "gov_office", "doc_clerk", "收发员", department="文电科"),
)

# The three administrators (三员, R7.2): accounts without a business identity.
ADMIN_ACCOUNTS = (
    ("sysadmin", "sysadmin", "郑立新"),  # 系统管理员
    ("secadmin", "secadmin", "何文涛"),  # 安全保密管理员
    ("auditor", "auditor", "冯雅琴"),  # 安全审计员
)

DEMO_PASSWORD = "Demo@2026"
