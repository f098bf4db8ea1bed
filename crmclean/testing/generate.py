"""Realistic messy CRM data with ground truth: Russian and English contacts and companies, duplicated and dirtied.

The generator builds clean *entities* (people, companies) and then renders each as one
or more *records* the way CRMs really hold them: phone format variants, work vs
personal emails, office switchboards shared by colleagues, typos, case, Cyrillic ↔
Latin transliteration, nicknames, swapped first/last names, legal-form variants,
title synonyms, missing fields, filler, and namesakes who are different people.

Usage::

    from crmclean.testing.generate import generate_contacts, true_pairs
    frame, truth = generate_contacts(10_000, seed=7)           # polars frame, all String
    pairs = true_pairs(truth)                                  # {(id_a, id_b), ...} same entity

``truth`` is a polars frame ``record_id, entity_id, company_id`` (one row per record).
It is pure Python (no numpy) and renders about 1M contact rows in well under a minute.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import accumulate, combinations
from typing import Literal

import polars as pl

HeaderStyle = Literal["ru", "en", "ru_split", "mixed"]

# ---------------------------------------------------------------- name data (generator's own, not the matcher's)

# (name, patronymic stem male, patronymic stem female, diminutives)
_RU_MALE: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Александр", "Александрович", "Александровна", ("Саша", "Шура", "Саня")),
    ("Алексей", "Алексеевич", "Алексеевна", ("Лёша", "Алеша")),
    ("Андрей", "Андреевич", "Андреевна", ("Андрюша",)),
    ("Сергей", "Сергеевич", "Сергеевна", ("Серёжа", "Серега")),
    ("Дмитрий", "Дмитриевич", "Дмитриевна", ("Дима", "Митя")),
    ("Михаил", "Михайлович", "Михайловна", ("Миша",)),
    ("Николай", "Николаевич", "Николаевна", ("Коля",)),
    ("Владимир", "Владимирович", "Владимировна", ("Вова", "Володя")),
    ("Иван", "Иванович", "Ивановна", ("Ваня",)),
    ("Евгений", "Евгеньевич", "Евгеньевна", ("Женя",)),
    ("Павел", "Павлович", "Павловна", ("Паша",)),
    ("Константин", "Константинович", "Константиновна", ("Костя",)),
    ("Виктор", "Викторович", "Викторовна", ("Витя",)),
    ("Юрий", "Юрьевич", "Юрьевна", ("Юра",)),
    ("Максим", "Максимович", "Максимовна", ("Макс",)),
    ("Никита", "Никитич", "Никитична", ("Никитка",)),
    ("Артём", "Артёмович", "Артёмовна", ("Тёма",)),
    ("Игорь", "Игоревич", "Игоревна", ("Игорёк",)),
    ("Олег", "Олегович", "Олеговна", ()),
    ("Роман", "Романович", "Романовна", ("Рома",)),
    ("Денис", "Денисович", "Денисовна", ("Дэн",)),
    ("Антон", "Антонович", "Антоновна", ("Тоша",)),
    ("Василий", "Васильевич", "Васильевна", ("Вася",)),
    ("Пётр", "Петрович", "Петровна", ("Петя",)),
    ("Григорий", "Григорьевич", "Григорьевна", ("Гриша",)),
    ("Владислав", "Владиславович", "Владиславовна", ("Влад",)),
    ("Вячеслав", "Вячеславович", "Вячеславовна", ("Слава",)),
    ("Станислав", "Станиславович", "Станиславовна", ("Стас",)),
    ("Анатолий", "Анатольевич", "Анатольевна", ("Толя",)),
    ("Борис", "Борисович", "Борисовна", ("Боря",)),
    ("Георгий", "Георгиевич", "Георгиевна", ("Жора", "Гоша")),
    ("Илья", "Ильич", "Ильинична", ("Илюша",)),
    ("Кирилл", "Кириллович", "Кирилловна", ("Киря",)),
    ("Леонид", "Леонидович", "Леонидовна", ("Лёня",)),
    ("Фёдор", "Фёдорович", "Фёдоровна", ("Федя",)),
    ("Тимофей", "Тимофеевич", "Тимофеевна", ("Тима",)),
    ("Егор", "Егорович", "Егоровна", ("Егорка",)),
    ("Глеб", "Глебович", "Глебовна", ()),
    ("Матвей", "Матвеевич", "Матвеевна", ("Мотя",)),
    ("Степан", "Степанович", "Степановна", ("Стёпа",)),
    ("Ярослав", "Ярославович", "Ярославовна", ("Ярик",)),
    ("Руслан", "Русланович", "Руслановна", ()),
    ("Вадим", "Вадимович", "Вадимовна", ("Вадик",)),
    ("Валерий", "Валерьевич", "Валерьевна", ("Валера",)),
    ("Геннадий", "Геннадьевич", "Геннадьевна", ("Гена",)),
    ("Эдуард", "Эдуардович", "Эдуардовна", ("Эдик",)),
    ("Семён", "Семёнович", "Семёновна", ("Сёма",)),
    ("Тимур", "Тимурович", "Тимуровна", ()),
    ("Даниил", "Даниилович", "Данииловна", ("Даня",)),
    ("Арсений", "Арсеньевич", "Арсеньевна", ("Сеня",)),
    ("Марк", "Маркович", "Марковна", ()),
    ("Всеволод", "Всеволодович", "Всеволодовна", ("Сева",)),
    ("Аркадий", "Аркадьевич", "Аркадьевна", ("Аркаша",)),
    ("Валентин", "Валентинович", "Валентиновна", ("Валя",)),
    ("Ростислав", "Ростиславович", "Ростиславовна", ("Слава",)),
)
_RU_FEMALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Екатерина", ("Катя", "Катерина")),
    ("Анна", ("Аня",)),
    ("Мария", ("Маша",)),
    ("Елена", ("Лена",)),
    ("Ольга", ("Оля",)),
    ("Наталья", ("Наташа", "Наталия")),
    ("Татьяна", ("Таня",)),
    ("Ирина", ("Ира",)),
    ("Светлана", ("Света",)),
    ("Юлия", ("Юля",)),
    ("Анастасия", ("Настя",)),
    ("Дарья", ("Даша",)),
    ("Ксения", ("Ксюша",)),
    ("Евгения", ("Женя",)),
    ("Александра", ("Саша",)),
    ("Марина", ()),
    ("Людмила", ("Люда",)),
    ("Галина", ("Галя",)),
    ("Валентина", ("Валя",)),
    ("Надежда", ("Надя",)),
    ("Любовь", ("Люба",)),
    ("Вера", ()),
    ("Виктория", ("Вика",)),
    ("Полина", ("Поля",)),
    ("Софья", ("Соня", "София")),
    ("Алина", ()),
    ("Кристина", ("Кристи",)),
    ("Елизавета", ("Лиза",)),
    ("Маргарита", ("Рита",)),
    ("Вероника", ("Ника",)),
    ("Алёна", ("Алена",)),
    ("Яна", ()),
    ("Оксана", ()),
    ("Лариса", ("Лара",)),
    ("Нина", ()),
    ("Тамара", ("Тома",)),
    ("Варвара", ("Варя",)),
    ("Диана", ()),
    ("Жанна", ()),
    ("Карина", ()),
    ("Антонина", ("Тоня",)),
    ("Валерия", ("Лера",)),
    ("Зоя", ()),
    ("Регина", ()),
    ("Эльвира", ()),
    ("Олеся", ()),
)
_RU_SURNAMES: tuple[str, ...] = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
    "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов",
    "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
    "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин", "Фролов",
    "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков",
    "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов",
    "Филиппов", "Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров",
    "Матвеев", "Титов", "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников",
    "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев",
    "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин",
    "Исаев", "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов",
    "Филатов", "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
    "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров", "Емельянов",
    "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов", "Кириллов", "Малышев",
    "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов", "Анисимов",
    "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
    "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронцов",
    "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов",
    "Елисеев", "Рыбаков", "Сафонов", "Плотников", "Дёмин", "Хохлов", "Жданов", "Рябов", "Щукин",
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Черных", "Седых", "Долгих",
    "Ковальчук", "Полищук", "Мельник", "Шевчук", "Левченко", "Руденко", "Ковальский", "Вишневский",
    "Покровский", "Успенский", "Троицкий", "Воскресенский", "Добровольский", "Завадский", "Жуковский",
    "Высоцкий", "Соколовский", "Яблонский", "Шапиро", "Рабинович", "Кац", "Гинзбург", "Шульц",
    "Миллер", "Гофман", "Абдуллаев", "Алиев", "Мамедов", "Гасанов", "Хабибуллин", "Сафин", "Галиев",
    "Юсупов", "Ахметов", "Шарипов", "Каримов", "Садыков", "Ибрагимов", "Цой", "Ким", "Пак",
)
_RU_SURNAME_ROOTS: tuple[str, ...] = (
    "Кузнец", "Мельнич", "Сокольнич", "Волын", "Гусар", "Бобр", "Ястреб", "Клен", "Дубр", "Берез",
    "Сосн", "Лип", "Ольх", "Рябин", "Калин", "Малин", "Смородин", "Черемш", "Полев", "Луг", "Озер",
    "Речн", "Горн", "Камен", "Желез", "Медн", "Серебр", "Золот", "Зимн", "Летн", "Весен", "Осен",
    "Утрен", "Вечер", "Ночн", "Светл", "Темн", "Бел", "Черн", "Ряб", "Сед", "Рыж", "Кудр", "Лыс",
    "Толст", "Тонк", "Длин", "Коротк", "Быстр", "Тих", "Громк", "Весел", "Грустн", "Добр", "Зл",
    "Смел", "Храбр", "Мудр", "Хитр", "Прост", "Барыш", "Купц", "Мастер", "Плотнич", "Столяр",
    "Гончарн", "Ткач", "Портн", "Сапожн", "Пекар", "Рыбач", "Охотн", "Пастух", "Пахар", "Сеяр",
)
_RU_SURNAME_SUFFIXES: tuple[str, ...] = ("ов", "ев", "ин", "ёнок", "овский", "ский", "енко", "ихин", "ников")

_EN_MALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Robert", ("Bob", "Rob", "Bobby")), ("William", ("Bill", "Will", "Billy")), ("Richard", ("Rick", "Dick")),
    ("James", ("Jim", "Jimmy")), ("John", ("Jack", "Johnny")), ("Michael", ("Mike", "Mick")),
    ("Thomas", ("Tom", "Tommy")), ("Christopher", ("Chris",)), ("Daniel", ("Dan", "Danny")),
    ("Matthew", ("Matt",)), ("Anthony", ("Tony",)), ("Joseph", ("Joe", "Joey")), ("David", ("Dave",)),
    ("Steven", ("Steve",)), ("Andrew", ("Andy", "Drew")), ("Joshua", ("Josh",)), ("Kenneth", ("Ken", "Kenny")),
    ("Edward", ("Ed", "Ted", "Eddie")), ("Charles", ("Charlie", "Chuck")), ("Nicholas", ("Nick",)),
    ("Benjamin", ("Ben",)), ("Samuel", ("Sam",)), ("Alexander", ("Alex",)), ("Jonathan", ("Jon",)),
    ("Patrick", ("Pat",)), ("Timothy", ("Tim",)), ("Gregory", ("Greg",)), ("Peter", ("Pete",)),
    ("Ronald", ("Ron",)), ("Donald", ("Don",)), ("Gerald", ("Jerry",)), ("Lawrence", ("Larry",)),
    ("Frederick", ("Fred",)), ("Raymond", ("Ray",)), ("Eric", ()), ("Brian", ()), ("Kevin", ()),
    ("Jason", ()), ("Mark", ()), ("Paul", ()), ("Gary", ()), ("Scott", ()), ("Ryan", ()), ("Jacob", ("Jake",)),
    ("Kyle", ()), ("Ethan", ()), ("Nathan", ("Nate",)), ("Zachary", ("Zach",)), ("Adam", ()),
    ("Henry", ("Hank",)), ("Douglas", ("Doug",)), ("Philip", ("Phil",)), ("Stephen", ("Steve",)),
    ("Harold", ("Harry",)), ("Walter", ("Walt",)), ("Victor", ("Vic",)), ("Oliver", ("Ollie",)),
    ("Lucas", ("Luke",)), ("Sebastian", ("Seb",)), ("Leonard", ("Leo", "Len")),
)
_EN_FEMALE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Elizabeth", ("Liz", "Beth", "Betty")), ("Margaret", ("Maggie", "Peggy", "Meg")),
    ("Katherine", ("Kate", "Kathy", "Katie")), ("Jennifer", ("Jen", "Jenny")), ("Patricia", ("Pat", "Patty")),
    ("Susan", ("Sue",)), ("Deborah", ("Debbie", "Deb")), ("Rebecca", ("Becky",)), ("Jessica", ("Jess",)),
    ("Victoria", ("Vicky", "Tori")), ("Christine", ("Chris", "Chrissy")), ("Samantha", ("Sam",)),
    ("Alexandra", ("Alex", "Sandra")), ("Barbara", ("Barb",)), ("Abigail", ("Abby",)), ("Kimberly", ("Kim",)),
    ("Cynthia", ("Cindy",)), ("Dorothy", ("Dot",)), ("Mary", ()), ("Linda", ()), ("Sarah", ()), ("Karen", ()),
    ("Nancy", ()), ("Lisa", ()), ("Emily", ("Em",)), ("Michelle", ("Shelly",)), ("Amanda", ("Mandy",)),
    ("Melissa", ("Mel",)), ("Laura", ()), ("Rachel", ()), ("Amy", ()), ("Anna", ()), ("Emma", ()),
    ("Olivia", ("Liv",)), ("Sophia", ("Sophie",)), ("Hannah", ()), ("Megan", ()), ("Natalie", ("Nat",)),
    ("Caroline", ("Carrie",)), ("Josephine", ("Jo", "Josie")), ("Gabrielle", ("Gabby",)), ("Helen", ()),
    ("Julia", ("Julie",)), ("Charlotte", ("Charlie",)), ("Eleanor", ("Ellie", "Nora")),
)
_EN_SURNAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez",
    "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart",
    "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
    "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Fisher",
    "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Hamilton", "Graham", "Reynolds", "Griffin",
    "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina",
    "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black",
    "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt",
    "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne",
    "Grant", "Dunn", "Spencer", "Hawkins", "Arnold", "Pierce", "Hansen", "Peters", "Santos", "Hart",
    "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane",
    "Riley", "Andrews", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Richards", "Willis",
    "Carpenter", "Lawrence", "O'Brien", "O'Connor", "McCarthy", "MacLeod", "van der Berg", "de Vries",
    "Müller", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Schulz", "Koch", "Richter", "Klein",
    "Wolf", "Neumann", "Schwarz", "Zimmermann", "Krüger", "Hofmann", "Hartmann", "Lange", "Werner",
)
_EN_SURNAME_ROOTS: tuple[str, ...] = (
    "Ash", "Black", "Bright", "Brook", "Cal", "Clay", "Cold", "Dun", "Elm", "Fair", "Fern", "Glen", "Gold",
    "Green", "Hal", "Haw", "Hart", "Hol", "Kings", "Lang", "Lock", "Marsh", "Mill", "Moor", "North", "Oak",
    "Pen", "Red", "Ridge", "Rock", "Rom", "Rut", "Shel", "Silver", "South", "Stan", "Stock", "Thorn",
    "Wake", "Wal", "West", "Whit", "Wind", "Wood", "Wy",
)
_EN_SURNAME_SUFFIXES: tuple[str, ...] = (
    "ford", "ley", "ton", "wood", "field", "worth", "by", "ham", "more", "well", "wick", "stone", "bridge",
    "dale", "combe", "hurst", "ridge", "shaw", "land", "bury",
)

# ---------------------------------------------------------------- company, title, place data

_RU_COMPANY_WORDS: tuple[str, ...] = (
    "Ромашка", "Вектор", "Гермес", "Спектр", "Меридиан", "Горизонт", "Альянс", "Импульс", "Атлант",
    "Феникс", "Орион", "Прогресс", "Континент", "Стандарт", "Эталон", "Лидер", "Партнёр", "Сфера",
    "Квант", "Вега", "Сатурн", "Нева", "Волга", "Урал", "Сибирь", "Байкал", "Алтай", "Енисей",
    "Кристалл", "Монолит", "Гранит", "Бастион", "Аврора", "Радуга", "Заря", "Восход", "Рассвет",
    "Пульсар", "Интеграл", "Вертикаль", "Магистраль", "Альтаир", "Полюс", "Ладога", "Север", "Форвард",
    "Цитадель", "Титан", "Онега", "Кедр", "Арктика", "Меркурий", "Вымпел", "Пионер", "Элемент",
)
_RU_COMPANY_PREFIXES: tuple[str, ...] = (
    "Техно", "Строй", "Агро", "Энерго", "Мед", "Фарм", "Транс", "Инфо", "Софт", "Нефте", "Газ", "Лес",
    "Металл", "Пром", "Нордик", "Евро", "Росс", "Сиб", "Урал", "Даль", "Волго", "Спец", "Электро",
    "Авто", "Хим", "Био", "Эко", "Телеком", "Инвест", "Гео", "Аква", "Термо", "Стил", "Бизнес",
)
_RU_COMPANY_SUFFIXES: tuple[str, ...] = (
    "Сервис", "Инвест", "Холдинг", "Трейд", "Снаб", "Строй", "Проект", "Маркет", "Систем", "Ресурс",
    "Монтаж", "Комплект", "Логистик", "Лаб", "Торг", "Пром", "Групп", "Консалт", "Девелопмент",
)
_EN_COMPANY_FIRST: tuple[str, ...] = (
    "Acme", "Northwind", "Blue Ridge", "Summit", "Pinnacle", "Vertex", "Apex", "Silverline", "Redwood",
    "Ironclad", "Brightpath", "Greenfield", "Lakeside", "Harbor", "Evergreen", "Keystone", "Liberty",
    "Meridian", "Orbit", "Quantum", "Sterling", "Titan", "Unity", "Vanguard", "Wavecrest", "Zenith",
    "Bluewave", "Clearwater", "Horizon", "Nimbus", "Atlas", "Beacon", "Cobalt", "Delta", "Echo",
    "Falcon", "Granite", "Helix", "Ionic", "Juniper", "Kestrel", "Lumen", "Mosaic", "Nova", "Oakridge",
    "Polaris", "Quartz", "Riverbend", "Sapphire", "Trident", "Westbrook", "Yellowstone", "Crescent",
)
_EN_COMPANY_SECOND: tuple[str, ...] = (
    "Systems", "Solutions", "Labs", "Group", "Partners", "Technologies", "Consulting", "Logistics",
    "Analytics", "Software", "Holdings", "Industries", "Capital", "Health", "Media", "Networks",
    "Dynamics", "Ventures", "Foods", "Energy", "Robotics", "Pharma", "Security", "Design",
)

# canonical title -> spellings seen in CRMs (first is the canonical English form)
_TITLES: tuple[tuple[str, ...], ...] = (
    ("CEO", "Генеральный директор", "Ген. директор", "Гендиректор", "Chief Executive Officer",
     "Основатель и генеральный директор", "CEO & Founder", "генеральный директор", "CEOn"),
    ("CFO", "Финансовый директор", "Фин. директор", "Chief Financial Officer", "финдиректор"),
    ("CTO", "Технический директор", "Chief Technology Officer", "Тех. директор"),
    ("Sales Manager", "Менеджер по продажам", "Менеджер отдела продаж", "sales manager", "Менеджр по продажам"),
    ("Head of Sales", "Руководитель отдела продаж", "РОП", "Начальник отдела продаж", "Sales Director",
     "Коммерческий директор"),
    ("Marketing Director", "Директор по маркетингу", "CMO", "Маркетинг-директор"),
    ("Chief Accountant", "Главный бухгалтер", "Гл. бухгалтер", "главбух"),
    ("Procurement Manager", "Менеджер по закупкам", "Специалист по закупкам", "Закупщик", "Buyer"),
    ("HR Manager", "HR-менеджер", "Менеджер по персоналу", "Специалист по кадрам", "HR"),
    ("Engineer", "Инженер", "Ведущий инженер", "Lead Engineer", "инженер"),
    ("Legal Counsel", "Юрист", "Юрисконсульт", "Lawyer"),
    ("IT Director", "ИТ-директор", "Директор по ИТ", "CIO", "IT-директор"),
    ("Project Manager", "Руководитель проектов", "PM", "Менеджер проектов"),
    ("Office Manager", "Офис-менеджер", "Секретарь", "Assistant"),
    ("Account Manager", "Аккаунт-менеджер", "Менеджер по работе с клиентами", "Key Account Manager"),
    ("Operations Director", "Операционный директор", "COO", "Chief Operating Officer"),
    ("Analyst", "Аналитик", "Business Analyst", "Бизнес-аналитик"),
)

# (canonical RU, area codes, spellings)
_RU_CITIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], float], ...] = (
    ("Москва", ("495", "499"), ("Москва", "г. Москва", "москва", "Moscow", "МСК", "г.Москва"), 12.0),
    ("Санкт-Петербург", ("812",), ("Санкт-Петербург", "СПб", "Питер", "Saint Petersburg", "С.-Петербург",
                                   "St. Petersburg", "г. Санкт-Петербург"), 5.0),
    ("Новосибирск", ("383",), ("Новосибирск", "г. Новосибирск", "Novosibirsk"), 1.2),
    ("Екатеринбург", ("343",), ("Екатеринбург", "Екб", "Yekaterinburg", "Ekaterinburg"), 1.2),
    ("Казань", ("843",), ("Казань", "г. Казань", "Kazan"), 1.0),
    ("Нижний Новгород", ("831",), ("Нижний Новгород", "Н. Новгород", "Nizhny Novgorod"), 1.0),
    ("Челябинск", ("351",), ("Челябинск", "Chelyabinsk"), 0.8),
    ("Самара", ("846",), ("Самара", "Samara"), 0.8),
    ("Ростов-на-Дону", ("863",), ("Ростов-на-Дону", "Ростов", "Rostov-on-Don"), 0.8),
    ("Уфа", ("347",), ("Уфа", "Ufa"), 0.7),
    ("Красноярск", ("391",), ("Красноярск", "Krasnoyarsk"), 0.7),
    ("Пермь", ("342",), ("Пермь", "Perm"), 0.7),
    ("Воронеж", ("473",), ("Воронеж", "Voronezh"), 0.6),
    ("Краснодар", ("861",), ("Краснодар", "Krasnodar"), 0.7),
    ("Тюмень", ("345",), ("Тюмень", "Tyumen"), 0.5),
)
_EN_CITIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], float], ...] = (
    ("New York", "US", ("212", "646", "917"), ("New York", "NYC", "New York City", "new york"), 4.0),
    ("San Francisco", "US", ("415",), ("San Francisco", "SF", "San Francisco, CA"), 2.0),
    ("Chicago", "US", ("312",), ("Chicago", "chicago"), 1.5),
    ("Boston", "US", ("617",), ("Boston", "Boston, MA"), 1.2),
    ("Austin", "US", ("512",), ("Austin", "Austin, TX"), 1.0),
    ("Seattle", "US", ("206",), ("Seattle",), 1.0),
    ("London", "GB", ("20",), ("London", "london", "Лондон"), 3.0),
    ("Manchester", "GB", ("161",), ("Manchester",), 0.8),
    ("Berlin", "DE", ("30",), ("Berlin", "Берлин"), 1.2),
    ("Munich", "DE", ("89",), ("Munich", "München"), 0.8),
)
# more cities a chain's locations abroad open in (generate_companies(chain_rate=) only, after _EN_CITIES): a chain
# has offices in many cities of its country, and the records name no street, so a location is told by its city
_CHAIN_CITIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], float], ...] = tuple(
    (name, country, (area,), spellings, 1.0) for name, country, area, spellings in (
        ("Denver", "US", "303", ("Denver", "Denver, CO")), ("Miami", "US", "305", ("Miami", "Miami, FL")),
        ("Atlanta", "US", "404", ("Atlanta", "Atlanta, GA")), ("Dallas", "US", "214", ("Dallas", "Dallas, TX")),
        ("Phoenix", "US", "602", ("Phoenix", "Phoenix, AZ")), ("Portland", "US", "503", ("Portland", "Portland, OR")),
        ("Houston", "US", "713", ("Houston", "Houston, TX")), ("Detroit", "US", "313", ("Detroit", "Detroit, MI")),
        ("Birmingham", "GB", "121", ("Birmingham",)), ("Leeds", "GB", "113", ("Leeds",)),
        ("Glasgow", "GB", "141", ("Glasgow",)), ("Bristol", "GB", "117", ("Bristol",)),
        ("Liverpool", "GB", "151", ("Liverpool",)), ("Edinburgh", "GB", "131", ("Edinburgh",)),
        ("Sheffield", "GB", "114", ("Sheffield",)), ("Newcastle", "GB", "191", ("Newcastle", "Newcastle upon Tyne")),
        ("Hamburg", "DE", "40", ("Hamburg",)), ("Frankfurt", "DE", "69", ("Frankfurt", "Frankfurt am Main")),
        ("Köln", "DE", "221", ("Köln",)), ("Stuttgart", "DE", "711", ("Stuttgart",)),
        ("Düsseldorf", "DE", "211", ("Düsseldorf", "Duesseldorf")), ("Leipzig", "DE", "341", ("Leipzig",)),
        ("Dresden", "DE", "351", ("Dresden",)), ("Hannover", "DE", "511", ("Hannover", "Hanover")),
    ))
_COUNTRY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "RU": ("Россия", "RU", "Russia", "РФ", "Российская Федерация", "россия"),
    "US": ("USA", "United States", "US", "США", "U.S."),
    "GB": ("United Kingdom", "UK", "GB", "Великобритания", "England"),
    "DE": ("Germany", "Deutschland", "DE", "Германия"),
}
_FREE_DOMAINS_RU = ("gmail.com", "yandex.ru", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "ya.ru", "rambler.ru")
_FREE_DOMAINS_EN = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "aol.com", "proton.me")
_FILLER = ("-", "нет", "n/a", "—", "test", "0", "none", ".")

_OWNERS_RU = ("Петрова Анна", "Сидоров Игорь", "Ким Дмитрий", "Орлова Мария", "Белов Антон", "Никитина Ольга")
_OWNERS_EN = ("Jane Cooper", "Mark Ellis", "Priya Shah", "Tom Baker")
_SOURCES = ("Сайт", "Выставка", "Холодный звонок", "Рекомендация", "Website", "Webinar", "Referral", "Import")
_NOTE_BITS = ("Звонил, просил КП", "Интересуется тарифом Бизнес", "Перезвонить в понедельник", "VIP",
              "Met at conference", "Asked for a demo", "Budget approved", "Не беспокоить до сентября",
              "Отправлен договор", "Decision maker")

# ---------------------------------------------------------------- transliteration (generator-side, several styles)

_TRANSLIT_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y",
    "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
_TRANSLIT_BGN = {**_TRANSLIT_ICAO, "й": "y", "ю": "yu", "я": "ya", "ъ": "", "ё": "yo", "ь": ""}
_TRANSLIT_GERMAN = {**_TRANSLIT_BGN, "в": "w", "ж": "sch", "з": "s", "х": "ch", "ц": "z", "ч": "tsch",
                    "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja", "й": "j", "е": "e", "у": "u"}
_TRANSLIT_SIMPLE = {**_TRANSLIT_BGN, "х": "h", "ц": "c", "щ": "sch", "ю": "ju", "я": "ja", "й": "j"}
_TRANSLIT_STYLES = (_TRANSLIT_ICAO, _TRANSLIT_BGN, _TRANSLIT_BGN, _TRANSLIT_GERMAN, _TRANSLIT_SIMPLE)


def translit(text: str, style: dict[str, str] = _TRANSLIT_BGN) -> str:
    """Latin spelling of Cyrillic ``text`` in one romanization style, keeping capitalization of words."""
    key = (text, id(style))
    hit = _TRANSLIT_CACHE.get(key)
    if hit is not None:
        return hit
    out = []
    for ch in text:
        low = ch.lower()
        rep = style.get(low)
        if rep is None:
            out.append(ch)
        elif ch != low and rep:
            out.append(rep[0].upper() + rep[1:])
        else:
            out.append(rep)
    result = "".join(out)
    if len(_TRANSLIT_CACHE) < 200_000:
        _TRANSLIT_CACHE[key] = result
    return result


_TRANSLIT_CACHE: dict[tuple[str, int], str] = {}


@lru_cache(maxsize=100_000)
def _ascii_slug(text: str) -> str:
    t = translit(text.lower(), _TRANSLIT_BGN)
    return "".join(c for c in t if c.isascii() and c.isalnum())


# ---------------------------------------------------------------- entities


@dataclass
class _Company:
    company_id: int
    ru: bool
    name: str  # without legal form
    name_latin: str  # how the company is spelled in Latin ("Romashka")
    legal_form: str
    domain: str
    city: str
    city_spellings: tuple[str, ...]
    country: str
    office_phone: str  # E.164
    inn: str
    email_pattern: int
    size_weight: float
    role_email: str = ""
    kpp: str = ""  # a branch's own KPP (the head office's is inn[:4] + "01001")
    parent_id: int = 0  # a branch: the head company's id
    sole_trader: bool = False  # an ИП: rendered "ИП Фамилия Имя Отчество"


@dataclass
class _Person:
    entity_id: int
    ru: bool
    female: bool
    first: str
    middle: str
    last: str
    nicknames: tuple[str, ...]
    company: _Company | None
    title: tuple[str, ...]
    work_email: str
    personal_email: str
    mobile: str
    city: str
    city_spellings: tuple[str, ...]
    country: str
    owner: str
    old_company: _Company | None = None
    created_day: int = 0
    notes: list[str] = field(default_factory=list)


class _FastRandom(random.Random):
    """random.Random with cheaper randint/choice (plain float scaling; exact uniformity is not needed here)."""

    def randint(self, a: int, b: int) -> int:  # type: ignore[override]
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):  # type: ignore[no-untyped-def,override]
        return seq[int(self.random() * len(seq))]


def _inn10(rng: random.Random) -> str:
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (i + 1) ** s for i in range(n)]


class _Picker:
    """Weighted choice from a fixed population, fast (bisect on cumulative weights)."""

    def __init__(self, rng: random.Random, items: Sequence, weights: Sequence[float] | None = None) -> None:
        self.rng = rng
        self.items = list(items)
        self.cum = list(accumulate(weights)) if weights is not None else None

    def __call__(self):  # type: ignore[no-untyped-def]
        if self.cum is None:
            return self.items[int(self.rng.random() * len(self.items))]
        return self.items[bisect(self.cum, self.rng.random() * self.cum[-1])]


def _ru_female_surname(last: str) -> str:
    if last.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return last + "а"
    if last.endswith(("ский", "цкий")):
        return last[:-2] + "ая"
    return last


def _make_ru_surname(rng: random.Random, common: _Picker) -> str:
    if rng.random() < 0.6:
        return common()
    root = rng.choice(_RU_SURNAME_ROOTS)
    return root + rng.choice(_RU_SURNAME_SUFFIXES)


def _make_en_surname(rng: random.Random, common: _Picker) -> str:
    if rng.random() < 0.65:
        return common()
    return rng.choice(_EN_SURNAME_ROOTS) + rng.choice(_EN_SURNAME_SUFFIXES)


def _ru_phone(rng: random.Random, area: str) -> str:
    rest = 10 - len(area)
    return "+7" + area + str(rng.randint(10 ** (rest - 1), 10**rest - 1))


def _mobile_ru(rng: random.Random) -> str:
    return "+79" + str(rng.randint(10, 99)) + str(rng.randint(1000000, 9999999))


def _en_phone(rng: random.Random, country: str, area: str) -> str:
    if country == "US":
        return "+1" + area + str(rng.randint(200, 999)) + str(rng.randint(1000, 9999))
    if country == "GB":
        return "+44" + area + str(rng.randint(10**(9 - len(area)), 10 ** (10 - len(area)) - 1))
    return "+49" + area + str(rng.randint(1000000, 9999999))


def _mobile_en(rng: random.Random, country: str) -> str:
    if country == "US":
        return "+1" + str(rng.choice((347, 646, 917, 415, 312, 617, 512, 206))) + str(rng.randint(2000000, 9999999))
    if country == "GB":
        return "+447" + str(rng.randint(100000000, 999999999))
    return "+491" + str(rng.choice((51, 52, 57, 60, 70, 76))) + str(rng.randint(1000000, 99999999))


class _World:
    """Entity factory holding the pickers for one seed."""

    def __init__(self, rng: random.Random, ru_share: float) -> None:
        self.rng = rng
        self.ru_share = ru_share
        self.ru_last = _Picker(rng, _RU_SURNAMES, _zipf_weights(len(_RU_SURNAMES), 0.7))
        self.en_last = _Picker(rng, _EN_SURNAMES, _zipf_weights(len(_EN_SURNAMES), 0.7))
        self.ru_male = _Picker(rng, _RU_MALE, _zipf_weights(len(_RU_MALE), 0.6))
        self.ru_female = _Picker(rng, _RU_FEMALE, _zipf_weights(len(_RU_FEMALE), 0.6))
        self.ru_father = _Picker(rng, _RU_MALE, _zipf_weights(len(_RU_MALE), 0.5))
        self.en_male = _Picker(rng, _EN_MALE, _zipf_weights(len(_EN_MALE), 0.6))
        self.en_female = _Picker(rng, _EN_FEMALE, _zipf_weights(len(_EN_FEMALE), 0.6))
        self.ru_city = _Picker(rng, _RU_CITIES, [c[3] for c in _RU_CITIES])
        self.en_city = _Picker(rng, _EN_CITIES, [c[4] for c in _EN_CITIES])
        self.title = _Picker(rng, _TITLES, [3, 1, 1, 8, 3, 1.5, 1.5, 3, 2, 4, 1.5, 1, 3, 2, 3, 1, 2])
        self.used_domains: set[str] = set()
        self.used_addresses: set[str] = set()

    def unique_address(self, local: str, domain: str) -> str:
        """A mailbox no one else holds: mail servers append a number for the second Ivan Petrov."""
        address = f"{local}@{domain}"
        n = 2
        while address in self.used_addresses:
            address = f"{local}{n}@{domain}"
            n += 1
        self.used_addresses.add(address)
        return address

    def company(self, company_id: int, ru: bool | None = None) -> _Company:
        rng = self.rng
        if ru is None:
            ru = rng.random() < self.ru_share
        if ru:
            r = rng.random()
            if r < 0.4:
                name = rng.choice(_RU_COMPANY_WORDS)
            elif r < 0.8:
                name = rng.choice(_RU_COMPANY_PREFIXES) + rng.choice(_RU_COMPANY_SUFFIXES).lower()
            else:
                name = rng.choice(_RU_COMPANY_PREFIXES) + rng.choice(_RU_COMPANY_SUFFIXES).lower() + " " + \
                    rng.choice(("Групп", "Плюс", "М", "Урал", "Сибирь", "Север", "Юг", "Центр", "2000"))
            legal = rng.choices(("ООО", "АО", "ПАО", "ЗАО", "ИП"), (70, 12, 3, 5, 4))[0]
            latin = translit(name, _TRANSLIT_BGN)
            city = self.ru_city()
            office = _ru_phone(rng, rng.choice(city[1]))
            base = _ascii_slug(name)
            tld = rng.choice((".ru", ".ru", ".ru", ".com", ".рф"))
            tld = ".ru" if tld == ".рф" else tld
            city_name, spellings, country = city[0], city[2], "RU"
            inn = _inn10(rng)
        else:
            first = rng.choice(_EN_COMPANY_FIRST)
            name = first + " " + rng.choice(_EN_COMPANY_SECOND) if rng.random() < 0.8 else first
            city = self.en_city()
            country = city[1]
            legal = {"US": rng.choice(("Inc.", "LLC", "Corp.")), "GB": rng.choice(("Ltd", "PLC", "Ltd")),
                     "DE": "GmbH"}[country]
            latin = name
            office = _en_phone(rng, country, rng.choice(city[2]))
            base = "".join(c for c in name.lower() if c.isalnum())
            tld = {"US": rng.choice((".com", ".io", ".com")), "GB": ".co.uk", "DE": ".de"}[country]
            city_name, spellings = city[0], city[3]
            inn = ""
        domain = base + tld
        n = 2
        while domain in self.used_domains:
            domain = f"{base}{n}{tld}"
            n += 1
        self.used_domains.add(domain)
        return _Company(company_id, ru, name, latin, legal, domain, city_name, spellings, country, office, inn,
                        email_pattern=rng.randint(0, 4), size_weight=0.0,
                        role_email=rng.choice(("info", "sales", "office", "hello", "contact")) + "@" + domain)

    def person(self, entity_id: int, company: _Company | None, ru: bool) -> _Person:
        rng = self.rng
        female = rng.random() < 0.45
        if ru:
            if female:
                first, nicks = self.ru_female()
                last = _ru_female_surname(_make_ru_surname(rng, self.ru_last))
            else:
                first, _, _, nicks = self.ru_male()
                last = _make_ru_surname(rng, self.ru_last)
            father = self.ru_father()
            middle = father[2] if female else father[1]
        else:
            first, nicks = (self.en_female if female else self.en_male)()
            last = _make_en_surname(rng, self.en_last)
            middle = rng.choice(("", "", "", "", "J.", "A.", "M.", "Lee", "Ann", "Marie", "R."))
        if company is not None:
            city, spellings, country = company.city, company.city_spellings, company.country
        elif ru:
            c = self.ru_city()
            city, spellings, country = c[0], c[2], "RU"
        else:
            c = self.en_city()
            city, spellings, country = c[0], c[3], c[1]
        title = self.title() if company is not None or rng.random() < 0.3 else ()
        fl = _ascii_slug(first)
        ll = _ascii_slug(last.replace(" ", ""))
        work = ""
        if company is not None:
            pattern = (f"{fl}.{ll}", f"{fl[:1]}.{ll}", f"{fl[:1]}{ll}", fl, f"{ll}.{fl[:1]}")[company.email_pattern]
            work = self.unique_address(pattern, company.domain)
        free = rng.choice(_FREE_DOMAINS_RU if ru else _FREE_DOMAINS_EN)
        k = int(rng.random() * 7)
        if k == 0:
            personal_local = f"{fl}.{ll}"
        elif k == 1:
            personal_local = f"{fl}{ll}"
        elif k == 2:
            personal_local = f"{ll}.{fl}"
        elif k == 3:
            personal_local = f"{fl}_{ll}{rng.randint(1, 99)}"
        elif k == 4:
            personal_local = f"{fl[:1]}{ll}{rng.randint(60, 99)}"
        elif k == 5:
            personal_local = f"{ll}{rng.randint(1970, 2004)}"
        else:
            personal_local = f"{fl}{rng.randint(100, 999)}"
        personal = self.unique_address(personal_local, free)
        mobile = _mobile_ru(rng) if country == "RU" else _mobile_en(rng, country)
        owner = rng.choice(_OWNERS_RU if ru else _OWNERS_EN)
        return _Person(entity_id, ru, female, first, middle, last, nicks, company, title, work, personal, mobile,
                       city, spellings, country, owner, created_day=rng.randint(0, 2900))


# ---------------------------------------------------------------- rendering (noise)

_KEYBOARD_NEIGHBOURS = {
    "а": "вп", "о": "лр", "е": "кн", "и": "мт", "н": "ег", "т": "иь", "с": "чм", "р": "по", "в": "аы",
    "л": "од", "к": "уе", "м": "си", "д": "лж", "п": "ар", "у": "кц", "я": "ч", "ы": "вф", "ь": "тб",
    "a": "sq", "e": "wr", "i": "uo", "o": "ip", "n": "bm", "r": "et", "s": "ad", "t": "ry", "l": "k",
    "h": "gj", "c": "xv", "d": "sf", "m": "n", "u": "yi",
}


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randint(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1:]  # dropped letter
    if kind < 0.55:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swapped letters
    if kind < 0.75:
        return word[:i] + word[i] + word[i:]  # doubled letter
    near = _KEYBOARD_NEIGHBOURS.get(word[i].lower())
    if near:
        return word[:i] + rng.choice(near) + word[i + 1:]
    return word[:i] + word[i + 1:]


def _case(rng: random.Random, text: str) -> str:
    r = rng.random()
    return text.lower() if r < 0.6 else text.upper()


def format_phone(rng: random.Random, e164: str) -> str:
    """One of the ways people type a phone number (E.164 in, messy text out)."""
    r = rng.random()
    if e164.startswith("+7"):
        d = e164[2:]
        a, b, c, e = d[:3], d[3:6], d[6:8], d[8:]
        options: tuple[str, ...] = (
            f"+7 ({a}) {b}-{c}-{e}", f"8 ({a}) {b}-{c}-{e}", f"8{d}", f"+7{d}", f"8-{a}-{b}-{c}-{e}",
            f"7 {a} {b}{c}{e}", f"({a}) {b}-{c}-{e}", f"+7 {a} {b} {c} {e}", f"8 {a} {b}{c}{e}",
        )
        return options[int(r * len(options))]
    if e164.startswith("+1"):
        d = e164[2:]
        options = (f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}",
                   d, e164, f"1-{d[:3]}-{d[3:6]}-{d[6:]}", f"{d[:3]}.{d[3:6]}.{d[6:]}")
        return options[int(r * len(options))]
    if e164.startswith("+44"):
        d = e164[3:]
        options = (f"+44 {d[:2]} {d[2:6]} {d[6:]}", f"0{d[:2]} {d[2:6]} {d[6:]}", f"+44 (0){d[:2]} {d[2:6]} {d[6:]}",
                   e164, f"0{d}")
        return options[int(r * len(options))]
    d = e164[3:]
    options = (f"+49 {d[:2]} {d[2:]}", f"0{d[:2]} {d[2:]}", e164, f"+49 ({d[:2]}) {d[2:]}")
    return options[int(r * len(options))]


def _company_text(rng: random.Random, c: _Company, latin_ok: bool) -> str:
    name, form = c.name, c.legal_form
    if c.sole_trader:
        return rng.choice((f"ИП {name}", f"ИП {name}", f"{name} ИП", f"Индивидуальный предприниматель {name}"))
    r = rng.random()
    if c.ru:
        if form == "ИП":
            form = "ООО"
        q = rng.choice(("«{}»", '"{}"', "{}", "«{}»"))
        quoted = q.format(name)
        full = {"ООО": "Общество с ограниченной ответственностью", "АО": "Акционерное общество",
                "ПАО": "Публичное акционерное общество", "ЗАО": "Закрытое акционерное общество"}[form]
        latin_form = {"ООО": "LLC", "АО": "JSC", "ПАО": "PJSC", "ЗАО": "CJSC"}[form]
        variants: tuple[str, ...] = (
            f"{form} {quoted}", f"{form} {quoted}", f"{name}, {form}", f"{name} {form}", name, name,
            f"{form.lower()} {name.lower()}", f"{full} {quoted}", f"{form} {name.upper()}",
        )
        if latin_ok and r < 0.08:
            return rng.choice((f"{c.name_latin} {latin_form}", f"{latin_form} {c.name_latin}", f"OOO {c.name_latin}"))
        text = variants[int(rng.random() * len(variants))]
    else:
        variants = (f"{name} {form}", f"{name}, {form}", name, name, f"{name} {form.rstrip('.')}", name.upper(),
                    f"{name.lower()} {form.lower()}", f"The {name}" if rng.random() < 0.2 else name)
        text = variants[int(rng.random() * len(variants))]
    if rng.random() < 0.04:
        text = _typo(rng, text)
    return text


@dataclass
class _Noise:
    """Probabilities of each kind of mess (per rendered record)."""

    name_typo: float = 0.08
    name_case: float = 0.06
    nickname: float = 0.08
    translit: float = 0.10
    swapped: float = 0.05
    initials: float = 0.04
    drop_middle: float = 0.35
    email_missing: float = 0.12
    email_case: float = 0.08
    email_typo: float = 0.015
    phone_missing: float = 0.25
    mobile_missing: float = 0.45
    company_missing: float = 0.08
    title_missing: float = 0.3
    city_missing: float = 0.25
    country_missing: float = 0.4
    inn_missing: float = 0.55
    filler: float = 0.02


def _render_name(rng: random.Random, p: _Person, noise: _Noise, dup: bool) -> tuple[str, str, str, bool]:
    """(first, middle, last, latin?) as typed in this record."""
    first, middle, last = p.first, p.middle, p.last
    scale = 1.0 if dup else 0.35  # the first copy of an entity is cleaner than later ones
    if p.nicknames and rng.random() < noise.nickname * scale:
        first = rng.choice(p.nicknames)
    if rng.random() < noise.drop_middle:
        middle = ""
    latin = False
    if p.ru and rng.random() < noise.translit * scale:
        style = rng.choice(_TRANSLIT_STYLES)
        first, middle, last = translit(first, style), translit(middle, style), translit(last, style)
        latin = True
    if rng.random() < noise.name_typo * scale:
        if rng.random() < 0.7:
            last = _typo(rng, last)
        else:
            first = _typo(rng, first)
    if rng.random() < noise.name_case * scale:
        first, middle, last = _case(rng, first), _case(rng, middle), _case(rng, last)
    return first, middle, last, latin


def _render_email(rng: random.Random, p: _Person, noise: _Noise, prefer_personal: bool) -> tuple[str, str]:
    """(primary email, secondary email) as typed in this record."""
    r = rng.random()
    if r < noise.email_missing:
        return "", ""
    work, personal = p.work_email, p.personal_email
    if p.company is not None and rng.random() < 0.04:
        work = p.company.role_email  # info@company typed instead of the person's address
    if not work or prefer_personal:
        primary, secondary = personal, (work if rng.random() < 0.15 else "")
    else:
        primary, secondary = work, (personal if rng.random() < 0.2 else "")
    if rng.random() < noise.email_case:
        local, _, domain = primary.partition("@")
        primary = (local[:1].upper() + local[1:] if rng.random() < 0.5 else primary.upper()) if local else primary
        primary = primary if "@" in primary else local + "@" + domain
    if rng.random() < noise.email_typo:
        local, _, domain = primary.partition("@")
        primary = _typo(rng, local) + "@" + domain if rng.random() < 0.6 else local + "@" + _typo(rng, domain)
    if rng.random() < 0.02:
        primary = " " + primary + " "
    return primary, secondary


_DAY0 = date(2017, 1, 1).toordinal()


_DAYS = [date.fromordinal(_DAY0 + d) for d in range(3201)]  # day 0 = 2017-01-01; capped in late 2025
_DAYS_ISO = [d.isoformat() for d in _DAYS]
_DAYS_RU = [f"{d.day:02d}.{d.month:02d}.{d.year}" for d in _DAYS]


def _day_text(rng: random.Random, day: int, ru: bool) -> str:
    day = min(day, 3200)
    clock = f"{8 + int(rng.random() * 12):02d}:{int(rng.random() * 60):02d}"
    if ru and rng.random() < 0.6:
        return f"{_DAYS_RU[day]} {clock}"
    return f"{_DAYS_ISO[day]} {clock}:00"


_HEADERS: dict[str, dict[str, str]] = {
    "ru": {"id": "Id", "full_name": "ФИО", "email": "Email", "email2": "Личный email", "phone": "Телефон",
           "mobile": "Мобильный телефон", "company": "Компания", "job_title": "Должность", "city": "Город",
           "country": "Страна", "inn": "ИНН", "owner": "Ответственный", "lead_source": "Источник",
           "notes": "Комментарий", "created_at": "Дата создания", "updated_at": "Дата изменения"},
    "en": {"id": "Id", "first_name": "First Name", "last_name": "Last Name", "email": "Email",
           "email2": "Personal Email", "phone": "Phone", "mobile": "Mobile", "company": "Company",
           "job_title": "Title", "city": "City", "country": "Country", "inn": "INN", "owner": "Owner",
           "lead_source": "Lead Source", "notes": "Notes", "created_at": "Created Date",
           "updated_at": "Last Modified Date"},
    "ru_split": {"id": "Id", "last_name": "Фамилия", "first_name": "Имя", "middle_name": "Отчество",
                 "email": "E-mail", "email2": "Личный email", "phone": "Рабочий телефон",
                 "mobile": "Мобильный телефон", "company": "Организация", "job_title": "Должность",
                 "city": "Город", "country": "Страна", "inn": "ИНН организации", "owner": "Ответственный",
                 "lead_source": "Источник", "notes": "Примечание", "created_at": "Дата создания",
                 "updated_at": "Дата изменения"},
    "mixed": {"id": "ID", "full_name": "ФИО", "email": "E-mail", "email2": "Email 2", "phone": "Phone",
              "mobile": "Моб. телефон", "company": "Company Name", "job_title": "Должность", "city": "City",
              "country": "Страна", "inn": "ИНН", "owner": "Contact Owner", "lead_source": "Источник",
              "notes": "Notes", "created_at": "Created Date", "updated_at": "Дата изменения"},
}


def contact_headers(style: HeaderStyle) -> dict[str, str]:
    """Role -> column header that :func:`generate_contacts` uses for ``style``."""
    return dict(_HEADERS[style])


def _cluster_sizes(rng: random.Random, n: int, duplicate_rate: float) -> list[int]:
    """Records per entity, adding up to ``n``, with about ``duplicate_rate`` of records being extra copies."""
    mean_extra = 1.45  # from the size mix below: 2 (70 %), 3 (20 %), 4-5 (10 %)
    q = duplicate_rate / (mean_extra * (1 - duplicate_rate)) if duplicate_rate < 1 else 1.0
    q = min(max(q, 0.0), 1.0)
    sizes: list[int] = []
    total = 0
    while total < n:
        if rng.random() < q:
            r = rng.random()
            size = 2 if r < 0.7 else 3 if r < 0.9 else rng.randint(4, 5)
        else:
            size = 1
        size = min(size, n - total)
        sizes.append(size)
        total += size
    return sizes


def generate_contacts(
    n: int,
    seed: int = 0,
    *,
    duplicate_rate: float = 0.25,
    headers: HeaderStyle = "ru",
    ru_share: float = 0.6,
    namesake_rate: float = 0.04,
    job_change_rate: float = 0.04,
    companies_per_person: float = 0.12,
    noise: _Noise | None = None,
    first_id: int = 100001,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` contact records (all String columns) and their truth ``record_id, entity_id, company_id``.

    ``duplicate_rate`` is the share of records that are extra copies of an entity already
    present; ``namesake_rate`` the share of entities that reuse another entity's name
    (different people); ``job_change_rate`` the share of duplicate records showing a
    previous employer. ``headers`` picks the column names: ``ru`` (one ФИО column),
    ``ru_split`` (Фамилия/Имя/Отчество), ``en`` (First/Last Name) or ``mixed``.
    """
    rng = _FastRandom(seed)
    noise = noise or _Noise()
    world = _World(rng, ru_share)
    sizes = _cluster_sizes(rng, n, duplicate_rate)
    n_entities = len(sizes)

    n_companies = max(1, int(n_entities * companies_per_person))
    companies = [world.company(i + 1) for i in range(n_companies)]
    # company sizes follow a damped power law: a few big accounts hold hundreds of contacts
    comp_pick = _Picker(rng, companies, [1.0 / (i + 20) for i in range(n_companies)])
    ru_companies = [c for c in companies if c.ru] or companies
    en_companies = [c for c in companies if not c.ru] or companies
    ru_pick = _Picker(rng, ru_companies, [1.0 / (i + 20) for i in range(len(ru_companies))])
    en_pick = _Picker(rng, en_companies, [1.0 / (i + 20) for i in range(len(en_companies))])

    people: list[_Person] = []
    for eid in range(1, n_entities + 1):
        company: _Company | None
        if rng.random() < 0.12:
            company = None
            ru = rng.random() < ru_share
        else:
            company = comp_pick()
            ru = company.ru if rng.random() < 0.93 else not company.ru
        p = world.person(eid, company, ru)
        if people and rng.random() < namesake_rate:
            # a namesake: another person's first and last name, everything else their own
            other = people[int(rng.random() * len(people))]
            if other.ru == p.ru and other.female == p.female:
                p.first, p.last, p.nicknames = other.first, other.last, other.nicknames
                if rng.random() < 0.2 and other.company is not None:
                    # the hardest case: a namesake at the same company (father and son, different patronymic)
                    p.company = other.company
                    p.city, p.city_spellings, p.country = other.city, other.city_spellings, other.country
                fl, ll = _ascii_slug(p.first), _ascii_slug(p.last.replace(" ", ""))
                if p.company is not None:
                    p.work_email = world.unique_address(f"{fl[:1]}{ll}", p.company.domain)
                p.personal_email = world.unique_address(f"{fl}.{ll}{rng.randint(10, 99)}",
                                                        rng.choice(_FREE_DOMAINS_RU if p.ru else _FREE_DOMAINS_EN))
        if rng.random() < job_change_rate * 4:
            p.old_company = (ru_pick if p.ru else en_pick)()
        people.append(p)

    style = _HEADERS[headers]
    roles = list(style)
    columns: dict[str, list[str | None]] = {role: [] for role in roles}
    entity_ids: list[int] = []
    company_ids: list[int] = []
    append = {role: columns[role].append for role in roles}
    has_full = "full_name" in style
    has_middle = "middle_name" in style
    latin_companies = headers in ("en", "mixed")
    for p, size in zip(people, sizes, strict=True):
        prefer_personal_all = rng.random() < 0.12
        for copy in range(size):
            dup = copy > 0
            company = p.company
            title = p.title
            if dup and p.old_company is not None and rng.random() < 0.25:
                company = p.old_company
                title = world.title()
            first, middle, last, latin = _render_name(rng, p, noise, dup)
            # name columns
            swapped = rng.random() < noise.swapped * (1.0 if dup else 0.3)
            if has_full:
                if p.ru and not latin:
                    if rng.random() < noise.initials * (1.0 if dup else 0.3):
                        initials = first[:1] + "." + (middle[:1] + "." if middle else "")
                        full = f"{last} {initials}"
                    elif swapped or rng.random() < 0.12:
                        full = f"{first} {last}" if not middle or rng.random() < 0.5 else f"{first} {middle} {last}"
                    else:
                        full = " ".join(x for x in (last, first, middle) if x)
                else:
                    full = " ".join(x for x in ((last, first) if swapped else (first, last)) if x)
                if rng.random() < 0.01:
                    full = "  " + full.replace(" ", "  ") + " "
                append["full_name"](full)
            else:
                if swapped:
                    first, last = last, first
                append["first_name"](first or None)
                append["last_name"](last or None)
                if has_middle:
                    append["middle_name"](middle if p.ru and middle else None)
            prefer_personal = prefer_personal_all or (dup and rng.random() < 0.25) or company is not p.company
            email, email2 = _render_email(rng, p, noise, prefer_personal)
            if company is not p.company and email == p.work_email:
                email = p.personal_email
            if rng.random() < noise.filler:
                email = rng.choice(_FILLER)
            append["email"](email or None)
            append["email2"](email2 or None)
            # phones: the office switchboard (shared by colleagues) and the mobile (personal)
            office = company.office_phone if company is not None else ""
            phone_text = format_phone(rng, office) if office and rng.random() > noise.phone_missing else ""
            if office and phone_text and company is not None and rng.random() < 0.08:
                phone_text += rng.choice((" доб. ", " ext. ", " #")) + str(rng.randint(100, 999))
            mobile_text = format_phone(rng, p.mobile) if rng.random() > noise.mobile_missing else ""
            if not office and not mobile_text and rng.random() < 0.5:
                mobile_text = format_phone(rng, p.mobile)
            if rng.random() < 0.15 and mobile_text and not phone_text:
                phone_text, mobile_text = mobile_text, ""  # mobile typed into the main phone field
            if rng.random() < noise.filler:
                phone_text = rng.choice(("000", "-", "нет", "0000000"))
            append["phone"](phone_text or None)
            append["mobile"](mobile_text or None)
            comp_text = ""
            if company is not None and rng.random() > noise.company_missing:
                comp_text = _company_text(rng, company, latin_companies or latin)
            append["company"](comp_text or None)
            title_text = ""
            if title and rng.random() > noise.title_missing:
                title_text = title[int(rng.random() * len(title))] if rng.random() < 0.6 else title[
                    0 if not p.ru else 1]
            append["job_title"](title_text or None)
            append["city"](p.city_spellings[int(rng.random() * len(p.city_spellings))]
                           if rng.random() > noise.city_missing else None)
            spellings = _COUNTRY_SPELLINGS.get(p.country, (p.country,))
            append["country"](spellings[int(rng.random() * len(spellings))]
                              if rng.random() > noise.country_missing else None)
            append["inn"](company.inn if company is not None and company.inn and rng.random() > noise.inn_missing
                          else None)
            owner = p.owner if not dup or rng.random() < 0.6 else rng.choice(_OWNERS_RU if p.ru else _OWNERS_EN)
            append["owner"](owner)
            append["lead_source"](rng.choice(_SOURCES) if rng.random() < 0.6 else None)
            append["notes"](rng.choice(_NOTE_BITS) if rng.random() < 0.15 else None)
            created = p.created_day + (rng.randint(1, 400) if dup else 0)
            append["created_at"](_day_text(rng, created, p.ru))
            append["updated_at"](_day_text(rng, created + rng.randint(0, 300), p.ru))
            entity_ids.append(p.entity_id)
            company_ids.append(company.company_id if company is not None else 0)

    total = len(entity_ids)
    order = list(range(total))
    rng.shuffle(order)  # duplicates are never neighbours in a real export
    ids = pl.int_range(first_id, first_id + total, eager=True).cast(pl.String)
    shuffled = pl.DataFrame(
        {style[role]: pl.Series(columns[role], dtype=pl.String) for role in roles if role != "id"}
        | {"__entity": pl.Series(entity_ids, dtype=pl.Int64), "__company": pl.Series(company_ids, dtype=pl.Int64)}
    )[order]
    frame = shuffled.select(ids.alias(style["id"]), *[style[r] for r in roles if r != "id"])
    truth = pl.DataFrame({"record_id": ids, "entity_id": shuffled["__entity"], "company_id": shuffled["__company"]})
    return frame, truth


# ---------------------------------------------------------------- companies


_COMPANY_HEADERS: dict[str, dict[str, str]] = {
    "ru": {"id": "Id", "company": "Наименование", "inn": "ИНН", "kpp": "КПП", "website": "Сайт",
           "phone": "Телефон", "email": "Email", "city": "Город", "country": "Страна", "industry": "Отрасль",
           "owner": "Ответственный", "created_at": "Дата создания", "updated_at": "Дата изменения"},
    "en": {"id": "Id", "company": "Account Name", "inn": "Tax ID", "kpp": "KPP", "website": "Website",
           "phone": "Phone", "email": "Email", "city": "Billing City", "country": "Billing Country",
           "industry": "Industry", "owner": "Account Owner", "created_at": "Created Date",
           "updated_at": "Last Modified Date"},
}
_INDUSTRIES = ("Строительство", "Ритейл", "IT", "Производство", "Логистика", "Финансы", "Healthcare",
               "Manufacturing", "Software", "Energy", "Агро", "Образование")


def generate_companies(
    n: int,
    seed: int = 0,
    *,
    duplicate_rate: float = 0.25,
    headers: Literal["ru", "en"] = "ru",
    ru_share: float = 0.7,
    same_name_rate: float = 0.05,
    branch_rate: float = 0.0,
    inn_clash_rate: float = 0.0,
    chain_rate: float = 0.0,
    first_id: int = 500001,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` company/account records and truth ``record_id, entity_id, company_id, parent_id``.

    Duplicates differ in legal-form spelling, quotes, case, website form (https://www.x.ru/ vs
    x.ru), phone format and missing INN; ``same_name_rate`` of companies are different
    companies sharing another's name in another city (franchises, namesakes).

    ``branch_rate``: share of entities that are a branch (обособленное подразделение) of an earlier
    Russian company: the same name (sometimes with "филиал <city>"), the same INN and usually the same
    website, its own KPP (reason code 43), city and phone; truth ``parent_id`` names the head company,
    and a branch is its own entity (never to be merged with the head). ``inn_clash_rate``: share of
    entities that are a sole trader (ИП) whose records carry an earlier organization's INN (a typo in
    the CRM): a different entity that must not merge with the ООО. Both default to 0 (the classic set).

    ``chain_rate``: share of entities that are another location of an earlier foreign company (a chain abroad: the
    same name, legal form, website and registration number, its own city in the same country and its own phone);
    truth ``parent_id`` names the chain's first location, and a location is its own entity. With ``chain_rate`` > 0
    foreign companies carry their registration number in the tax-id cell (a GB / DE VAT number, a US EIN, as
    people type them); with 0 (the default) the generated frames are those of earlier versions, byte for byte.
    """
    rng = _FastRandom(seed)
    world = _World(rng, ru_share)
    sizes = _cluster_sizes(rng, n, duplicate_rate)
    comps: list[_Company] = []
    heads: list[_Company] = []
    chains: list[_Company] = []  # foreign companies a later entity may be another location of (chain_rate)
    chain_cities: dict[int, set[str]] = {}  # the cities each chain is in
    for i, _size in enumerate(sizes):
        c = world.company(i + 1)
        if comps and rng.random() < same_name_rate:
            other = comps[int(rng.random() * len(comps))]
            if other.ru == c.ru:
                c.name, c.name_latin = other.name, other.name_latin
        if chain_rate and not c.ru:
            c = replace(c, inn=_foreign_tax_id(rng, c.country))
        if branch_rate and heads and rng.random() < branch_rate:
            c = _branch_of(rng, world, heads[int(rng.random() * len(heads))], i + 1)
        elif inn_clash_rate and heads and rng.random() < inn_clash_rate:
            c = _sole_trader(world, c, heads[int(rng.random() * len(heads))].inn)
        elif chain_rate and chains and rng.random() < chain_rate:
            first = chains[int(rng.random() * len(chains))]
            c = _location_of(rng, world, first, i + 1, chain_cities.setdefault(first.company_id, set()))
        elif c.ru and c.inn and not c.parent_id and not c.sole_trader and (branch_rate or inn_clash_rate):
            heads.append(c)
        elif chain_rate and not c.ru:
            chains.append(c)
        comps.append(c)
    style = _COMPANY_HEADERS[headers]
    cols: dict[str, list[str | None]] = {role: [] for role in style}
    eids: list[int] = []
    parents: list[int | None] = []
    for c, size in zip(comps, sizes, strict=True):
        created = rng.randint(0, 2900)
        industry = rng.choice(_INDUSTRIES)
        for copy in range(size):
            dup = copy > 0
            cols["company"].append(_company_text(rng, c, headers == "en"))
            cols["inn"].append((c.inn if c.ru else _tax_id_text(rng, c.inn))
                               if c.inn and rng.random() > (0.35 if dup else 0.15) else None)
            cols["kpp"].append((c.kpp or c.inn[:4] + "01001") if c.inn and c.ru and not c.sole_trader
                               and rng.random() < (0.85 if c.parent_id else 0.4) else None)
            r = rng.random()
            site = None
            if r < 0.75:
                site = rng.choice((c.domain, "www." + c.domain, "https://" + c.domain, f"https://www.{c.domain}/",
                                   "http://" + c.domain))
            cols["website"].append(site)
            cols["phone"].append(format_phone(rng, c.office_phone) if rng.random() < 0.7 else None)
            cols["email"].append(c.role_email if rng.random() < 0.5 else None)
            cols["city"].append(rng.choice(c.city_spellings) if rng.random() < 0.8 else None)
            spellings = _COUNTRY_SPELLINGS.get(c.country, (c.country,))
            cols["country"].append(rng.choice(spellings) if rng.random() < 0.6 else None)
            cols["industry"].append(industry if rng.random() < 0.7 else None)
            cols["owner"].append(rng.choice(_OWNERS_RU if c.ru else _OWNERS_EN))
            day = created + (rng.randint(1, 300) if dup else 0)
            cols["created_at"].append(_day_text(rng, day, c.ru))
            cols["updated_at"].append(_day_text(rng, day + rng.randint(0, 200), c.ru))
            eids.append(c.company_id)
            parents.append(c.parent_id or None)
    order = list(range(len(eids)))
    rng.shuffle(order)
    ids = [str(first_id + i) for i in range(len(eids))]
    data: dict[str, pl.Series] = {style["id"]: pl.Series(ids, dtype=pl.String)}
    for role, header in style.items():
        if role != "id":
            data[header] = pl.Series([cols[role][i] for i in order], dtype=pl.String)
    truth = pl.DataFrame({
        "record_id": ids,
        "entity_id": pl.Series([eids[i] for i in order], dtype=pl.Int64),
        "company_id": pl.Series([eids[i] for i in order], dtype=pl.Int64),
        "parent_id": pl.Series([parents[i] for i in order], dtype=pl.Int64),
    })
    return pl.DataFrame(data), truth


def _branch_of(rng: random.Random, world: _World, head: _Company, company_id: int) -> _Company:
    """A branch of ``head``: same INN, own KPP (reason code 43), another city and phone, mostly the same site."""
    city = world.ru_city()
    while city[0] == head.city and len(_RU_CITIES) > 1:
        city = world.ru_city()
    name = head.name if rng.random() < 0.7 else f"{head.name} филиал {city[0]}"
    domain = head.domain
    if rng.random() < 0.3:
        domain = f"{(_ascii_slug(city[0]) or 'filial')[:8]}.{head.domain}"
    kpp = head.inn[:2] + f"{rng.randint(1, 99):02d}" + "43" + f"{rng.randint(1, 999):03d}"
    return replace(head, company_id=company_id, name=name, city=city[0], city_spellings=city[2],
                   office_phone=_ru_phone(rng, rng.choice(city[1])), domain=domain, kpp=kpp, parent_id=head.company_id,
                   role_email=rng.choice(("info", "sales", "office", "filial")) + "@" + domain)


def _location_of(rng: random.Random, world: _World, first: _Company, company_id: int,
                 taken: set[str]) -> _Company:
    """Another location of the foreign company ``first`` (a chain): the same name, legal form, site and registration
    number, its own city in the same country (one the chain is not in yet, from ``_CHAIN_CITIES`` once the common
    cities are taken: the records name no street, so two places in one city would differ by their phone alone,
    which is one office's second line as often) and its own phone and mailbox."""
    taken.add(first.city)
    city = world.en_city()
    for _ in range(50):
        if city[1] == first.country and city[0] not in taken:
            break
        city = world.en_city()
    else:  # every city of the country holds one already: another city of the country (a chain's own list)
        city = next((c for c in _CHAIN_CITIES if c[1] == first.country and c[0] not in taken),
                    next(c for c in _EN_CITIES if c[0] == first.city))  # all taken: another office in its city
    taken.add(city[0])
    return replace(first, company_id=company_id, city=city[0], city_spellings=city[3], parent_id=first.company_id,
                   office_phone=_en_phone(rng, first.country, rng.choice(city[2])),
                   role_email=rng.choice(("info", "sales", "office", "hello", "contact")) + "@" + first.domain)


def _foreign_tax_id(rng: random.Random, country: str) -> str:
    """A valid registration number of a company of ``country`` (canonical, with its country prefix; an EIN as
    NN-NNNNNNN): a GB or DE VAT number, a US EIN (python-stdnum validates them)."""
    from stdnum import get_cc_module
    from stdnum.us import ein

    vat = None if country == "US" else get_cc_module(country.lower(), "vat")
    while True:
        if vat is None:
            number = f"{rng.randint(10, 99)}-{rng.randint(0, 9999999):07d}"
            if ein.is_valid(number):
                return number
        else:
            number = f"{country}{rng.randint(100000000, 999999999)}"
            if vat.is_valid(number):
                return number


def _tax_id_text(rng: random.Random, number: str) -> str:
    """A foreign registration number as people type it: compact, spaced, without its prefix (an EIN as is)."""
    if "-" in number:
        return rng.choice((number, number, number.replace("-", " ")))
    cc, digits = number[:2], number[2:]
    return rng.choice((number, number, f"{cc} {digits}", f"{cc} {digits[:3]} {digits[3:7]} {digits[7:]}",
                       f"{cc}-{digits}"))


def _sole_trader(world: _World, c: _Company, clashing_inn: str) -> _Company:
    """An ИП (a person's name) whose CRM records carry ``clashing_inn``, an organization's INN, by mistake."""
    first, middle, _, _ = world.ru_male()
    last = _make_ru_surname(world.rng, world.ru_last)
    return replace(c, ru=True, name=f"{last} {first} {middle}", name_latin=translit(f"{last} {first}"),
                   legal_form="ИП", inn=clashing_inn, sole_trader=True, country="RU")


# ---------------------------------------------------------------- truth helpers


def true_pairs(truth: pl.DataFrame, key: str = "entity_id") -> set[tuple[str, str]]:
    """Every pair of record ids (sorted within the pair) that belong to one entity."""
    pairs: set[tuple[str, str]] = set()
    groups = truth.group_by(key).agg(pl.col("record_id")).filter(pl.col("record_id").list.len() > 1)
    for ids in groups.get_column("record_id").to_list():
        for a, b in combinations(sorted(ids), 2):
            pairs.add((a, b))
    return pairs


def pairwise_scores(predicted: set[tuple[str, str]], truth_pairs: set[tuple[str, str]]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of predicted same-entity pairs against the truth."""
    tp = len(predicted & truth_pairs)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth_pairs) if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp,
            "fp": len(predicted) - tp, "fn": len(truth_pairs) - tp}


def cluster_pairs(record_ids: Sequence[str], cluster_ids: Sequence[str]) -> set[tuple[str, str]]:
    """Same-cluster pairs from a clustering (record_id -> cluster_id), sorted within the pair."""
    groups: dict[str, list[str]] = {}
    for rid, cid in zip(record_ids, cluster_ids, strict=True):
        groups.setdefault(cid, []).append(rid)
    out: set[tuple[str, str]] = set()
    for ids in groups.values():
        if len(ids) > 1:
            out.update(combinations(sorted(ids), 2))
    return out


def write_csv(frame: pl.DataFrame, path: str, *, excel_ru: bool = False) -> None:
    """Write a generated frame like a CRM export: UTF-8 CSV, or cp1251 with ``;`` (Russian Excel)."""
    if excel_ru:
        text = frame.write_csv(separator=";")
        with open(path, "wb") as fh:
            fh.write(text.encode("cp1251", errors="replace"))
    else:
        frame.write_csv(path)


__all__: list[str] = [
    "HeaderStyle",
    "cluster_pairs",
    "contact_headers",
    "format_phone",
    "generate_companies",
    "generate_contacts",
    "pairwise_scores",
    "translit",
    "true_pairs",
    "write_csv",
]
