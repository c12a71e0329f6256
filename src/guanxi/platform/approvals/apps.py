from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "guanxi.platform.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        from guanxi.platform.approvals.events import register_events
        from guanxi.platform.approvals.permissions import APPROVALS_MANAGE, register_permissions
        from guanxi.platform.approvals.tasks import handle_approval_timeouts
        from guanxi.platform.approvals.views import workbench_panel
        from guanxi.platform.core.jobs import register_periodic
        from guanxi.platform.ui.registry import NavItem, WorkbenchPanel, register_nav_item, register_workbench_panel

        register_permissions()
        register_events()
        register_periodic(handle_approval_timeouts, name="approvals.timeouts", minute="*/5")
        register_nav_item(NavItem("approvals", _("Approvals"), "approvals:inbox", None, order=55, section="main"))
        register_workbench_panel(
            WorkbenchPanel("approvals.waiting", "approvals/partials/workbench_panel.html", workbench_panel, order=5)
        )
        register_nav_item(
            NavItem(
                "approval_processes",
                _("Approval processes"),
                "approvals:process_list",
                APPROVALS_MANAGE,
                order=45,
                section="settings",
            )
        )
        _register_notification_types()


def _register_notification_types() -> None:
    """The notification kinds approvals send, so users can choose how each reaches them."""
    from guanxi.platform.approvals.notify import DECIDED_KIND, PENDING_KIND, REMINDER_KIND
    from guanxi.platform.notifications.registry import register_notification_type

    register_notification_type(
        PENDING_KIND,
        _("Approval requests waiting for you"),
        description=_("A request reaches a step you approve, or is escalated to you."),
        default_in_app=True,
        default_email=True,
    )
    register_notification_type(
        DECIDED_KIND,
        _("Your approval requests decided"),
        description=_(
            "Your request was approved, rejected or returned, or a request you were asked about was withdrawn."
        ),
        default_in_app=True,
        default_email=False,
    )
    register_notification_type(
        REMINDER_KIND,
        _("Approval reminders"),
        description=_("A request has waited for you longer than its step allows."),
        default_in_app=True,
        default_email=True,
    )
