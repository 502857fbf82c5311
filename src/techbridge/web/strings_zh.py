"""Every piece of Chinese UI text the Python side of the web layer needs, in one place.

Templates hold their own static prose; labels that Python code chooses (nav, fields, messages) live here.
"""

from __future__ import annotations

APP_NAME = "TechBridge 科技成果转化撮合平台"
APP_SHORT = "TechBridge"

NAV = {
    "home": "首页",
    "demand": "需求中心",
    "achievement": "成果中心",
    "capability": "能力中心",
    "expert": "专家",
    "instrument": "共享仪器",
    "pilot_platform": "中试平台",
    "import": "数据导入",
    "account": "我的账户",
    "admin": "园区管理",
    "deals": "撮合项目",
    "bookings": "我的预约",
    "dashboard": "科创云图",
    "report": "月度报告",
    "jobs": "任务中心",
    "notifications": "站内信",
    "chains": "产业链目录",
    "zone_settings": "园区设置",
}

KIND_TITLES = {
    "demand": "需求中心",
    "achievement": "成果中心",
    "expert": "专家库",
    "instrument": "共享仪器",
    "pilot_platform": "中试平台",
    "organization": "机构",
}

KIND_NOUNS = {
    "demand": "需求",
    "achievement": "成果",
    "expert": "专家",
    "instrument": "仪器",
    "pilot_platform": "中试平台",
    "organization": "机构",
}

ROLE_LABELS = {
    "platform_admin": "平台管理员",
    "zone_admin": "园区管理员",
    "enterprise": "企业用户",
    "university": "高校/院所用户",
    "expert": "专家",
}

# Field labels shared by lists, detail pages, forms and validation messages.
FIELDS = {
    "title": "标题",
    "name": "名称",
    "description": "详细描述",
    "organization": "所属单位",
    "industry_chain": "产业链",
    "keywords": "关键词",
    "budget_min": "预算下限(万元)",
    "budget_max": "预算上限(万元)",
    "deadline": "截止日期",
    "status": "状态",
    "visibility": "可见范围",
    "zone_code": "所属园区",
    "external_id": "外部编号",
    "kind": "类型",
    "application_number": "申请号",
    "publication_number": "公开号",
    "abstract": "摘要",
    "claims": "权利要求",
    "ipc_codes": "IPC 分类号",
    "ipc": "IPC 分类号",
    "applicants": "申请人",
    "inventors": "发明人",
    "legal_status": "法律状态",
    "trl": "成熟度(TRL)",
    "trl_min": "最低成熟度",
    "transfer_modes": "转化方式",
    "asking_price": "意向价格(万元)",
    "owner": "权属单位",
    "discipline": "学科",
    "fields": "研究领域",
    "bio": "简介",
    "contact": "联系方式",
    "max_active_deals": "同时对接上限",
    "model": "型号",
    "category": "类别",
    "location": "存放地点",
    "hourly_fee": "收费(元/小时)",
    "bookable": "可预约",
    "operator": "运营单位",
    "industry_chains": "服务产业链",
    "capabilities": "中试能力",
    "capacity": "服务容量",
    "updated_at": "更新时间",
    "q": "关键词搜索",
    "__root__": "整体",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "purpose": "用途",
    "booked_by": "预约人",
    "username": "用户名",
    "password": "密码",
}

# Where one field name means different things per kind: an expert's ``title`` is a rank (职称), not a title.
KIND_FIELDS: dict[str, dict[str, str]] = {
    "expert": {"name": "姓名", "title": "职称"},
    "instrument": {"name": "仪器名称", "owner": "所属单位"},
    "pilot_platform": {"name": "平台名称"},
    "demand": {"title": "需求名称", "organization": "需求单位"},
    "achievement": {"title": "成果名称"},
}


def field_label(kind: str, name: str) -> str:
    """The Chinese label of a field of a record kind (``FIELDS`` unless the kind names it otherwise)."""
    return KIND_FIELDS.get(kind, {}).get(name) or FIELDS.get(name, name)


# Labels for the ``code`` of each stored match reason (the engine writes the sentence itself).
MATCH_DEGREE_HELP = (
    "匹配度 = 评测中读者判定“能解决该需求的具体问题”的概率 (0–100)。"
    "70 表示同类推荐里约七成被判定相关。需求只写了几个词时, 同样的相似程度更不可靠, 匹配度也更低; "
    "评测中 80 以上的结果很少, 匹配度最高不超过 89 左右, 不作更高的断言; 低于阈值的不作推荐。"
)

MATCH_REASON_LABELS = {
    "terms": "共同词语",
    "title_terms": "共同词语",
    "related_terms": "相关词语",
    "ipc": "IPC 分类",
    "discipline": "学科",
    "chain": "产业链",
    "zone": "园区",
    "maturity": "成熟度",
    "price": "价格",
    "availability": "可用性",
    "capacity": "承接能力",
    "dense": "语义",
    "missing_terms": "未涉及",
}

MSG = {
    "login_failed": "用户名或密码错误",
    "login_throttled": "登录尝试过于频繁, 请稍后再试",
    "login_required": "请先登录",
    "logged_out": "您已安全退出",
    "csrf_failed": "页面已过期, 请刷新后重新提交",
    "saved": "已保存",
    "created": "已发布",
    "archived": "已归档",
    "form_invalid": "表单有误, 请按提示修改后再提交",
    "not_found": "您要找的内容不存在, 或不在您的园区可见范围内",
    "forbidden": "您没有权限进行此操作",
    "bad_request": "链接中的参数有误, 请从页面上的链接进入",
    "booking_created": "预约成功",
    "booking_requested": "已提交预约, 等待仪器所属单位审批",
    "booking_conflict": "该时段已被预约, 请选择其他时间",
    "booking_order": "结束时间必须晚于开始时间",
    "matching_done": "匹配已完成",
    "matching_queued": "当前匹配请求较多, 已转入后台任务, 完成后刷新本页即可看到结果",
    "deal_started": "已发起对接",
    "import_unavailable": "导入服务尚未启用",
    "import_no_file": "请选择要上传的文件",
    "import_has_errors": "文件中有错误行, 请修改后重新上传, 或选择跳过错误行",
    "import_ready": "校验通过, 确认后写入数据库",
    "import_done": "导入完成",
    "import_expired": "上传的文件已过期, 请重新上传",
    "token_created": "已创建 API 令牌, 请立即复制保存, 离开本页后将无法再次查看",
    "token_revoked": "已撤销 API 令牌",
    "password_changed": "密码已修改; 其他设备上的登录和全部 API 令牌已失效",
    "user_created": "已创建用户",
}

EMPTY = {
    "list": "暂无记录",
    "search": "没有符合条件的记录, 请调整筛选条件",
    "matches": "暂无匹配结果",
    "bookings": "本周暂无预约",
}
