"""Registry host names as plain text, for the paths that must not load :mod:`naming`.

The credential helper answers a pull from the cache with nothing but these
(naming's records and patterns would cost it 10 ms); naming offers them too.
"""

PUBLIC_REGISTRY = "public.ecr.aws"
# AWS's dual-stack (IPv4 and IPv6) name for ECR Public.
PUBLIC_REGISTRY_DUALSTACK = "ecr-public.aws.com"
# ECR Public's API, and so its token, lives in this region only.
PUBLIC_REGION = "us-east-1"


def host_of(key: str) -> str:
    """The host in an auth file key or in what an engine hands a credential helper.

    Both come as host, host:port, https://host or https://host/v1/; podman
    also scopes keys by repository (host/team/app).
    """
    return key.strip().split("://", 1)[-1].split("/", 1)[0].lower()
