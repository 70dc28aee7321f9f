"""The policy file: every error names the file and its line; versions; includes; reload keeps
the last good version; start-up refuses a bad file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.policy import DEFAULT_POLICY, PolicySource, load_policy
from gateway.policy.categories import Category

GOOD = """# export policy
version = "2026-09-01"
include = ["ftz.toml"]

[[positive]]
id = "sg"
destinations = ["SG"]
basis = "FTZ positive guidance item 1"

[minimisation]
mask_clerk = false
"""
FTZ = """[[negative]]
id = "ftz-1"
effect = "forbid"
categories = ["sensitive"]
source = "Shanghai FTZ negative list"
"""


def write(folder: Path, text: str, name: str = "policy.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_with_an_included_list(tmp_path: Path) -> None:
    write(tmp_path, FTZ, "ftz.toml")
    policy = load_policy(write(tmp_path, GOOD))
    assert policy.version == "2026-09-01"
    assert [r.id for r in policy.negative] == ["ftz-1"]
    assert policy.negative[0].categories == {Category.SENSITIVE}
    assert policy.positive[0].basis == "FTZ positive guidance item 1"
    assert policy.minimisation.mask_clerk is False
    assert policy.summary()["negative"][0]["source"] == "Shanghai FTZ negative list"


def test_the_summary_names_files_and_digests_without_their_folder(tmp_path: Path) -> None:
    """What API clients see: names and ``sha256sum`` digests, never the server's folder
    (the path stays in ``Policy.source`` for the operator)."""
    write(tmp_path, FTZ, "ftz.toml")
    main = tmp_path / "policy.toml"
    main.write_bytes(GOOD.replace("\n", "\r\n").encode())  # digests are of the bytes
    policy = load_policy(main)
    summary = policy.summary()
    assert summary["source"] == "policy.toml" and policy.source == str(main)
    assert summary["files"] == [
        {"name": "policy.toml", "sha256": hashlib.sha256(main.read_bytes()).hexdigest()},
        {
            "name": "ftz.toml",
            "sha256": hashlib.sha256((tmp_path / "ftz.toml").read_bytes()).hexdigest(),
        },
    ]
    assert str(tmp_path) not in json.dumps(summary)
    assert DEFAULT_POLICY.summary()["source"] == "built-in defaults"
    assert DEFAULT_POLICY.summary()["files"] == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('version = "1"\n\n[[negative]]\nid = "a"\neffect = "maybe"\n', 5, "effect"),
        ('version = "1"\n[[negative]]\nid = "a"\neffect = "forbid"\n\n[[negative]]\nid = "b"\n'
         'effect = "forbid"\ndestinations = ["Singapore"]\n', 9, "not an ISO 3166"),
        ('version = "1"\n[[positive]]\nid = "p"\ncategories = ["secret"]\nbasis = "x"\n', 4,
         "categories"),
        ('version = "1"\n[[positive]]\nid = "p"\ndestinations = ["SG"]\n', 2, "basis"),
        ('version = "1"\n[[positive]]\nid = "p"\nbasis = "b"\nkeep = ["buyer.iris"]\n', 5,
         "cannot keep"),
        ('version = "1"\n[[important_data]]\nid = "i"\nkeywords = ["x"]\n', 2, "notice"),
        ('version = "1"\n\n[minimisation]\nmask_clerk = "yes"\n', 4, "true or false"),
        ('\n\nversoin = "1"\n', 3, "unknown key `versoin`"),
        ('[[negative]]\nid = "a"\neffect = "forbid"\n', None, "`version` is required"),
        ('version = "1"\n[[negative]\nid = "a"\n', 2, "not valid TOML"),
    ],
)  # fmt: skip
def test_errors_name_the_file_and_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message and words in message
    if line is not None:
        assert f"line {line}" in message


def test_start_up_refuses_a_bad_file(tmp_path: Path) -> None:
    from gateway.flows.tools import ToolsSpec, load_tools

    path = write(tmp_path, 'version = "1"\n[[negative]]\nid = "a"\neffect = "nope"\n')
    with pytest.raises(ConfigError, match="line 4"):
        load_tools(ToolsSpec(policy_file=path))


def test_reload_picks_up_a_new_version_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = write(tmp_path, 'version = "v1"\n')
    source = PolicySource(path, check_seconds=0)
    assert source.current().version == "v1"
    write(tmp_path, 'version = "v2"\n')
    os.utime(path, (1, 1))
    assert source.current().version == "v2"
    write(tmp_path, 'version = "v3"\n[[negative]]\nid = 1\n')
    os.utime(path, (2, 2))
    assert source.current().version == "v2"
    with pytest.raises(ConfigError, match="line 3"):
        source.reload()
    assert PolicySource(None).current() is DEFAULT_POLICY
