"""`lv keys create|list|delete`, and a created key used as a profile of its own."""

import json

from click.testing import CliRunner

from cli.main import cli


def test_keys_lifecycle(lv, lv_env, server, project_name):
    created = lv("keys", "create", "--role", "reviewer", "--description", "QA station", "--json")
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)
    assert (key["Role"], key["Description"]) == ("reviewer", "QA station")
    assert key["SecretAccessKey"]

    listed = lv("keys", "list", "--json")
    by_id = {item["AccessKeyId"]: item for item in json.loads(listed.output)}
    assert by_id[key["AccessKeyId"]]["Role"] == "reviewer"
    assert by_id[server.access_key_id]["Role"] == "admin"
    assert key["SecretAccessKey"] not in listed.output
    table = lv("keys", "list").output
    assert key["AccessKeyId"] in table and "QA station" in table and key["SecretAccessKey"] not in table

    configured = lv(
        "configure",
        "--profile",
        "qa",
        "--endpoint-url",
        server.url,
        "--region",
        server.settings.region,
        "--access-key-id",
        key["AccessKeyId"],
        "--secret-access-key",
        key["SecretAccessKey"],
    )
    assert configured.exit_code == 0, configured.output
    assert lv("--profile", "qa", "projects", "list", "--json").exit_code == 0
    refused = lv("--profile", "qa", "projects", "create", project_name)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("Error: AccessDeniedException: Role 'reviewer' may not call CreateProject.")

    not_confirmed = lv("keys", "delete", key["AccessKeyId"], input="n\n")
    assert not_confirmed.exit_code == 1
    assert lv("--profile", "qa", "projects", "list").exit_code == 0
    deleted = lv("keys", "delete", key["AccessKeyId"], "--yes", "--json")
    assert json.loads(deleted.output) == {"AccessKeyId": key["AccessKeyId"]}
    gone = lv("--profile", "qa", "projects", "list")
    assert gone.exit_code == 1 and "unknown access key" in gone.stderr


def test_human_create_shows_the_secret_once_and_bad_input_is_one_line(lv, server):
    created = lv("keys", "create", "--role", "inference")
    assert created.exit_code == 0
    lines = created.output.splitlines()
    access_key_id = lines[0].split()[-1]
    assert lines[0] == f"created inference key {access_key_id}"
    assert lines[1].startswith("secret access key (shown once): ")
    assert lv("keys", "delete", access_key_id, "-y").output == f"deleted access key {access_key_id}\n"
    bad_role = CliRunner().invoke(cli, ["keys", "create", "--role", "owner"])
    assert bad_role.exit_code == 2 and "'owner' is not one of" in bad_role.output
    self_delete = lv("keys", "delete", server.access_key_id, "--yes")
    assert self_delete.exit_code == 1
    assert self_delete.stderr.startswith("Error: ValidationException: ")
    assert len(self_delete.stderr.strip().splitlines()) == 1
