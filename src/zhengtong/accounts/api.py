from ninja import Router

router = Router(tags=["auth"])  # mounted at /api/v1/auth
me_router = Router(tags=["me"])  # mounted at /api/v1/
