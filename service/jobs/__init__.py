"""Training jobs outside the API process: a durable queue in the database and a `JobRunner` that executes it."""
