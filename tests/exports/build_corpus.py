"""Build the export corpus: files laid out as each CRM writes them, from their real column headers.

Run once (``python tests/exports/build_corpus.py``); the files are committed. Legacy ``.xls`` needs
``xlwt`` (only here, to write the fixture; crmclean reads it with python-calamine):
``PYTHONPATH=/path/to/xlwt python tests/exports/build_corpus.py``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent

BITRIX_CONTACT = [
    "ID", "Обращение", "Имя", "Фамилия", "Отчество", "Дата рождения", "Должность", "Компания", "Адрес",
    "Рабочий телефон", "Мобильный телефон", "Номер факса", "Домашний телефон", "Другой телефон",
    "Корпоративный сайт", "Личная страница", "Рабочий e-mail", "Частный e-mail", "Другой e-mail",
    "Контакт Telegram", "Контакт Skype", "Контакт ВКонтакте", "Тип контакта", "Источник", "Ответственный",
    "Комментарий", "Дата создания", "Дата изменения",
]
BITRIX_ROWS = [
    ["101", "г-н", "Иван", "Петров", "Сергеевич", "12.03.1985", "Директор", "ООО &quot;Ромашка&quot;",
     "Москва, ул. Ленина, 1", "+7 (495) 123-45-67", "8 916 123 45 67", "", "", "", "romashka.ru", "",
     "petrov@romashka.ru", "ivan.petrov@mail.ru", "", "@petrov_ivan", "petrov.skype", "", "Клиент",
     "Сайт", "Анна Смирнова", "Постоянный клиент", "01.02.2023 10:15:00", "15.01.2024 09:00:00"],
    ["102", "г-жа", "Мария", "Иванова", "", "", "Бухгалтер", "ИП Иванова", "", "", "+79161112233", "",
     "", "", "", "", "", "maria@yandex.ru", "", "", "", "vk.com/maria", "Поставщик", "Звонок", "Анна Смирнова",
     "", "05.05.2023 12:00:00", "05.05.2023 12:00:00"],
]
BITRIX_ROLES = {
    "Обращение": "salutation", "Имя": "first_name", "Фамилия": "last_name", "Отчество": "middle_name",
    "Дата рождения": "birthdate", "Должность": "job_title", "Компания": "company", "Адрес": "address",
    "Рабочий телефон": "phone", "Мобильный телефон": "mobile", "Номер факса": "fax",
    "Домашний телефон": "phone2", "Другой телефон": "phone2", "Корпоративный сайт": "website",
    "Личная страница": "website", "Рабочий e-mail": "email", "Частный e-mail": "email2",
    "Другой e-mail": "email2", "Контакт Telegram": "messenger", "Контакт Skype": "messenger",
    "Контакт ВКонтакте": "messenger", "Тип контакта": "record_type", "Источник": "lead_source",
    "Ответственный": "owner", "Комментарий": "notes", "Дата создания": "created_at",
    "Дата изменения": "updated_at",
}

AMO_CONTACT = ["ID", "Полное имя контакта", "Компания контакта", "Ответственный", "Дата создания",
               "Кем создан", "Дата редактирования", "Теги", "Рабочий телефон", "Рабочий прямой телефон",
               "Мобильный телефон", "Факс", "Домашний телефон", "Другой телефон", "Рабочий email",
               "Личный email", "Другой email", "Должность", "Skype", "Telegram"]
AMO_CONTACT_ROWS = [
    ["5001", "Сидоров Пётр Ильич", "ООО «Вектор»", "Олег Кузнецов", "10.01.2024 11:00", "Олег Кузнецов",
     "11.01.2024 12:30", "vip", "+7 495 222-33-44", "+7 495 222-33-45", "+7 903 111-22-33", "", "", "",
     "sidorov@vector.ru", "petr.sidorov@gmail.com", "", "Закупщик", "sidorov.p", "@sidorov"],
    ["5002", "Ольга Орлова", "", "Олег Кузнецов", "12.02.2024 09:00", "Олег Кузнецов", "12.02.2024 09:00",
     "", "", "", "89035556677", "", "", "", "", "olga.orlova@mail.ru", "", "", "", ""],
]
AMO_CONTACT_ROLES = {
    "Полное имя контакта": "full_name", "Компания контакта": "company", "Ответственный": "owner",
    "Дата создания": "created_at", "Дата редактирования": "updated_at", "Теги": "tags",
    "Рабочий телефон": "phone", "Рабочий прямой телефон": "phone2", "Мобильный телефон": "mobile",
    "Факс": "fax", "Домашний телефон": "phone2", "Другой телефон": "phone2", "Рабочий email": "email",
    "Личный email": "email2", "Другой email": "email2", "Должность": "job_title", "Skype": "messenger",
    "Telegram": "messenger",
}
AMO_DEAL = ["ID", "Название сделки", "Бюджет", "Ответственный", "Дата создания", "Дата редактирования",
            "Этап сделки", "Воронка", "Теги", "Основной контакт", "Компания"]
AMO_DEAL_ROWS = [
    ["9001", "Поставка оборудования", "150000", "Олег Кузнецов", "01.03.2024", "02.03.2024",
     "Переговоры", "Продажи", "", "Сидоров Пётр Ильич", "ООО «Вектор»"],
]
AMO_DEAL_ROLES = {"Бюджет": "deal_amount", "Ответственный": "owner", "Дата создания": "created_at",
                  "Дата редактирования": "updated_at", "Этап сделки": "deal_stage", "Теги": "tags",
                  "Компания": "company"}

HUBSPOT_CONTACT = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
                   "Company Name", "Job Title", "Contact owner", "Lifecycle Stage", "Lead Status",
                   "Create Date", "Last Activity Date", "City", "State/Region", "Country/Region",
                   "Postal Code", "Website URL", "Associated Company IDs", "Unsubscribed from all email"]
HUBSPOT_ROWS = [
    ["351", "Jane", "Doe", "jane.doe@acme.com", "+1 617 555 0100", "", "Acme Inc", "CTO", "Sam Lee",
     "customer", "Open", "2024-01-05 10:00", "2024-03-01 11:00", "Boston", "MA", "United States",
     "02110", "https://acme.com", "9001", "false"],
]
HUBSPOT_ROLES = {
    "Record ID": "id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
    "Phone Number": "phone", "Mobile Phone Number": "mobile", "Company Name": "company",
    "Job Title": "job_title", "Contact owner": "owner", "Lifecycle Stage": "status", "Lead Status": "status",
    "Create Date": "created_at", "Last Activity Date": "last_activity", "City": "city",
    "State/Region": "region", "Country/Region": "country", "Postal Code": "zip", "Website URL": "website",
    "Associated Company IDs": "account_id", "Unsubscribed from all email": "email_opt_out",
}

SF_REPORT = ["Contact ID", "Salutation", "First Name", "Last Name", "Title", "Account Name",
             "Mailing Street", "Mailing City", "Mailing State/Province", "Mailing Zip/Postal Code",
             "Mailing Country", "Phone", "Mobile", "Fax", "Email", "Contact Owner", "Lead Source",
             "Created Date", "Last Modified Date", "Email Opt Out"]
SF_REPORT_ROWS = [
    ["0035g00000AbCdE", "Mr.", "John", "Smith", "VP Sales", "Globex", "1 Main St", "Springfield", "IL",
     "62701", "USA", "(217) 555-0101", "", "", "john.smith@globex.com", "Kate Miller", "Web",
     "1/15/2024", "2/1/2024", "0"],
    ["0035g00000AbCdF", "Ms.", "Anna", "Brown", "Buyer", "Initech", "", "Austin", "TX", "73301", "USA",
     "", "(512) 555-0199", "", "anna.brown@initech.com", "Kate Miller", "Phone Inquiry", "1/20/2024",
     "1/20/2024", "1"],
]
SF_REPORT_FOOTER = ['""', '"Contacts with email"', '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
                    '"Confidential Information - Do Not Distribute"',
                    '"Generated By:  Kate Miller  3/1/2024 10:15 AM"', '"Globex Corporation"']
SF_REPORT_ROLES = {
    "Contact ID": "id", "Salutation": "salutation", "First Name": "first_name", "Last Name": "last_name",
    "Title": "job_title", "Account Name": "company", "Mailing Street": "address", "Mailing City": "city",
    "Mailing State/Province": "region", "Mailing Zip/Postal Code": "zip", "Mailing Country": "country",
    "Phone": "phone", "Mobile": "mobile", "Fax": "fax", "Email": "email", "Contact Owner": "owner",
    "Lead Source": "lead_source", "Created Date": "created_at", "Last Modified Date": "updated_at",
    "Email Opt Out": "email_opt_out",
}
SF_DATALOADER = ["ID", "ISDELETED", "MASTERRECORDID", "ACCOUNTID", "LASTNAME", "FIRSTNAME", "SALUTATION",
                 "MAILINGCITY", "MAILINGSTATE", "MAILINGPOSTALCODE", "MAILINGCOUNTRY", "PHONE", "FAX",
                 "MOBILEPHONE", "HOMEPHONE", "OTHERPHONE", "REPORTSTOID", "EMAIL", "TITLE", "DEPARTMENT",
                 "LEADSOURCE", "BIRTHDATE", "DESCRIPTION", "OWNERID", "HASOPTEDOUTOFEMAIL", "HASOPTEDOUTOFFAX",
                 "DONOTCALL", "CREATEDDATE", "CREATEDBYID", "LASTMODIFIEDDATE", "LASTMODIFIEDBYID",
                 "SYSTEMMODSTAMP", "LASTACTIVITYDATE"]
SF_DATALOADER_ROWS = [
    ["0035g00000AbCdE", "false", "", "0015g00000XyZaB", "Smith", "John", "Mr.", "Springfield", "IL", "62701",
     "USA", "(217) 555-0101", "", "", "", "", "", "john.smith@globex.com", "VP Sales", "Sales", "Web",
     "1980-04-02", "", "0055g00000QwErT", "false", "false", "false", "2024-01-15T10:00:00.000Z",
     "0055g00000QwErT", "2024-02-01T10:00:00.000Z", "0055g00000QwErT", "2024-02-01T10:00:00.000Z",
     "2024-02-20"],
]
SF_DATALOADER_ROLES = {
    "ACCOUNTID": "account_id", "LASTNAME": "last_name", "FIRSTNAME": "first_name", "SALUTATION": "salutation",
    "MAILINGCITY": "city", "MAILINGSTATE": "region", "MAILINGPOSTALCODE": "zip", "MAILINGCOUNTRY": "country",
    "PHONE": "phone", "FAX": "fax", "MOBILEPHONE": "mobile", "HOMEPHONE": "phone2", "OTHERPHONE": "phone2",
    "REPORTSTOID": "lookup", "MASTERRECORDID": "lookup", "EMAIL": "email", "TITLE": "job_title",
    "DEPARTMENT": "department", "LEADSOURCE": "lead_source", "BIRTHDATE": "birthdate", "DESCRIPTION": "notes",
    "OWNERID": "owner", "HASOPTEDOUTOFEMAIL": "email_opt_out", "HASOPTEDOUTOFFAX": "fax_opt_out",
    "DONOTCALL": "call_opt_out", "CREATEDDATE": "created_at", "CREATEDBYID": "lookup",
    "LASTMODIFIEDDATE": "updated_at", "LASTMODIFIEDBYID": "lookup", "SYSTEMMODSTAMP": "updated_at",
    "LASTACTIVITYDATE": "last_activity",
}
SF_TASKS = ["Activity ID", "Subject", "Due Date", "Priority", "Status", "Assigned", "Company / Account",
            "Contact"]
SF_TASK_ROWS = [["00T5g00000AaAaA", "Call back", "3/5/2024", "Normal", "Not Started", "Kate Miller", "Globex",
                 "John Smith"]]
SF_TASK_ROLES = {"Activity ID": "id", "Status": "status", "Contact": "full_name", "Company / Account": "company"}

ZOHO = ["Record Id", "Contact Owner.id", "Contact Owner", "Lead Source", "First Name", "Last Name",
        "Account Name.id", "Account Name", "Email", "Title", "Department", "Phone", "Home Phone", "Other Phone",
        "Fax", "Mobile", "Date of Birth", "Reports To.id", "Email Opt Out", "Created By.id", "Modified By.id",
        "Created Time", "Modified Time", "Mailing Street", "Mailing City", "Mailing State", "Mailing Zip",
        "Mailing Country", "Description", "Skype ID", "Secondary Email", "Twitter", "Last Activity Time", "Tag"]
ZOHO_ROWS = [
    ["zcrm_5000000000001", "zcrm_4000000000001", "Priya Nair", "Trade Show", "Ravi", "Kumar",
     "zcrm_3000000000001", "Zylker Corp", "ravi@zylker.com", "Manager", "Ops", "+91 80 4000 1234", "", "", "",
     "+91 98450 12345", "1988-07-01", "", "false", "zcrm_4000000000001", "zcrm_4000000000001",
     "2024-01-02 10:00:00", "2024-02-02 10:00:00", "1 MG Road", "Bengaluru", "KA", "560001", "India", "",
     "ravi.kumar", "ravi.k@gmail.com", "@ravik", "2024-02-10 12:00:00", "hot"],
]
ZOHO_ROLES = {
    "Record Id": "id", "Contact Owner.id": "lookup", "Contact Owner": "owner", "Lead Source": "lead_source",
    "First Name": "first_name", "Last Name": "last_name", "Account Name.id": "account_id",
    "Account Name": "company", "Email": "email", "Title": "job_title", "Department": "department",
    "Phone": "phone", "Home Phone": "phone2", "Other Phone": "phone2", "Fax": "fax", "Mobile": "mobile",
    "Date of Birth": "birthdate", "Reports To.id": "lookup", "Email Opt Out": "email_opt_out",
    "Created By.id": "lookup", "Modified By.id": "lookup", "Created Time": "created_at",
    "Modified Time": "updated_at", "Mailing Street": "address", "Mailing City": "city",
    "Mailing State": "region", "Mailing Zip": "zip", "Mailing Country": "country", "Description": "notes",
    "Skype ID": "messenger", "Secondary Email": "email2", "Twitter": "messenger",
    "Last Activity Time": "last_activity", "Tag": "tags",
}

ONEC = ["Наименование", "Полное наименование", "ИНН", "КПП", "Юр./физ. лицо", "Код по ОКПО",
        "Основной менеджер", "Код", "Комментарий"]
ONEC_ROWS = [
    ["Ромашка ООО", "Общество с ограниченной ответственностью \"Ромашка\"", "7707083893", "773601001",
     "Юридическое лицо", "12345678", "Смирнова А.", "00-000001", ""],
    ["Иванов И.И. ИП", "Индивидуальный предприниматель Иванов Иван Иванович", "500100732259", "",
     "Физическое лицо", "", "Смирнова А.", "00-000002", "оптовик"],
]
ONEC_ROLES = {"Наименование": "company", "Полное наименование": "legal_name", "ИНН": "inn", "КПП": "kpp",
              "Юр./физ. лицо": "counterparty_type", "Код по ОКПО": "okpo", "Основной менеджер": "owner",
              "Комментарий": "notes"}

# file -> (expected object type, expected id column, expected role of every recognized column, records)
CORPUS: dict[str, tuple[str, str, dict[str, str], int]] = {
    "bitrix24_contacts.csv": ("contacts", "ID", BITRIX_ROLES, 2),
    "bitrix24_contacts.xls": ("contacts", "ID", BITRIX_ROLES, 2),
    "amocrm_contacts.xlsx": ("contacts", "ID", AMO_CONTACT_ROLES, 2),
    "amocrm_deals.csv": ("deals", "ID", AMO_DEAL_ROLES, 1),
    "hubspot_contacts.csv": ("contacts", "Record ID", HUBSPOT_ROLES, 1),
    "salesforce_report_contacts.csv": ("contacts", "Contact ID", SF_REPORT_ROLES, 2),
    "salesforce_dataloader_contact.csv": ("contacts", "ID", SF_DATALOADER_ROLES, 1),
    "salesforce_report_tasks.csv": ("activities", "Activity ID", SF_TASK_ROLES, 1),
    "zoho_contacts.csv": ("contacts", "Record Id", ZOHO_ROLES, 1),
    "onec_counterparties.xlsx": ("companies", "Код", ONEC_ROLES, 2),
    "onec_counterparties.xls": ("companies", "Код", ONEC_ROLES, 2),
}


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str, *, all_quoted: bool = False,
              trailing: str = "") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n",
                        quoting=csv.QUOTE_ALL if all_quoted else csv.QUOTE_MINIMAL)
    for row in [header, *rows]:
        writer.writerow(row)
    return "".join(line + trailing + "\r\n" for line in buf.getvalue().split("\r\n") if line)


def _xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append([v if v != "" else None for v in row])
    wb.save(path)


def build() -> None:
    # Bitrix24 CSV: windows-1251, ';', every line ends with ';' (the phantom column), entities in names
    (HERE / "bitrix24_contacts.csv").write_bytes(
        _csv_text(BITRIX_CONTACT, BITRIX_ROWS, ";", trailing=";").encode("cp1251"))
    # Bitrix24 "Excel" export: an HTML table saved as .xls
    cells = "".join(f"<th>{h}</th>" for h in BITRIX_CONTACT)
    body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>\n" for r in BITRIX_ROWS)
    (HERE / "bitrix24_contacts.xls").write_text(
        '<meta http-equiv="Content-type" content="text/html;charset=UTF-8" />\n'
        f'<table border="1">\n<thead><tr>{cells}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n', encoding="utf-8")
    _xlsx(HERE / "amocrm_contacts.xlsx", [AMO_CONTACT, *AMO_CONTACT_ROWS])
    (HERE / "amocrm_deals.csv").write_text("\ufeff" + _csv_text(AMO_DEAL, AMO_DEAL_ROWS, ";"), encoding="utf-8")
    (HERE / "hubspot_contacts.csv").write_text(_csv_text(HUBSPOT_CONTACT, HUBSPOT_ROWS, ","), encoding="utf-8")
    report = _csv_text(SF_REPORT, SF_REPORT_ROWS, ",", all_quoted=True) + "\r\n".join(SF_REPORT_FOOTER) + "\r\n"
    (HERE / "salesforce_report_contacts.csv").write_text(report, encoding="utf-8")
    (HERE / "salesforce_dataloader_contact.csv").write_text(
        _csv_text(SF_DATALOADER, SF_DATALOADER_ROWS, ",", all_quoted=True), encoding="utf-8")
    tasks = _csv_text(SF_TASKS, SF_TASK_ROWS, ",", all_quoted=True) + "\r\n".join(SF_REPORT_FOOTER) + "\r\n"
    (HERE / "salesforce_report_tasks.csv").write_text(tasks, encoding="utf-8")
    (HERE / "zoho_contacts.csv").write_text(_csv_text(ZOHO, ZOHO_ROWS, ","), encoding="utf-8")
    # 1C: a title row and a blank row above the header
    onec = [["Контрагенты"], [], ONEC, *ONEC_ROWS]
    _xlsx(HERE / "onec_counterparties.xlsx", onec)
    try:
        import xlwt  # type: ignore[import-not-found]
    except ImportError:
        print("xlwt not importable: onec_counterparties.xls left as it is")
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Контрагенты")
    for r, row in enumerate(onec):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    book.save(str(HERE / "onec_counterparties.xls"))


if __name__ == "__main__":
    build()
