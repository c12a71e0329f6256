"""Enumerations shared by customer models, with zh/en labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class Source(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    EVENT = "event", _("Event or trade show")
    ADVERTISING = "advertising", _("Advertising")
    COLD_CALL = "cold_call", _("Cold call")
    SOCIAL = "social", _("Social media")
    PARTNER = "partner", _("Partner")
    WALK_IN = "walk_in", _("Walk-in")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    NEW = "new", pgettext_lazy("lifecycle stage", "New")
    ACTIVE = "active", pgettext_lazy("lifecycle stage", "Active")
    LOYAL = "loyal", _("Loyal")
    DORMANT = "dormant", _("Dormant")
    CHURNED = "churned", _("Churned")
    WON_BACK = "won_back", _("Won back")


class CompanySize(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MICRO = "1-9", _("1-9 people")
    SMALL = "10-49", _("10-49 people")
    MEDIUM = "50-199", _("50-199 people")
    LARGE = "200-999", _("200-999 people")
    ENTERPRISE = "1000+", _("1000+ people")


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    ADDRESS = "address", _("Address")


class Consent(models.TextChoices):
    UNKNOWN = "unknown", _("Not asked")
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead status", "New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    WEB = "web", _("Web")
    SOCIAL = "social", _("Social media")
    NOTE = "note", _("Note")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")


class Outcome(models.TextChoices):
    NONE = "", _("No outcome")
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    FOLLOW_UP = "follow_up", _("Needs follow-up")
    CLOSED = "closed", _("Deal closed")


class TaskKind(models.TextChoices):
    TODO = "todo", _("To do")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task status", "Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PoolAction(models.TextChoices):
    RETURNED = "returned", _("Returned to the pool")
    AUTO_RETURNED = "auto_returned", _("Returned automatically")
    CLAIMED = "claimed", _("Claimed")
    ASSIGNED = "assigned", _("Assigned")
    HANDED_OVER = "handed_over", _("Handed over")
