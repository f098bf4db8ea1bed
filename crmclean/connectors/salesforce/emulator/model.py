"""The emulated org's data model: record ids, field types and values, API errors, sObjects."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("429", "503", "request_limit", "timeout", "expire_session", "partial_failure", "job_failed", "landed_504")

DEFAULT_API_VERSION = "59.0"
QUERY_BATCH_DEFAULT = 2000  # REST query page size unless Sforce-Query-Options asks for less
QUERY_BATCH_MIN = 200
COLLECTION_WRITE_MAX = 200  # sObject Collections create/update/delete
COLLECTION_RETRIEVE_MAX = 2000
BULK_RESULTS_DEFAULT = 50_000
MERGE_MAX_LOSERS = 2

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER_NS = "urn:partner.soap.sforce.com"
SOBJECT_NS = "urn:sobject.partner.soap.sforce.com"

_KEY_PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Case": "500",
    "Campaign": "701",
}
_MERGEABLE = {"Account", "Contact", "Lead", "Case", "Individual"}
_REQUIRED_BY_DEFAULT = {"Contact": {"LastName"}, "Lead": {"LastName", "Company"}, "Account": {"Name"}}
_SYSTEM_FIELDS = ("IsDeleted", "MasterRecordId", "CreatedDate", "CreatedById", "LastModifiedDate",
                  "LastModifiedById", "SystemModstamp")
_PICKLIST_NAMES = {"LeadSource", "Salutation", "Status", "Industry", "Rating", "Type", "StageName",
                   "Priority", "Origin", "Reason", "GenderIdentity", "Ownership"}
_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")
_ADDRESS_PREFIXES = ("Mailing", "Other", "Billing", "Shipping")
_NUMERIC_TYPES = {"int", "double", "currency", "percent"}

_ID_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ---------------------------------------------------------------------------------------------
# Ids and timestamps
# ---------------------------------------------------------------------------------------------


def to_18(id15: str) -> str:
    """The 18-character, case-insensitive-safe form of a 15-character Salesforce id."""
    suffix = ""
    for chunk_start in (0, 5, 10):
        chunk = id15[chunk_start : chunk_start + 5]
        flags = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[flags]
    return id15 + suffix


def _base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n, 62)
        out = _ID_CHARS[rem] + out
    return out.rjust(width, "0")


def _make_id(prefix: str, n: int) -> str:
    return to_18(prefix + "5g" + _base62(n, 10))


def normalize_id(value: str) -> str:
    """Salesforce accepts 15- and 18-character ids; everything is stored under the 18-char one."""
    value = value.strip()
    if len(value) == 15 and value.isalnum():
        return to_18(value)
    if len(value) == 18 and value.isalnum() and to_18(value[:15]).lower() == value.lower():
        return value[:15] + to_18(value[:15])[15:]
    return value


def _fmt_rest_datetime(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _parse_datetime(text: str) -> dt.datetime:
    """Parse the datetime spellings Salesforce accepts (Z, +0000, +00:00, no zone = UTC, date only)."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    fixed = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
    moment = dt.datetime.fromisoformat(fixed)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


# ---------------------------------------------------------------------------------------------
# Fields, values and errors
# ---------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error the emulator answers with a REST error body ``[{"message", "errorCode"}]``."""

    def __init__(self, status: int, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            item["fields"] = self.fields
        return [item]


class RecordError(Exception):
    """A per-record failure (collections, bulk, merge): ``statusCode`` + message + fields."""

    def __init__(self, code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields)

    extra: dict[str, Any] | None = None  # more members of the error, e.g. a DuplicateError's duplicateResult

    def as_json(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields, **(self.extra or {})}


@dataclass(frozen=True)
class DuplicateRule:
    """An active duplicate rule of the emulated org with its matching rule: a record is a duplicate of another live
    record when, for one group of ``any_of`` (or for ``fields`` when ``any_of`` is empty), every field of the group
    has a value and equals the other record's (case- and space-insensitively).

    ``action`` is the rule's action on create and on edit: ``"alert"`` (Allow, with alert: the API save fails with
    DUPLICATES_DETECTED unless the request's ``Sforce-Duplicate-Rule-Header`` says ``allowSave=true``) or
    ``"block"`` (never saved, whatever the header). On an edit the rule runs only when the edit changes a field the
    matching rule compares. Duplicate Rule Header (REST API Developer Guide):
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_duplicaterules.htm ;
    DuplicateError / DuplicateResult (SOAP API Developer Guide):
    https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_duplicateresult.htm
    """

    obj: str
    name: str = "Standard_Rule_for_Contacts_with_Duplicate_Email"
    fields: tuple[str, ...] = ("Email",)
    action: str = "alert"
    matching_rule: str = "Contact_Email_Exact_Match"
    any_of: tuple[tuple[str, ...], ...] = ()

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        return self.any_of or (self.fields,)

    def compares(self, names: Iterable[str]) -> bool:
        """Whether an edit of these fields runs the rule (it compares at least one of them)."""
        wanted = {f.lower() for group in self.groups for f in group}
        return any(n.lower() in wanted for n in names)

    def matches(self, sobj: SObject, row: Mapping[str, str | None], record_id: str | None) -> list[str]:
        """Ids of other live records the row duplicates under this rule."""
        keys = [(group, [_match_text(row.get(f)) for f in group]) for group in self.groups]
        keys = [(group, key) for group, key in keys if all(key)]
        if not keys:
            return []
        return [rid for rid in sobj.order if rid != record_id and sobj.live(sobj.rows[rid])
                and any([_match_text(sobj.rows[rid].get(f)) for f in group] == key for group, key in keys)]

    def error(self, obj: str, version: str, ids: Sequence[str]) -> RecordError:
        """The DUPLICATES_DETECTED error a save blocked by this rule answers with (a DuplicateError)."""
        err = RecordError("DUPLICATES_DETECTED", "Use one of these records?", [])
        err.extra = {"duplicateResult": {
            "allowSave": self.action == "alert",
            "duplicateRule": self.name,
            "duplicateRuleEntityType": obj,
            "errorMessage": "You're creating a duplicate record. We recommend you use an existing record instead.",
            "matchResults": [{
                "entityType": obj, "errors": [], "matchEngine": "ExactMatchEngine", "rule": self.matching_rule,
                "size": len(ids), "success": True,
                "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                                  "record": {"attributes": {"type": obj,
                                                            "url": f"/services/data/v{version}/sobjects/{obj}/{i}"},
                                             "Id": i}} for i in ids],
            }],
        }}
        return err


def _match_text(value: str | None) -> str:
    return " ".join(str(value or "").split()).lower()


# The standard duplicate rules a new org ships active (Salesforce Help, "Standard Duplicate Rules":
# https://help.salesforce.com/s/articleView?id=sales.duplicate_rules_standard_rules.htm&type=5): Action On Create and
# On Edit "Allow" with an alert, so an API save without ``allowSave=true`` is refused with DUPLICATES_DETECTED.
# Their matching rules ("Standard Matching Rules":
# https://help.salesforce.com/s/articleView?id=sales.matching_rules_standard_rules.htm&type=5) are fuzzy (Jaro-Winkler,
# Metaphone 3, name variants, thresholds); the emulator approximates each equation with exact comparisons of the
# same fields: Contact/Lead "(First Name AND Last Name AND Email) OR (First Name AND Last Name AND Phone) OR
# (First Name AND Last Name AND Title AND Account Name / Company)"; Account "Account Name AND (Phone OR Website OR
# Billing Street OR Billing ZIP)". Cross-object matching (contacts duplicating leads) is not emulated.
STANDARD_DUPLICATE_RULES = (
    DuplicateRule("Account", name="Standard_Account_Duplicate_Rule", matching_rule="Standard_Account_Match_Rule_v1_0",
                  any_of=(("Name", "Phone"), ("Name", "Website"), ("Name", "BillingStreet"),
                          ("Name", "BillingPostalCode"))),
    DuplicateRule("Contact", name="Standard_Contact_Duplicate_Rule", matching_rule="Standard_Contact_Match_Rule_v1_1",
                  any_of=(("FirstName", "LastName", "Email"), ("FirstName", "LastName", "Phone"),
                          ("FirstName", "LastName", "Title", "AccountId"))),
    DuplicateRule("Lead", name="Standard_Lead_Duplicate_Rule", matching_rule="Standard_Lead_Match_Rule_v1_0",
                  any_of=(("FirstName", "LastName", "Email"), ("FirstName", "LastName", "Phone"),
                          ("FirstName", "LastName", "Title", "Company"))),
)


@dataclass
class SField:
    """One field of an emulated sObject (the subset of describe that crmclean reads)."""

    name: str
    type: str = "string"
    label: str = ""
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    picklist: list[str] = field(default_factory=list)
    restricted: bool = False
    length: int = 255
    custom: bool = False
    compound_of: tuple[str, ...] = ()  # component fields of a compound (address) field

    def describe(self, compound_name: str | None = None) -> dict[str, Any]:
        soap_types = {"boolean": "xsd:boolean", "int": "xsd:int", "double": "xsd:double",
                      "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
                      "datetime": "xsd:dateTime", "id": "tns:ID", "reference": "tns:ID",
                      "address": "urn:address"}
        return {
            "name": self.name,
            "label": self.label or _label_of(self.name),
            "type": self.type,
            "soapType": soap_types.get(self.type, "xsd:string"),
            "length": self.length if self.type not in _NUMERIC_TYPES | {"boolean", "date", "datetime"} else 0,
            "updateable": self.updateable,
            "createable": self.createable,
            "nillable": self.nillable,
            "custom": self.custom,
            "calculated": False,
            "unique": False,
            "externalId": False,
            "idLookup": self.name == "Id",
            "compoundFieldName": compound_name,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in self.picklist
            ],
            "referenceTo": [],
        }


def _label_of(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    base = base.replace("_", " ")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).strip()


def _looks_int(text: str) -> bool:
    return bool(re.fullmatch(r"-?(?:0|[1-9]\d{0,17})", text))


def _looks_float(text: str) -> bool:
    return bool(re.fullmatch(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?", text))


def _infer_type(name: str, values: Sequence[str]) -> str:
    """Guess a Salesforce field type from a column name and its non-empty values (conservative)."""
    lname = name.lower()
    if name == "Id":
        return "id"
    if values and all(_ID_RE.match(v) for v in values) and name.endswith("Id"):
        return "reference"
    if values and all(v.lower() in {"true", "false"} for v in values):
        return "boolean"
    if "email" in lname:
        return "email"
    if "phone" in lname or lname in {"fax", "mobile"}:
        return "phone"
    if lname in {"website"} or lname.endswith("url"):
        return "url"
    if "description" in lname or "comments" in lname:
        return "textarea"
    if not values:
        return "string"
    textual = any(part in lname for part in ("postal", "zip", "code", "inn", "kpp", "ogrn", "number"))
    if not textual and all(_looks_int(v) for v in values):
        return "int"
    if not textual and all(_looks_float(v) for v in values):
        return "double"
    if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values):
        return "date"
    if all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.*", v) for v in values):
        return "datetime"
    if name in _PICKLIST_NAMES and len(set(values)) <= 50:
        return "picklist"
    return "string"


def canonical_value(f: SField, value: object) -> str | None:
    """Turn an incoming value (JSON, CSV or XML text) into the stored text, or raise RecordError."""
    if value is None:
        return None
    if isinstance(value, str) and value == "":
        return None
    label = f.label or _label_of(f.name)
    bad_type = RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{label}: value not of required type: {value}",
                           [f.name])
    t = f.type
    if t == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in {"true", "false"}:
            return text
        if text in {"1", "0"}:
            return "true" if text == "1" else "false"
        raise bad_type
    if t == "int":
        try:
            number = float(value) if not isinstance(value, bool) else None  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = None
        if number is None or not number.is_integer():
            raise bad_type
        return str(int(number))
    if t in {"double", "currency", "percent"}:
        try:
            if isinstance(value, bool):
                raise ValueError
            return repr(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_type from None
    if t == "date":
        try:
            return _parse_datetime(str(value)).date().isoformat()
        except ValueError:
            raise bad_type from None
    if t == "datetime":
        try:
            return _fmt_rest_datetime(_parse_datetime(str(value)))
        except ValueError:
            raise bad_type from None
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    if t == "email" and not _EMAIL_RE.match(text):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {text}", [f.name])
    if t == "picklist" and f.restricted and text not in f.picklist:
        raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"{label}: bad value for restricted picklist field: {text}", [f.name])
    if t in {"string", "email", "phone", "url", "picklist", "textarea"} and len(text) > f.length:
        raise RecordError("STRING_TOO_LONG", f"{label}: data value too large: {text[:40]} (max length={f.length})",
                          [f.name])
    return text


def _lenient_value(f: SField, value: object) -> str | None:
    """Loaded data may be dirty (that is the point of crmclean): keep what does not validate as text."""
    try:
        return canonical_value(f, value)
    except RecordError:
        return None if value is None else str(value)


def _json_value(f: SField, raw: str | None, row: Mapping[str, str | None]) -> Any:
    if f.type == "address":
        prefix = f.name[: -len("Address")]
        parts = {p: row.get(prefix + p) for p in _ADDRESS_PARTS}
        if all(v is None for v in parts.values()):
            return None
        return {"city": parts["City"], "country": parts["Country"], "geocodeAccuracy": None, "latitude": None,
                "longitude": None, "postalCode": parts["PostalCode"], "state": parts["State"],
                "street": parts["Street"]}
    if raw is None:
        return None
    if f.type == "boolean":
        return raw == "true"
    if f.type == "int" and _looks_int(raw):
        return int(raw)
    if f.type in {"double", "currency", "percent"} and _looks_float(raw):
        return float(raw)
    return raw


def _csv_value(f: SField, raw: str | None) -> str:
    if raw is None:
        return ""
    if f.type == "datetime" and raw.endswith("+0000"):
        return raw[:-5] + "Z"  # Bulk API CSV spells UTC as Z, REST JSON as +0000
    return raw


# ---------------------------------------------------------------------------------------------
# sObjects
# ---------------------------------------------------------------------------------------------


Row = dict[str, str | None]


@dataclass
class SObject:
    """The records and fields of one emulated sObject type."""

    name: str
    key_prefix: str
    fields: dict[str, SField]
    rows: dict[str, Row] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    counter: int = 0
    lower: dict[str, str] = field(default_factory=dict)  # lower-case field name -> API name

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.lower = {n.lower(): n for n in self.fields}

    def field(self, name: str) -> SField:
        api = self.lower.get(name.lower())
        if api is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.name}'. If you are "
                           "attempting to use a custom field, be sure to append the '__c' after the custom field "
                           "name.")
        return self.fields[api]

    def next_id(self) -> str:
        self.counter += 1
        return _make_id(self.key_prefix, self.counter)

    def live(self, row: Row) -> bool:
        return row.get("IsDeleted") != "true"

    def lookup(self, record_id: str) -> Row | None:
        return self.rows.get(normalize_id(record_id))


def _build_fields(name: str, rows: Sequence[Mapping[str, object]], overrides: Mapping[str, Any]) -> dict[str, SField]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns and key.lower() != "id":
                columns.append(key)
    fields: dict[str, SField] = {"Id": SField("Id", "id", "Record ID", updateable=False, createable=False,
                                              nillable=False, length=18)}
    required = _REQUIRED_BY_DEFAULT.get(name, set())
    for col in columns:
        if col in _SYSTEM_FIELDS:
            continue
        values = [str(r[col]) if not isinstance(r[col], bool) else str(r[col]).lower()
                  for r in rows if r.get(col) not in (None, "")]
        ftype = _infer_type(col, values)
        f = SField(col, ftype, custom=col.endswith("__c"), nillable=col not in required,
                   length=max(255, max((len(v) for v in values), default=0)) if ftype != "textarea" else 32000)
        if ftype == "picklist":
            f.picklist = sorted(set(values))
        fields[col] = f
    for prefix in _ADDRESS_PREFIXES:
        parts = tuple(prefix + p for p in _ADDRESS_PARTS if prefix + p in fields)
        if parts:
            fields[prefix + "Address"] = SField(prefix + "Address", "address", updateable=False, createable=False,
                                                compound_of=parts)
    fields["IsDeleted"] = SField("IsDeleted", "boolean", "Deleted", updateable=False, createable=False, nillable=False)
    if name == "Lead":  # set by lead conversion, never by an update
        fields["IsConverted"] = SField("IsConverted", "boolean", "Converted", updateable=False, createable=True,
                                       nillable=False)
    if name in _MERGEABLE:
        fields["MasterRecordId"] = SField("MasterRecordId", "reference", "Master Record ID", updateable=False,
                                          createable=False, length=18)
    for sys_name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        fields[sys_name] = SField(sys_name, "datetime", updateable=False, createable=False, nillable=False)
    for sys_name in ("CreatedById", "LastModifiedById"):
        fields[sys_name] = SField(sys_name, "reference", updateable=False, createable=False, nillable=False, length=18)
    for fname, spec in overrides.items():
        f = fields.get(fname) or SField(fname, custom=fname.endswith("__c"))
        if isinstance(spec, str):
            f.type = spec
        else:
            for key, val in dict(spec).items():
                setattr(f, "picklist" if key == "picklistValues" else key, list(val) if key in {
                    "picklist", "picklistValues"} else val)
        fields[fname] = f
    return fields


