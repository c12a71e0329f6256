from guanxi.customers.selectors.customers import customer_list
from guanxi.customers.services.customers import customer_create


def test_rep_creates_customer_and_sees_only_own(org):
    mine = customer_create(
        actor=org.actor("rep_north"),
        data={"name": "张伟", "contact_points": [{"kind": "phone", "value": "138 1234 5678"}]},
    )
    customer_create(actor=org.actor("rep_south"), data={"name": "李娜"})
    names = [c.name for c in customer_list(actor=org.actor("rep_north"))]
    assert names == ["张伟"]
    assert mine.name_pinyin == "zhangwei"
    assert mine.name_initials == "zw"
    assert mine.contact_points.get().value == "+8613812345678"
