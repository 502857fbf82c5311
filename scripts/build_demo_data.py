"""Build the demo data set shipped in ``src/techbridge/data/demo/`` from ``../shared/data``.

Real records: patent titles with IPC subclasses (cn-patent-ipc-titles, MIT code / research data) and
paper titles, abstracts, keywords and disciplines (CSL, Apache-2.0). Everything else (demands, experts,
instruments, pilot platforms, the owning organisations) is SAMPLE data written for the demo, and the
app labels it as such. Run once by hand: ``python scripts/build_demo_data.py``.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "src" / "techbridge" / "data" / "demo"
RNG = random.Random(20261126)

ZONES = ["wuxi", "chengdu", "xian"]
UNIVERSITIES = {
    "wuxi": ["示例大学甲(无锡)", "示例研究院乙(无锡)"],
    "chengdu": ["示例大学丙(成都)", "示例研究院丁(成都)"],
    "xian": ["示例大学戊(西安)"],
}


def _zone_for(i: int) -> str:
    return ZONES[i % 7 % 3] if i % 7 < 6 else "xian"


BENCH = SHARED / "bench" / "demand-knownitem-dev"
KNOWN_ITEM_DEMANDS = 12
"""The first demands of demand-knownitem-dev join the sample demands (enterprise-style texts written after a
real record); the records a reader judged relevant to them join the catalogue, so they can be answered."""
TOPIC_WORDS = ("隔膜", "IGBT", "功率模块", "散热", "导管", "抗菌", "永磁", "退磁", "电机故障", "漏磁")
"""Real patents whose titles name a topic of the issue's sample demands (or, for 退磁检测, which no title
names, the faults and magnetic tests it belongs to) also join the catalogue; the engine, not this script,
decides whether any of them answers a demand. They are shared across zones, so every zone's sample demands
can be answered from the same catalogue."""
EXTRA_RNG = random.Random(20261201)  # extra records draw their sample values here, so the rest stay as before


def _answer_ids() -> set[str]:
    wanted = {f"kd{i:02d}" for i in range(1, KNOWN_ITEM_DEMANDS + 1)}
    lines = (BENCH / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {
        doc
        for query, doc, grade in (line.split("\t") for line in lines)
        if query in wanted and int(grade) > 0
    }


def _known_item_demands() -> list[tuple]:
    rows = (BENCH / "demands-source.tsv").read_text(encoding="utf-8").splitlines()[:KNOWN_ITEM_DEMANDS]
    return [
        (title, text, "", "", (20, 100), "wuxi", True) for _, title, text in (r.split("\t") for r in rows)
    ]


def patents(limit: int = 900) -> None:
    rows = list(csv.DictReader((SHARED / "cn-patent-ipc-titles" / "patent_titles_ipc_subclasses.csv").open()))
    RNG.shuffle(rows)
    answers = _answer_ids()
    extra = [
        row
        for row in rows[limit:]
        if row["publication_numbers"].split("|")[0] in answers
        or any(word in row["patent_title"] for word in TOPIC_WORDS)
    ]
    with (OUT / "achievements_patents.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "专利名称",
                "公开号",
                "专利类型",
                "IPC分类号",
                "成果单位",
                "技术成熟度",
                "转化方式",
                "共享范围",
                "园区代码",
            ]
        )
        for i, row in enumerate(rows[:limit] + extra):
            number = row["publication_numbers"].split("|")[0]
            kind = "实用新型" if number.endswith("U") else "发明专利"
            zone = _zone_for(i)
            rng = RNG if i < limit else EXTRA_RNG
            writer.writerow(
                [
                    row["patent_title"],
                    number,
                    kind,
                    row["true_subclasses_all"].replace("|", ";"),
                    rng.choice(UNIVERSITIES[zone]),
                    rng.randint(3, 8),
                    rng.choice(["转让", "许可", "转让;许可", "作价入股"]),
                    "跨园区共享" if i % 3 == 0 or i >= limit else "园区内可见",
                    zone,
                ]
            )


def papers(limit: int = 400) -> None:
    lines = (SHARED / "csl-benchmark" / "csl_dev_test_joined.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    RNG.shuffle(items)
    answers = _answer_ids()
    extra = [item for item in items[limit:] if item["id"] in answers]
    with (OUT / "achievements_papers.jsonl").open("w", encoding="utf-8") as f:
        for i, item in enumerate(items[:limit] + extra):
            zone = _zone_for(i + 1)
            rng = RNG if i < limit else EXTRA_RNG
            record = {
                "编号": item["id"],
                "成果名称": item["title"],
                "成果类型": "论文",
                "摘要": item["abstract"],
                "关键词": ";".join(item["keywords"]),
                "学科": item["discipline"],
                "成果单位": rng.choice(UNIVERSITIES[zone]),
                "共享范围": "跨园区共享" if i % 2 == 0 or i >= limit else "园区内可见",
                "园区代码": zone,
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


# (title, description, chain, keywords, budget range 万元, zone, shared)
DEMANDS = [
    (
        "锂电池隔膜陶瓷涂覆工艺优化",
        "我司生产湿法锂电池隔膜, 需提升陶瓷涂覆层均匀性和耐热收缩性能, 寻求涂覆浆料配方与涂布工艺技术。",
        "新能源",
        "锂电池;隔膜;涂覆;热收缩",
        (50, 200),
        "wuxi",
        True,
    ),
    (
        "动力电池热失控早期预警",
        "需要基于电压、温度和气体信号的电池包热失控早期预警算法与传感器方案, 用于储能电站。",
        "新能源",
        "电池管理;热失控;预警;储能",
        (100, 300),
        "wuxi",
        False,
    ),
    (
        "光伏组件隐裂缺陷自动检测",
        "产线需对光伏组件电致发光图像进行隐裂、断栅缺陷自动识别, 要求检测准确率 98% 以上。",
        "新能源",
        "光伏;缺陷检测;图像识别;深度学习",
        (80, 150),
        "wuxi",
        True,
    ),
    (
        "晶圆表面缺陷光学检测设备",
        "寻求晶圆表面颗粒与划痕的高速光学检测技术, 可集成到现有 8 英寸产线。",
        "集成电路",
        "晶圆;缺陷检测;光学检测;半导体",
        (300, 800),
        "wuxi",
        True,
    ),
    (
        "功率半导体模块散热封装",
        "IGBT 模块功率密度提升后散热不足, 需要新型封装材料和散热结构设计。",
        "集成电路",
        "功率半导体;IGBT;封装;散热",
        (100, 400),
        "wuxi",
        False,
    ),
    (
        "特殊医学用途配方食品营养稳定性",
        "我司研发特医食品, 需解决货架期内维生素与蛋白质降解问题, 寻求稳定化技术。",
        "食品与营养健康",
        "特医食品;营养;稳定性;蛋白质",
        (50, 120),
        "wuxi",
        True,
    ),
    (
        "益生菌高密度发酵与冻干保护",
        "需提高益生菌发酵密度和冻干存活率, 寻求菌株筛选与保护剂配方合作。",
        "食品与营养健康",
        "益生菌;发酵;冻干;菌株",
        (60, 150),
        "wuxi",
        False,
    ),
    (
        "新质蛋白生物制造工艺放大",
        "微生物蛋白实验室工艺需要中试放大, 寻求发酵罐放大与分离纯化技术支持。",
        "生物制造",
        "生物制造;蛋白;发酵;中试放大",
        (200, 500),
        "wuxi",
        True,
    ),
    (
        "工业机器人焊接路径自动规划",
        "汽车零部件焊接需要根据三维模型自动生成焊接路径, 减少人工示教时间。",
        "智能制造",
        "机器人;焊接;路径规划;三维视觉",
        (100, 250),
        "wuxi",
        False,
    ),
    (
        "数控机床主轴热变形误差补偿",
        "精密加工中主轴热变形导致尺寸超差, 需要热误差建模与实时补偿方案。",
        "智能制造",
        "数控机床;热变形;误差补偿;精密加工",
        (50, 150),
        "wuxi",
        True,
    ),
    (
        "物联网传感器低功耗无线组网",
        "园区设备监测需要电池供电传感器连续工作三年以上, 寻求低功耗组网协议与硬件方案。",
        "物联网",
        "物联网;传感器;低功耗;无线通信",
        (40, 100),
        "wuxi",
        False,
    ),
    (
        "创新药物靶点筛选与化合物优化",
        "针对肿瘤免疫靶点需要高通量筛选和先导化合物结构优化合作。",
        "生物医药",
        "药物筛选;靶点;化合物;肿瘤",
        (300, 1000),
        "chengdu",
        True,
    ),
    (
        "中药提取物质量标志物研究",
        "我司中药饮片产品需建立质量标志物与指纹图谱, 用于质量控制和注册申报。",
        "生物医药",
        "中药;质量控制;指纹图谱;提取",
        (60, 200),
        "chengdu",
        False,
    ),
    (
        "医用高分子导管表面抗菌涂层",
        "需要耐久的导管表面抗菌、抗凝血涂层技术, 满足医疗器械注册要求。",
        "医疗器械",
        "抗菌涂层;高分子;导管;医疗器械",
        (100, 300),
        "chengdu",
        True,
    ),
    (
        "航空发动机叶片涂层检测",
        "需要热障涂层厚度与缺陷的无损检测方法, 用于叶片维修质量控制。",
        "航空航天",
        "热障涂层;无损检测;叶片;航空发动机",
        (200, 600),
        "chengdu",
        True,
    ),
    (
        "无人机集群协同控制算法",
        "需要多无人机编队协同与避障控制算法, 应用于电力巡检。",
        "航空航天",
        "无人机;协同控制;编队;巡检",
        (150, 400),
        "chengdu",
        False,
    ),
    (
        "5G 基站射频滤波器小型化",
        "寻求陶瓷介质滤波器小型化设计和批量制造工艺。",
        "电子信息",
        "射频;滤波器;陶瓷;5G",
        (200, 500),
        "chengdu",
        True,
    ),
    (
        "显示面板 OLED 蒸镀掩膜版",
        "精细金属掩膜版张网精度不足, 寻求材料与张网工艺技术。",
        "新型显示",
        "OLED;掩膜版;蒸镀;精密制造",
        (300, 800),
        "chengdu",
        False,
    ),
    (
        "页岩气压裂返排液处理",
        "压裂返排液高盐高有机物, 需低成本处理与回用技术。",
        "节能环保",
        "页岩气;压裂;废水处理;回用",
        (100, 300),
        "chengdu",
        True,
    ),
    (
        "工业园区挥发性有机物治理",
        "涂装车间 VOCs 排放需达标, 寻求吸附浓缩加催化燃烧技术方案。",
        "节能环保",
        "VOCs;催化燃烧;吸附;废气治理",
        (80, 200),
        "chengdu",
        False,
    ),
    (
        "轨道交通轴承故障诊断",
        "需基于振动信号的轴承早期故障诊断模型, 部署在车载设备上。",
        "轨道交通",
        "轴承;故障诊断;振动信号;轨道交通",
        (100, 250),
        "chengdu",
        True,
    ),
    (
        "高强铝合金焊接接头性能提升",
        "轨道车辆车体铝合金焊缝强度偏低, 寻求焊接工艺和焊后处理技术。",
        "轨道交通",
        "铝合金;焊接;接头;强度",
        (60, 180),
        "xian",
        True,
    ),
    (
        "钛合金增材制造组织调控",
        "激光增材制造钛合金零件存在各向异性, 需要工艺参数优化与热处理方案。",
        "新材料",
        "钛合金;增材制造;激光;热处理",
        (150, 400),
        "xian",
        False,
    ),
    (
        "碳纤维复合材料低成本成型",
        "需要适合批量生产的碳纤维复合材料快速成型工艺。",
        "新材料",
        "碳纤维;复合材料;成型工艺",
        (200, 500),
        "xian",
        True,
    ),
    (
        "农业土壤重金属污染修复",
        "示范基地土壤镉超标, 寻求钝化修复材料和农艺调控技术。",
        "现代农业",
        "土壤修复;重金属;镉;钝化",
        (50, 150),
        "xian",
        True,
    ),
    (
        "果蔬采后保鲜与冷链",
        "猕猴桃采后软化快, 需要保鲜剂与冷链温控技术。",
        "现代农业",
        "果蔬保鲜;冷链;采后;猕猴桃",
        (30, 100),
        "xian",
        False,
    ),
    (
        "区块链供应链溯源平台",
        "需要基于区块链的农产品供应链溯源系统, 支持多方数据共享。",
        "电子信息",
        "区块链;溯源;供应链;数据共享",
        (50, 150),
        "wuxi",
        True,
    ),
    (
        "输电线路驱鸟与在线监测",
        "电网公司需要输电线路驱鸟装置与杆塔在线监测设备。",
        "智能电网",
        "输电线路;驱鸟;在线监测;电网",
        (40, 120),
        "chengdu",
        True,
    ),
    (
        "纺织品功能性整理剂",
        "需要环保型抗菌、防水功能整理剂及其工艺, 用于户外面料。",
        "纺织服装",
        "纺织;功能整理;抗菌;防水",
        (30, 90),
        "wuxi",
        False,
    ),
    (
        "水产养殖水质智能调控",
        "工厂化养殖需要溶解氧、氨氮在线监测和智能增氧控制系统。",
        "现代农业",
        "水产养殖;水质监测;智能控制;溶解氧",
        (40, 120),
        "wuxi",
        True,
    ),
    (
        "医用导管抗菌涂层",
        "我司生产一次性医用导尿管和输液导管, 临床反映留置期间易发生细菌感染, "
        "希望在导管表面制备安全、持久的抗菌涂层。",
        "生物医药",
        "医用导管;抗菌涂层;医疗器械",
        (30, 120),
        "wuxi",
        True,
    ),
    (
        "驱动电机永磁体退磁检测",
        "新能源汽车驱动电机在高温和大电流工况下永磁体可能局部退磁, "
        "需要一种在线或下线检测永磁体退磁程度的方法与装置。",
        "新能源汽车",
        "永磁同步电机;退磁;检测",
        (50, 150),
        "wuxi",
        True,
    ),
]

EXPERTS = [
    ("张明", "示例大学甲(无锡)", "教授", "材料科学与工程", "锂电池;隔膜;涂层;高分子", "wuxi"),
    ("李华", "示例大学甲(无锡)", "教授", "食品科学与工程", "特医食品;益生菌;发酵;营养", "wuxi"),
    ("王磊", "示例研究院乙(无锡)", "研究员", "电子科学与技术", "功率半导体;封装;晶圆;检测", "wuxi"),
    ("赵敏", "示例大学甲(无锡)", "副教授", "计算机科学与技术", "图像识别;深度学习;缺陷检测", "wuxi"),
    ("陈静", "示例研究院乙(无锡)", "高级工程师", "机械工程", "机器人;数控机床;误差补偿", "wuxi"),
    ("刘洋", "示例大学丙(成都)", "教授", "药学", "药物筛选;化合物;靶点", "chengdu"),
    ("杨帆", "示例大学丙(成都)", "教授", "中医学/中药学", "中药;指纹图谱;质量控制", "chengdu"),
    ("黄涛", "示例研究院丁(成都)", "研究员", "航空宇航科学与技术", "无人机;协同控制;热障涂层", "chengdu"),
    ("周强", "示例大学丙(成都)", "教授", "信息与通信工程", "射频;滤波器;5G;天线", "chengdu"),
    ("吴刚", "示例研究院丁(成都)", "研究员", "环境科学与工程", "废水处理;VOCs;催化", "chengdu"),
    ("徐丽", "示例大学丙(成都)", "副教授", "交通运输工程", "故障诊断;轴承;振动", "chengdu"),
    ("孙伟", "示例大学戊(西安)", "教授", "冶金工程", "钛合金;增材制造;热处理", "xian"),
    ("马超", "示例大学戊(西安)", "教授", "材料科学与工程", "碳纤维;复合材料;铝合金;焊接", "xian"),
    ("朱琳", "示例大学戊(西安)", "研究员", "农业资源利用", "土壤修复;重金属;保鲜", "xian"),
    ("胡军", "示例大学甲(无锡)", "教授", "电气工程", "电池管理;储能;电网", "wuxi"),
    ("郭峰", "示例研究院乙(无锡)", "高级工程师", "生物学/生物科学与工程", "生物制造;蛋白;中试放大", "wuxi"),
    ("钱伟", "示例大学甲(无锡)", "教授", "电气工程", "永磁电机;退磁故障诊断;电驱动系统;电机测试", "wuxi"),
]

INSTRUMENTS = [
    (
        "场发射扫描电子显微镜",
        "SU8010",
        "电子光学仪器",
        "示例大学甲(无锡)",
        "材料楼 101",
        300,
        "表面形貌观察、能谱分析, 适用于隔膜、涂层和粉体",
        "wuxi",
    ),
    (
        "X 射线衍射仪",
        "D8 Advance",
        "分析仪器",
        "示例大学甲(无锡)",
        "材料楼 105",
        200,
        "物相分析、晶体结构测定、残余应力",
        "wuxi",
    ),
    (
        "透射电子显微镜",
        "Talos F200X",
        "电子光学仪器",
        "示例研究院乙(无锡)",
        "测试中心 2 层",
        800,
        "纳米材料微观结构与成分分析",
        "wuxi",
    ),
    (
        "高效液相色谱-质谱联用仪",
        "Q Exactive",
        "分析仪器",
        "示例大学甲(无锡)",
        "食品学院 301",
        500,
        "食品营养成分、功能成分与污染物分析",
        "wuxi",
    ),
    (
        "发酵罐中试系统",
        "50L-500L",
        "工艺试验设备",
        "示例研究院乙(无锡)",
        "中试车间",
        400,
        "微生物发酵工艺放大试验",
        "wuxi",
    ),
    (
        "核磁共振波谱仪",
        "AVANCE NEO 600",
        "分析仪器",
        "示例大学丙(成都)",
        "化学楼 B101",
        600,
        "化合物结构鉴定, 药物研发",
        "chengdu",
    ),
    (
        "电池充放电测试系统",
        "BTS-4000",
        "电子测量仪器",
        "示例研究院丁(成都)",
        "新能源实验室",
        100,
        "电池循环寿命、倍率与安全性能测试",
        "chengdu",
    ),
    (
        "矢量网络分析仪",
        "ZNA43",
        "电子测量仪器",
        "示例大学丙(成都)",
        "电子楼 402",
        350,
        "射频器件、滤波器与天线参数测试",
        "chengdu",
    ),
    (
        "工业 CT 无损检测系统",
        "phoenix v|tome|x",
        "无损检测设备",
        "示例研究院丁(成都)",
        "检测中心",
        700,
        "零件内部缺陷、涂层与焊缝无损检测",
        "chengdu",
    ),
    (
        "激光选区熔化增材制造设备",
        "EOS M290",
        "工艺试验设备",
        "示例大学戊(西安)",
        "增材制造中心",
        900,
        "钛合金、铝合金金属零件打印",
        "xian",
    ),
    (
        "万能材料试验机",
        "Instron 5985",
        "力学测试仪器",
        "示例大学戊(西安)",
        "材料楼 110",
        150,
        "拉伸、压缩、弯曲力学性能测试",
        "xian",
    ),
    (
        "电感耦合等离子体质谱仪",
        "iCAP RQ",
        "分析仪器",
        "示例大学戊(西安)",
        "环境楼 205",
        400,
        "土壤、水体重金属元素检测",
        "xian",
    ),
    (
        "永磁材料磁性能测量系统",
        "NIM-2000",
        "电磁测量仪器",
        "示例研究院乙(无锡)",
        "测试中心 3 层",
        300,
        "永磁体退磁曲线、剩磁与矫顽力测量, 适用于钕铁硼、铁氧体磁体",
        "wuxi",
    ),
]

PLATFORMS = [
    (
        "特殊食品与营养健康中试平台",
        "示例研究院乙(无锡)",
        "食品与营养健康;生物制造",
        "特医食品配方验证、营养稳定性试验、小批量试生产",
        "年中试 40 项",
        "wuxi",
    ),
    (
        "新质蛋白生物制造中试平台",
        "示例研究院乙(无锡)",
        "生物制造",
        "菌种发酵放大、分离纯化、蛋白制备中试",
        "500L 发酵线 2 条",
        "wuxi",
    ),
    (
        "集成电路封装测试中试平台",
        "示例大学甲(无锡)",
        "集成电路",
        "功率器件封装、可靠性测试、失效分析",
        "年服务 60 家企业",
        "wuxi",
    ),
    (
        "新能源电池中试平台",
        "示例大学甲(无锡)",
        "新能源",
        "电芯试制、隔膜涂覆试验、电池安全测试",
        "年中试 30 项",
        "wuxi",
    ),
    (
        "生物医药中试平台",
        "示例大学丙(成都)",
        "生物医药;医疗器械",
        "原料药工艺放大、制剂中试、GMP 试生产",
        "年中试 50 项",
        "chengdu",
    ),
    (
        "航空航天材料与部件中试平台",
        "示例研究院丁(成都)",
        "航空航天;新材料",
        "热障涂层制备、部件无损检测、试验验证",
        "年服务 30 项",
        "chengdu",
    ),
    (
        "电子信息中试平台",
        "示例大学丙(成都)",
        "电子信息;新型显示",
        "射频器件试制、显示材料工艺验证",
        "年中试 40 项",
        "chengdu",
    ),
    (
        "节能环保技术中试基地",
        "示例研究院丁(成都)",
        "节能环保",
        "废水处理与废气治理工艺中试",
        "中试装置 8 套",
        "chengdu",
    ),
    (
        "先进材料增材制造中试平台",
        "示例大学戊(西安)",
        "新材料;航空航天",
        "金属增材制造工艺验证、热处理与性能测试",
        "年中试 30 项",
        "xian",
    ),
    (
        "新能源汽车电驱动系统中试平台",
        "示例大学甲(无锡)",
        "新能源汽车",
        "驱动电机台架试验、高温与过载工况验证、电机控制器测试",
        "电机测试台架 6 套",
        "wuxi",
    ),
]


# Sample opening hours, so the booking calendar shows different labs' habits.
OPENING_HOURS = (
    "周一至周五 08:30-17:30",
    "周一至周五 09:00-12:00、13:30-17:30; 周六 09:00-12:00",
    "周一至周六 08:00-20:00",
)


def demands() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "技术需求"
    sheet.append(
        [
            "编号",
            "需求名称",
            "需求描述",
            "产业链",
            "关键词",
            "预算下限(万元)",
            "预算上限(万元)",
            "截止日期",
            "需求单位",
            "共享范围",
            "园区代码",
        ]
    )
    for i, (title, text, chain, keywords, (low, high), zone, shared) in enumerate(
        DEMANDS + _known_item_demands(), start=1
    ):
        sheet.append(
            [
                f"D{i:04d}",
                title,
                text,
                chain,
                keywords,
                low,
                high,
                "2027-06-30",
                f"示例企业{i:02d}({zone})",
                "跨园区共享" if shared else "园区内可见",
                zone,
            ]
        )
    workbook.save(OUT / "demands.xlsx")


def _write_csv(name: str, header: list[str], rows: list[tuple[object, ...]]) -> None:
    with (OUT / name).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    patents()
    papers()
    demands()
    _write_csv(
        "experts.csv",
        ["编号", "姓名", "工作单位", "职称", "研究领域", "关键词", "联系方式", "共享范围", "园区代码"],
        [
            (f"E{i:03d}", n, o, t, f, k, f"e{i:03d}@example.edu.cn (示例)", "跨园区共享", z)
            for i, (n, o, t, f, k, z) in enumerate(EXPERTS, 1)
        ],
    )
    _write_csv(
        "instruments.csv",
        [
            "编号",
            "仪器名称",
            "规格型号",
            "仪器类别",
            "所属单位",
            "安放地点",
            "收费标准(元/小时)",
            "主要功能",
            "开放时间",
            "共享范围",
            "园区代码",
        ],
        [
            (f"I{i:03d}", *row[:-1], OPENING_HOURS[(i - 1) % len(OPENING_HOURS)], "跨园区共享", row[-1])
            for i, row in enumerate(INSTRUMENTS, 1)
        ],
    )
    _write_csv(
        "pilot_platforms.csv",
        ["编号", "平台名称", "运营单位", "服务产业链", "中试能力", "服务能力", "共享范围", "园区代码"],
        [(f"P{i:03d}", *row[:-1], "跨园区共享", row[-1]) for i, row in enumerate(PLATFORMS, 1)],
    )


if __name__ == "__main__":
    main()
