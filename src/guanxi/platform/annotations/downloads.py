"""How a stored attachment is sent: streamed as a download under its original name, never rendered inline."""

from __future__ import annotations

from django.http import FileResponse

from guanxi.platform.annotations.models import Attachment


def attachment_file_response(attachment: Attachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
