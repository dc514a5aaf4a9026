"""Business rules. Functions take keyword arguments, raise only `service.errors`, and never see HTTP."""
