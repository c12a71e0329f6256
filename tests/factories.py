"""factory-boy factories for the whole project; one place, so every test builds data the same way."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from guanxi.customers.models import ContactPoint, Customer, Interaction, Lead, Pool, Task
from guanxi.customers.models.choices import Channel, ContactKind, CustomerKind
from guanxi.platform.core.actors import Actor
from guanxi.platform.identity.models import Role, Team, User


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None

    @factory.post_generation
    def set_path(obj: Team, create: bool, extracted: object, **kwargs: object) -> None:
        parent_path = obj.parent.path if obj.parent_id else "/"
        obj.path = f"{parent_path}{obj.pk}/"
        obj.depth = parent_path.count("/") - 1
        if create:
            obj.save(update_fields=["path", "depth"])


def role(code: str) -> Role:
    return Role.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"User {n}")
    team = factory.SubFactory(TeamFactory)
    role = factory.LazyFunction(lambda: role("sales_rep"))
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    kind = CustomerKind.PERSON
    name = factory.Sequence(lambda n: f"客户{n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team if o.owner else None)


class ContactPointFactory(DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactKind.PHONE
    value = factory.Sequence(lambda n: f"+86138{n:08d}")
    search_key = factory.LazyAttribute(lambda o: o.value.lstrip("+")[::-1] if o.kind == ContactKind.PHONE else o.value)
    is_primary = True


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"线索{n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team if o.owner else None)


class InteractionFactory(DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = Channel.CALL
    occurred_at = factory.Faker("date_time_this_year", tzinfo=__import__("datetime").UTC)
    user = factory.LazyAttribute(lambda o: o.customer.owner if o.customer else None)


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
    assignee = factory.SubFactory(UserFactory)


class PoolFactory(DjangoModelFactory):
    class Meta:
        model = Pool

    name = factory.Sequence(lambda n: f"Pool {n}")


def actor(user: User, channel: str = "web") -> Actor:
    return Actor(user=user, channel=channel)  # type: ignore[arg-type]
