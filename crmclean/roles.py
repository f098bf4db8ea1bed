"""Column roles: recognize what a column holds from its header (English, Russian, Salesforce, HubSpot)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# role -> header spellings (compared after normalize_header)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "record id", "recordid", "record_id", "hs_object_id", "object id", "contact id",
           "lead id", "ид", "идентификатор", "код", "guid", "uuid",
           "external id", "crm id", "№", "номер записи", "deal id", "opportunity id", "company id record",
           "task id", "activity id", "id контакта", "id лида", "id сделки",
           # record-linkage sets (FEBRL rec_id, splink unique_id)
           "rec id", "recid", "unique id", "uniqueid", "person id", "personid"),
    "full_name": ("full name", "fullname", "name", "contact name", "contact", "person", "фио",
                  "ф.и.о.", "ф и о", "полное имя", "имя фамилия", "фамилия имя отчество", "контакт",
                  "полное имя контакта", "имя контакта", "lead name", "название лида",
                  "контактное лицо", "клиент", "представитель", "client name", "customer name",
                  "first and surname", "first and last name", "given and surname", "given name and surname",
                  "name and surname", "first name and surname", "first name and last name"),
    "first_name": ("first name", "firstname", "first", "given name", "forename", "имя", "name first", "fname"),
    "last_name": ("last name", "lastname", "last", "surname", "family name", "фамилия", "lname"),
    "middle_name": ("middle name", "middlename", "middle", "patronymic", "отчество", "second name"),
    "salutation": ("salutation", "title prefix", "prefix", "обращение"),
    "email": ("email", "e-mail", "e mail", "email address", "emailaddress", "mail", "эл. почта",
              "электронная почта", "эл почта", "почта", "емейл", "емэйл", "имейл", "work email",
              "рабочий email", "адрес электронной почты", "рабочий e-mail", "email address 1",
              "e-mail address"),
    # additional e-mails: checked like the main one, never its replacement
    "email2": ("email 2", "secondary email", "personal email", "other email", "доп. email",
               "личный email", "hs_additional_emails", "дополнительный email", "частный e-mail", "частный email",
               "другой e-mail", "другой email", "e-mail для рассылок", "email для рассылок", "личный e-mail",
               "home email", "alternate email", "additional email", "email address 2", "e-mail 2"),
    "phone": ("phone", "phone number", "telephone", "tel", "work phone", "business phone", "office phone",
              "телефон", "тел", "тел.", "рабочий телефон", "номер телефона", "контактный телефон",
              "городской телефон", "phonenumber", "рабочий прямой телефон", "прямой телефон",
              "business phone number", "company phone"),
    "mobile": ("mobile", "mobile phone", "mobilephone", "cell", "cell phone", "cellphone",
               "mobilephone", "мобильный", "мобильный телефон", "моб. телефон", "моб тел", "сотовый",
               "сотовый телефон", "mobile number", "mobile phone number"),
    # further phones of one record (home, other, assistant): checked like phones, not the record's main number
    "phone2": ("home phone", "homephone", "other phone", "otherphone", "домашний телефон", "другой телефон",
               "телефон для рассылок", "asst phone", "assistant phone", "assistantphone", "phone 2",
               "дополнительный телефон", "доп. телефон", "номер пейджера", "pager"),
    "fax": ("fax", "fax number", "факс", "номер факса", "business fax", "home fax"),
    # messengers and social profiles: handles, not names or phones to clean
    "messenger": ("telegram", "skype", "whatsapp", "viber", "icq", "jabber", "msn", "google talk",
                  "контакт telegram", "контакт skype", "контакт whatsapp", "контакт viber", "контакт вконтакте",
                  "контакт facebook", "контакт битрикс24 network", "контакт открытая линия", "другой контакт",
                  "мессенджер", "мессенджеры", "другой im", "im", "skype id", "twitter", "facebook",
                  "вконтакте", "vk", "instagram", "комментарии instagram", "msn live", "онлайн-чат", "linkedin",
                  "twitter username", "linkedin url", "facebook url"),
    "company": ("company", "company name", "account", "account name", "accountname", "organization",
                "organisation", "org", "employer", "компания", "организация", "название компании",
                "наименование", "наименование организации", "контрагент", "клиент компания",
                "юрлицо", "фирма", "предприятие", "associatedcompany", "associated company",
                "название компании контакта", "компания контакта", "краткое наименование"),
    # the registered legal name ("Общество с ограниченной ответственностью «Ромашка»"), beside the short one
    "legal_name": ("полное наименование", "полное наименование организации", "юридическое наименование",
                   "legal name", "registered name", "full legal name", "наименование полное"),
    # ЮЛ / ИП / ФЛ (1C «Юр./физ. лицо», «Вид контрагента»)
    "counterparty_type": ("юр физ лицо", "юр./физ. лицо", "юридическое физическое лицо", "вид контрагента",
                          "тип контрагента", "юр. лицо", "юр лицо", "legal form", "entity type", "тип лица",
                          "вид лица", "организационно-правовая форма", "опф"),
    # what kind of customer (client, supplier, partner): Bitrix24 «Тип контакта», HubSpot company "Type"
    "record_type": ("тип контакта", "тип компании", "contact type", "company type", "account type", "тип",
                    "type", "тип клиента", "customer type", "вид клиента"),
    # a lookup to the record's company (Salesforce AccountId): an id, so standardizers leave it alone
    "account_id": ("account id", "accountid", "company id", "companyid", "associatedcompanyid",
                   "id компании", "ид компании", "код контрагента", "associated company ids",
                   "associated company id", "account name id", "account name.id", "компания id"),
    # a lookup id to another record (Zoho "Created By.id", Salesforce "ReportsToId"): never text to clean
    "lookup": ("created by id", "modified by id", "reports to id", "vendor name id", "parent account id",
               "createdbyid", "lastmodifiedbyid", "reportstoid", "masterrecordid", "recordtypeid"),
    "job_title": ("job title", "jobtitle", "title", "position", "role", "designation", "должность",
                  "позиция", "роль", "должность контакта"),
    "department": ("department", "отдел", "подразделение", "департамент"),
    "country": ("country", "country code", "mailingcountry", "billingcountry", "страна", "страна код",
                "country/region", "mailing country", "billing country"),
    "city": ("city", "town", "mailingcity", "billingcity", "город", "населенный пункт",
             "населённый пункт", "mailing city", "billing city", "locality", "suburb"),
    "region": ("state", "region", "province", "mailingstate", "billingstate", "область", "регион",
               "край", "субъект", "state/region", "mailing state/province", "billing state/province",
               "state/province", "mailing state", "billing state"),
    "address": ("address", "street", "street address", "mailingstreet", "billingstreet", "адрес",
                "улица", "юридический адрес", "фактический адрес", "почтовый адрес", "mailing street",
                "address 1", "address1", "address line 1", "addressline1", "street 1", "адрес 1"),
    "address2": ("address 2", "address2", "address line 2", "addressline2", "street 2", "адрес 2"),
    "street_number": ("street number", "house number", "номер дома", "building number"),
    "zip": ("zip", "zip code", "postal code", "postcode", "postalcode", "mailingpostalcode",
            "billingpostalcode", "индекс", "почтовый индекс", "mailing zip/postal code",
            "billing zip/postal code", "zip/postal code", "mailing zip", "billing zip", "mailing code"),
    "website": ("website", "web site", "url", "site", "domain", "company domain", "web", "сайт",
                "веб-сайт", "домен", "company domain name", "корпоративный сайт", "личная страница",
                "другой сайт", "website url", "веб сайт", "адрес сайта", "страница facebook",
                "страница вконтакте", "страница livejournal", "микроблог twitter"),
    "inn": ("inn", "инн", "tax id", "taxid", "инн организации", "инн контрагента", "vat", "tin",
            # foreign tax ids (fields.taxid.registration_id tells them from INNs); not "company number" /
            # "registration number" / "siren": numbers python-stdnum does not validate (Companies House) or that
            # need a country to be told from an INN would all be reported as invalid INNs
            "vat id", "vat number", "vat no", "vat reg no", "vat registration number", "vat registration",
            "tax id number", "tax number", "federal tax id", "ein", "fein", "ust idnr", "ust id nr", "ust id"),
    "kpp": ("kpp", "кпп"),
    "okpo": ("okpo", "окпо", "код по окпо", "код окпо"),
    "ogrn": ("ogrn", "огрн", "огрнип", "ogrnip", "psrn"),
    "owner": ("owner", "owner name", "ownerid", "owner id", "hubspot_owner_id", "account owner",
              "contact owner", "lead owner", "responsible", "assigned to", "ответственный",
              "менеджер", "ответственный менеджер", "владелец", "куратор", "sales rep", "основной менеджер",
              "company owner", "deal owner", "контактное лицо менеджер"),
    "lead_source": ("lead source", "leadsource", "source", "hs_analytics_source", "источник",
                    "источник лида", "источник обращения", "канал"),
    "status": ("status", "lead status", "hs_lead_status", "lifecycle stage", "lifecyclestage",
               "stage", "статус", "стадия", "этап"),
    "industry": ("industry", "отрасль", "сфера деятельности", "вид деятельности"),
    "employees": ("employees", "numberofemployees", "number of employees", "headcount",
                  "numberofemployees", "company size", "численность", "количество сотрудников",
                  "число сотрудников", "штат"),
    "created_at": ("created", "created at", "created date", "createddate", "createdate", "date created",
                   "creation date", "дата создания", "создан", "создано", "дата регистрации", "create date",
                   "created time"),
    "updated_at": ("modified", "modified date", "updated", "updated at", "last modified",
                   "lastmodifieddate", "last modified date", "lastmodified", "hs_lastmodifieddate",
                   "systemmodstamp", "дата изменения", "изменено", "изменен", "дата обновления",
                   "последнее изменение", "дата редактирования", "modified time", "last modified time",
                   "last modified date"),
    "last_activity": ("last activity", "last activity date", "lastactivitydate", "notes_last_updated",
                      "hs_last_sales_activity_timestamp", "последняя активность",
                      "дата последнего контакта", "последнее взаимодействие", "дата последней активности"),
    "birthdate": ("birthdate", "birthday", "date of birth", "dob", "дата рождения", "день рождения",
                  "birth date"),
    # a birth date kept in parts (R RecordLinkage's RLdata: by, bm, bd): compared as one date when all are there
    "birth_year": ("birth year", "year of birth", "yob", "birthyear", "год рождения"),
    "birth_month": ("birth month", "month of birth", "birthmonth", "месяц рождения"),
    "birth_day": ("birth day", "day of birth", "день месяца рождения"),
    # a person's national identifier (FEBRL soc_sec_id, SSN, СНИЛС): a strong identity key, never cleaned
    "national_id": ("soc sec id", "socsecid", "ssn", "social security number", "social security id",
                    "national id", "national insurance number", "nino", "снилс", "номер снилс"),
    "notes": ("notes", "note", "description", "comment", "comments", "примечание", "комментарий",
              "описание", "заметки"),
    "tags": ("tags", "tag", "labels", "теги", "метки"),
    "deal_amount": ("amount", "deal amount", "сумма", "сумма сделки", "бюджет", "budget"),
    "deal_stage": ("dealstage", "deal stage", "стадия сделки", "stagename", "stage name", "этап сделки"),
    # consent and opt-outs: a steward's "do not contact" must survive every clean, merge and write
    "email_opt_out": ("hasoptedoutofemail", "email opt out", "emailoptout", "hs_email_optout",
                      "unsubscribed", "unsubscribed from all email", "отказ от рассылки", "отписался",
                      "отписан от рассылки", "не отправлять email", "opted out of email",
                      "unsubscribed mode"),
    "call_opt_out": ("donotcall", "do not call", "не звонить", "запрет звонков", "отказ от звонков"),
    "fax_opt_out": ("hasoptedoutoffax", "fax opt out", "не отправлять факс"),
    "consent": ("согласие на обработку пд", "согласие на обработку персональных данных",
                "согласие на обработку", "согласие пд", "consent", "gdpr consent", "marketing consent",
                "legal basis for processing contact's data", "legal basis for processing contacts data",
                "hs_legal_basis", "согласие на рассылку"),
}

ROLES: tuple[str, ...] = tuple(_SYNONYMS)

PERSON_ROLES = frozenset({"first_name", "last_name", "middle_name", "full_name"})
CONTACT_ROLES = frozenset({"email", "email2", "phone", "mobile", "phone2"})
# a person's or company's consent and "do not contact" flags (HasOptedOutOfEmail, DoNotCall, «Не звонить» …)
OPT_OUT_ROLES = frozenset({"email_opt_out", "call_opt_out", "fax_opt_out"})
CONSENT_ROLES = OPT_OUT_ROLES | {"consent"}
# ids of this or another record: never text to clean
ID_ROLES = frozenset({"id", "account_id", "lookup"})
DATE_ROLES = frozenset({"created_at", "updated_at", "last_activity", "birthdate"})
BIRTH_PARTS = ("birth_year", "birth_month", "birth_day")
# a role a file may keep in several columns that together make one value: the role, then its parts in order. Where
# the file has no column of the role itself but all of its parts, the parts are read as that one value (dedupe)
COMPOSED_ROLES: dict[str, tuple[str, ...]] = {"birthdate": BIRTH_PARTS}
# two-letter headers of a birth date in parts: too short to mean anything alone, so only the three together count
_BIRTH_PART_TRIO = {"by": "birth_year", "bm": "birth_month", "bd": "birth_day"}


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


_PLACE_NAME_WORDS = frozenset({"name", "title", "название", "наименование"})


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
    lookup = _lookup_role(h)
    if lookup is not None:
        return lookup
    # numbered or qualified variants: "Телефон 2", "Phone (work)", "Email рабочий"
    stripped = re.sub(r"\s*(\(.*\)|\d+|c\d)$", "", h).strip()  # "Phone 2", "Email (work)", "fname_c1"
    if stripped != h and stripped in _LOOKUP:
        role = _LOOKUP[stripped]
        return {"email": "email2", "phone": "mobile"}.get(role, role) if re.search(r"\d$", h) else role
    # prefix match on the first word(s) for long Russian headers: "Телефон рабочий"
    words = h.split()
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        # one generic word ("Контакт Telegram", "Contact Owner") says too little to be a person's name
        if head in _LOOKUP and _LOOKUP[head] not in ("id",) and not (n == 1 and _LOOKUP[head] == "full_name"):
            # "Site name" names a place (a branch, an office), it holds no web address
            if _LOOKUP[head] == "website" and words[n] in _PLACE_NAME_WORDS:
                return None
            return _LOOKUP[head]
    return None


def _lookup_role(h: str) -> str | None:
    """``Account Name.id``, ``Reports To ID``, ``WhoId``: an id of a record, never text to clean.

    The company's id is ``account_id``; any other reference is ``lookup``. None when ``h`` is no id header.
    """
    m = re.fullmatch(r"(.+) id", h)
    if m is None:
        return None
    stem = m.group(1).strip()
    stem_role = _LOOKUP.get(stem) or _LOOKUP.get(_compact(stem))
    if stem_role is None:
        words = stem.split()
        stem_role = next((_LOOKUP[" ".join(words[:n])] for n in range(len(words), 0, -1)
                          if " ".join(words[:n]) in _LOOKUP), None)
    if stem_role in ("company", "account_id"):
        return "account_id"
    if stem_role in ("id", "full_name") and stem in ("contact", "lead", "record", "object", "контакт", "лид"):
        return "id"
    if stem_role == "messenger":
        return "messenger"
    return "lookup"


def detect_roles(headers: Sequence[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Column -> role for every column whose role is known (overrides win; `ignore` drops a column).

    When two columns claim one single-valued role (two "Email" columns), the second becomes the
    secondary role where one exists (email2, mobile), so the primary stays the first column.
    """
    overrides = dict(overrides or {})
    roles: dict[str, str] = {}
    taken: set[str] = set()
    trio = {h: _BIRTH_PART_TRIO[normalize_header(h)] for h in headers
            if h not in overrides and normalize_header(h) in _BIRTH_PART_TRIO}
    # a second work phone ("Рабочий прямой телефон") is a further phone when the file has its own mobile column
    has_mobile = any(h not in overrides and detect_role(h) == "mobile" for h in headers)
    for header in headers:
        if header in overrides:
            role = overrides[header]
            if role != "ignore":
                roles[header] = role
                taken.add(role)
    for header in headers:
        if header in overrides:
            continue
        detected = detect_role(header) or (trio.get(header) if len(set(trio.values())) == 3 else None)
        if detected is None:
            continue
        role = detected
        if role in taken:  # a second given name ("fname_c2") is a middle name
            role = {"email": "email2", "phone": "phone2" if has_mobile else "mobile",
                    "first_name": "middle_name"}.get(role, role)
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
    """contacts, leads, companies, deals or activities, from the columns (see :func:`detect_object`)."""
    return detect_object(list(roles), roles)[0]


OBJECT_TYPES = ("contacts", "leads", "companies", "deals", "activities")

# words in a file name, sheet name or title row ("Контрагенты", "report_leads.csv") -> object type
_NAME_WORDS: tuple[tuple[str, str], ...] = (
    ("контрагент", "companies"), ("counterpart", "companies"), ("compan", "companies"), ("account", "companies"),
    ("компани", "companies"), ("организац", "companies"), ("лид", "leads"), ("lead", "leads"),
    ("сделк", "deals"), ("deal", "deals"), ("opportunit", "deals"), ("задач", "activities"),
    ("task", "activities"), ("activit", "activities"), ("звонк", "activities"), ("event", "activities"),
    ("встреч", "activities"), ("контакт", "contacts"), ("contact", "contacts"), ("клиент", "contacts"),
)
# headers that only one object type has (compared after normalize_header, compact)
_OBJECT_HEADERS: dict[str, tuple[str, ...]] = {
    "leads": ("lead status", "leadstatus", "isconverted", "converteddate", "lead id", "название лида",
              "статус лида", "lead name", "id лида", "convertedcontactid", "lead source detail"),
    "deals": ("название сделки", "deal name", "dealname", "opportunity name", "stagename", "stage name",
              "probability", "вероятность", "close date", "closedate", "воронка", "pipeline", "бюджет",
              "id сделки", "deal id", "opportunity id", "дата закрытия", "стадия сделки", "deal stage"),
    "activities": ("subject", "тема", "activitydate", "activity date", "due date", "срок", "крайний срок",
                   "whoid", "whatid", "task", "задача", "priority", "приоритет", "task id", "activity id",
                   "tasksubtype", "тип задачи", "результат", "постановщик", "исполнитель", "call duration",
                   "длительность звонка", "id задачи", "текст задачи"),
    # not NumberOfEmployees / AnnualRevenue: a Salesforce Lead has both (Object Reference, Lead) and a HubSpot
    # contact export carries them, so they read a contact or lead file as companies (validate then required a company)
    "companies": ("account id", "account name", "billing city", "billingcity", "billingstreet", "company domain name",
                  "название компании", "id компании", "код по окпо", "юр физ лицо", "полное наименование"),
    "contacts": ("contact id", "reportstoid", "reports to", "mailingcity", "mailing city", "id контакта",
                 "birthdate", "дата рождения", "отчество", "contact owner"),
}
_OBJECT_HEADER_INDEX = {_compact(normalize_header(h)): t for t, hs in _OBJECT_HEADERS.items() for h in hs}
_COMPANY_ROLES = frozenset({"inn", "kpp", "ogrn", "okpo", "legal_name", "counterparty_type", "employees",
                            "industry"})


def detect_object(headers: Sequence[str], roles: Mapping[str, str], names: Sequence[str] = ()
                  ) -> tuple[str, list[str]]:
    """(object type, evidence) from the columns and any names (file name, sheet, title row).

    Each clue adds to one type's score; the evidence lists the clues, so a steward can see why a
    file was read as counterparties rather than contacts and pass ``--object`` when it is wrong.
    """
    score = dict.fromkeys(OBJECT_TYPES, 0.0)
    evidence: dict[str, list[str]] = {t: [] for t in OBJECT_TYPES}

    def add(kind: str, weight: float, why: str) -> None:
        score[kind] += weight
        evidence[kind].append(why)

    for name in names:
        low = normalize_header(name)
        for word, kind in _NAME_WORDS:
            if word in low:
                add(kind, 3.0, f"name {name!r} says {kind}")
                break
    for header in headers:
        by_header = _OBJECT_HEADER_INDEX.get(_compact(normalize_header(header)))
        if by_header:
            add(by_header, 2.0, f"column {header!r}")
    present = set(roles.values())
    person = sorted(present & PERSON_ROLES)
    if person:
        add("contacts", 3.0, f"person columns ({', '.join(person)})")
        add("leads", 1.0, "person columns")
    companyish = sorted(present & _COMPANY_ROLES)
    if companyish:  # a contact's file often carries its company's INN: alone, these weigh less than a name
        add("companies", 1.0 + len(companyish) / 2, f"company columns ({', '.join(companyish)})")
    if "company" in present and not person:
        add("companies", 1.5, "a company name and no person's name")
    deal = sorted(present & {"deal_stage", "deal_amount"})
    if deal:
        add("deals", 2.0, f"deal columns ({', '.join(deal)})")
    best = max(OBJECT_TYPES, key=lambda t: (score[t], t == "contacts"))
    if score[best] == 0:
        return "contacts", ["no clue in the columns: read as contacts (pass --object to choose)"]
    return best, evidence[best]


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
