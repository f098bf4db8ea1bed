"""NAME001-004: proper case, salutations, full-name split (ФИО, initials), swapped first/last."""

from __future__ import annotations

import polars as pl

from tests._std_helpers import column, run


def test_salutations_and_suffixes_move_out():
    result = run({"Full Name": ["Dr. John Smith", "г-жа Петрова Анна"], "Salutation": [None, "Ms"]}, "NAME002")
    assert column(result, "Full Name") == ["John Smith", "Петрова Анна"]
    assert column(result, "Salutation") == ["Dr.", "Ms"]
    assert column(result, "Full Name__salutation") == [None, "г-жа"]  # the salutation column was taken


def test_split_fills_empty_part_columns_of_the_same_record():
    result = run({"ФИО": ["Сидоров Пётр Петрович", "Smith John"], "Имя": [None, None], "Фамилия": [None, "Smith"]},
                 "NAME003", roles={"Имя": "first_name", "Фамилия": "last_name"})
    assert column(result, "Имя") == ["Пётр", "John"]
    assert column(result, "Фамилия") == ["Сидоров", "Smith"]
    assert set(result.changes.get_column("confidence")) == {"fix"}


def test_swapped_first_and_last_are_proposed():
    result = run({"First Name": ["Иванов", "John", "Smith"], "Last Name": ["Иван", "Smith", "John"]}, "NAME004")
    assert column(result, "First Name") == ["Иванов", "John", "Smith"]  # suggestions only
    sugg = result.changes.filter(pl.col("column") == "First Name")
    assert sugg.get_column("record_id").to_list() == ["1", "3"]
    assert sugg.get_column("after").to_list() == ["Иван", "John"]
    assert set(result.changes.get_column("confidence")) == {"suggest"}


def test_a_split_the_record_contradicts_fills_nothing():
    # probe (session 10): "Ким Ен Чер" (Фамилия Ким, Имя "Ен Чер") filled Отчество "Ен" and "Салимов Ахмед оглы"
    # (Имя Ахмед) filled Отчество "Ахмед оглы": the split read Ким / Салимов as a first name, which the record's
    # own columns deny; an initial agreeing with the held name ("Иванов И.И.", Имя Иван) is no contradiction
    result = run({"ФИО": ["Ким Ен Чер", "Салимов Ахмед оглы", "Иванов И.И.", "Алиев Рашид Гусейн оглы",
                          "Семенов Петр Алексеевич"],
                  "Фамилия": ["Ким", "Салимов", "Иванов", "Алиев", "Семёнов"],
                  "Имя": ["Ен Чер", "Ахмед", "Иван", "Рашид", None],
                  "Отчество": [None, None, None, None, None]}, "NAME003")
    assert column(result, "Отчество") == [None, None, "И.", "Гусейн оглы", "Алексеевич"]
    assert column(result, "Имя") == ["Ен Чер", "Ахмед", "Иван", "Рашид", "Петр"]


def test_stacked_and_couples_salutations_transliterated_fio_and_two_people():
    # probe (session 10): 'Prof. Dr. Hans-Peter Müller' kept 'Dr.' in the name; 'Mr. & Mrs. John Smith' became
    # '& Mrs. John Smith'; 'John and Jane Smith' became 'John And Jane Smith' with first name 'and Jane' proposed;
    # 'Ivanov Ivan Ivanovich' filled First Name 'Ivanov', Last Name 'Ivanovich'; 'Ivanov I.I.' first name 'Ivanov'
    names = ["Prof. Dr. Hans-Peter Müller", "Mr. & Mrs. John Smith", "John and Jane Smith", "Ivanov Ivan Ivanovich",
             "Ivanov I.I.", "John Paul Jovanovich"]
    empty: list[str | None] = [None] * len(names)
    result = run({"Name": names, "First Name": empty, "Last Name": empty}, "NAME001", "NAME002", "NAME003",
                 roles={"Name": "full_name", "First Name": "first_name", "Last Name": "last_name"})
    assert column(result, "Name") == ["Hans-Peter Müller", "John Smith", "John and Jane Smith",
                                      "Ivanov Ivan Ivanovich", "Ivanov I.I.", "John Paul Jovanovich"]
    assert result.derived.get_column("Name__salutation").to_list()[:2] == ["Prof. Dr.", "Mr. & Mrs."]
    assert column(result, "First Name") == ["Hans-Peter", "John", None, "Ivan", "I.", "John"]
    assert column(result, "Last Name") == ["Müller", "Smith", None, "Ivanov", "Ivanov", "Jovanovich"]
    assert result.changes.filter(pl.col("record_id") == "3").is_empty()


def test_titles_and_suffixes_nameparser_lacks_and_a_first_name_with_a_last_initial():
    # probablepeople's labeled person names (tests/data/precision/names_pp_public.tsv, tune part): 'Congressman
    # Peter Roskam' had first name Congressman, 'edwin belz attorney' last name 'attorney'; 'Jim B.' is Jim B.
    from crmclean.fields.names import parse_full_name

    cases = {"Congressman Peter Roskam": ("Peter", None, "Roskam"), "Reverend David Jeremiah": ("David", None, "Jeremiah"),
             "edwin belz attorney": ("edwin", None, "belz"), "richard a. shapiro attorney at law": ("richard", "a.", "shapiro"),
             "Jim B.": ("Jim", None, "B."), "Ivanov I.I.": ("I.", "I.", "Ivanov")}
    for value, parts in cases.items():
        p = parse_full_name(value)
        assert (p.first, p.middle, p.last) == parts, value


def test_three_cyrillic_words_without_a_patronymic_are_split_only_as_a_guess():
    # probe (session 10): 'Ким Ен Чер' with empty part columns was filled First Ким, Middle Ен, Last Чер as a fix
    result = run({"ФИО": ["Ким Ен Чер", "Иванов Иван Иванович"], "Имя": [None, None], "Фамилия": [None, None]},
                 "NAME003")
    assert column(result, "Имя") == [None, "Иван"]
    suggested = result.changes.filter(pl.col("confidence") == "suggest")
    assert set(suggested.get_column("record_id").to_list()) == {"1"}


def test_saint_keeps_its_capital():
    # probe (session 10): 'ST. JOHN' was re-cased 'st. John' ("st." is a particle for the split, not a small word)
    result = run({"Last Name": ["ST. JOHN", "st. clair", "VAN DER BERG"]}, "NAME001")
    assert column(result, "Last Name") == ["St. John", "St. Clair", "van der Berg"]
