"""The deployment files say what a user expects: a compose stack that migrates first, refuses to start
without a signing secret, and wires the API to its own PostgreSQL and Redis."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICE_ENV_NAME = re.compile(r"""["'](POINTS_[A-Z_]+|DATABASE_URL|REDIS_URL)["']""")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return compose()["services"][name]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def with_defaults(value: str) -> str:
    """Substitute compose's `${VAR:-default}` with its default, as compose does when VAR is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def names_read_by_settings() -> set[str]:
    source = (ROOT / "points_service" / "settings.py").read_text()
    return {match.group(1) for match in SERVICE_ENV_NAME.finditer(source)}


def test_stack_has_postgres_redis_and_api() -> None:
    assert {"postgres", "redis", "api"} <= set(compose()["services"])


def test_api_database_url_points_at_the_postgres_service_with_asyncpg() -> None:
    url = urlsplit(with_defaults(environment("api")["DATABASE_URL"]))
    postgres = {key: with_defaults(value) for key, value in environment("postgres").items()}
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"]


def test_api_redis_url_points_at_the_redis_service() -> None:
    url = urlsplit(environment("api")["REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis"


def test_api_refuses_to_start_without_a_jwt_secret() -> None:
    value = environment("api")["POINTS_JWT_SECRET"]
    assert re.fullmatch(r"\$\{POINTS_JWT_SECRET:\?[^}]*\}", value), value


def test_migrations_complete_before_the_api_starts() -> None:
    api_depends = service("api")["depends_on"]
    migrate = service("migrate")
    assert api_depends["migrate"]["condition"] == "service_completed_successfully"
    assert api_depends["redis"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["command"] == ["points-service", "migrate"]
    assert migrate["build"] == service("api")["build"]
    assert environment("migrate")["DATABASE_URL"] == environment("api")["DATABASE_URL"]


def test_every_service_has_a_healthcheck() -> None:
    for name in ("postgres", "redis", "api"):
        assert service(name)["healthcheck"]["test"], name
    assert "/health/ready" in " ".join(service("api")["healthcheck"]["test"])


def test_api_listens_on_all_interfaces_and_publishes_port_8000() -> None:
    assert environment("api")["POINTS_HOST"] == "0.0.0.0"  # noqa: S104 (inside the container)
    assert any(str(port).endswith(":8000") for port in service("api")["ports"])


def test_compose_passes_only_variables_the_service_reads() -> None:
    read = names_read_by_settings()
    assert {"DATABASE_URL", "REDIS_URL", "POINTS_JWT_SECRET"} <= read
    for name in ("api", "migrate"):
        assert set(environment(name)) <= read, set(environment(name)) - read


def test_dockerfile_runs_the_service_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    assert re.search(r"""^CMD \["points-service", "serve"\]""", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "POINTS_HOST=0.0.0.0" in dockerfile
