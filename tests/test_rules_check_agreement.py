"""`rules check FILE` accepts and rejects exactly the files `standardize`, `validate` and `audit` accept and reject.

Every command loads a rules file through the one checker (crmclean.config.check); this corpus of
good and bad files proves they agree on the exit code, and that each bad file is reported at
file:line with a useful message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.errors import CrmcleanError

runner = CliRunner()

CSV = (
    "Id,First Name,Last Name,Email,Phone,Company,ИНН,Owner\n"
    "C1,Иван,Петров,ivan@lutik.ru,+7 495 123-45-67,ООО «Лютик»,7707083893,Сидоров К.\n"
    "C2,Anna,Smith,anna@example.com,8 (911) 996-55-46,Acme Ltd,500100732259,\n"
    "C3,Пётр,Иванов,not-an-email,12,ЗАО «Ромашка»,'7707083893,Сидоров К.\n"
)

# name -> (rules file text, expected exit code, text the error must contain, expected line)
GOOD: dict[str, str] = {
    "empty file": "",
    "comments only": "# nothing configured yet\n",
    "version only": "version: 1\n",
    "select and ignore": "standardize:\n  ignore: [PHONE002, email.free]\n  order: [TITLE001]\n"
                         "validate:\n  ignore: [STALE001, hygiene.stale]\n",
    "check options": "validate:\n  rules:\n    ORPHAN001: {severity: error}\n",
    "standardizer options": "standardize:\n  rules:\n    PHONE001:\n      format: INTERNATIONAL\n",
    "dedupe override": "dedupe:\n  comparisons:\n    email: {enabled: false}\n  thresholds: {match: 0.95, review: 0.6}\n",
    "format regex": "validate:\n  formats:\n    email: {regex: '[^@]+@[^@]+'}\n",
}

# Retired codes (aliases of the surviving rule) keep working where they used to be configured.
ALIASES: dict[str, str] = {
    "retired check code under validate.rules": "validate:\n  rules:\n    PHONEV001: {severity: error}\n",
    "retired check code under validate.ignore": "validate:\n  ignore: [TAXID001, EMAILV001]\n",
    "retired check code under standardize.ignore": "standardize:\n  ignore: [TAXID001]\n",
    "retired check code under validate.select": "validate:\n  select: [PHONEV001, TAXID001, ORPHAN001]\n",
}

BAD: dict[str, tuple[str, str, int | None]] = {
    "check under standardize.rules": (
        "version: 1\nstandardize:\n  rules:\n    UNIQUE001: {}\n",
        "UNIQUE001 is a check, not a standardization rule; configure it under `validate.rules`", 4),
    "check under standardize.select": (
        "standardize:\n  select: [PHONE001, ORPHAN001]\n", "configure it under `validate.select`", 2),
    "check under standardize.order": (
        "standardize:\n  order: [ORPHAN001]\n", "configure it under `validate.select`", 2),
    "standardizer under validate.rules": (
        "validate:\n  rules:\n    TEXT001: {}\n", "TEXT001 is a standardization rule, not a check", 3),
    "standardizer under validate.ignore": (
        "validate:\n  ignore: [TEXT001]\n", "configure it under `standardize.ignore`", 2),
    "unknown code under validate.ignore": (
        "validate:\n  ignore: [PHONEX999]\n", "unknown rule `PHONEX999`", 2),
    "misspelt check under validate.rules": (
        "version: 1\nvalidate:\n  rules:\n    ORPHN001: {}\n", "did you mean `ORPHAN001`?", 4),
    "misspelt standardizer under standardize.rules": (
        "standardize:\n  rules:\n    PHONE01: {enabled: false}\n", "did you mean `PHONE001`?", 3),
    "typo in a top-level key": ("version: 1\ncolums:\n  Phone: phone\n", "did you mean `columns`?", 2),
    "typo in a section key": ("validate:\n  ignroe: [STALE001]\n", "did you mean `ignore`?", 2),
    "typo in a rule option": (
        "standardize:\n  rules:\n    PHONE001:\n      fromat: E164\n", "did you mean `format`?", 4),
    "bad option value": (
        "validate:\n  rules:\n    ORPHAN001: {severity: fatal}\n", "validate.rules.ORPHAN001.severity", 3),
    "bad standardizer option value": (
        "standardize:\n  rules:\n    PHONE001:\n      format: FANCY\n", "standardize.rules.PHONE001.format", 4),
    "misspelt code in report.clean_ignore_rules": (
        "report:\n  clean_ignore_rules: [TITLE01]\n", "did you mean `TITLE001`?", 2),
    "check in report.clean_ignore_rules": (
        "report:\n  clean_ignore_rules: [TITLE001, ORPHAN001]\n", "ORPHAN001 is a check", 2),
    "unknown role": ("columns:\n  Phone: phnoe\n", "did you mean `phone`?", 2),
    "invalid format regex": (
        "validate:\n  formats:\n    email: {regex: '[a-z'}\n", "`validate.formats.email.regex` is not a valid regex", 3),
    "dedupe thresholds out of order": (
        "dedupe:\n  thresholds: {match: 0.5, review: 0.8}\n", "review must not exceed match", 2),
    "half a custom comparison": (
        "dedupe:\n  comparisons:\n    bday: {column: Birthday}\n", "needs both `column` and `type`", 3),
    "yaml syntax error": ("validate:\n  ignore: [STALE001\n", "YAML syntax error", None),
    "tab indentation": ("columns:\n\tPhone: phone\n", "tabs", 2),
    "not a mapping": ("- PHONE001\n", "must be a mapping", 1),
    "duplicate key": ("columns:\n  Phone: phone\n  Phone: mobile\n", "duplicate key", 3),
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agreement") / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _exit_codes(rules: Path, source: Path, out: Path) -> dict[str, tuple[int, str]]:
    runs = {
        "rules check": ["rules", "check", str(rules)],
        "rules check --source": ["rules", "check", str(rules), "--source", str(source)],
        "standardize": ["standardize", str(source), "-r", str(rules), "--dry-run"],
        "validate": ["validate", str(source), "-r", str(rules), "--fail-on", "never"],
        "audit": ["audit", str(source), "-r", str(rules), "--out", str(out / "report"), "--fail-on", "never"],
    }
    codes = {}
    for name, args in runs.items():
        result = runner.invoke(app, args)
        code, output, error = result.exit_code, result.output, result.exception
        if isinstance(error, CrmcleanError):  # what crmclean.cli.main prints and exits with
            code, output = int(error.exit_code), f"error: {error}"
        elif (error is not None and not isinstance(error, SystemExit)) or code not in (0, 1, 2, 3):
            raise AssertionError(f"{name} crashed ({code}): {output}") from error
        codes[name] = (code, output)
    return codes


def _assert_agree(codes: dict[str, tuple[int, str]], expected: int) -> None:
    summary = {name: code for name, (code, _) in codes.items()}
    assert set(summary.values()) == {expected}, (
        f"exit codes disagree (expected {expected} everywhere): {summary}\n"
        + "\n".join(f"--- {name}:\n{out[-600:]}" for name, (code, out) in codes.items() if code != expected)
    )


@pytest.mark.parametrize("name", list(GOOD))
def test_good_rules_files_pass_everywhere(name: str, source: Path, tmp_path: Path) -> None:
    _assert_agree(_exit_codes(_write(tmp_path, GOOD[name]), source, tmp_path), 0)


@pytest.mark.parametrize("name", list(ALIASES))
def test_retired_codes_pass_everywhere(name: str, source: Path, tmp_path: Path) -> None:
    _assert_agree(_exit_codes(_write(tmp_path, ALIASES[name]), source, tmp_path), 0)


@pytest.mark.parametrize("name", list(BAD))
def test_bad_rules_files_fail_everywhere_at_the_same_place(name: str, source: Path, tmp_path: Path) -> None:
    text, message, line = BAD[name]
    rules = _write(tmp_path, text)
    codes = _exit_codes(rules, source, tmp_path)
    _assert_agree(codes, 2)
    for cmd, (_, output) in codes.items():
        flat = " ".join(output.split())
        assert message in flat, f"{cmd}: {output}"
        if line is not None:
            assert f"rules.yaml:{line}:" in flat, f"{cmd}: {output}"


# Mistakes only the source reveals: `rules check` finds them with --source, like every command.
# name -> (rules file text, text the error must contain, exit code)
SOURCE_BAD: dict[str, tuple[str, str, int]] = {
    "unknown column under columns": ("columns:\n  Телфон: phone\n", "unknown column 'Телфон'", 2),
    "unknown column of a rule": (
        "standardize:\n  rules:\n    PHONE001:\n      columns: [Phnoe]\n", "unknown column 'Phnoe'", 2),
    # the reader needs the id column to read the source at all: a source error (3), the same everywhere
    "unknown id column": ("source:\n  id_column: ID_\n", "id column 'ID_' not found", 3),
    "picklist on neither column nor role": (
        "validate:\n  picklists:\n    Stage: [New, Won]\n", "`validate.picklists.Stage`: not a column", 2),
    "format on neither column nor role": (
        "validate:\n  formats:\n    Zip: {regex: '\\d{6}'}\n", "`validate.formats.Zip`: not a column", 2),
    "required field neither column nor role": (
        "validate:\n  required:\n    contacts: [email, Телефон2]\n", "required field 'Телефон2'", 2),
}
SOURCE_GOOD: dict[str, str] = {
    "picklist on a role the source lacks": "validate:\n  picklists:\n    lead_source: [Web, Referral]\n",
    "required role the source lacks": "validate:\n  required:\n    contacts: [email, job_title]\n",
    "required field for another object type": "validate:\n  required:\n    companies: [Телефон2]\n",
}


@pytest.mark.parametrize("name", list(SOURCE_BAD))
def test_mistakes_the_source_reveals_fail_everywhere_with_the_source(name: str, source: Path, tmp_path: Path) -> None:
    text, message, expected = SOURCE_BAD[name]
    codes = _exit_codes(_write(tmp_path, text), source, tmp_path)
    assert codes.pop("rules check")[0] == 0  # without the source nothing says which columns exist
    _assert_agree(codes, expected)
    for cmd, (_, output) in codes.items():
        assert message in " ".join(output.split()), f"{cmd}: {output}"


@pytest.mark.parametrize("name", list(SOURCE_GOOD))
def test_roles_the_source_lacks_are_not_mistakes(name: str, source: Path, tmp_path: Path) -> None:
    _assert_agree(_exit_codes(_write(tmp_path, SOURCE_GOOD[name]), source, tmp_path), 0)


# The other commands that read a rules file load it through the same checker.
OTHER_COMMANDS: dict[str, list[str]] = {
    "score": ["score", "{source}", "-r", "{rules}"],
    "dedupe": ["dedupe", "{source}", "-r", "{rules}"],
    "plan": ["plan", "{source}", "-r", "{rules}", "-o", "{out}/plan.json"],
}
SAMPLE = {
    "good": (GOOD["select and ignore"], 0),
    "retired code": (ALIASES["retired check code under validate.rules"], 0),
    "check under standardize.rules": (BAD["check under standardize.rules"][0], 2),
    "dedupe thresholds out of order": (BAD["dedupe thresholds out of order"][0], 2),
    "picklist on neither column nor role": (SOURCE_BAD["picklist on neither column nor role"][0], 2),
}


@pytest.mark.parametrize("name", list(SAMPLE))
def test_score_dedupe_and_plan_agree_too(name: str, source: Path, tmp_path: Path) -> None:
    text, expected = SAMPLE[name]
    rules = _write(tmp_path, text)
    for command, template in OTHER_COMMANDS.items():
        args = [a.format(source=source, rules=rules, out=tmp_path) for a in template]
        result = runner.invoke(app, args)
        error = result.exception
        code = int(error.exit_code) if isinstance(error, CrmcleanError) else result.exit_code
        assert code == expected, f"{command}: {result.output} {error!r}"
