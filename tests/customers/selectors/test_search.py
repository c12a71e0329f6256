"""Global search providers for customers and leads: matching, ranking, visibility and masking."""

from __future__ import annotations

import pytest

from guanxi.customers.selectors.customers import CustomerFilters, customer_list
from guanxi.customers.selectors.search import (
    customer_search_hits,
    customer_search_q,
    lead_search_hits,
    phone_suffix_key,
)
from guanxi.customers.services.customers import customer_create
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.models import User
from guanxi.platform.search.query import SearchQuery
from tests.customers.selectors.search_data import SearchData, build_search_data


@pytest.fixture
def data(org) -> SearchData:
    return build_search_data(org)


def find(org, who: str, text: str, limit: int = 20) -> list[tuple[str, str]]:
    return [(hit.title, hit.matched_on) for hit in customer_search_hits(org.actor(who), SearchQuery.parse(text), limit)]


def find_leads(org, who: str, text: str) -> list[tuple[str, str]]:
    return [(hit.title, hit.matched_on) for hit in lead_search_hits(org.actor(who), SearchQuery.parse(text), 20)]


def test_full_pinyin_finds_zhang_wei_shortest_name_first(org, data):
    assert find(org, "rep_north", "zhangwei") == [("张伟", "pinyin"), ("张伟国", "pinyin")]


def test_pinyin_with_spaces_and_capitals(org, data):
    assert find(org, "rep_north", "Zhang Wei") == [("张伟", "pinyin"), ("张伟国", "pinyin")]


def test_initials_find_zhang_wei(org, data):
    assert find(org, "rep_north", "zw") == [("张伟", "initials"), ("曾伟", "initials"), ("张伟国", "initials")]


def test_two_character_chinese_name_exact_match_ranks_first(org, data):
    assert find(org, "rep_north", "张伟") == [("张伟", "name"), ("张伟国", "name")]


def test_one_character_prefix(org, data):
    assert find(org, "rep_north", "张") == [("张伟", "name"), ("张伟国", "name")]


def test_surname_read_as_surname(org, data):
    assert data.zeng_wei.name_pinyin == "zengwei"
    assert find(org, "rep_north", "zengwei") == [("曾伟", "pinyin")]


@pytest.mark.parametrize(
    "typed",
    [
        "5678",
        "345678",
        "138-1234-5678",
        "13812345678",
        "+86 138 1234 5678",
        "(138) 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_in_any_format_and_by_suffix(org, data, typed):
    assert find(org, "rep_north", typed) == [("张伟", "phone")]


def test_landline_with_trunk_zero_and_without(org, data):
    assert find(org, "rep_north", "021-6234-9999") == [("张伟国", "phone")]
    assert find(org, "rep_north", "2162349999") == [("张伟国", "phone")]
    assert find(org, "rep_north", "0086 21 6234 9999") == [("张伟国", "phone")]


def test_three_digits_are_not_a_phone_search(org, data):
    assert find(org, "rep_north", "678") == []


def test_email_prefix_case_insensitive(org, data):
    assert find(org, "rep_north", "zhang.wei@") == [("张伟", "email")]
    assert find(org, "rep_north", "ZHANG.WEI@example") == [("张伟", "email")]
    assert find(org, "rep_north", "zhang.w") == [("张伟", "email")]


def test_wechat_id_exact(org, data):
    assert find(org, "rep_north", "ZW_wechat") == [("张伟", "wechat")]


def test_company_finds_the_organisation_by_name_and_its_people_by_company(org, data):
    assert find(org, "rep_north", "阿里") == [("阿里巴巴网络技术有限公司", "name"), ("李娜", "company")]


def test_company_contains(org, data):
    assert find(org, "rep_north", "网络技术") == [("阿里巴巴网络技术有限公司", "name"), ("李娜", "company")]


def test_card_number_any_case(org, data):
    assert find(org, "rep_north", "vip0001") == [("张伟", "card_number")]
    assert find(org, "rep_north", "VIP 0001") == [("张伟", "card_number")]


def test_ranking_exact_then_prefix_then_given_name_then_company(org):
    rep = org.actor("rep_north")
    for name, company in [("小王五", ""), ("王五六", ""), ("赵六", "王五集团"), ("王五", "")]:
        customer_create(actor=rep, data={"name": name, "company_name": company})
    assert find(org, "rep_north", "王五") == [
        ("王五", "name"),
        ("王五六", "name"),
        ("小王五", "name"),  # the given name 王五 starts with the query
        ("赵六", "company"),
    ]


def test_ranking_puts_contains_last(org):
    rep = org.actor("rep_north")
    for name, company in [("李明王五六", ""), ("赵六", "王五六集团"), ("王五六", "")]:
        customer_create(actor=rep, data={"name": name, "company_name": company})
    assert find(org, "rep_north", "王五六") == [("王五六", "name"), ("赵六", "company"), ("李明王五六", "name")]


def test_pinyin_ranks_above_contact_and_contains(org):
    rep = org.actor("rep_north")
    customer_create(actor=rep, data={"name": "Anna Liu", "contact_points": [{"kind": "email", "value": "liu@x.cn"}]})
    customer_create(actor=rep, data={"name": "刘明"})
    assert find(org, "rep_north", "liu") == [("刘明", "pinyin"), ("Anna Liu", "email")]


def test_two_letters_match_prefixes_only_three_match_inside_names(org):
    rep = org.actor("rep_north")
    customer_create(actor=rep, data={"name": "Anna Liu"})
    assert find(org, "rep_north", "li") == []
    assert find(org, "rep_north", "liu") == [("Anna Liu", "name")]


def test_many_prefix_matches_still_rank_the_exact_name_first(org):
    rep = org.actor("rep_north")
    for index in range(30):
        customer_create(actor=rep, data={"name": f"张{index:02d}号"})
    customer_create(actor=rep, data={"name": "张"})
    hits = find(org, "rep_north", "张", limit=5)
    assert hits[0] == ("张", "name") and len(hits) == 5


def test_limit_keeps_the_best(org, data):
    assert find(org, "rep_north", "zhangwei", limit=1) == [("张伟", "pinyin")]


def test_rep_south_does_not_find_rep_north_customers(org, data):
    assert find(org, "rep_south", "zhangwei") == []
    assert find(org, "rep_south", "5678") == []
    assert find(org, "rep_south", "zhang.wei@") == []
    assert find(org, "rep_south", "VIP0001") == []
    assert find(org, "rep_south", "王芳") == [("王芳", "name")]


def test_manager_finds_the_team_and_admin_finds_everyone(org, data):
    assert [t for t, _ in find(org, "manager_north", "zhangwei")] == ["张伟", "张伟国"]
    assert find(org, "manager_north", "wangfang") == []
    assert find(org, "admin", "wangfang") == [("王芳", "pinyin")]


def test_pool_customers_found_by_reps_with_pool_view(org, data):
    assert find(org, "rep_south", "zm") == [("赵敏", "initials")]
    assert find(org, "rep_south", "2468") == [("赵敏", "phone")]


def _without_permissions(org, name: str, removed: set[str]) -> Actor:
    user = getattr(org, name)
    role = user.role
    role.permissions = [p for p in role.permissions if p not in removed] if removed else []
    role.save()
    return Actor(user=User.objects.get(pk=user.pk))


def test_pool_customers_hidden_without_pool_view(org, data):
    rep = _without_permissions(org, "rep_south", {"pool.view"})
    assert customer_search_hits(rep, SearchQuery.parse("zm"), 5) == []
    assert [h.title for h in customer_search_hits(rep, SearchQuery.parse("王芳"), 5)] == ["王芳"]


def test_no_customer_permission_means_no_hits(org, data):
    rep = _without_permissions(org, "rep_south", set())
    assert customer_search_hits(rep, SearchQuery.parse("王芳"), 5) == []
    assert lead_search_hits(rep, SearchQuery.parse("张卫"), 5) == []


def test_subtitle_shows_phone_and_owner(org, data):
    [hit] = customer_search_hits(org.actor("rep_north"), SearchQuery.parse("张伟"), 1)
    assert hit.subtitle == f"华为技术有限公司 · 138 1234 5678 · {org.rep_north}"
    assert hit.url == f"/customers/{data.zhang_wei.pk}/"
    assert hit.kind == "customer"
    assert hit.id == data.zhang_wei.pk


def test_subtitle_masks_personal_data_without_permission(org, data):
    [hit] = customer_search_hits(org.actor("analyst"), SearchQuery.parse("zhang.wei@"), 5)
    assert "138 **** 5678" in hit.subtitle
    assert "z***@example.com" in hit.subtitle
    assert "12345678" not in hit.subtitle
    assert "zhang.wei" not in hit.subtitle


def test_subtitle_of_pool_customer_and_card(org, data):
    [pool_hit] = customer_search_hits(org.actor("rep_south"), SearchQuery.parse("赵敏"), 5)
    assert pool_hit.subtitle == "137 7777 2468 · Public pool"
    assert pool_hit.extra == {"kind": "person", "in_pool": "true"}
    [card_hit] = customer_search_hits(org.actor("rep_north"), SearchQuery.parse("VIP0001"), 5)
    assert "Card VIP0001" in card_hit.subtitle


def test_empty_query_finds_nothing(org, data):
    assert find(org, "admin", "   ") == []


def test_customer_list_filter_uses_the_same_conditions(org, data):
    names = [c.name for c in customer_list(actor=org.actor("rep_north"), filters=CustomerFilters(q="zw"))]
    assert sorted(names) == ["张伟", "张伟国", "曾伟"]
    assert customer_search_q("") == customer_search_q("  ")


@pytest.mark.parametrize(
    ("typed", "key"),
    [("5678", "8765"), ("021 6234 9999", "9999432612"), ("0086 21 6234 9999", "999943261268"), ("0123", "3210")],
)
def test_phone_suffix_key(typed, key):
    assert phone_suffix_key(SearchQuery.parse(typed)) == key


# Leads ------------------------------------------------------------------------------------------


def test_leads_by_pinyin_initials_phone_email_company(org, data):
    assert find_leads(org, "rep_north", "zhangwei") == [("张薇", "pinyin")]
    assert find_leads(org, "rep_north", "zw") == [("张薇", "initials")]
    assert find_leads(org, "rep_north", "张薇") == [("张薇", "name")]
    assert find_leads(org, "rep_north", "186 0000 4321") == [("张薇", "phone")]
    assert find_leads(org, "rep_north", "zhangwei.lead@") == [("张薇", "email")]
    assert find_leads(org, "rep_north", "腾讯") == [("张薇", "company")]


def test_rep_south_does_not_find_rep_north_leads(org, data):
    assert find_leads(org, "rep_south", "zhangwei") == [("张卫", "pinyin")]
    assert find_leads(org, "rep_south", "4321") == [("张卫", "phone")]
    assert find_leads(org, "rep_north", "4321") == [("张薇", "phone")]


def test_lead_subtitle_masked_for_analyst(org, data):
    hits = lead_search_hits(org.actor("analyst"), SearchQuery.parse("4321"), 5)
    assert [h.title for h in hits] == ["张薇", "张卫"]
    assert hits[0].subtitle == f"腾讯 · 186 **** 4321 · New · {org.rep_north}"
    assert hits[0].extra == {"status": "new"}
    assert hits[0].url == f"/leads/{data.lead_zhang.pk}/"
