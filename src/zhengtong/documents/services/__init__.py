"""documents.services: the only writers of the documents app's tables (see the modules for each group)."""
from .attachments import add_attachment, check_attachment, import_docx, remove_attachment
from .common import RuleViolation
from .drafting import create_document, grant_access, update_document
from .incoming import register_incoming, save_reply, set_handling, update_registration
from .numbering import take_number, void_number
from .outgoing import (
    dispatch_document,
    document_dispatched,
    pdf_document,
    render_pdf,
    seal_document,
    set_distribution,
)

__all__ = ["add_attachment", "check_attachment", "import_docx", "remove_attachment", "RuleViolation", "create_document",
           "grant_access", "update_document", "register_incoming", "save_reply", "set_handling", "update_registration",
           "take_number", "void_number", "dispatch_document", "document_dispatched", "pdf_document", "render_pdf",
           "seal_document", "set_distribution"]
