"""HTTP surfaces: `lookoutvision/` speaks the AWS wire format, `ext/` what AWS never had."""
