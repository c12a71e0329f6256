"""Customers and leads to search for, created through the services so every search column is real."""

from __future__ import annotations

from dataclasses import dataclass

from guanxi.customers.models import Customer, Lead
from guanxi.platform.core.phones import normalise_phone, reversed_digits
from guanxi.platform.core.pinyin import full_pinyin, pinyin_initials
from tests.factories import LeadFactory, PoolFactory


@dataclass
class SearchData:
    zhang_wei: Customer
    zhang_wei_guo: Customer
    zeng_wei: Customer
    li_na: Customer
    alibaba: Customer
    south_wang: Customer
    pool_zhao: Customer
    lead_zhang: Lead
    lead_south: Lead


def make_lead(*, owner: object, name: str, phone: str = "", email: str = "", company: str = "") -> Lead:
    """A lead with the search columns the lead services fill in (pinyin, initials, reversed phone)."""
    e164 = normalise_phone(phone).stored if phone else ""
    return LeadFactory(
        owner=owner,
        name=name,
        name_pinyin=full_pinyin(name),
        name_initials=pinyin_initials(name),
        phone=e164,
        phone_search_key=reversed_digits(e164) if e164 else "",
        email=email,
        company_name=company,
    )


def build_search_data(org: object) -> SearchData:
    from guanxi.customers.services.customers import customer_create

    north = org.actor("rep_north")  # type: ignore[attr-defined]
    south = org.actor("rep_south")  # type: ignore[attr-defined]
    alibaba = customer_create(actor=north, data={"kind": "organisation", "name": "阿里巴巴网络技术有限公司"})
    zhang_wei = customer_create(
        actor=north,
        data={
            "name": "张伟",
            "company_name": "华为技术有限公司",
            "card_number": "VIP0001",
            "contact_points": [
                {"kind": "phone", "value": "138 1234 5678"},
                {"kind": "email", "value": "Zhang.Wei@Example.com"},
                {"kind": "wechat", "value": "zw_wechat"},
            ],
        },
    )
    zhang_wei_guo = customer_create(
        actor=north,
        data={"name": "张伟国", "contact_points": [{"kind": "phone", "value": "021 6234 9999"}]},
    )
    zeng_wei = customer_create(actor=north, data={"name": "曾伟"})
    li_na = customer_create(actor=north, data={"name": "李娜", "organisation_id": alibaba.pk})
    south_wang = customer_create(
        actor=south, data={"name": "王芳", "contact_points": [{"kind": "phone", "value": "139 0000 1111"}]}
    )
    pool_zhao = customer_create(
        actor=north, data={"name": "赵敏", "contact_points": [{"kind": "phone", "value": "137 7777 2468"}]}
    )
    pool = PoolFactory(name="公海", is_default=True)
    Customer.objects.filter(pk=pool_zhao.pk).update(owner=None, team=None, pool=pool)
    pool_zhao.refresh_from_db()
    return SearchData(
        zhang_wei=zhang_wei,
        zhang_wei_guo=zhang_wei_guo,
        zeng_wei=zeng_wei,
        li_na=li_na,
        alibaba=alibaba,
        south_wang=south_wang,
        pool_zhao=pool_zhao,
        lead_zhang=make_lead(
            owner=org.rep_north,  # type: ignore[attr-defined]
            name="张薇",
            phone="186-0000-4321",
            email="zhangwei.lead@example.org",
            company="腾讯",
        ),
        lead_south=make_lead(owner=org.rep_south, name="张卫", phone="186 5555 4321"),  # type: ignore[attr-defined]
    )
