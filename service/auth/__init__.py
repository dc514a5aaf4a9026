"""Request authentication: AWS Signature Version 4, checked with botocore's own signer."""
