"""The world of the permission matrix: two reps in different teams, each owning one record of every kind.

rep_south's records carry distinctive texts (`World.secrets`) that must never appear in an answer to
rep_north; rep_north's own records let a test mix one of south's ids into an otherwise valid request.
Everything is created through the services, exactly as the UI and the API create it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Pool, Task
from guanxi.customers.models.choices import CustomerKind
from guanxi.customers.services.customers import customer_create
from guanxi.customers.services.interactions import interaction_log
from guanxi.customers.services.leads import lead_create
from guanxi.customers.services.pool import customer_return_to_pool, pool_save
from guanxi.customers.services.tasks import task_create
from guanxi.platform.annotations.models import Attachment, Note, Tag
from guanxi.platform.annotations.services import attachment_add, note_add, tag_save, tags_assign
from guanxi.platform.customfields.models import CustomFieldDefinition
from guanxi.platform.customfields.services import custom_field_save
from guanxi.platform.identity.models import ApiToken, User
from guanxi.platform.identity.services import api_token_create, token_scope_choices
from guanxi.platform.notifications.models import Notification
from guanxi.platform.notifications.services import notification_send
from guanxi.platform.ui.models import SavedView
from guanxi.platform.ui.services import saved_view_save
from tests.factories import actor

CUSTOMER_TARGET = "customers.customer"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class Names:
    """The texts one rep's records carry."""

    person: str
    organisation: str
    phone: str
    email: str
    lead: str
    lead_phone: str
    interaction: str
    task: str
    note: str
    attachment: str
    saved_view: str
    token: str


SOUTH_NAMES = Names(
    person="欧阳翠屏",
    organisation="翠屏山茶业有限公司",
    phone="13987651234",
    email="cuiping.ouyang@tea-south.example",
    lead="慕容秋水",
    lead_phone="13712340987",
    interaction="翠屏电话回访",
    task="翠屏续约跟进",
    note="翠屏的底价是九折",
    attachment="翠屏报价单.pdf",
    saved_view="翠屏的客户视图",
    token="翠屏的令牌",
)
SOUTH_POOL_CUSTOMER = "上官飞燕"
SOUTH_POOL_CUSTOMER_PHONE = "13611223344"

NORTH_NAMES = Names(
    person="北方客户",
    organisation="北方公司",
    phone="13800138000",
    email="north.customer@example.com",
    lead="北方线索",
    lead_phone="13900139000",
    interaction="北方回访",
    task="北方跟进",
    note="北方备注",
    attachment="north.pdf",
    saved_view="北方视图",
    token="north token",
)


@dataclass
class Side:
    """One rep and one record of every kind they own."""

    user: User
    person: Customer  # a person linked to `organisation`, with a phone and an email address
    organisation: Customer
    contact_point: ContactPoint
    lead: Lead
    interaction: Interaction
    task: Task
    note: Note
    attachment: Attachment
    saved_view: SavedView
    token: ApiToken
    token_secret: str
    notification: Notification
    message: Any  # an outbound email to `person`
    inbound_message: Any  # an inbound email filed on `person`
    approval_request: Any  # the rep's request about `person`


@dataclass
class World:
    org: Any
    north: Side
    south: Side
    tag: Tag  # on both reps' customers
    spare_tag: Tag  # on no record
    south_pool: Pool  # only south's team may use it
    south_pool_customer: Customer  # waits in south_pool, returned there by rep_south
    company_pool: Pool  # everyone may use it (settings pages are reached through it)
    definition: CustomFieldDefinition
    missing: Any = field(default_factory=lambda: SimpleNamespace(pk=987_654_321))  # an id nothing has

    @property
    def secrets(self) -> list[str]:
        """What rep_north must never read, in any answer."""
        names = SOUTH_NAMES
        return [
            names.person,
            names.organisation,
            names.phone,
            names.email,
            names.lead,
            names.lead_phone,
            names.interaction,
            names.task,
            names.note,
            names.attachment,
            names.saved_view,
            names.token,
            SOUTH_POOL_CUSTOMER,
            SOUTH_POOL_CUSTOMER_PHONE,
        ]


def _side(user: User, names: Names, tag: Tag, process: Any) -> Side:
    from guanxi.platform.approvals.services import approval_start
    from guanxi.platform.channels.services import message_send
    from guanxi.platform.inbox.models import InboundMessage, MatchStatus

    me = actor(user)
    organisation = customer_create(actor=me, data={"kind": CustomerKind.ORGANISATION, "name": names.organisation})
    person = customer_create(
        actor=me,
        data={
            "name": names.person,
            "organisation_id": organisation.pk,
            "contact_points": [{"kind": "phone", "value": names.phone}, {"kind": "email", "value": names.email}],
        },
    )
    lead = lead_create(actor=me, data={"name": names.lead, "phone": names.lead_phone, "company_name": names.lead})
    interaction = interaction_log(actor=me, customer=person, data={"channel": "call", "subject": names.interaction})
    task = task_create(
        actor=me,
        data={"title": names.task, "customer_id": person.pk, "due_at": timezone.now() + dt.timedelta(days=3)},
    )
    note = note_add(actor=me, target=CUSTOMER_TARGET, object_id=person.pk, body=names.note)
    tags_assign(actor=me, target=CUSTOMER_TARGET, object_ids=[person.pk], tag_id=tag.pk)
    attachment = attachment_add(
        actor=me,
        target=CUSTOMER_TARGET,
        object_id=person.pk,
        uploaded_file=SimpleUploadedFile(names.attachment, PDF_BYTES, content_type="application/pdf"),
    )
    saved_view = saved_view_save(actor=me, target=CUSTOMER_TARGET, name=names.saved_view, query="stage=prospect")
    token, secret = api_token_create(actor=me, name=names.token, scopes=token_scope_choices(), expires_at=None)
    notification = notification_send(
        recipient_id=user.pk, kind="tests.world", title=f"{names.person} {names.task}", url=f"/customers/{person.pk}/"
    )
    assert notification is not None
    message = message_send(
        actor=me, channel="email", record_type=CUSTOMER_TARGET, record_id=person.pk, subject=names.task,
        body=names.note, purpose="transactional",
    )  # fmt: skip
    inbound_message = InboundMessage.objects.create(
        channel="email", provider="webhook", provider_message_id=f"<{names.email}>", from_address=names.email,
        subject=names.interaction, body_text=names.note, received_at=timezone.now(),
        match_status=MatchStatus.MATCHED, record_type=CUSTOMER_TARGET, record_id=person.pk,
    )  # fmt: skip
    approval_request = approval_start(
        actor=me, process_id=process.pk, approvable_type=CUSTOMER_TARGET, object_id=person.pk, comment=names.note
    )
    return Side(
        user=user,
        person=person,
        organisation=organisation,
        contact_point=person.contact_points.get(kind="phone"),
        lead=lead,
        interaction=interaction,
        task=task,
        note=note,
        attachment=attachment,
        saved_view=saved_view,
        token=token,
        token_secret=secret,
        notification=notification,
        message=message,
        inbound_message=inbound_message,
        approval_request=approval_request,
    )


@pytest.fixture
def world(org: Any) -> World:
    admin = actor(org.admin)
    tag = tag_save(actor=admin, tag=None, name="重点客户", color=Tag.Color.RED)
    spare_tag = tag_save(actor=admin, tag=None, name="待分配", color=Tag.Color.GRAY)
    south_pool = pool_save(actor=admin, data={"name": "华南公海", "team_id": org.south.pk})
    company_pool = pool_save(actor=admin, data={"name": "公司公海", "team_id": None})
    definition = custom_field_save(
        actor=admin,
        definition=None,
        target=CUSTOMER_TARGET,
        key="region",
        label_zh="区域",
        label_en="Region",
        field_type="text",
    )
    from guanxi.platform.approvals.definitions import approval_process_save

    process = approval_process_save(
        actor=admin, process=None, name="客户特批", approvable_type=CUSTOMER_TARGET,
        steps=[{"approver_kind": "user", "name": "总经理", "user_id": org.admin.pk}],
    )  # fmt: skip
    south = _side(org.rep_south, SOUTH_NAMES, tag, process)
    north = _side(org.rep_north, NORTH_NAMES, tag, process)
    pool_customer = customer_create(
        actor=actor(org.rep_south),
        data={"name": SOUTH_POOL_CUSTOMER, "contact_points": [{"kind": "phone", "value": SOUTH_POOL_CUSTOMER_PHONE}]},
    )
    pool_customer = customer_return_to_pool(actor=actor(org.rep_south), customer=pool_customer, reason="没有需求")
    assert pool_customer.pool_id == south_pool.pk
    return World(
        org=org,
        north=north,
        south=south,
        tag=tag,
        spare_tag=spare_tag,
        south_pool=south_pool,
        south_pool_customer=pool_customer,
        company_pool=company_pool,
        definition=definition,
    )
