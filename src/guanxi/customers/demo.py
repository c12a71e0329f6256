"""The demo company (`guanxi demo`): teams, one user per built-in role, customers, leads and their history.

A realistic Chinese trading company: a head office with a sales department (north and south teams),
marketing, service and analytics; about 2,000 customers (people and organisations with their contact
people) with valid mobile and landline numbers, resident ID numbers and USCCs (check digits computed),
emails, WeChat IDs and addresses in Chinese cities; leads in every status; two years of interactions;
tasks due today and overdue for every demo user; a default public pool with customers in it and the
history of their moves; tags.

A handful of records go through the services (so the demo proves they validate); the volume is written
with bulk_create in a few dozen statements. The same seed gives the same company (dates are relative to
the moment of loading).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Pool, PoolEvent, Task
from guanxi.customers.models.choices import (
    Channel,
    CompanySize,
    Consent,
    ContactKind,
    CustomerKind,
    Direction,
    Gender,
    LeadStatus,
    LifecycleStage,
    Outcome,
    PoolAction,
    Source,
    TaskKind,
    TaskPriority,
    TaskStatus,
)
from guanxi.customers.services.contact_points import clean_contact_value
from guanxi.platform.annotations.models import Tag, TaggedItem
from guanxi.platform.core.actors import Actor
from guanxi.platform.core.cn_ids import complete_ric, complete_uscc, mask_id_number, pii_encrypt, pii_hash
from guanxi.platform.core.errors import Conflict, ValidationFailed
from guanxi.platform.core.names import PersonName
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from guanxi.platform.identity.models import Role, Team, User
from guanxi.platform.identity.roles import ANALYST, MARKETER, SALES_MANAGER, SALES_REP, SERVICE_AGENT
from guanxi.platform.identity.services import roles_ensure_builtin, team_create, user_create

DEFAULT_CUSTOMERS = 2000
DEFAULT_SEED = 2024
DEMO_PASSWORD = "guanxi-demo-2024"
BATCH = 500
HISTORY_DAYS = 730
CUSTOMER_TARGET = "customers.customer"


class DemoRefused(Conflict):
    """The demo is already loaded, or the database holds other data and --force was not given."""

    code = "demo_refused"


# --- the people -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    team: str  # key into the team plan


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("manager", "陈静", SALES_MANAGER, "sales"),
    DemoUser("rep1", "王磊", SALES_REP, "north"),
    DemoUser("rep2", "刘洋", SALES_REP, "north"),
    DemoUser("rep3", "黄丽", SALES_REP, "south"),
    DemoUser("rep4", "周杰", SALES_REP, "south"),
    DemoUser("marketer", "吴敏", MARKETER, "marketing"),
    DemoUser("service", "郑雪", SERVICE_AGENT, "service"),
    DemoUser("analyst", "孙浩", ANALYST, "analytics"),
)
# (key, name, parent key)
TEAM_PLAN: tuple[tuple[str, str, str], ...] = (
    ("sales", "销售部", "hq"),
    ("north", "华北销售组", "sales"),
    ("south", "华南销售组", "sales"),
    ("marketing", "市场部", "hq"),
    ("service", "客户服务部", "hq"),
    ("analytics", "数据分析组", "hq"),
)

# --- the vocabulary ---------------------------------------------------------------------------------------

# Surnames weighted roughly by frequency; a few compound and polyphonic ones for search demos.
SURNAMES = (
    "王" * 30
    + "李" * 30
    + "张" * 28
    + "刘" * 20
    + "陈" * 18
    + "杨" * 12
    + "黄" * 10
    + "赵" * 10
    + "吴" * 9
    + "周" * 9
    + "徐" * 7
    + "孙" * 7
    + "马" * 6
    + "朱" * 6
    + "胡" * 6
    + "郭" * 5
    + "何" * 5
    + "高" * 5
    + "林" * 5
    + "罗" * 4
    + "郑" * 4
    + "梁" * 4
    + "谢" * 3
    + "宋" * 3
    + "唐" * 3
    + "许" * 3
    + "韩" * 3
    + "冯" * 3
    + "邓" * 3
    + "曹" * 2
    + "彭" * 2
    + "曾" * 2
    + "肖" * 2
    + "田" * 2
    + "董" * 2
    + "袁" * 2
    + "潘" * 2
    + "于" * 2
    + "蒋" * 2
    + "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    + "单解查区"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
MALE_GIVEN = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文博晨"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀燕玲桂丹萍红琳雪梅莉婷慧颖倩佳琪欣悦妍璐瑶晶露"

# (province, city, district, ID region code of the district, landline area code, postcode)
City = tuple[str, str, str, str, str, str]
CITIES: tuple[City, ...] = (
    ("北京市", "北京市", "朝阳区", "110105", "10", "100020"),
    ("北京市", "北京市", "海淀区", "110108", "10", "100080"),
    ("上海市", "上海市", "徐汇区", "310104", "21", "200030"),
    ("上海市", "上海市", "黄浦区", "310101", "21", "200001"),
    ("天津市", "天津市", "和平区", "120101", "22", "300041"),
    ("广东省", "广州市", "天河区", "440106", "20", "510620"),
    ("广东省", "深圳市", "南山区", "440305", "755", "518052"),
    ("浙江省", "杭州市", "西湖区", "330106", "571", "310013"),
    ("江苏省", "南京市", "鼓楼区", "320106", "25", "210009"),
    ("湖北省", "武汉市", "洪山区", "420111", "27", "430070"),
    ("陕西省", "西安市", "雁塔区", "610113", "29", "710061"),
    ("山东省", "青岛市", "市南区", "370202", "532", "266001"),
    ("福建省", "厦门市", "思明区", "350203", "592", "361001"),
    ("四川省", "成都市", "武侯区", "510107", "28", "610041"),
)
# Region codes valid for any birth year (stdnum.cn.ric checks the code existed at the birth date).
TIMELESS_REGIONS = ("110105", "110108", "310104", "310101", "120101")
STREETS: dict[str, tuple[str, ...]] = {
    "北京市": ("建国路", "长安街", "学院路", "中关村大街", "朝阳北路"),
    "上海市": ("南京东路", "淮海中路", "漕溪北路", "徐家汇路", "四川中路"),
    "天津市": ("南京路", "解放北路", "营口道"),
    "广州市": ("天河路", "体育西路", "华夏路", "中山大道"),
    "深圳市": ("深南大道", "科技园路", "南海大道"),
    "杭州市": ("文三路", "天目山路", "西溪路"),
    "南京市": ("中山北路", "湖南路", "北京西路"),
    "武汉市": ("珞喻路", "光谷大道", "雄楚大道"),
    "西安市": ("高新路", "小寨东路", "长安南路"),
    "青岛市": ("香港中路", "东海西路", "山东路"),
    "厦门市": ("湖滨南路", "厦禾路", "鹭江道"),
    "成都市": ("人民南路", "天府大道", "武侯祠大街"),
}
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
)
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "outlook.com", "gmail.com", "foxmail.com")
BRANDS = (
    ("华信", "huaxin"),
    ("云帆", "yunfan"),
    ("恒通", "hengtong"),
    ("鼎盛", "dingsheng"),
    ("博远", "boyuan"),
    ("天成", "tiancheng"),
    ("金桥", "jinqiao"),
    ("瑞丰", "ruifeng"),
    ("中联", "zhonglian"),
    ("锦程", "jincheng"),
    ("宏达", "hongda"),
    ("新锐", "xinrui"),
    ("启明", "qiming"),
    ("远景", "yuanjing"),
    ("众诚", "zhongcheng"),
    ("嘉禾", "jiahe"),
    ("海纳", "haina"),
    ("天行", "tianxing"),
    ("智汇", "zhihui"),
    ("和创", "hechuang"),
    ("东升", "dongsheng"),
    ("万象", "wanxiang"),
    ("同舟", "tongzhou"),
    ("星辰", "xingchen"),
)
# (industry, the word in the company name, its pinyin for the web domain)
INDUSTRIES = (
    ("软件和信息技术服务业", "网络科技", "tech"),
    ("制造业", "机械制造", "machinery"),
    ("批发和零售业", "商贸", "trading"),
    ("金融业", "投资管理", "capital"),
    ("医药制造业", "医药", "pharma"),
    ("教育", "教育科技", "edu"),
    ("房地产业", "置业", "property"),
    ("餐饮业", "餐饮管理", "food"),
    ("交通运输、仓储和邮政业", "物流", "logistics"),
    ("建筑业", "建设工程", "build"),
)
JOB_TITLES = (
    "总经理",
    "副总经理",
    "采购经理",
    "采购专员",
    "财务总监",
    "行政主管",
    "技术总监",
    "市场经理",
    "运营主管",
    "IT经理",
    "销售总监",
    "人事经理",
)
PREFERENCES = (
    "喜欢微信沟通",
    "偏好上午联系",
    "对价格敏感",
    "重视售后服务",
    "喜欢新品试用",
    "只接受邮件报价",
    "偏好线下拜访",
    "关注环保材料",
)
INTERESTS = ("高尔夫", "茶艺", "摄影", "马拉松", "书法", "旅行", "红酒", "钓鱼", "羽毛球", "古典音乐")
SPECIAL_NEEDS = ("需要开具增值税专用发票", "送货需提前一天预约", "合同需法务审核", "节假日不接电话")
TAGS = (
    ("VIP", Tag.Color.RED),
    ("重点客户", Tag.Color.ORANGE),
    ("老客户转介绍", Tag.Color.GREEN),
    ("价格敏感", Tag.Color.YELLOW),
    ("潜在大客户", Tag.Color.PURPLE),
    ("需要回访", Tag.Color.BLUE),
)

INTERACTION_SUBJECTS: dict[str, tuple[str, ...]] = {
    Channel.CALL: ("电话沟通采购需求", "电话回访使用情况", "电话确认报价细节", "电话邀约参加新品发布会"),
    Channel.WECHAT: ("微信发送产品资料", "微信沟通交货时间", "微信确认订单信息", "微信节日问候"),
    Channel.VISIT: ("上门拜访，了解现场情况", "拜访客户总部", "陪同技术人员上门调试"),
    Channel.MEETING: ("季度业务回顾会议", "年度合作洽谈", "方案演示会"),
    Channel.EMAIL: ("发送正式报价单", "发送合同草稿", "发送月度对账单"),
    Channel.SMS: ("短信提醒会员活动", "短信通知发货"),
    Channel.NOTE: ("客户反馈产品包装破损", "客户计划下季度扩大采购", "客户负责人变更"),
    Channel.WEB: ("客户在官网提交咨询",),
    Channel.SOCIAL: ("客户在公众号留言",),
}
INTERACTION_BODIES = (
    "客户对新款产品很感兴趣，希望下周收到样品。",
    "已确认交货时间，客户满意。",
    "客户表示预算有限，需要再考虑。",
    "沟通顺利，约定下次跟进时间。",
    "客户提出售后问题，已转客服处理。",
    "客户要求在报价基础上再优惠5%。",
    "",
)
CHANNEL_WEIGHTS = (
    (Channel.CALL, 35),
    (Channel.WECHAT, 25),
    (Channel.VISIT, 9),
    (Channel.MEETING, 6),
    (Channel.EMAIL, 10),
    (Channel.SMS, 4),
    (Channel.NOTE, 7),
    (Channel.WEB, 2),
    (Channel.SOCIAL, 2),
)
# The most follow-ups a customer in a lifecycle stage gets over the two years (at least 0).
MOST_INTERACTIONS_BY_STAGE: dict[str, int] = {
    LifecycleStage.ACTIVE: 8,
    LifecycleStage.LOYAL: 10,
    LifecycleStage.WON_BACK: 6,
    LifecycleStage.NEW: 4,
    LifecycleStage.PROSPECT: 3,
}
TASK_TITLES = (
    "回访{name}",
    "给{name}发送报价",
    "电话跟进{name}",
    "拜访{name}",
    "确认{name}的付款进度",
    "邀请{name}参加新品发布会",
    "整理{name}的需求清单",
)
DISQUALIFY_REASONS = ("预算不足", "已选择竞争对手", "联系方式无效", "需求不匹配")


# How often each source and lifecycle stage occurs in generated data (demo and scale data alike).
STAGE_WEIGHTS = (
    (LifecycleStage.PROSPECT, 18),
    (LifecycleStage.NEW, 15),
    (LifecycleStage.ACTIVE, 30),
    (LifecycleStage.LOYAL, 14),
    (LifecycleStage.DORMANT, 12),
    (LifecycleStage.CHURNED, 7),
    (LifecycleStage.WON_BACK, 4),
)
SOURCE_WEIGHTS = (
    (Source.REFERRAL, 20),
    (Source.WEBSITE, 18),
    (Source.EVENT, 10),
    (Source.ADVERTISING, 8),
    (Source.COLD_CALL, 10),
    (Source.SOCIAL, 12),
    (Source.PARTNER, 8),
    (Source.WALK_IN, 8),
    (Source.OTHER, 6),
)

RECENT_FOLLOW_UP_DAYS = 45
LOOKED_AFTER_SHARE = 0.95
LOOKED_AFTER_SHARE_QUIET = 0.8  # dormant and churned customers get win-back calls


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


# --- valid identifiers ------------------------------------------------------------------------------------


def demo_mobile(rng: random.Random, used: set[str]) -> str:
    """A valid, unused Chinese mobile number in E.164 (+86 and 11 digits)."""
    while True:
        number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number in used:
            continue
        try:
            stored = normalise_phone(number).stored
        except ValidationFailed:
            continue
        used.add(number)
        return stored


def demo_landline(rng: random.Random, area_code: str, used: set[str]) -> str:
    """A valid landline in the city's area code (E.164), or "" when none is found quickly."""
    for _attempt in range(20):
        local = str(rng.randint(2, 8)) + f"{rng.randrange(10**7):07d}"
        number = f"0{area_code}{local}"
        if number in used:
            continue
        try:
            stored = normalise_phone(number).stored
        except ValidationFailed:
            continue
        used.add(number)
        return stored
    return ""


def demo_id_number(rng: random.Random, region: str, birthday: dt.date, gender: str) -> str:
    """A resident ID number whose region, birth date, sex digit and check digit are all valid."""
    from stdnum.cn import ric

    sequence = rng.randrange(0, 1000)
    if (sequence % 2 == 1) != (gender == Gender.MALE):  # the 17th digit is odd for men, even for women
        sequence = (sequence + 1) % 1000
    for code in (region, *TIMELESS_REGIONS):
        number = complete_ric(f"{code}{birthday:%Y%m%d}{sequence:03d}")
        if ric.is_valid(number):
            return number
    raise AssertionError("no region code is valid for this birth date")


def organisation_code(rng: random.Random) -> str:
    """A 9-character organisation code (组织机构代码) with its GB 11714 check character."""
    body = [rng.randrange(10) for _ in range(8)]
    check = 11 - sum(d * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return "".join(map(str, body)) + {10: "X", 11: "0"}.get(check, str(check))


def demo_uscc(rng: random.Random, region: str) -> str:
    """A unified social credit code of an enterprise (91 + region + organisation code + check)."""
    return complete_uscc(f"91{region}{organisation_code(rng)}")


# --- timestamps as given ----------------------------------------------------------------------------------


@contextmanager
def timestamps_as_given(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the created/updated times we set (auto_now(_add) would stamp "now").

    The demo needs two years of history; this only switches the flags for the duration of the block.
    """
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]
    for f in fields:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]


# --- the loader -------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    users: list[str]
    password: str
    teams: int = 0
    customers: int = 0
    organisations: int = 0
    contact_points: int = 0
    leads: int = 0
    interactions: int = 0
    tasks: int = 0
    pool_customers: int = 0
    tags: int = 0


@dataclass
class _Plan:
    """Everything generated before writing, so related rows are written in a few bulk statements."""

    now: dt.datetime
    rng: random.Random
    used_phones: set[str] = field(default_factory=set)
    points: list[ContactPoint] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    pool_events: list[PoolEvent] = field(default_factory=list)


def demo_is_loaded() -> bool:
    return User.objects.filter(username__in=[u.username for u in DEMO_USERS]).exists()


@transaction.atomic
def demo_load(
    *,
    customers: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    password: str = DEMO_PASSWORD,
    force: bool = False,
) -> DemoSummary:
    """Load the demo company into this database; all or nothing.

    Refuses when the demo is already loaded, and when the database holds customers unless `force`.
    """
    if demo_is_loaded():
        raise DemoRefused("The demo company is already loaded (its users exist).")
    if not force and (Customer.objects.exists() or Lead.objects.exists()):
        raise DemoRefused("The database already holds customers or leads; use --force to add the demo anyway.")
    if customers < 1:
        raise ValidationFailed.for_field("customers", "Load at least one customer.")
    rng = random.Random(seed)
    plan = _Plan(now=timezone.now(), rng=rng)
    roles_ensure_builtin()
    teams = _create_teams()
    users = _create_users(teams, password)
    pool = _default_pool(teams)
    tags = _create_tags()
    owners = [users[name] for name in ("rep1", "rep2", "rep3", "rep4")] + [users["manager"]]
    all_customers = _create_customers(plan, count=customers, owners=owners, pool=pool)
    leads = _create_leads(plan, count=max(customers // 5, 10), owners=owners, customers=all_customers)
    _write_interactions(plan, all_customers, leads)
    tasks = _create_tasks(plan, users, all_customers, leads)
    tagged = _tag_customers(plan, tags, all_customers)
    with timestamps_as_given(PoolEvent):
        PoolEvent.objects.bulk_create(plan.pool_events, batch_size=BATCH)
    return DemoSummary(
        users=[u.username for u in DEMO_USERS],
        password=password,
        teams=len(teams),
        customers=len(all_customers),
        organisations=sum(1 for c in all_customers if c.kind == CustomerKind.ORGANISATION),
        contact_points=ContactPoint.objects.count(),
        leads=len(leads),
        interactions=Interaction.objects.count(),
        tasks=tasks,
        pool_customers=sum(1 for c in all_customers if c.pool_id is not None and c.owner_id is None),
        tags=tagged,
    )


def _create_teams() -> dict[str, Team]:
    hq = Team.objects.filter(parent__isnull=True).order_by("id").first() or team_create(actor=None, name="总部")
    teams = {"hq": hq}
    for key, name, parent in TEAM_PLAN:
        teams[key] = team_create(actor=None, name=name, parent=teams[parent])
    return teams


def _create_users(teams: dict[str, Team], password: str) -> dict[str, User]:
    """The first user goes through user_create; the others share its password hash (one slow hash, not eight)."""
    roles = {role.code: role for role in Role.objects.all()}
    first, *others = DEMO_USERS
    users = {
        first.username: user_create(
            actor=None,
            username=first.username,
            password=password,
            display_name=first.display_name,
            email=f"{first.username}@demo.guanxi.example",
            team=teams[first.team],
            role=roles[first.role],
        )  # the password rules apply to the demo password too (the default one passes them)
    }
    for spec in others:
        users[spec.username] = User.objects.create(
            username=spec.username,
            password=users[first.username].password,
            display_name=spec.display_name,
            email=f"{spec.username}@demo.guanxi.example",
            team=teams[spec.team],
            role=roles[spec.role],
        )
    sales = teams["sales"]
    sales.manager = users["manager"]
    sales.save(update_fields=["manager"])
    return users


def _default_pool(teams: dict[str, Team]) -> Pool:
    existing = Pool.objects.filter(is_default=True).first()
    if existing is not None:
        return existing
    return Pool.objects.create(
        name="公海",
        description="未分配和长期未跟进的客户",
        max_owned_per_rep=600,
        max_claims_per_day=20,
        cooldown_days=7,
        return_after_days_without_follow_up=60,
        return_after_days_without_deal=None,  # deals arrive with the sales app
        is_default=True,
    )


def _create_tags() -> list[Tag]:
    tags = []
    for name, color in TAGS:
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"color": color})
        tags.append(tag)
    return tags


def _person_name(rng: random.Random) -> tuple[str, str]:
    gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    pool = MALE_GIVEN if gender == Gender.MALE else FEMALE_GIVEN
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.55 else "")
    return surname + given, gender


def _address_point(rng: random.Random, city: City, customer: Customer, when: dt.datetime) -> ContactPoint:
    province, city_name, district, _region, _area, postcode = city
    street = f"{rng.choice(STREETS[city_name])}{rng.randint(1, 999)}号"
    if rng.random() < 0.6:
        street += f"{rng.randint(1, 30)}栋{rng.randint(1, 28)}{rng.randint(1, 9):02d}室"
    # A municipality (北京市, 上海市...) is its own province: no separate city part.
    parts = {
        "province": province,
        "city": "" if city_name == province else city_name,
        "district": district,
        "street": street,
        "postcode": postcode,
    }
    label = "办公地址" if customer.kind == CustomerKind.ORGANISATION else "家庭住址"
    return _point(customer, ContactKind.ADDRESS, parts, when, label=label, rng=rng)


def _point(
    customer: Customer, kind: str, raw: Any, when: dt.datetime, *, label: str, rng: random.Random, primary: bool = True
) -> ContactPoint:
    """A contact point normalised exactly as the contact-point service does it (value, search key, parts)."""
    value, search_key, parts = clean_contact_value(kind, raw)
    consent = weighted(rng, ((Consent.GRANTED, 5), (Consent.UNKNOWN, 4), (Consent.WITHDRAWN, 1)))
    return ContactPoint(
        customer=customer,
        kind=kind,
        value=value,
        raw_value=value,
        search_key=search_key,
        address=parts,
        label=label,
        is_primary=primary,
        verified=rng.random() < 0.4,
        consent=consent,
        consent_updated_at=when if consent != Consent.UNKNOWN else None,
        consent_source="demo" if consent != Consent.UNKNOWN else "",
        created_at=when,
        updated_at=when,
    )


def _phone_point(
    plan: _Plan, customer: Customer, stored: str, when: dt.datetime, label: str, primary: bool = True
) -> ContactPoint:
    return _point(customer, ContactKind.PHONE, stored, when, label=label, rng=plan.rng, primary=primary)


def _random_past(rng: random.Random, now: dt.datetime, *, max_days: int, min_days: int = 0) -> dt.datetime:
    seconds = rng.randint(min_days * 86400, max_days * 86400)
    return now - dt.timedelta(seconds=seconds)


def _create_customers(plan: _Plan, *, count: int, owners: list[User], pool: Pool) -> list[Customer]:
    """Organisations first (people point at them), then people; a few through customer_create."""
    rng, now = plan.rng, plan.now
    org_count = max(1, count * 12 // 100) if count >= 5 else 0
    via_service = _customers_via_service(plan, owners, min(count, 6))
    organisations: list[tuple[Customer, City, str]] = []
    used_org_names = set(Customer.objects.filter(kind=CustomerKind.ORGANISATION).values_list("name", flat=True))
    for _index in range(max(org_count - sum(c.is_organisation for c in via_service), 0)):
        city = rng.choice(CITIES)
        brand, brand_pinyin = rng.choice(BRANDS)
        industry, word, word_pinyin = rng.choice(INDUSTRIES)
        name = f"{city[1].removesuffix('市')}{brand}{word}{rng.choice(('有限公司', '有限公司', '股份有限公司'))}"
        if name in used_org_names:
            continue
        used_org_names.add(name)
        created = _random_past(rng, now, max_days=HISTORY_DAYS, min_days=30)
        org = Customer(
            kind=CustomerKind.ORGANISATION,
            name=name,
            company_name="",
            industry=industry,
            uscc=demo_uscc(rng, city[3]),
            website=f"https://www.{brand_pinyin}{word_pinyin}.com.cn",
            company_size=rng.choice([s for s in CompanySize.values if s]),
            created_at=created,
        )
        _fill_common(plan, org, owners, pool, created)
        organisations.append((org, city, f"{brand_pinyin}{word_pinyin}.com.cn"))
    people: list[tuple[Customer, City, str]] = []
    card_counter = Customer.objects.exclude(card_number="").count()
    for _index in range(count - len(via_service) - len(organisations)):
        name, gender = _person_name(rng)
        city = rng.choice(CITIES)
        created = _random_past(rng, now, max_days=HISTORY_DAYS, min_days=1)
        person = Customer(kind=CustomerKind.PERSON, name=name, gender=gender, created_at=created)
        parsed = PersonName.parse(name)
        person.family_name, person.given_name = parsed.family, parsed.given
        if rng.random() < 0.7:
            person.birthday = dt.date(rng.randint(1960, 2003), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.55:
                number = demo_id_number(rng, city[3], person.birthday, gender)
                person.id_number_hash, person.id_number_masked = pii_hash(number), mask_id_number(number)
                person.id_number_encrypted = pii_encrypt(number)
        if rng.random() < 0.35:
            card_counter += 1
            person.card_number = f"VIP{880000 + card_counter:08d}"
        domain = ""
        if organisations and rng.random() < 0.4:
            org, city, domain = rng.choice(organisations)
            person.organisation, person.company_name = org, org.name
            person.job_title = rng.choice(JOB_TITLES)
            person.industry = org.industry
        _fill_soft_data(rng, person)
        _fill_common(plan, person, owners, pool, created)
        org_owner = person.organisation.owner if person.organisation is not None else None
        if person.owner is not None and org_owner is not None and rng.random() < 0.8:
            person.owner, person.team, person.created_by = org_owner, org_owner.team, org_owner  # the account's owner
        people.append((person, city, domain))
    with timestamps_as_given(Customer):
        Customer.objects.bulk_create([org for org, _c, _d in organisations], batch_size=BATCH)
        for person, _c, _d in people:
            person.organisation_id = person.organisation.pk if person.organisation else None
        Customer.objects.bulk_create([person for person, _c, _d in people], batch_size=BATCH)
    bulk = [c for c, _ci, _d in organisations] + [p for p, _ci, _d in people]
    for customer in bulk:
        customer._history_date = customer.created_at  # type: ignore[attr-defined]
        customer._history_user = customer.owner  # type: ignore[attr-defined]
    Customer.history.bulk_history_create(bulk, batch_size=BATCH)  # type: ignore[attr-defined]
    for org, city, domain in organisations:
        _organisation_points(plan, org, city, domain)
    for person, city, domain in people:
        _person_points(plan, person, city, domain)
    with timestamps_as_given(ContactPoint):
        ContactPoint.objects.bulk_create(plan.points, batch_size=BATCH)
    return via_service + bulk


def _customers_via_service(plan: _Plan, owners: list[User], count: int) -> list[Customer]:
    """The first customers go through customer_create: proof that the demo data passes validation."""
    from guanxi.customers.services.customers import customer_create

    rng, created = plan.rng, []
    for index in range(count):
        owner = owners[index % len(owners)]
        actor = Actor(user=owner, channel="system")
        city = rng.choice(CITIES)
        if index % 3 == 0:
            brand, brand_pinyin = rng.choice(BRANDS)
            industry, word, word_pinyin = rng.choice(INDUSTRIES)
            data: dict[str, Any] = {
                "kind": CustomerKind.ORGANISATION,
                "name": f"{city[1].removesuffix('市')}{brand}{word}集团有限公司",
                "uscc": demo_uscc(rng, city[3]),
                "industry": industry,
                "website": f"www.{brand_pinyin}{word_pinyin}-group.cn",
                "source": Source.REFERRAL,
                "lifecycle_stage": LifecycleStage.ACTIVE,
                "rating": 5,
                "contact_points": [
                    {
                        "kind": "phone",
                        "value": demo_landline(rng, city[4], plan.used_phones) or demo_mobile(rng, plan.used_phones),
                        "label": "总机",
                    },
                    {"kind": "email", "value": f"info@{brand_pinyin}{word_pinyin}-group.cn"},
                    {
                        "kind": "address",
                        "value": {
                            "province": city[0],
                            "city": "" if city[1] == city[0] else city[1],
                            "district": city[2],
                            "street": f"{rng.choice(STREETS[city[1]])}{rng.randint(1, 500)}号",
                            "postcode": city[5],
                        },
                    },
                ],
            }
        else:
            name, gender = _person_name(rng)
            birthday = dt.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
            mobile = demo_mobile(rng, plan.used_phones)
            data = {
                "name": name,
                "gender": gender,
                "birthday": birthday.isoformat(),
                "id_number": demo_id_number(rng, city[3], birthday, gender),
                "source": Source.WEBSITE,
                "lifecycle_stage": LifecycleStage.LOYAL,
                "rating": 4,
                "card_number": f"VIP{990000 + index:08d}",
                "preferences": rng.choice(PREFERENCES),
                "interests": rng.choice(INTERESTS),
                "family_members": [{"relation": "配偶", "name": _person_name(rng)[0]}],
                "contact_points": [
                    {
                        "kind": "phone",
                        "value": f"{mobile[3:6]} {mobile[6:10]} {mobile[10:]}",
                        "label": "手机",
                        "consent": "granted",
                    },
                    {"kind": "email", "value": f"{full_pinyin(name)}{rng.randint(1, 99)}@{rng.choice(MAIL_DOMAINS)}"},
                    {"kind": "wechat", "value": f"{full_pinyin(name)}_{birthday.year}"},
                ],
            }
        customer = customer_create(actor=actor, data=data)
        when = _random_past(rng, plan.now, max_days=HISTORY_DAYS, min_days=300)
        Customer.objects.filter(pk=customer.pk).update(created_at=when, owner_since=when)
        customer.created_at = customer.owner_since = when
        created.append(customer)
    return created


def _fill_common(plan: _Plan, customer: Customer, owners: list[User], pool: Pool, created: dt.datetime) -> None:
    rng, now = plan.rng, plan.now
    customer.name_pinyin = full_pinyin(customer.name)[:400]
    customer.name_initials = pinyin_initials(customer.name)[:100]
    customer.source = weighted(rng, SOURCE_WEIGHTS)
    customer.lifecycle_stage = weighted(rng, STAGE_WEIGHTS)
    customer.rating = weighted(rng, ((0, 20), (1, 10), (2, 20), (3, 25), (4, 15), (5, 10)))
    customer.updated_at = created
    customer.created_by = None
    if rng.random() < 0.08:  # in the public pool
        previous = rng.choice(owners)
        customer.owner, customer.team, customer.owner_since = None, None, None
        customer.pool = pool
        customer.pool_entered_at = _random_past(rng, now, max_days=max(1, (now - created).days), min_days=0)
        plan.pool_events.append(
            PoolEvent(
                customer=customer,
                pool=pool,
                action=rng.choice((PoolAction.RETURNED, PoolAction.AUTO_RETURNED)),
                from_user=previous,
                actor=previous,
                occurred_at=customer.pool_entered_at,
                reason=rng.choice(("长期未跟进", "客户无购买意向", "60天未跟进，自动退回")),
            )
        )
        customer.created_by = previous
        return
    owner = weighted(rng, [(o, 5 if o.username.startswith("rep") else 1) for o in owners])
    customer.owner, customer.team = owner, owner.team
    customer.created_by = owner
    customer.owner_since = created
    if rng.random() < 0.06:  # claimed from the pool at some point
        claimed = created + (now - created) * rng.random() * 0.5
        customer.owner_since = claimed
        plan.pool_events.append(
            PoolEvent(
                customer=customer, pool=pool, action=PoolAction.CLAIMED, to_user=owner, actor=owner, occurred_at=claimed
            )
        )
    if customer.lifecycle_stage in (LifecycleStage.ACTIVE, LifecycleStage.LOYAL, LifecycleStage.WON_BACK):
        customer.last_deal_at = _random_past(rng, now, max_days=min(365, max(1, (now - created).days)))


def _fill_soft_data(rng: random.Random, person: Customer) -> None:
    if rng.random() < 0.5:
        person.preferences = "；".join(rng.sample(PREFERENCES, rng.randint(1, 2)))
    if rng.random() < 0.4:
        person.interests = "、".join(rng.sample(INTERESTS, rng.randint(1, 3)))
    if rng.random() < 0.1:
        person.special_needs = rng.choice(SPECIAL_NEEDS)
    if rng.random() < 0.2:
        members = [{"relation": "配偶", "name": _person_name(rng)[0]}]
        if rng.random() < 0.6:
            child_birthday = dt.date(rng.randint(2000, 2020), rng.randint(1, 12), rng.randint(1, 28))
            members.append(
                {
                    "relation": rng.choice(("儿子", "女儿")),
                    "name": person.family_name + rng.choice(MALE_GIVEN + FEMALE_GIVEN),
                    "birthday": child_birthday.isoformat(),
                }
            )
        person.family_members = members
    if rng.random() < 0.1:
        person.notes = "春节前需寄送礼品。"


def _organisation_points(plan: _Plan, org: Customer, city: City, domain: str) -> None:
    rng, when = plan.rng, org.created_at
    landline = demo_landline(rng, city[4], plan.used_phones)
    if landline:
        plan.points.append(_phone_point(plan, org, landline, when, "总机"))
    email = f"{rng.choice(('info', 'contact', 'sales', 'service'))}@{domain}"
    plan.points.append(_point(org, ContactKind.EMAIL, email, when, label="公司邮箱", rng=rng))
    plan.points.append(_address_point(rng, city, org, when))


def _person_points(plan: _Plan, person: Customer, city: City, domain: str) -> None:
    rng, when = plan.rng, person.created_at
    if rng.random() < 0.95:
        plan.points.append(_phone_point(plan, person, demo_mobile(rng, plan.used_phones), when, "手机"))
        if rng.random() < 0.1:
            plan.points.append(
                _phone_point(plan, person, demo_mobile(rng, plan.used_phones), when, "备用", primary=False)
            )
    if domain and rng.random() < 0.4:
        landline = demo_landline(rng, city[4], plan.used_phones)
        if landline:
            plan.points.append(_phone_point(plan, person, landline, when, "办公电话", primary=False))
    if rng.random() < 0.6:
        local = person.name_pinyin or "kehu"
        local = (
            f"{local}{rng.randint(1, 999)}" if rng.random() < 0.7 else f"{person.name_initials}{rng.randint(10, 99)}"
        )
        address = f"{local}@{domain if domain and rng.random() < 0.6 else rng.choice(MAIL_DOMAINS)}"
        plan.points.append(_point(person, ContactKind.EMAIL, address, when, label="邮箱", rng=rng))
    if rng.random() < 0.5:
        wechat = (
            f"wxid_{''.join(rng.choices('abcdefghijkmnpqrstuvwxyz23456789', k=12))}"
            if rng.random() < 0.5
            else f"{person.name_pinyin}{rng.randint(1970, 2005)}"
        )
        plan.points.append(_point(person, ContactKind.WECHAT, wechat, when, label="微信", rng=rng))
    if rng.random() < 0.3:
        plan.points.append(_address_point(rng, city, person, when))


def _create_leads(plan: _Plan, *, count: int, owners: list[User], customers: list[Customer]) -> list[Lead]:
    from guanxi.customers.services.leads import lead_create

    rng, now = plan.rng, plan.now
    # One lead through the service, as proof the generated values validate.
    first_name, _gender = _person_name(rng)
    first = lead_create(
        actor=Actor(user=owners[0], channel="system"),
        data={
            "name": first_name,
            "company_name": "深圳星辰网络科技有限公司",
            "job_title": "采购经理",
            "phone": demo_mobile(rng, plan.used_phones),
            "email": f"{full_pinyin(first_name)}@xingchen.com.cn",
            "source": Source.WEBSITE,
            "description": "官网留言咨询企业版价格",
        },
    )
    statuses = (
        (LeadStatus.NEW, 30),
        (LeadStatus.CONTACTED, 25),
        (LeadStatus.QUALIFIED, 15),
        (LeadStatus.UNQUALIFIED, 15),
        (LeadStatus.CONVERTED, 15),
    )
    by_owner: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        if customer.owner_id is not None and customer.kind == CustomerKind.PERSON:
            by_owner[customer.owner_id].append(customer)
    leads = []
    for index in range(count - 1):
        status = statuses[index % len(statuses)][0] if index < len(statuses) else weighted(rng, statuses)
        name, _gender = _person_name(rng)
        owner = rng.choice(owners)
        created = _random_past(rng, now, max_days=240)
        city = rng.choice(CITIES)
        phone = demo_mobile(rng, plan.used_phones) if rng.random() < 0.9 else ""
        lead = Lead(
            name=name,
            name_pinyin=full_pinyin(name),
            name_initials=pinyin_initials(name),
            phone=phone,
            phone_search_key=reversed_digits(phone) if phone else "",
            email=f"{full_pinyin(name)}{rng.randint(1, 999)}@{rng.choice(MAIL_DOMAINS)}" if rng.random() < 0.5 else "",
            wechat=f"{full_pinyin(name)}{rng.randint(1, 99)}" if rng.random() < 0.3 else "",
            source=weighted(
                rng,
                (
                    (Source.WEBSITE, 30),
                    (Source.EVENT, 15),
                    (Source.ADVERTISING, 15),
                    (Source.SOCIAL, 20),
                    (Source.PARTNER, 10),
                    (Source.COLD_CALL, 10),
                ),
            ),
            status=status,
            owner=owner,
            team=owner.team,
            created_by=owner,
            created_at=created,
            updated_at=created,
            address=f"{city[0]}{city[1] if city[1] != city[0] else ''}{city[2]}",
        )
        if rng.random() < 0.6:
            brand, _p = rng.choice(BRANDS)
            industry, word, _w = rng.choice(INDUSTRIES)
            lead.company_name = f"{city[1].removesuffix('市')}{brand}{word}有限公司"
            lead.industry, lead.job_title = industry, rng.choice(JOB_TITLES)
        if not (lead.phone or lead.email or lead.wechat or lead.company_name):
            lead.phone = demo_mobile(rng, plan.used_phones)
            lead.phone_search_key = reversed_digits(lead.phone)
        lead.description = rng.choice(("想了解产品报价", "展会上留下名片", "朋友推荐，有采购意向", "公众号咨询", ""))
        if status == LeadStatus.UNQUALIFIED:
            lead.disqualified_reason = rng.choice(DISQUALIFY_REASONS)
        if status == LeadStatus.CONVERTED and by_owner.get(owner.pk):
            lead.converted_customer = rng.choice(by_owner[owner.pk])
            lead.converted_at = created + (now - created) * rng.uniform(0.2, 0.9)
        elif status == LeadStatus.CONVERTED:
            lead.status = LeadStatus.QUALIFIED
        leads.append(lead)
    with timestamps_as_given(Lead):
        Lead.objects.bulk_create(leads, batch_size=BATCH)
    for lead in leads:
        lead._history_date = lead.created_at  # type: ignore[attr-defined]
        lead._history_user = lead.owner  # type: ignore[attr-defined]
    Lead.history.bulk_history_create(leads, batch_size=BATCH)  # type: ignore[attr-defined]
    return [first, *leads]


def _interaction(
    plan: _Plan, *, when: dt.datetime, user: User | None, customer: Customer | None = None, lead: Lead | None = None
) -> Interaction:
    rng = plan.rng
    channel = weighted(rng, CHANNEL_WEIGHTS)
    direction = (
        Direction.INTERNAL
        if channel == Channel.NOTE
        else weighted(rng, ((Direction.OUTBOUND, 7), (Direction.INBOUND, 3)))
    )
    outcome = (
        ""
        if channel == Channel.NOTE
        else weighted(
            rng,
            (
                (Outcome.REACHED, 30),
                (Outcome.NO_ANSWER, 10),
                (Outcome.INTERESTED, 20),
                (Outcome.NOT_INTERESTED, 8),
                (Outcome.FOLLOW_UP, 25),
                (Outcome.CLOSED, 7),
            ),
        )
    )
    return Interaction(
        customer=customer,
        lead=lead,
        channel=channel,
        direction=direction,
        occurred_at=when,
        subject=rng.choice(INTERACTION_SUBJECTS[channel]),
        body=rng.choice(INTERACTION_BODIES),
        outcome=outcome,
        duration_seconds=rng.randint(30, 1800) if channel == Channel.CALL else None,
        user=user,
        created_at=when,
        updated_at=when,
    )


def _write_interactions(plan: _Plan, customers: list[Customer], leads: list[Lead]) -> None:
    """Two years of follow-ups: more for active customers, none before a customer existed."""
    from guanxi.customers.services.interactions import interaction_log

    rng, now = plan.rng, plan.now
    last_contact: dict[int, dt.datetime] = {}
    for customer in customers:
        stage_weight = MOST_INTERACTIONS_BY_STAGE.get(customer.lifecycle_stage, 2)
        age_days = max(1, (now - customer.created_at).days)
        quiet_days = 90 if customer.lifecycle_stage in (LifecycleStage.DORMANT, LifecycleStage.CHURNED) else 0
        user = customer.owner or customer.created_by
        for _n in range(rng.randint(0, stage_weight)):
            if age_days <= quiet_days:
                break
            when = _random_past(rng, now, max_days=age_days, min_days=quiet_days)
            plan.interactions.append(_interaction(plan, when=when, user=user, customer=customer))
            if customer.pk not in last_contact or last_contact[customer.pk] < when:
                last_contact[customer.pk] = when
        # Reps look after their book: most owned, non-dormant customers had a follow-up recently, so the
        # pool's automatic return (60 days without follow-up) takes back only the neglected few.
        recent_enough = now - dt.timedelta(days=RECENT_FOLLOW_UP_DAYS)
        stale = customer.pk not in last_contact or last_contact[customer.pk] < recent_enough
        quiet = customer.lifecycle_stage in (LifecycleStage.DORMANT, LifecycleStage.CHURNED)
        share = LOOKED_AFTER_SHARE_QUIET if quiet else LOOKED_AFTER_SHARE
        if customer.owner_id is not None and stale and rng.random() < share:
            when = _random_past(rng, now, max_days=min(age_days, RECENT_FOLLOW_UP_DAYS))
            plan.interactions.append(_interaction(plan, when=when, user=user, customer=customer))
            last_contact[customer.pk] = max(when, last_contact.get(customer.pk, when))
    for lead in leads:
        if lead.status == LeadStatus.NEW:
            continue
        age_days = max(1, (now - lead.created_at).days)
        for _n in range(rng.randint(1, 3)):
            when = _random_past(rng, now, max_days=age_days)
            plan.interactions.append(_interaction(plan, when=when, user=lead.owner, lead=lead))
    with timestamps_as_given(Interaction):
        Interaction.objects.bulk_create(plan.interactions, batch_size=BATCH)
    updates = [Customer(pk=pk, last_contact_at=when) for pk, when in last_contact.items()]
    Customer.objects.bulk_update(updates, ["last_contact_at"], batch_size=BATCH)
    # One follow-up through the service, as proof the generated values validate.
    owned = next((c for c in customers if c.owner_id is not None), None)
    if owned is not None and owned.owner is not None:
        interaction_log(
            actor=Actor(user=owned.owner, channel="system"),
            customer=owned,
            data={
                "channel": Channel.CALL,
                "direction": Direction.OUTBOUND,
                "subject": "电话确认下周拜访时间",
                "outcome": Outcome.REACHED,
                "duration_seconds": 180,
                "occurred_at": (now - dt.timedelta(hours=3)).isoformat(),
            },
        )


def _create_tasks(plan: _Plan, users: dict[str, User], customers: list[Customer], leads: list[Lead]) -> int:
    """For each working demo user: tasks due today, overdue, upcoming, done and cancelled."""
    from guanxi.customers.services.tasks import task_create

    rng, now = plan.rng, plan.now
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    owned: dict[int, list[Customer]] = defaultdict(list)
    for customer in customers:
        if customer.owner_id is not None:
            owned[customer.owner_id].append(customer)
    lead_by_owner: dict[int, list[Lead]] = defaultdict(list)
    for lead in leads:
        if lead.owner_id is not None and lead.status in (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
            lead_by_owner[lead.owner_id].append(lead)
    tasks: list[Task] = []
    for username in ("manager", "rep1", "rep2", "rep3", "rep4", "service"):
        user = users[username]
        mine = owned.get(user.pk) or [c for c in customers if c.owner_id is not None]
        if not mine:
            continue
        plans = (
            [("today", TaskStatus.OPEN)] * rng.randint(3, 5)
            + [("overdue", TaskStatus.OPEN)] * rng.randint(2, 4)
            + [("upcoming", TaskStatus.OPEN)] * 5
            + [("past", TaskStatus.DONE)] * 8
            + [("past", TaskStatus.CANCELLED)]
        )
        for when_kind, status in plans:
            customer = rng.choice(mine)
            if when_kind == "today":
                due = today + dt.timedelta(hours=rng.randint(9, 18), minutes=rng.choice((0, 15, 30, 45)))
            elif when_kind == "overdue":
                due = today - dt.timedelta(days=rng.randint(1, 10), hours=-rng.randint(9, 17))
            elif when_kind == "upcoming":
                due = today + dt.timedelta(days=rng.randint(1, 14), hours=rng.randint(9, 17))
            else:
                due = today - dt.timedelta(days=rng.randint(11, 300), hours=-rng.randint(9, 17))
            kind = rng.choice((TaskKind.FOLLOW_UP, TaskKind.CALL, TaskKind.VISIT, TaskKind.EMAIL, TaskKind.MEETING))
            created = min(due - dt.timedelta(days=rng.randint(1, 7)), now)
            task = Task(
                title=rng.choice(TASK_TITLES).format(name=customer.name)[:200],
                kind=kind,
                priority=weighted(rng, ((TaskPriority.LOW, 2), (TaskPriority.NORMAL, 6), (TaskPriority.HIGH, 2))),
                status=status,
                due_at=due,
                remind_at=due - dt.timedelta(minutes=30),
                assignee=user,
                customer=customer,
                created_by=user,
                created_at=created,
                updated_at=created,
            )
            if status == TaskStatus.DONE:
                task.completed_at, task.completed_by, task.result = due, user, "已完成，客户反馈良好。"
            if status != TaskStatus.OPEN or due < now:
                task.reminded_at = task.remind_at
            tasks.append(task)
        for lead in lead_by_owner.get(user.pk, [])[:2]:
            due = today + dt.timedelta(days=rng.randint(0, 5), hours=rng.randint(9, 17))
            tasks.append(
                Task(
                    title=f"联系线索{lead.name}",
                    kind=TaskKind.CALL,
                    status=TaskStatus.OPEN,
                    due_at=due,
                    remind_at=due - dt.timedelta(minutes=30),
                    assignee=user,
                    lead=lead,
                    created_by=user,
                    created_at=now,
                    updated_at=now,
                )
            )
    with timestamps_as_given(Task):
        Task.objects.bulk_create(tasks, batch_size=BATCH)
    next_due: dict[int, dt.datetime] = {}
    for task in tasks:
        if task.status == TaskStatus.OPEN and task.customer_id is not None and task.due_at is not None:
            current = next_due.get(task.customer_id)
            next_due[task.customer_id] = task.due_at if current is None else min(current, task.due_at)
    # One task through the service, as proof the generated values validate.
    rep = users["rep1"]
    target = next(iter(owned.get(rep.pk, [])), None)
    if target is not None:
        due = today + dt.timedelta(hours=17)
        task_create(
            actor=Actor(user=rep, channel="system"),
            data={
                "title": f"给{target.name}寄送样品",
                "kind": TaskKind.TODO,
                "priority": TaskPriority.HIGH,
                "due_at": due.isoformat(),
                "customer_id": target.pk,
            },
        )
        next_due[target.pk] = min(next_due.get(target.pk, due), due)
    Customer.objects.bulk_update(
        [Customer(pk=pk, next_follow_up_at=when) for pk, when in next_due.items()],
        ["next_follow_up_at"],
        batch_size=BATCH,
    )
    return len(tasks) + (1 if target is not None else 0)


def _tag_customers(plan: _Plan, tags: list[Tag], customers: list[Customer]) -> int:
    rng = plan.rng
    items = []
    for customer in customers:
        if rng.random() < 0.3:
            for tag in rng.sample(tags, rng.randint(1, 2)):
                items.append(
                    TaggedItem(tag=tag, target=CUSTOMER_TARGET, object_id=customer.pk, created_by=customer.owner)
                )
    TaggedItem.objects.bulk_create(items, batch_size=BATCH, ignore_conflicts=True)
    return len(items)
