"""The AWS side: one botocore session, the few ECR/STS calls we make, and
their failures turned into one clear line each.

botocore is imported here and only here, and only when a call is made, so
``inv --list`` and a login with a cached token never pay for it. We use
botocore's own session rather than boto3's: the clients are the same, and
``import boto3`` also loads s3transfer and the resource layer, which a
login never uses: a quarter more import time than botocore alone.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time

from ecr_tasks import naming
from ecr_tasks.cache import Token
from ecr_tasks.errors import AwsError, ConfigError, RepositoryNotFound, tls_problem

TYPE_CHECKING = False  # typing is not loaded when the cache answers
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

# Bounded retries with backoff for throttling and transient network errors.
# total_max_attempts counts the first try too; botocore rewrites a dict with
# max_attempts in place, so each client gets a copy (see Aws.client).
RETRIES = {"mode": "standard", "total_max_attempts": 5}
TIMEOUTS = {"connect_timeout": 5, "read_timeout": 20}


def decode_token(authorization_token: str, proxy_endpoint: str, expires_at: Any) -> Token:
    """Build a :class:`Token` from one ``authorizationData`` entry."""
    from ecr_tasks.redaction import remember_secret  # logging: not for a cached answer

    user, _, password = base64.b64decode(authorization_token).decode("utf-8").partition(":")
    remember_secret(password)
    expires = expires_at.timestamp() if hasattr(expires_at, "timestamp") else float(expires_at)
    return Token(naming.host_of_endpoint(proxy_endpoint), user, password, expires, time.time())


class Aws:
    """Lazily built botocore clients that share one session.

    Building a session and a client costs far more than the call itself, so
    each (service, region) client is built once per process and reused.
    """

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        # Client creation is not thread-safe on one session; calls are.
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                with translate_errors():
                    import botocore.session
                    from botocore.config import Config

                    from ecr_tasks.redaction import protect_logs

                    if self._session is None:
                        protect_logs()
                        self._session = botocore.session.Session(profile=self.profile)
                    self._clients[key] = self._session.create_client(
                        service,
                        region_name=region,
                        # botocore-stubs types ``retries`` as a TypedDict of its own and
                        # each keyword by its option; these are the documented values.
                        config=Config(retries=dict(RETRIES), **TIMEOUTS),  # type: ignore[arg-type]
                    )
            return self._clients[key]

    def registry_tokens(self, region: str, accounts: list[str]) -> list[Token]:
        """One GetAuthorizationToken call for every account in ``region``."""
        kwargs = {"registryIds": accounts} if accounts else {}
        with translate_errors(region=region):
            answer = self.client("ecr", region).get_authorization_token(**kwargs)
        return [
            decode_token(d["authorizationToken"], d["proxyEndpoint"], d["expiresAt"])
            for d in answer["authorizationData"]
        ]

    def public_token(self, host: str) -> Token:
        """A token for ECR Public, whose API lives in us-east-1 only."""
        with translate_errors(region="us-east-1"):
            data = self.client("ecr-public", "us-east-1").get_authorization_token()
        data = data["authorizationData"]
        return decode_token(data["authorizationToken"], host, data["expiresAt"])

    def caller_account(self, region: str) -> str:
        with translate_errors(region=region):
            account: str = self.client("sts", region).get_caller_identity()["Account"]
        return account

    def caller_arn(self, region: str) -> str:
        with translate_errors(region=region):
            arn: str = self.client("sts", region).get_caller_identity()["Arn"]
        return arn

    def describe_repository(self, region: str, account: str | None, repo: str) -> dict[str, Any]:
        with translate_errors(region=region, repo=repo):
            answer = self.client("ecr", region).describe_repositories(
                repositoryNames=[repo], **_of(account)
            )
        found: dict[str, Any] = answer["repositories"][0]
        return found

    def image_tags(
        self, region: str, account: str | None, repo: str, limit: int = 100
    ) -> list[str]:
        """Up to ``limit`` tags of ``repo``, from one ListImages call, sorted."""
        with translate_errors(region=region, repo=repo):
            answer = self.client("ecr", region).list_images(
                repositoryName=repo,
                filter={"tagStatus": "TAGGED"},
                maxResults=max(1, min(limit, 1000)),
                **_of(account),
            )
        tags = {image["imageTag"] for image in answer.get("imageIds", []) if image.get("imageTag")}
        return sorted(tags)[:limit]

    def create_repository(
        self,
        region: str,
        account: str | None,
        repo: str,
        *,
        immutable: bool,
        scan_on_push: bool,
        kms_key: str | None,
    ) -> dict[str, Any]:
        encryption = (
            {"encryptionType": "KMS", "kmsKey": kms_key}
            if kms_key
            else {"encryptionType": "AES256"}
        )
        with translate_errors(region=region, repo=repo):
            answer = self.client("ecr", region).create_repository(
                repositoryName=repo,
                imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
                imageScanningConfiguration={"scanOnPush": scan_on_push},
                encryptionConfiguration=encryption,
                **_of(account),
            )
        created: dict[str, Any] = answer["repository"]
        return created

    def describe_images(self, region: str, account: str | None, repo: str) -> list[dict[str, Any]]:
        """Every image of ``repo``: DescribeImages, page by page (:data:`PAGE`)."""
        with translate_errors(region=region, repo=repo):
            call = self.client("ecr", region).describe_images
            return _pages(call, "imageDetails", repositoryName=repo, **_of(account))

    def describe_repositories(self, region: str, account: str | None) -> list[dict[str, Any]]:
        """Every repository of the registry: DescribeRepositories, page by page."""
        with translate_errors(region=region):
            call = self.client("ecr", region).describe_repositories
            return _pages(call, "repositories", **_of(account))

    def list_images(self, region: str, account: str | None, repo: str) -> list[dict[str, Any]]:
        """``{imageDigest, imageTag}`` of each tag and untagged image: ListImages, all pages."""
        with translate_errors(region=region, repo=repo):
            call = self.client("ecr", region).list_images
            return _pages(call, "imageIds", repositoryName=repo, **_of(account))

    def batch_delete_image(
        self, region: str, account: str | None, repo: str, image_ids: list[dict[str, str]]
    ) -> dict[str, Any]:
        """BatchDeleteImage: the ``imageIds`` removed and the ``failures``, as ECR answers."""
        with translate_errors(region=region, repo=repo):
            answer: dict[str, Any] = self.client("ecr", region).batch_delete_image(
                repositoryName=repo, imageIds=image_ids, **_of(account)
            )
        return answer


_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ThrottledException",
}


@contextlib.contextmanager
def translate_errors(region: str | None = None, repo: str | None = None) -> Iterator[None]:
    """Turn botocore's exceptions into one-line :class:`EcrTasksError`\\ s."""
    try:
        yield
    except Exception as error:
        problem = _describe(error, region, repo)
        if problem is None:
            raise
        raise problem from None


def _describe(error: BaseException, region: str | None, repo: str | None) -> Exception | None:
    from urllib.parse import urlsplit

    from botocore import exceptions as bx

    where = f" in {region}" if region else ""
    endpoint = getattr(error, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
    if isinstance(error, bx.ProfileNotFound):
        return ConfigError(f"unknown AWS profile: {error}")
    if isinstance(error, bx.NoCredentialsError | bx.PartialCredentialsError):
        return ConfigError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws configure`"
        )
    if isinstance(error, bx.NoRegionError):
        return ConfigError("no AWS region: pass --region, set ecr.region or AWS_REGION")
    if isinstance(error, bx.TokenRetrievalError | bx.SSOTokenLoadError):
        return ConfigError(f"AWS SSO session expired or missing: run `aws sso login` ({error})")
    if isinstance(error, bx.SSLError):
        host = urlsplit(endpoint).hostname or endpoint
        problem = tls_problem(str(error)) or "TLS handshake failed"
        return AwsError(
            f"TLS check of {host} failed: {problem}; if a proxy or stand-in signs with its"
            " own CA, point AWS_CA_BUNDLE at its certificate"
        )
    if isinstance(error, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return AwsError(f"cannot reach {endpoint}{where}: check the network or AWS_ENDPOINT_URL")
    if isinstance(error, bx.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        operation = error.operation_name
        if code in _THROTTLED:
            return AwsError(
                f"AWS throttled {operation}{where} after {RETRIES['total_max_attempts']} attempts: "
                "retry later or use the token cache"
            )
        if code == "RepositoryNotFoundException":
            return RepositoryNotFound(
                f"repository {repo!r} not found{where}: create it or push with --create"
            )
        if code in _DENIED:
            return AwsError(f"access denied to {operation}{where} ({code}): {message}")
        return AwsError(f"{operation}{where} failed ({code}): {message}")
    if isinstance(error, bx.BotoCoreError):
        return AwsError(f"AWS call failed{where}: {error}")
    return None


#: Items per DescribeImages, ListImages or DescribeRepositories page: ECR's most (100 unasked).
PAGE = 1000


def _of(account: str | None) -> dict[str, str]:
    return {"registryId": account} if account else {}


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paged ECR answer, following ``nextToken`` to the last page."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        answer = call(maxResults=PAGE, **kwargs, **({"nextToken": token} if token else {}))
        found += answer.get(key) or []
        token = answer.get("nextToken")
        if not token:
            return found
