"""flow.services: the only writers of the flow app's tables (definitions, instances, tasks, trail).

One module per group of operations; every public function is re-exported here, so callers write
`from zhengtong.flow import services; services.submit_task(...)`.
"""
from .admin import (
    hand_over_work,
    move_instance,
    reassign_task,
    resume_instance,
    set_instance_deadline,
    suspend_instance,
    terminate_instance,
)
from .definitions import (
    DEFAULT_FILES,
    DEFINITIONS_DIR,
    activate_definition,
    install_default_definitions,
    require_definition_admin,
    upload_definition,
)
from .delegation import reapply_delegations, reapply_delegations_between
from .handover import delegate_task, transfer_task
from .instances import active_definition, identity_to_start, start_process, submit_task
from .operations import open_task, retract_task, return_task, send_back_to_returner
from .reading import add_phrase, circulate, delete_phrase, mark_read, move_phrase, urge_task
from .signers import add_signers, remove_signers

__all__ = ["circulate", "mark_read", "urge_task", "add_phrase", "delete_phrase", "move_phrase",
           "DEFAULT_FILES", "DEFINITIONS_DIR", "activate_definition", "install_default_definitions",
           "require_definition_admin", "upload_definition", "reapply_delegations", "reapply_delegations_between",
           "delegate_task", "transfer_task", "active_definition", "identity_to_start", "start_process", "submit_task",
           "open_task",
           "retract_task", "return_task", "send_back_to_returner", "add_signers", "remove_signers",
           "suspend_instance", "resume_instance", "terminate_instance", "move_instance", "reassign_task",
           "hand_over_work", "set_instance_deadline"]
