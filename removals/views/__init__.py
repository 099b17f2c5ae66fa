"""The creator's pages of removal requests, one module per area: their list and request page
(``requests``), the draft and its review-and-submit step (``drafts``), staff filing for a
member under their mandate (``members``), and the evidence pack (``packs``). The staff's pages:
``staff_review`` (queue, review, decisions) and ``staff_reports`` (overdue notices, legal
wording, dashboard), routed by ``removals/urls_staff.py``."""

from .drafts import request_create, request_edit, request_submit
from .members import file_for_member
from .packs import evidence_download, evidence_pack
from .requests import (
    deny_overrides,
    request_detail,
    request_list,
    request_retract,
    request_withdraw,
)

__all__ = [
    "deny_overrides",
    "evidence_download",
    "evidence_pack",
    "file_for_member",
    "request_create",
    "request_detail",
    "request_edit",
    "request_list",
    "request_retract",
    "request_submit",
    "request_withdraw",
]
