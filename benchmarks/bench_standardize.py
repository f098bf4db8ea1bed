"""Benchmark: standardize 1,000,000 messy contacts (full name, email, phone, job title, company, country).

Prints a figures table and writes it to benchmarks/results/standardize.md:
  * wall time of ``standardize_table`` and of ``build_profile`` on the standardized result
  * peak RSS of this process and of forked workers (resource.getrusage)
  * a naive per-row baseline (a plain Python loop calling the same value functions per row,
    as a pandas ``apply`` would) on a sample, scaled to the full size, and the speed ratio

Usage: python benchmarks/bench_standardize.py [--rows 1000000] [--sample 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import time
from pathlib import Path

import polars as pl

from crmclean.fields.company import normalize_company
from crmclean.fields.country import country_alpha2
from crmclean.fields.email import normalize_email
from crmclean.fields.names import parse_full_name, proper_case_name
from crmclean.fields.phone import normalize_phone
from crmclean.fields.title import canonical_title
from crmclean.profile import build_profile
from crmclean.rules.standardizers.text import clean_whitespace
from crmclean.standardize import standardize_table
from crmclean.table import finalize_table

RU_MALE = ["Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Василий", "Виктор", "Владимир", "Дмитрий", "Евгений", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел", "Пётр", "Роман", "Сергей", "Степан", "Юрий"]
RU_FEMALE = ["Анастасия", "Анна", "Валентина", "Вера", "Виктория", "Галина", "Дарья", "Екатерина", "Елена", "Ирина", "Ксения", "Людмила", "Марина", "Мария", "Наталья", "Оксана", "Ольга", "Полина", "Светлана", "Софья", "Татьяна", "Юлия"]
RU_ROOTS = ["Иван", "Петр", "Сидор", "Смирн", "Кузнец", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков", "Федоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семенов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьев", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьев", "Сергеев", "Фролов", "Александров", "Дмитриев", "Королев", "Гусев", "Киселев", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалев", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышев", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарев", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлев", "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачев", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов", "Еремин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронцов", "Рыбаков", "Шубин", "Коршунов", "Шестаков"]
SUFFIXES_RU = ["", "ин", "ский", "енко", "ов", "ев"]
EN_FIRST = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles", "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Daniel", "Matthew", "Anthony", "Mark", "Emily", "Olivia", "Emma", "Sophia"]
EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "McDonald", "O'Neil"]
TITLES = ["Генеральный директор", "Ген. директор", "гендиректор", "CEO", "C.E.O.", "Chief Exec. Officer", "CEOn",
          "главбух", "Главный бухгалтер", "Менеджер по продажам", "менеджер по продажам", "Sales Manager",
          "VP Sales", "Mktg Mgr", "Founder & CEO", "Основатель и генеральный директор", "Коммерческий директор",
          "Финансовый директор", "CFO", "ИТ-директор", "Руководитель отдела продаж", "Head of Sales", "Маркетолог",
          "Юрист", "Бухгалтер", "Инженер", "Офис-менеджер", "Водитель", "Кладовщик", "Senior Java Developer",
          "Product Manager", "HR Manager", "Специалист по закупкам", "Заместитель генерального директора",
          "Генеральный диретор", "Sales Manger", "Начальник отдела продаж", "Аналитик", "-", None]
FORMS = ["ООО", "ООО", "ООО", "АО", "ПАО", "ЗАО", "ИП", "Общество с ограниченной ответственностью", "LLC", "Inc.",
         "Ltd", "GmbH", ""]
WORDS = ["Ромашка", "Лютик", "Север", "Восток", "Альфа", "Вега", "Сириус", "Прогресс", "Техно", "Строй", "Инвест", "Торг", "Снаб", "Лайн", "Сервис", "Групп", "Маркет", "Трейд", "Логистик", "Софт", "Систем", "Капитал", "Ресурс", "Энерго", "Агро", "Мед", "Фарм", "Акме", "Глобекс", "Инитек", "Umbrella", "Acme", "Globex", "Initech", "Stark", "Wayne", "Hooli", "Vandelay", "Cyberdyne", "Tyrell", "Soylent", "Wonka", "Aperture"]
US_AREAS = ["212", "646", "718", "917", "415", "650", "408", "312", "773", "617", "202", "305", "713", "214", "310",
            "213", "206", "303", "404", "512", "602", "702", "503", "615", "919", "704", "612", "313", "215", "416"]
# a record's country agrees with its phone most of the time, as in real CRMs
RU_COUNTRIES = ["Россия", "Россия", "РФ", "Russia", "RU", "Российская Федерация", "россия", None, None]
EN_COUNTRIES = ["USA", "США", "Соединённые Штаты", "United States", "US", None]
DOMAINS = ["mail.ru", "gmail.com", "yandex.ru", "bk.ru", "inbox.ru", "list.ru", "rambler.ru", "ya.ru", "gmial.com",
           "yadnex.ru", "mail.ry"]
TRANSLIT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                     "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"], strict=True))


def _lat(text: str) -> str:
    return "".join(TRANSLIT.get(c, c) for c in text.lower())


def generate(rows: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    companies = []
    for _ in range(60_000):
        name = " ".join(rng.sample(WORDS, rng.choice([1, 1, 2])))
        form = rng.choice(FORMS)
        style = rng.random()
        if not form:
            companies.append(name)
        elif form in ("LLC", "Inc.", "Ltd", "GmbH"):
            companies.append(f"{name}, {form}" if style < 0.3 else f"{name} {form}")
        elif style < 0.4:
            companies.append(f'{form} "{name}"')
        elif style < 0.6:
            companies.append(f"{form} «{name}»")
        elif style < 0.7:
            companies.append(f"{name}, {form}")
        elif style < 0.85:
            companies.append(f"{form} {name}".upper())
        else:
            companies.append(f"{form} {name}".lower())
    names, emails, phones, titles, comps, countries = [], [], [], [], [], []
    for _i in range(rows):
        ru = rng.random() < 0.75
        if ru:
            female = rng.random() < 0.45
            first = rng.choice(RU_FEMALE if female else RU_MALE)
            last = rng.choice(RU_ROOTS) + rng.choice(SUFFIXES_RU)
            if female and last.endswith(("ов", "ев", "ин")):
                last += "а"
            father = rng.choice(RU_MALE)
            patronymic = father + ("овна" if female else "ович")
            shape = rng.random()
            if shape < 0.45:
                name = f"{last} {first} {patronymic}"
            elif shape < 0.6:
                name = f"{first} {last}"
            elif shape < 0.7:
                name = f"{last} {first[0]}.{patronymic[0]}."
            elif shape < 0.8:
                name = f"{last} {first} {patronymic}".upper()
            elif shape < 0.9:
                name = f"  {first.lower()}  {last.lower()} "
            else:
                name = f"г-н {last} {first}" if not female else f"{last}\u00a0{first}"
            local = f"{_lat(first)}.{_lat(last)}{rng.randint(1, 9999)}"
        else:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            shape = rng.random()
            name = (f"{first} {last}" if shape < 0.6 else f"{last}, {first}" if shape < 0.75
                    else f"Dr. {first} {last}" if shape < 0.8 else f"{first} {last}".upper())
            local = f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 9999)}"
        company = rng.choice(companies)
        domain = rng.choice(DOMAINS) if rng.random() < 0.5 else _lat(company.split()[-1]).strip('"«»,.') + ".ru"
        e = rng.random()
        if e < 0.6:
            email = f"{local}@{domain}"
        elif e < 0.75:
            email = f"{local}@{domain}".upper() if rng.random() < 0.5 else f" {local}@{domain} "
        elif e < 0.82:
            email = f'"{first}" <{local}@{domain}>'
        elif e < 0.87:
            email = f"{local}@{domain}; info@{domain}"
        elif e < 0.9:
            email = f"mailto:{local}@{domain}"
        elif e < 0.93:
            email = "noemail@noemail.com"
        else:
            email = None
        d = f"{rng.randint(900, 999)}{rng.randint(0, 9999999):07d}"
        if rng.random() < 0.3:
            d = rng.choice(["495", "499", "812", "343", "383"]) + f"{rng.randint(0, 9999999):07d}"
        p = rng.random()
        if p < 0.25:
            phone = f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"
        elif p < 0.45:
            phone = f"+7 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"
        elif p < 0.55:
            phone = f"7{d}"
        elif p < 0.65:
            phone = f"8{d}"
        elif p < 0.72:
            phone = f"+7({d[:3]}){d[3:]}"
        elif p < 0.77:
            phone = f"8 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]} доб. {rng.randint(1, 999)}"
        elif p < 0.8:
            phone = f"8-{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:]}, 8 (495) {rng.randint(100, 999)}-{rng.randint(10, 99)}-12"
        elif p < 0.85:
            phone = f"{d[:3]} {d[3:6]} {d[6:]}"
        elif p < 0.88:
            phone = f"+1 ({rng.choice(US_AREAS)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        elif p < 0.9:
            phone = f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}"
        elif p < 0.92:
            phone = "-"
        else:
            phone = None
        country = rng.choice(RU_COUNTRIES if ru else EN_COUNTRIES)
        if not ru and phone and phone.startswith(("8", "7", "+7", "9")) and rng.random() < 0.9:
            phone = f"+1 ({rng.choice(US_AREAS)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        names.append(name)
        emails.append(email)
        phones.append(phone)
        titles.append(rng.choice(TITLES))
        comps.append(company)
        countries.append(country)
    return pl.DataFrame(
        {"id": [str(i + 1) for i in range(rows)], "ФИО": names, "Email": emails, "Телефон": phones,
         "Должность": titles, "Компания": comps, "Страна": countries},
        schema={c: pl.String for c in ("id", "ФИО", "Email", "Телефон", "Должность", "Компания", "Страна")},
    )


def naive_row(row: dict[str, str | None]) -> dict[str, object]:
    """The per-row baseline: the same value functions, called once per row (pandas ``apply`` style)."""
    out: dict[str, object] = {}
    name = clean_whitespace(row["ФИО"]) if row["ФИО"] else None
    if name:
        name = proper_case_name(name)
        out["parts"] = parse_full_name(name)
    out["ФИО"] = name
    out["Email"] = normalize_email(row["Email"]) if row["Email"] else None
    out["Телефон"] = normalize_phone(row["Телефон"], country_alpha2(row["Страна"] or "") or "RU") if row["Телефон"] \
        else None
    out["Должность"] = canonical_title(row["Должность"]) if row["Должность"] else None
    out["Компания"] = normalize_company(row["Компания"]) if row["Компания"] else None
    out["Страна"] = country_alpha2(row["Страна"]) if row["Страна"] else None
    return out


def _rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    frame = generate(args.rows, args.seed)
    gen_s = time.perf_counter() - t0
    uniques = {c: frame.get_column(c).n_unique() for c in frame.columns if c != "id"}
    table = finalize_table(frame, source="bench", kind="csv", id_column="id")
    rss_before, _ = _rss_mb()

    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    result = standardize_table(table)
    std_s = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    t0 = time.perf_counter()
    profile = build_profile(table, None, std=result)
    prof_s = time.perf_counter() - t0
    rss_peak, rss_children = _rss_mb()
    # what `crmclean dedupe` runs: the profile straight from the table (profile-only standardization)
    lean_load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    lean = build_profile(table, None)
    lean_s = time.perf_counter() - t0
    lean_load_after = os.getloadavg()[0]
    same_profile = lean.equals(profile)
    del lean

    sample = frame.head(args.sample).to_dicts()
    t0 = time.perf_counter()
    for row in sample:
        naive_row(row)
    naive_s = time.perf_counter() - t0
    naive_full = naive_s * args.rows / max(1, len(sample))

    slowest = result.stats.sort("seconds", descending=True).head(8)
    lines = [
        "# Standardization benchmark",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"polars {pl.__version__}. Seed {args.seed}. Load average before/after the timed run: "
        f"{load_before:.1f} / {load_after:.1f} (other jobs share the 2 cores; figures scale with it).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| rows | {args.rows:,} |",
        f"| unique values | {', '.join(f'{k}: {v:,}' for k, v in uniques.items())} |",
        f"| data generation (not timed below) | {gen_s:.1f} s |",
        f"| **standardize_table** | **{std_s:.2f} s** ({args.rows / std_s:,.0f} rows/s) |",
        f"| build_profile (reusing the result) | {prof_s:.2f} s |",
        f"| **build_profile from the table** (what `dedupe` runs; load {lean_load_before:.1f} / "
        f"{lean_load_after:.1f}) | **{lean_s:.2f} s** (same profile as the full path: {same_profile}) |",
        f"| changes logged / fixed / suggested | {result.changes.height:,} / "
        f"{result.changes.filter(pl.col('confidence') == 'fix').height:,} / "
        f"{result.changes.filter(pl.col('confidence') == 'suggest').height:,} |",
        f"| findings | {result.findings.height:,} |",
        f"| peak RSS (this process) | {rss_peak:,.0f} MB (after generating the data: {rss_before:,.0f} MB) |",
        f"| peak RSS (forked workers, max) | {rss_children:,.0f} MB |",
        f"| naive per-row baseline | {naive_s:.2f} s for {len(sample):,} rows → {naive_full:,.0f} s for "
        f"{args.rows:,} (estimated) |",
        f"| speed-up over the baseline | **{naive_full / std_s:,.1f}×** |",
        f"| profile rows | {profile.height:,} |",
        "",
        "Slowest rules:",
        "",
        "| rule | name | seconds | fixed | suggested | flagged |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {r['rule']} | {r['name']} | {r['seconds']:.2f} | {r['fixed']:,} | {r['suggested']:,} | {r['flagged']:,} |"
          for r in slowest.to_dicts()],
        "",
        "Targets: under 20 s and under 4 GB for 1,000,000 rows on the 2-core machine.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / "standardize.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
