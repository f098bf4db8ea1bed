"""Column roles: recognize what a column holds from its header (English, Russian, Salesforce, HubSpot)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# role -> header spellings (compared after normalize_header)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "record id", "recordid", "record_id", "hs_object_id", "object id", "contact id",
           "lead id", "ид", "идентификатор", "код", "guid", "uuid",
           "external id", "crm id", "№", "номер записи"),
    "full_name": ("full name", "fullname", "name", "contact name", "contact", "person", "фио",
                  "ф.и.о.", "ф и о", "полное имя", "имя фамилия", "фамилия имя отчество", "контакт",
                  "контактное лицо", "клиент", "представитель", "client name", "customer name"),
    "first_name": ("first name", "firstname", "first", "given name", "forename", "имя", "name first"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "фамилия"),
    "middle_name": ("middle name", "middlename", "middle", "patronymic", "отчество", "second name"),
    "salutation": ("salutation", "title prefix", "prefix", "обращение"),
    "email": ("email", "e-mail", "e mail", "email address", "emailaddress", "mail", "эл. почта",
              "электронная почта", "эл почта", "почта", "емейл", "емэйл", "имейл", "work email",
              "рабочий email", "адрес электронной почты"),
    "email2": ("email 2", "secondary email", "personal email", "other email", "доп. email",
               "личный email", "hs_additional_emails", "дополнительный email"),
    "phone": ("phone", "phone number", "telephone", "tel", "work phone", "business phone", "office phone",
              "телефон", "тел", "тел.", "рабочий телефон", "номер телефона", "контактный телефон",
              "городской телефон", "phonenumber"),
    "mobile": ("mobile", "mobile phone", "mobilephone", "cell", "cell phone", "cellphone",
               "mobilephone", "мобильный", "мобильный телефон", "моб. телефон", "моб тел", "сотовый",
               "сотовый телефон", "mobile number"),
    "company": ("company", "company name", "account", "account name", "accountname", "organization",
                "organisation", "org", "employer", "компания", "организация", "название компании",
                "наименование", "наименование организации", "контрагент", "клиент компания",
                "юрлицо", "юр. лицо", "фирма", "предприятие", "associatedcompany"),
    # a lookup to the record's company (Salesforce AccountId): an id, so standardizers leave it alone
    "account_id": ("account id", "accountid", "company id", "companyid", "associatedcompanyid",
                   "id компании", "ид компании", "код контрагента"),
    "job_title": ("job title", "jobtitle", "title", "position", "role", "designation", "должность",
                  "позиция", "роль", "должность контакта"),
    "department": ("department", "отдел", "подразделение", "департамент"),
    "country": ("country", "country code", "mailingcountry", "billingcountry", "страна", "страна код",
                "country/region", "mailing country", "billing country"),
    "city": ("city", "town", "mailingcity", "billingcity", "город", "населенный пункт",
             "населённый пункт", "mailing city", "billing city", "locality"),
    "region": ("state", "region", "province", "mailingstate", "billingstate", "область", "регион",
               "край", "субъект", "state/region"),
    "address": ("address", "street", "street address", "mailingstreet", "billingstreet", "адрес",
                "улица", "юридический адрес", "фактический адрес", "почтовый адрес", "mailing street"),
    "zip": ("zip", "zip code", "postal code", "postcode", "postalcode", "mailingpostalcode",
            "billingpostalcode", "индекс", "почтовый индекс"),
    "website": ("website", "web site", "url", "site", "domain", "company domain", "web", "сайт",
                "веб-сайт", "домен", "company domain name"),
    "inn": ("inn", "инн", "tax id", "taxid", "инн организации", "инн контрагента", "vat", "tin"),
    "kpp": ("kpp", "кпп"),
    "ogrn": ("ogrn", "огрн", "огрнип", "ogrnip", "psrn"),
    "owner": ("owner", "owner name", "ownerid", "owner id", "hubspot_owner_id", "account owner",
              "contact owner", "lead owner", "responsible", "assigned to", "ответственный",
              "менеджер", "ответственный менеджер", "владелец", "куратор", "sales rep"),
    "lead_source": ("lead source", "leadsource", "source", "hs_analytics_source", "источник",
                    "источник лида", "источник обращения", "канал"),
    "status": ("status", "lead status", "hs_lead_status", "lifecycle stage", "lifecyclestage",
               "stage", "статус", "стадия", "этап"),
    "industry": ("industry", "отрасль", "сфера деятельности", "вид деятельности"),
    "employees": ("employees", "numberofemployees", "number of employees", "headcount",
                  "numberofemployees", "company size", "численность", "количество сотрудников",
                  "число сотрудников", "штат"),
    "created_at": ("created", "created at", "created date", "createddate", "createdate", "date created",
                   "creation date", "дата создания", "создан", "создано", "дата регистрации"),
    "updated_at": ("modified", "modified date", "updated", "updated at", "last modified",
                   "lastmodifieddate", "last modified date", "lastmodified", "hs_lastmodifieddate",
                   "systemmodstamp", "дата изменения", "изменено", "изменен", "дата обновления",
                   "последнее изменение"),
    "last_activity": ("last activity", "last activity date", "lastactivitydate", "notes_last_updated",
                      "hs_last_sales_activity_timestamp", "последняя активность",
                      "дата последнего контакта", "последнее взаимодействие", "дата последней активности"),
    "birthdate": ("birthdate", "birthday", "date of birth", "dob", "дата рождения", "день рождения"),
    "notes": ("notes", "note", "description", "comment", "comments", "примечание", "комментарий",
              "описание", "заметки"),
    "tags": ("tags", "tag", "labels", "теги", "метки"),
    "deal_amount": ("amount", "deal amount", "сумма", "сумма сделки"),
    "deal_stage": ("dealstage", "deal stage", "стадия сделки"),
}

ROLES: tuple[str, ...] = tuple(_SYNONYMS)

PERSON_ROLES = frozenset({"first_name", "last_name", "middle_name", "full_name"})
CONTACT_ROLES = frozenset({"email", "email2", "phone", "mobile"})
DATE_ROLES = frozenset({"created_at", "updated_at", "last_activity", "birthdate"})


def normalize_header(header: str) -> str:
    """Lowercase, ё→е, separators unified to one space; 'E-Mail_Address ' -> 'e mail address'."""
    h = header.strip().lower().replace("ё", "е")
    h = re.sub(r"__c$", "", h)  # Salesforce custom field suffix
    h = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", h)
    h = re.sub(r"[\s_\-/.:*#]+", " ", h).strip()
    return h


def _compact(h: str) -> str:
    return h.replace(" ", "")


_LOOKUP: dict[str, str] = {}
for _role, _names in _SYNONYMS.items():
    for _name in _names:
        _LOOKUP.setdefault(normalize_header(_name), _role)
        _LOOKUP.setdefault(_compact(normalize_header(_name)), _role)


def _split_camel(header: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header)


def detect_role(header: str) -> str | None:
    """The role of a column from its header alone, or None."""
    for candidate in (header, _split_camel(header)):
        h = normalize_header(candidate)
        if h in _LOOKUP:
            return _LOOKUP[h]
        if _compact(h) in _LOOKUP:
            return _LOOKUP[_compact(h)]
    h = normalize_header(_split_camel(header))
    # numbered or qualified variants: "Телефон 2", "Phone (work)", "Email рабочий"
    stripped = re.sub(r"\s*(\(.*\)|\d+)$", "", h).strip()
    if stripped != h and stripped in _LOOKUP:
        role = _LOOKUP[stripped]
        return {"email": "email2", "phone": "mobile"}.get(role, role) if re.search(r"\d$", h) else role
    # prefix match on the first word(s) for long Russian headers: "Телефон рабочий"
    words = h.split()
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        if head in _LOOKUP and _LOOKUP[head] not in ("id",):
            return _LOOKUP[head]
    return None


def detect_roles(headers: Sequence[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Column -> role for every column whose role is known (overrides win; `ignore` drops a column).

    When two columns claim one single-valued role (two "Email" columns), the second becomes the
    secondary role where one exists (email2, mobile), so the primary stays the first column.
    """
    overrides = dict(overrides or {})
    roles: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        if header in overrides:
            role = overrides[header]
            if role != "ignore":
                roles[header] = role
                taken.add(role)
    for header in headers:
        if header in overrides:
            continue
        detected = detect_role(header)
        if detected is None:
            continue
        role = detected
        if role in taken:
            role = {"email": "email2", "phone": "mobile"}.get(role, role)
        roles[header] = role
        taken.add(role)
    return roles


def columns_by_role(roles: Mapping[str, str]) -> dict[str, list[str]]:
    """Invert column -> role into role -> columns (in column order)."""
    out: dict[str, list[str]] = {}
    for column, role in roles.items():
        out.setdefault(role, []).append(column)
    return out


def guess_object(roles: Mapping[str, str]) -> str:
    """contacts or companies, from the roles present (people columns mean contacts)."""
    present = set(roles.values())
    if present & PERSON_ROLES:
        return "contacts"
    if "company" in present or "inn" in present:
        return "companies"
    return "contacts"


# Standard fields of CRM objects whose API names the header heuristics get wrong (CreatedById is no date,
# LastViewedDate no last name, Account.Name no person) or cannot know (AccountId). "ignore" = no role.
_SF_SYSTEM = {name: "ignore" for name in (
    "IsDeleted", "MasterRecordId", "CreatedById", "LastModifiedById", "SystemModstamp", "LastViewedDate",
    "LastReferencedDate", "LastCURequestDate", "LastCUUpdateDate", "EmailBouncedReason", "EmailBouncedDate",
    "IsEmailBounced", "PhotoUrl", "Jigsaw", "JigsawContactId", "JigsawCompanyId", "IndividualId", "ReportsToId",
    "RecordTypeId", "ParentId", "Name", "IsConverted", "ConvertedDate", "ConvertedAccountId", "ConvertedContactId",
    "ConvertedOpportunityId", "IsUnreadByOwner", "AccountNumber", "Site", "CleanStatus", "DandbCompanyId")}
_SF_COMMON = {**_SF_SYSTEM, "OwnerId": "owner", "CreatedDate": "created_at", "LastModifiedDate": "updated_at",
              "LastActivityDate": "last_activity", "Description": "notes", "LeadSource": "lead_source"}
_CRM_FIELD_ROLES: dict[tuple[str, str], dict[str, str]] = {
    # Contact.Name and Lead.Name are read-only compounds of FirstName/LastName
    ("salesforce", "contact"): {**_SF_COMMON, "AccountId": "account_id"},
    ("salesforce", "lead"): {**_SF_COMMON, "Company": "company", "Status": "status"},
    ("salesforce", "account"): {**_SF_COMMON, "Name": "company", "AccountSource": "lead_source",
                                "NumberOfEmployees": "employees"},
    ("salesforce", "opportunity"): {**_SF_COMMON, "AccountId": "account_id", "Amount": "deal_amount",
                                    "StageName": "deal_stage"},
    ("hubspot", "contacts"): {"associatedcompanyid": "account_id", "hs_merged_object_ids": "ignore",
                              "hs_all_contact_vids": "ignore", "createdate": "created_at",
                              "lastmodifieddate": "updated_at", "hubspot_owner_id": "owner"},
    ("hubspot", "companies"): {"name": "company", "domain": "website", "description": "notes",
                               "hs_merged_object_ids": "ignore", "createdate": "created_at",
                               "hs_lastmodifieddate": "updated_at", "hubspot_owner_id": "owner"},
    ("hubspot", "deals"): {"amount": "deal_amount", "dealstage": "deal_stage", "hs_merged_object_ids": "ignore",
                           "createdate": "created_at", "hs_lastmodifieddate": "updated_at",
                           "hubspot_owner_id": "owner", "description": "notes"},
}
_CRM_OBJECT_TYPES = {("salesforce", "contact"): "contacts", ("salesforce", "lead"): "leads",
                     ("salesforce", "account"): "companies", ("salesforce", "opportunity"): "deals",
                     ("hubspot", "contacts"): "contacts", ("hubspot", "companies"): "companies",
                     ("hubspot", "deals"): "deals"}
_HUBSPOT_ALIASES = {"contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies",
                    "deal": "deals", "0-3": "deals"}


def _crm_key(spec: str) -> tuple[str, str] | None:
    prefix, sep, obj = spec.partition(":")
    prefix, obj = prefix.strip().lower(), obj.strip().lower()
    if not sep or prefix not in ("salesforce", "hubspot"):
        return None
    return prefix, _HUBSPOT_ALIASES.get(obj, obj) if prefix == "hubspot" else obj


def crm_field_roles(spec: str) -> dict[str, str]:
    """Known roles of a CRM object's standard API fields (``salesforce:Contact`` -> {"AccountId": "account_id", ...}).

    Used below the rules file's ``columns:``; fields not listed fall back to header detection.
    """
    key = _crm_key(spec)
    return dict(_CRM_FIELD_ROLES.get(key, {})) if key else {}


def crm_object_type(spec: str) -> str | None:
    """contacts / leads / companies / deals for a CRM object spec, None for files and unknown objects."""
    key = _crm_key(spec)
    return _CRM_OBJECT_TYPES.get(key) if key else None
