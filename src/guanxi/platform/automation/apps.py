from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.platform.automation"
    label = "automation"
    verbose_name = _("Workflow rules")

    def ready(self) -> None:
        from guanxi.platform.automation import permissions
        from guanxi.platform.automation.actions import NOTIFICATION_KIND, register_platform_actions
        from guanxi.platform.automation.approval_records import register_approval_records
        from guanxi.platform.automation.engine import handle_event
        from guanxi.platform.automation.tasks import run_date_rules, run_schedule_rules
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.events.registry import register_subscriber
        from guanxi.platform.notifications.registry import register_notification_type
        from guanxi.platform.ui.registry import NavItem, register_nav_item

        register_platform_actions()
        register_approval_records()
        register_subscriber("automation", handle_event)
        register_periodic(run_date_rules, name="automation.date_rules", minute="7")
        register_periodic(run_schedule_rules, name="automation.schedule_rules", minute="2")
        register_notification_type(
            NOTIFICATION_KIND,
            _("Workflow rules"),
            description=_("Notifications that workflow rules send."),
        )
        register_nav_item(
            NavItem("rules", _("Workflow rules"), "automation:rule_list", permissions.AUTOMATION_VIEW, order=60,
                    section="settings")
        )  # fmt: skip
