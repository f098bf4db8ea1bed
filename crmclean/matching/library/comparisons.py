"""The comparison library as data: for each field, the levels of agreement a pair of records can show.

A :class:`Comparison` is a list of :class:`Level` declarations, first match wins, the last one
``Else`` ("different"); ``null_when`` says when the pair is neutral (a value missing: never
evidence against). Each level carries default m (P(level | same entity)) and u (P(level |
different entities)); levels flagged ``tf`` take u from how common the agreed value is (a
surname or office phone shared by many records proves little). Nothing here executes: a
backend (``crmclean.matching.backends.polars``) renders the conditions, like splink's
comparison library rendered per database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from crmclean.matching.library.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Else,
    Exact,
    Fuzzy,
    MinLength,
    Missing,
    NameSwap,
    Not,
    Predicate,
    Shares,
    TfDistinct,
    TfLeft,
    TfShared,
    TfSource,
)

ELSE: Final = Else()  # the condition of every comparison's last level


@dataclass(frozen=True)
class Level:
    """One level of agreement: its name, default m and u, whether u comes from term frequency, and its condition."""

    name: str
    m: float
    u: float
    tf: bool = False
    description: str = ""
    group: str | None = None  # correlated evidence group: positive weights in one group are not double-counted
    # evidence mostly explained by other comparisons (a mailbox name spelled from the person's name):
    # it adds only what those comparisons' positive weights do not already say
    subsumed_by: tuple[str, ...] = ()
    when: Condition = ELSE
    tf_source: TfSource | None = None  # u for this level from another column than the comparison's
    # a pair at this level is never merged, whatever else agrees (a branch of one legal entity, an ИП vs an ООО)
    veto: bool = False
    neutral: bool = False  # no evidence either way (weight 0, whatever m/u estimation says)
    # u is a judgement, not a frequency random pairs can estimate (they never share an INN, so a level
    # "same INN in another city" would look like strong evidence): estimate_u leaves it alone
    estimate: bool = True
    # a pair at this level is never merged automatically: a steward decides (review), whatever its score
    review_only: bool = False
    # what a person's move to another employer makes disagree: "employer" (another company, INN) and what
    # "follows" it (office line, work address, job title); a cross pair of a cluster merge that shows another
    # employer counts these once, as one fact (scoring.cross_weight)
    job_change: str = ""
    # the group (``group``) whose agreement this level explains: it holds only for two records of one organization
    # (two mailboxes at one company domain, an office line each answers beside their own number), so the company,
    # INN, city and shared line agreeing say nothing more for such a pair (backends.polars.weights)
    explains: str | None = None
    # one person's two records practically never show this level (two cities, two countries, each their own mobile
    # and none in common): a cross pair of a cluster merge at it that is no likelier one record than two refuses the
    # merge, however rare the names it shares (scoring.cross_weight)
    refutes: bool = False


@dataclass(frozen=True)
class Comparison:
    """A field comparison: its levels (conditions + m/u), when it is neutral, and how to show the values."""

    name: str
    title: str
    levels: tuple[Level, ...]
    null_when: Condition
    tf: TfSource | None = None  # u of tf levels (unless a level names its own source)
    display: tuple[str, ...] = ()  # feature columns shown in explanations
    # True when agreement here can corroborate a name match (email, phone, company, INN, birth date ...);
    # False for names themselves and weak fields (city, job title): namesakes agree on those
    corroborates: bool = True
    # weak fields never say more than this many bits for a match, however rare the value (city, title)
    max_weight: float | None = None

    def __post_init__(self) -> None:
        if not self.levels or not isinstance(self.levels[-1].when, Else):
            raise ValueError(f"comparison {self.name!r}: the last level must be Else")
        if any(isinstance(lv.when, Else) for lv in self.levels[:-1]):
            raise ValueError(f"comparison {self.name!r}: only the last level may be Else")

    @property
    def tf_column(self) -> str | None:
        return self.tf.column if self.tf is not None else None

    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def with_overrides(self, m: dict[str, float] | None = None, u: dict[str, float] | None = None) -> Comparison:
        levels = tuple(
            replace(lv, m=(m or {}).get(lv.name, lv.m), u=(u or {}).get(lv.name, lv.u)) for lv in self.levels
        )
        return replace(self, levels=levels)


# the swap of first/last names every people comparison set is computed after
NAME_SWAP = NameSwap()

_ORG = "organization"  # company, INN, city, switchboard and shared mailbox all say "same organization"
_NAME = ("first_name", "last_name")  # what a mailbox name like ivan.petrov@ is spelled from


def _jw(column: str, t: float) -> Fuzzy:
    return Fuzzy(column, "jaro_winkler", t)


def _company_levels(m: Sequence[float], u: Sequence[float], desc: Sequence[str], group: str | None) -> tuple[
        tuple[Level, ...], Condition]:
    """Company keys; where one side has no company, its work-email domain stands in (rosskholding.ru ~ Россхолдинг)."""
    by_domain = Predicate("domain_names_company", ("company_key", "org_domain"))
    conds: list[Condition] = [
        Exact("company_key"),
        AnyOf((Fuzzy("company_text", "token_set", 0.92), _jw("company_key", 0.94))),
        AnyOf((Fuzzy("company_text", "token_set", 0.75), _jw("company_key", 0.88))),
        # a missing company stays neutral unless the other side's work-email domain names the same organization
        AllOf((Missing("company_key"), by_domain)),
        Else(),
    ]
    names = ("exact", "similar", "weak", "email_domain", "different")
    levels = tuple(
        Level(n, m[i], u[i], tf=(i == 0), description=desc[i], group=group if i < 4 else None, when=conds[i])
        for i, n in enumerate(names)
    )
    return levels, AllOf((Missing("company_key"), Not(by_domain)))


def _surnames_differ() -> Condition:
    """Both surnames known and clearly different: not a typo, a transliteration or a male/female form."""
    return AllOf((Not(Missing("ln")), Not(Exact("ln")), Not(_jw("ln", 0.85))))


def _surname_changed(shares: str) -> Condition:
    """Two surnames under one given name and patronymic (or none on a side), sharing a personal address or mobile
    (``shares``): one woman before and after marriage (Новикова / Сидорова Екатерина Андреевна, e.novikova@gmail.com),
    not two people who share a mailbox or line (they differ in given name: spouses, colleagues)."""
    return AllOf((Exact("fn"), AnyOf((Missing("mn"), Exact("mn"))), Shares(shares)))


def _two_peoples_given_names() -> Condition:
    """Two given names the name lists know (not a typo, not an initial: Оксаа, Л.), not one name typed two ways (a
    nickname, a transliteration, spellings alike: Eric / Erik, or canonical forms alike): John / Jane, Сергей /
    Светлана, Александр / Алексей. An address or number such a pair shares is a family's or a team's (spouses' joint
    mailbox and home line), never one person's."""
    alike = AnyOf((_jw("fn", 0.80), _jw("fn_canon", 0.85)))
    return AllOf((Predicate("known_names", ("fn",)), Not(Exact("fn")), Not(Predicate("groups_overlap", ("fn_groups",))),
                  AnyOf((Not(alike), Predicate("two_russian_names", ("fn",))))))


def _given_names_differ() -> Condition:
    """Both given names known with different initials and no nickname group in common (Леонид vs Иван)."""
    return AllOf((Not(Missing("fn")), Not(Exact("fi")), Not(Predicate("groups_overlap", ("fn_groups",)))))


def _email_conditions(people: bool = False) -> list[Condition]:
    """Any shared address (tf-weighted); else the same person's local part at another domain; else different.

    For people, an address or number shared by two clearly different surnames is a shared one (a team mailbox,
    an office line), never one person's: the personal levels require the surnames not to contradict.
    """
    shared_line = Predicate("shared_line", ("emails",))
    same_or_free = AnyOf((Missing("org_domain"), Exact("org_domain")))
    personal: Condition = Not(shared_line)
    if people:
        # and a role mailbox (sales@, info@, buh@) is the team's: two people at one company share it
        personal = AllOf((Not(shared_line), Shares("personal_emails"), Not(_two_peoples_given_names()),
                          AnyOf((Not(_surnames_differ()), _surname_changed("free_emails")))))
    similar_local: list[Condition] = [_jw("email_local", 0.93), MinLength("email_local", 6), same_or_free,
                                      Not(Predicate("numbered_mailbox", ("email_local",)))]
    if people:
        # zhukov.l@ vs zhukov.i@ is Leonid's and Ivan's mailbox, not a typo: the letters that differ are initials
        similar_local.append(Not(_given_names_differ()))
        # v.fyodorov@ vs v.fyodorova@, aleksandr.zaytsev@ vs aleksandra.zaytseva@, e.smelovskaya@ vs
        # e.svetlovskaya@ at one company domain: the mailbox names are alike because the names they are spelled from
        # are — a male/female surname form, two established names, surnames beyond a typo — and one company gives
        # each person one mailbox, so these are two colleagues' mailboxes, not one typed twice (they fall to the
        # levels for two mailboxes at one domain). Candidate pairs at this level at one company domain, tuning seeds
        # 3-5 (20k): 96 duplicates, 40 not; 8 of those merged wrongly, all with such names
        names_alike = AnyOf((AllOf((Not(Exact("ln")), Predicate("gender_form", ("ln",)))),
                             AllOf((Not(Exact("fn")), Not(Predicate("groups_overlap", ("fn_groups",))),
                                    _jw("fn", 0.80), Predicate("two_spellings", ("fn",)))),
                             AllOf((Not(Exact("ln")), _jw("ln", 0.85), Predicate("two_spellings", ("ln",)))),
                             AllOf((Not(Missing("ln")), Not(Exact("ln")), Not(_jw("ln", 0.94)),
                                    Not(AllOf((Exact("ln_ph"), _jw("ln", 0.85))))))))
        similar_local.append(AnyOf((Missing("org_domain"), Not(names_alike))))
    conds: list[Condition] = [
        AllOf((Shares("emails"), personal)),
        AllOf((Shares("emails"), Not(personal))),
        # a mailbox name is spelled from the person's name: it corroborates only where the same person is
        # plausible (the same company domain, or a personal free-mail box); c.reyes@a.com vs c.reyes@b.com
        # is two namesakes' work addresses, already counted by the name comparisons
        AllOf((Exact("email_local"), MinLength("email_local", 4), same_or_free)),
        # ivanov@ vs ivanov2@ at one company: the mail admin numbered a second person, not a typo
        AllOf(tuple(similar_local)),
        AllOf((Exact("email_local"), MinLength("email_local", 4))),
    ]
    if people:
        # r.johnston@ vs rjohnston@ at one company domain: a dropped dot, or the mail admin's pattern for a second
        # person of that name — as often one as the other (15 duplicates, 15 not among such candidate pairs at
        # tuning seeds 3-5): no evidence either way
        conds.insert(3, AllOf((Exact("org_domain"), Predicate("same_letters", ("email_local",)))))
        other_mailbox = AllOf((Exact("org_domain"), Not(Missing("email_local")), Not(Exact("email_local"))))
        # one mailbox name typed twice (sergey@ / seergey@, ivan@ / ivna@): an edit or two apart, the same digits and
        # given names that do not contradict — a typo far more often than a second mailbox
        conds.append(AllOf((other_mailbox, Fuzzy("email_local", "levenshtein", 2),
                            Not(Predicate("numbered_mailbox", ("email_local",))), Not(_given_names_differ()))))
        # two different personal mailboxes at one company domain: one company gives one person one mailbox, so
        # these are two colleagues (namesakes, relatives) — the organization is already counted elsewhere
        conds.append(other_mailbox)
        # no address in common and every address on both sides at a free-mail service: one person's records show
        # the one personal mailbox they keep (a work address beside it is the common way to differ)
        conds.append(AllOf((Missing("org_domain"), Not(Predicate("one_side_only", ("org_domain",))))))
        # no address in common, each side at its own company domain: two employers (the person moved, or two people)
        conds.append(AllOf((Not(Missing("org_domain")), Not(Exact("org_domain")))))
    return [*conds, Else()]


def _company_email_conditions() -> list[Condition]:
    """Companies: sales@ vs hello@ at one domain says "same organization" (never evidence against)."""
    conds = _email_conditions()
    return [*conds[:5], Exact("org_domain"), Else()]


def _phone_conditions(people: bool = False) -> list[Condition]:
    """A shared number: personal (one person's) or a shared line (a switchboard several people answer).

    For people a number shared by two clearly different surnames is a shared line whatever the rest of the
    file says (two holders are enough to make an office number look personal file-wide).
    """
    shared_line = Predicate("shared_line", ("phones",))
    personal: Condition = Not(shared_line)
    # one switchboard, each side its own extension (+1 512 555 0100 ext. 201 / ext. 202) and given names that do
    # not say one person (Mary / Mark; not Robert / Bob, not an initial): two desks, two colleagues. One person's
    # two records may show two extensions (a desk moved, a digit mistyped): the names then decide
    own_desks = AllOf((Predicate("own_numbers", ("phone_desks",)),
                       Not(AnyOf((Missing("fn"), Exact("fn"), Predicate("groups_overlap", ("fn_groups",)),
                                  Predicate("first_initial", ("fn", "fn_groups")))))))
    if people:
        # and a landline (an office desk or switchboard by the numbering plan) is never one person's number
        personal = AllOf((Not(shared_line), Shares("personal_phones"), Not(own_desks), Not(_two_peoples_given_names()),
                          AnyOf((Not(_surnames_differ()), _surname_changed("mobiles")))))
    conds: list[Condition] = [AllOf((Shares("phones"), personal))]
    if people:
        # an office line in common and each their own other number (mobile) or desk: two colleagues, not one person
        conds.append(AllOf((Shares("phones"), Not(personal),
                            AnyOf((Predicate("own_numbers", ("phones",)), own_desks)))))
    conds.append(AllOf((Shares("phones"), Not(personal))))
    if people:
        # nothing shared and each side its own mobile, or its own two numbers (an office line and a mobile where
        # the numbering plan does not type them): a person keeps the mobile
        conds.append(AllOf((Not(Shares("phones")),
                            AnyOf((Not(Missing("mobiles")), Predicate("own_lines", ("phones",)))))))
    return [*conds, Else()]


def _with(levels: Sequence[Level], conditions: Sequence[Condition]) -> tuple[Level, ...]:
    return tuple(replace(lv, when=c) for lv, c in zip(levels, conditions, strict=True))


def generation_comparison() -> Comparison:
    """A generational suffix on both sides (features.generation): John Smith Sr. / John Smith Jr. are father and son,
    never one person (a veto); the same suffix says nothing more than the names. Compared only on files where a record
    writes one (engine._comparisons). m/u a judgement, as the patronymic's: one person's records practically never
    name two generations."""
    return Comparison("generation", "Generational suffix (Sr. / Jr. / III)", (
        Level("same", 0.9, 0.5, neutral=True, estimate=False, description="the same suffix (Jr. = II)",
              when=Exact("generation")),
        # written on both records, two generations are two people by definition: never merged, nor joined through
        # a third record (John Smith, no suffix, fits either)
        Level("different", 0.003, 0.9, estimate=False, refutes=True, veto=True,
              description="two generations (Sr. / Jr.: father and son)"),
    ), Missing("generation"), display=("generation",), corroborates=False)


def contacts_comparisons() -> list[Comparison]:
    """People (contacts, leads): names with nicknames/translit, emails, phones, company, INN, city, title."""
    company_levels, company_null = _company_levels(
        (0.68, 0.10, 0.05, 0.10, 0.17), (0.001, 0.002, 0.01, 0.002, 0.987),
        ("same company (legal form ignored)", "token similarity ≥ 0.92 (typo, word order, transliteration)",
         "token similarity ≥ 0.75", "one side's work-email domain names the other's company",
         "different companies (people change jobs)"), _ORG)
    company_levels = (*company_levels[:-1], replace(company_levels[-1], job_change="employer"))
    # Мария / Марина, Александр / Алексей, Евгений / Евгения: two names of the Russian name list, alike in spelling
    # only, are different given names (a small file has no counts for two_spellings to see it): never a typo level
    two_russian_names = Predicate("two_russian_names", ("fn",))
    return [
        Comparison("first_name", "First name", (
            Level("exact", 0.72, 0.02, tf=True, description="same given name", when=Exact("fn")),
            Level("nickname", 0.08, 0.003, description="nickname / diminutive (Bob ~ Robert, Саша ~ Александр)",
                  when=Predicate("groups_overlap", ("fn_groups",))),
            # Stefan / Stefanie, Ralf / Rolf: alike, but each spelling is a name many records of the file hold
            Level("two_names", 0.005, 0.01, description="two alike names, each held by several records",
                  when=AllOf((_jw("fn", 0.80), Predicate("two_spellings", ("fn",)), Not(two_russian_names),
                              Not(Predicate("first_initial", ("fn", "fn_groups")))))),
            Level("similar", 0.07, 0.004, description="Jaro-Winkler ≥ 0.92 (typo, transliteration)",
                  when=AllOf((_jw("fn", 0.92), Not(two_russian_names)))),
            # "И." matches Иван and also Ваня (whose canonical form is ivan)
            Level("initial", 0.06, 0.06, description="one side is only the initial",
                  when=Predicate("first_initial", ("fn", "fn_groups"))),
            Level("weak", 0.03, 0.06, description="Jaro-Winkler ≥ 0.80", when=AllOf((_jw("fn", 0.80),
                                                                                     Not(two_russian_names)))),
            Level("different", 0.02, 0.85, description="different given names"),
        ), Missing("fn"), tf=TfLeft("fn", on_swap="ln"), display=("fn",), corroborates=False),
        Comparison("last_name", "Last name", (
            Level("exact", 0.80, 0.002, tf=True, description="same surname (after transliteration)",
                  when=Exact("ln")),
            # Иванов / Иванова, Покровский / Покровская: husband and wife, not one person
            Level("gender_form", 0.002, 0.002, description="male/female form (Иванов / Иванова)",
                  when=Predicate("gender_form", ("ln",))),
            # Schmidt / Schmitt, Meier / Mayer: alike, but each spelling is a surname many records hold
            Level("two_names", 0.005, 0.005, description="two alike surnames, each held by several records",
                  when=AllOf((_jw("ln", 0.85), Predicate("two_spellings", ("ln",))))),
            # one slip of the keyboard (a letter dropped, doubled, mistyped, or two neighbours swapped: Hall / Hlal,
            # Попов / Ппов) unless both spellings are surnames many records hold (Hall / Hill: two_spellings) — short
            # surnames fall below any Jaro-Winkler threshold after one slip
            Level("similar", 0.11, 0.002, description="typo or transliteration variant",
                  when=AnyOf((_jw("ln", 0.94), AllOf((Exact("ln_ph"), _jw("ln", 0.85))),
                              AllOf((AnyOf((Fuzzy("ln", "levenshtein", 1), Predicate("digits_transposed", ("ln",)))),
                                     Not(Predicate("two_spellings", ("ln",))))),
                              # a given name typed into the surname field on both sides (Аркаша ~ Аркадий)
                              AllOf((Predicate("groups_overlap", ("ln_groups",)), MinLength("ln", 3)))))),
            Level("weak", 0.04, 0.01, description="Jaro-Winkler ≥ 0.85", when=_jw("ln", 0.85)),
            Level("different", 0.04, 0.985, description="different surnames"),
        ), Missing("ln"), tf=TfLeft("ln", on_swap="fn"), display=("ln",), corroborates=False),
        Comparison("middle_name", "Patronymic / middle name", (
            Level("exact", 0.88, 0.03, tf=True, description="same patronymic", when=Exact("mn")),
            # Петрович / Петровна: brother and sister (or husband and wife), never a typo of one person
            Level("similar", 0.05, 0.01, description="typo in patronymic",
                  when=AllOf((_jw("mn", 0.90), Not(Predicate("other_gender_patronymic", ("mn",)))))),
            Level("initial", 0.06, 0.05, description="initial matches", when=Predicate("initial", ("mn",))),
            # m: 0.002-0.003 of the labelled duplicate pairs with a patronymic on both sides (tuning seeds 3-5)
            # two patronymics at one company: two people there (father and son, namesakes), and the company, INN,
            # city and office line they share as colleagues are no evidence of one person (Level.explains, as
            # colleague_function). m/u as different's. Merged such pairs, tuning seeds 3-5 (20k): 4 duplicates (3 of
            # them sharing a mailbox or mobile), 3 not
            Level("colleague_patronymic", 0.003, 0.9, estimate=False, explains=_ORG, refutes=True,
                  description="different patronymics at one company (father and son there)",
                  when=Exact("company_key")),
            Level("different", 0.003, 0.9, refutes=True, description="different patronymics (father and son, namesakes)"),
        ), Missing("mn"), tf=TfLeft("mn"), display=("mn",)),
        Comparison("email", "Email", _with((
            Level("exact", 0.55, 1e-5, tf=True, description="a shared personal address"),
            Level("shared_mailbox", 0.08, 1e-4, tf=True, description="a shared mailbox (info@, a colleague's)",
                  group="organization"),
            Level("same_local_part", 0.12, 1e-5, tf=True,
                  description="same mailbox name at another domain (work vs personal)", subsumed_by=_NAME,
                  tf_source=TfLeft("email_local")),
            Level("separators_same_domain", 0.01, 0.01, neutral=True, estimate=False,
                  description="mailbox names differ only by separators at one company domain (r.johnston@ vs "
                              "rjohnston@: a typo or a namesake colleague's mailbox, no evidence)"),
            Level("similar_local_part", 0.03, 1e-4, description="mailbox names differ by a typo",
                  subsumed_by=_NAME),
            Level("local_part_other_company", 0.02, 0.02, neutral=True,
                  description="same mailbox name at two company domains (namesakes: no evidence)"),
            # u of the two levels below is a judgement, not a frequency: only pairs at one company domain reach
            # them, and two different people there almost always have two mailboxes. Of the candidate pairs with two
            # mailboxes at one domain (tuning seeds 3-5), mailbox names an edit or two apart with the same digits are
            # 12 duplicates of 1,149, the others 2 of 16,333 (both a typed role mailbox: offcie@, conatct@): m keeps
            # the two levels that far apart (-5.0 and -11.0 bits; both were one level at -8.4)
            Level("mailbox_typo_same_domain", 0.03, 0.99, estimate=False,
                  description="mailbox names an edit or two apart at one company domain (a typo of one mailbox, "
                              "rarely a colleague's)"),
            Level("other_mailbox_same_domain", 0.0005, 0.99, estimate=False, explains=_ORG,
                  description="two different personal mailboxes at one company domain (two colleagues)"),
            # m from EM, u from random pairs (as "different" before the split). Candidate pairs with no address in
            # common, tuning seeds 3-6 (20k): work vs free-mail 3,381 duplicates / 28,011 not; two free-mail
            # addresses 15 / 4,420; two company domains 30 / 22,059. Two free-mail addresses: m as labelled, rounded
            # up (26 of ~53,000 duplicate pairs with addresses on both sides at tuning seeds 3-6, 8-13: 5e-4; was 0.01)
            Level("other_personal_mailbox", 0.002, 0.2,
                  description="two different free-mail addresses (one person keeps one personal mailbox)"),
            Level("other_employer_mailbox", 0.02, 0.4, job_change="follows",
                  description="addresses at two company domains (two employers)"),
            Level("different", 0.27, 0.4, job_change="follows",
                  description="different addresses: work on one side, personal on the other (common)"),
        ), _email_conditions(people=True)), Missing("emails"), tf=TfShared("emails"), display=("emails",)),
        Comparison("phone", "Phone", _with((
            Level("exact", 0.50, 1e-5, tf=True, description="a shared personal number"),
            # u is a judgement: random pairs almost never share a line; colleagues who do often both have mobiles
            Level("colleagues_own_numbers", 0.005, 0.3, estimate=False, explains=_ORG,
                  description="a shared office line, and each their own other number (two colleagues)"),
            Level("shared_line", 0.12, 1e-4, tf=True,
                  description="a shared line several people answer (office switchboard)", group="organization"),
            # m a judgement: one person's two records with a mobile each, or two numbers each, and none in common
            # changed the mobile (0 of 12,701 such candidate pairs is a duplicate at tuning seeds 3-5); u from random
            # pairs
            Level("other_lines", 0.0005, 0.1, refutes=True, description="no number in common, each side its own mobile (or its own "
                                                        "office line and mobile)"),
            Level("different", 0.37, 0.9999, job_change="follows",
                  description="different numbers (mobile vs office is common)"),
        ), _phone_conditions(people=True)), Missing("phones"), tf=TfShared("phones"), display=("phones",)),
        Comparison("company", "Company", company_levels, company_null, tf=TfLeft("company_key"),
                   display=("company_text",)),
        Comparison("inn", "INN (company tax id)", (
            Level("exact", 0.85, 0.001, tf=True, description="same INN", group=_ORG, when=Exact("inn")),
            Level("different", 0.15, 0.999, job_change="employer", description="different INN"),
        ), Missing("inn"), tf=TfLeft("inn"), display=("inn",)),
        Comparison("city", "City", (
            Level("exact", 0.80, 0.05, tf=True, description="same city", group=_ORG, when=Exact("city")),
            Level("similar", 0.05, 0.02, description="spelling variant", group=_ORG, when=_jw("city", 0.88)),
            # m: a person's two records name two cities when the person moved or a spelling stayed ununified — rare
            # (0 of the labelled duplicate pairs with a city on both sides at tuning seeds 3-5; 0.30 let two
            # same-name colleagues in two cities merge on the name and company alone)
            Level("different", 0.02, 0.93, refutes=True,
                  description="different cities (or spellings the profile did not unify)"),
        ), Missing("city"), tf=TfLeft("city"), display=("city",), corroborates=False, max_weight=2.0),
        # where a city is missing on a side, the country the record names still says where the person is: weak
        # evidence for (most of a file shares a few countries), and two countries against (candidate pairs with a
        # country on both sides, tuning seeds 3-6 at 20k: 0 of 10,157 duplicates name two countries, 3,755 others
        # do); with both cities known the city comparison decides (a city names its country)
        Comparison("country", "Country (city unknown on a side)", (
            Level("exact", 0.95, 0.4, neutral=True, description="same country", when=Exact("country")),
            Level("different", 0.05, 0.6, refutes=True, description="different countries"),
        ), AnyOf((Missing("country"), Not(Missing("city")))), display=("country",), corroborates=False,
            max_weight=1.5),
        Comparison("job_title", "Job title", (
            # m: the same title in 0.78-0.81 of the labelled duplicate pairs with a title on both sides (seeds 3-5)
            Level("exact", 0.79, 0.05, tf=True, description="same title", when=Exact("title")),
            Level("similar", 0.10, 0.05, description="similar title", when=_jw("title", 0.9)),
            # Head of Sales vs Sales Manager: other words for one job, or a promotion
            Level("same_function", 0.30, 0.12, description="same function (sales, finance, IT ...), other title",
                  when=Exact("title_fn")),
            # a chief accountant and a CTO at one company are two colleagues: a person's function rarely changes.
            # At one company that is all such a pair shows of the organization (Level.explains: the company, INN,
            # city and office line two colleagues share by definition are no evidence for it). m and u as
            # other_function's: the generator's labelled pairs say 0.003 (19 of the 6,828 duplicate pairs at one
            # company with a title on both sides, tuning seeds 3-5, 20k), but real records of one person there name
            # two functions more often (a promotion, a rep's own wording), and a shared personal mailbox or mobile
            # must still outweigh two titles. Merged at one company with other functions, tuning seeds 3-5: 19
            # duplicates, 12 not (8 of them with nothing personal agreeing)
            Level("colleague_function", 0.07, 0.7, estimate=False, explains=_ORG,
                  description="titles of different functions at one company (two colleagues there)",
                  when=AllOf((Not(Missing("title_fn")), Not(Exact("title_fn")), Exact("company_key")))),
            Level("other_function", 0.07, 0.7, job_change="follows",
                  description="titles of different functions (sales vs finance)",
                  when=AllOf((Not(Missing("title_fn")), Not(Exact("title_fn"))))),
            Level("different", 0.08, 0.13, job_change="follows",
                  description="different titles, function unknown (weak evidence)"),
        ), Missing("title"), tf=TfLeft("title"), display=("title",), corroborates=False, max_weight=3.0),
    ]


def companies_comparisons() -> list[Comparison]:
    """Companies/accounts: name key, INN with KPP (branches), legal type, web/email domain, phone, city.

    Russian legal structure: one INN names one legal entity, and its branches (обособленные
    подразделения) share that INN with their own KPP. Same INN + different KPP is a branch: linked
    as a hierarchy, never merged. An ООО and an ИП (or a private person) are never one record.
    """
    # m: the legal-form-free, transliterated key of one company's copies agrees in most duplicate pairs (0.93-0.95
    # of the labelled tuning pairs with a name on both sides), so an exact name is the common case, not 70 %
    company_levels, company_null = _company_levels(
        (0.85, 0.07, 0.03, 0.02, 0.03), (0.001, 0.002, 0.01, 0.002, 0.987),
        ("same name (legal form ignored)", "token similarity ≥ 0.92", "token similarity ≥ 0.75",
         "one side's email domain names the other company", "different names"), None)
    other_city = AllOf((Not(Missing("city")), Not(Exact("city")), Not(_jw("city", 0.88))))
    # two regions (a city's, else a landline's area code's): Тюмень on one record, +7 843 (Tatarstan) on the other
    other_region = AllOf((Not(Missing("region")), Not(Exact("region"))))
    return [
        Comparison("company", "Company name", company_levels, company_null,
                   tf=TfDistinct("company_key", by="org_sig"), display=("company_text",)),
        # ``tax_id``: the INN, else a foreign registration number (a VAT number, an EIN: ``fields.taxid.
        # registration_ids``, "DE:129273398"); like an INN, one names one legal entity, and a chain's locations abroad
        # share it (the ``registration`` comparison tells them apart)
        Comparison("inn", "INN / VAT number / KPP", (
            Level("branch", 1e-4, 0.5, veto=True, estimate=False, description="same INN, different KPP: a branch of one legal "
                  "entity (linked as parent/branch, never merged)",
                  when=AllOf((Exact("tax_id"), Not(Missing("kpp")), Not(Exact("kpp"))))),
            # the same registration number at another address: a branch unless the KPP says otherwise
            Level("exact_other_city", 0.002, 0.5, estimate=False,
                  description="same registration number (INN, VAT ...) in another city: probably a branch or another "
                              "location", when=AllOf((Exact("tax_id"), Not(Exact("kpp")), other_city))),
            # an INN names one legal entity: two different companies never share it by chance
            Level("exact", 0.95, 1e-6, description="same registration number (INN, VAT ...)", when=Exact("tax_id")),
            # an INN and a VAT number, or two countries' VAT numbers: one group registered in two countries as often
            # as two companies (each country's number is compared with its own kind only)
            Level("other_country", 0.5, 0.5, neutral=True, estimate=False,
                  description="registration numbers of two countries: no evidence either way",
                  when=Not(Exact("tax_country"))),
            Level("different", 0.05, 0.99999, description="different registration numbers: different legal entities"),
        ), Missing("tax_id"), tf=TfLeft("tax_id"), display=("tax_id", "kpp")),
        # KPP names one tax registration; many companies share a KPP by chance (7701 01 001), so agreement is
        # no evidence, but two different KPPs are two registrations (a head office and a branch) even when one
        # side lost its INN
        Comparison("kpp", "KPP", (
            Level("same", 0.9, 0.9, neutral=True, description="same KPP", when=Exact("kpp")),
            Level("different", 1e-4, 0.5, veto=True, estimate=False,
                  description="different KPP: another registration (a branch), never merged"),
        ), Missing("kpp"), display=("kpp",), corroborates=False),
        # where the organization is registered (``tax_office``: a head-office KPP's tax office, else the office
        # that issued the INN — Приказ ФНС № ММВ-7-6/435@): with the INN on both sides the INN decides; otherwise a
        # shared KPP or office is evidence as rare as the file says it is (counted in organizations: Moscow's
        # 7701 01 001 is shared by many), and two offices mildly against (an organization that moved keeps its INN)
        Comparison("tax_office", "Registration office (KPP / INN)", (
            Level("inn_decides", 0.5, 0.5, neutral=True, estimate=False, description="both INNs known: the INN decides",
                  when=Not(Missing("inn"))),
            Level("same_kpp", 0.6, 0.01, tf=True, description="same KPP (one registration)",
                  tf_source=TfDistinct("kpp", by="org_sig"), when=Exact("kpp")),
            Level("same_office", 0.3, 0.01, tf=True, description="the same tax office registered both (KPP / INN)",
                  when=Exact("tax_office")),
            Level("different", 0.1, 0.98, description="registered at different tax offices"),
        ), AllOf((Missing("tax_office"), Not(Exact("kpp")))), tf=TfDistinct("tax_office", by="org_sig"),
            display=("kpp", "inn"), corroborates=True),
        Comparison("entity_type", "Legal type (ЮЛ / ИП)", (
            Level("same", 0.9, 0.9, neutral=True, description="same legal type", when=Exact("entity_type")),
            Level("different", 1e-4, 0.2, veto=True, estimate=False,
                  description="an organization and a sole trader / private person: never one record"),
        ), Missing("entity_type"), display=("entity_type",), corroborates=False),
        # which registration of an entity with branches (``family``: an INN with several KPPs or a branch-marked
        # record, and the records without an INN on its domain): inside a family the name, INN and domain are the
        # family's, so only the KPP, a phone or a city that one registration alone uses say which record is which;
        # two records they place at two registrations are a hierarchy link (parent_id), never merged and not a
        # review question; a record they do not place (it may be a copy of either registration) is a steward's
        # question, never merged automatically. A registration's own phone, city, site and mailbox tell it apart
        # directly only in a Russian INN's family (``family_ru``); abroad a location is its address, read through
        # ``reg_kpp`` (the city, one spelling per place: ``companies._places_abroad``; one office has several lines)
        Comparison("registration", "Registration (head office / branch)", (
            Level("same_kpp", 0.5, 0.5, neutral=True, estimate=False, description="same KPP: one registration",
                  when=Exact("kpp")),
            Level("other_phone", 5e-4, 0.5, veto=True, estimate=False,
                  description="an entity with branches, different phones: another registration (linked as "
                              "parent/branch, never merged)",
                  when=AllOf((Not(Missing("family_ru")), Not(Missing("site_phones")), Not(Shares("site_phones"))))),
            Level("other_city", 0.002, 0.5, veto=True, estimate=False,
                  description="an entity with branches, different cities: another registration (linked as "
                              "parent/branch, never merged)",
                  when=AllOf((Not(Missing("family_ru")), AnyOf((other_city, other_region))))),
            Level("other_site", 0.002, 0.5, veto=True, estimate=False,
                  description="an entity with branches, different websites (a branch's own site or city "
                              "subdomain): another registration (linked as parent/branch, never merged)",
                  when=AllOf((Not(Missing("family_ru")), Not(Missing("domain")), Not(Exact("domain"))))),
            # a branch's own mailbox (kazan@, filial@, its office@ vs the head's info@): like a phone, contact
            # evidence of one registration
            Level("other_mailbox", 0.01, 0.5, veto=True, estimate=False,
                  description="an entity with branches, different mailboxes: another registration (linked as "
                              "parent/branch, never merged)",
                  when=AllOf((Not(Missing("family_ru")), Not(Missing("emails")), Not(Shares("emails"))))),
            # a record without KPP placed by a phone or city only one registration uses (``reg_kpp``)
            Level("other_registration", 1e-4, 0.5, veto=True, estimate=False,
                  description="an entity with branches: the phone or city places the records at two "
                              "registrations (linked as parent/branch, never merged)",
                  when=AnyOf((AllOf((Not(Missing("reg_kpp")), Not(Exact("reg_kpp")))),
                              # a head-office KPP vs a record marked as a branch; two branches' names
                              AllOf((Not(Missing("reg_role")), Not(Exact("reg_role")))),
                              AllOf((Not(Missing("reg_name")), Not(Exact("reg_name"))))))),
            Level("same_registration", 0.5, 0.5, neutral=True, estimate=False,
                  description="an entity with branches: a phone, city or region only this registration uses "
                              "agrees, or the branch's own site or name (\"Ромашка филиал Казань\"), or both are "
                              "the head office (a head-office KPP, or a place no branch shares)",
                  when=AnyOf((Exact("reg_kpp"), Shares("reg_phones"), Exact("reg_site"), Exact("reg_city"),
                              Exact("reg_region"), Exact("reg_name"), Exact("reg_head")))),
            Level("unknown", 0.5, 0.5, neutral=True, review_only=True, estimate=False,
                  description="an entity with branches: nothing tells which registration (head office or which "
                              "branch) the records are (review, never merged automatically)"),
        ), AnyOf((Missing("family"), Not(Exact("family")))), display=("family", "reg_kpp", "reg_city", "reg_region"),
            corroborates=False),
        # a record that calls itself a branch (its KPP's reason code, "филиал <city>") vs one that does not, in
        # another city (not a spelling variant: other_city): two registrations, the head office and its branch —
        # a hierarchy link (parent_id), never merged and no review question (0 duplicates among such review pairs
        # on tuning seeds 3-5)
        Comparison("branch", "Branch marker", (
            Level("branch_elsewhere", 0.5, 0.5, neutral=True, veto=True, estimate=False,
                  description="one legal entity, one side marked as a branch (KPP reason code, name) and the cities "
                              "differ: another registration (linked as parent/branch, never merged)",
                  when=AllOf((Exact("family"), Predicate("one_side_only", ("branch_mark",)),
                              AnyOf((other_city, other_region))))),
            # without a known legal entity (no INN, no domain of one) there is no hierarchy to link, but the record
            # says where it is (a branch in its own city), so the other city is another place too: never merged and
            # no review question (0 duplicates among the 6 such questions on tuning seeds 3-5)
            Level("branch_elsewhere_unlinked", 0.5, 0.5, neutral=True, veto=True, estimate=False,
                  description="one side is marked as a branch (KPP reason code, name) and the cities differ: "
                              "another place, never merged",
                  when=AllOf((Predicate("one_side_only", ("branch_mark",)), AnyOf((other_city, other_region))))),
            Level("other", 0.5, 0.5, neutral=True, estimate=False, description="no branch question"),
        ), AllOf((Missing("city"), Missing("region"))), display=("branch_mark",), corroborates=False),
        Comparison("domain", "Website / email domain", (
            Level("exact", 0.85, 1e-4, tf=True, description="same domain", group="web", when=Exact("domain")),
            Level("different", 0.15, 0.9999, description="different domains"),
        ), Missing("domain"), tf=TfDistinct("domain", by="company_key"), display=("domain",)),
        Comparison("phone", "Phone", _with((
            Level("exact", 0.60, 1e-5, tf=True, description="same number"),
            Level("shared_line", 0.30, 1e-4, tf=True, description="a number shared by many records"),
            Level("different", 0.10, 0.9999, description="different numbers"),
        ), _phone_conditions()), Missing("phones"), tf=TfShared("phones"), display=("phones",)),
        Comparison("email", "Email", _with((
            Level("exact", 0.5, 1e-5, tf=True, description="same address", group="web"),
            Level("shared_mailbox", 0.3, 1e-4, tf=True, description="same shared mailbox", group="web"),
            Level("same_local_part", 0.02, 0.01, tf=True, description="same mailbox name, other domain",
                  tf_source=TfLeft("email_local")),
            Level("similar_local_part", 0.02, 0.01, description="similar mailbox name"),
            Level("local_part_other_company", 0.01, 0.01, neutral=True, description="same mailbox name at another company"),
            Level("same_domain", 0.10, 0.001, group="web",
                  description="different mailboxes at one company domain (sales@ vs hello@)"),
            Level("different", 0.06, 0.97, description="different addresses"),
        ), _company_email_conditions()), Missing("emails"), tf=TfShared("emails"), display=("emails",)),
        Comparison("city", "City", (
            Level("exact", 0.85, 0.05, tf=True, description="same city", when=Exact("city")),
            Level("similar", 0.05, 0.02, description="spelling variant", when=_jw("city", 0.88)),
            Level("different", 0.10, 0.93, description="different cities: another branch or company"),
        ), Missing("city"), tf=TfLeft("city"), display=("city",)),
        # where the city is missing on a side, the landline's area code still says where the record is: one
        # company's records call from its own region (a mobile number names none); with both cities known the
        # city comparison decides
        Comparison("region", "Region (city / phone area code)", (
            Level("same", 0.9, 0.9, neutral=True, estimate=False, description="same region", when=Exact("region")),
            Level("different", 0.05, 0.9, estimate=False,
                  description="different regions (a city on one side, another region's area code on the other)"),
        ), AnyOf((Missing("region"), Not(Missing("city")))), display=("city", "phones"), corroborates=False),
    ]


def generic_comparison(name: str, kind: str, column: str, *, thresholds: Sequence[float] | None = None) -> Comparison:
    """A comparison on any column from the rules file: exact, jaro_winkler, levenshtein, date."""
    common = {"tf": TfLeft(column), "display": (column,)}
    if kind == "exact":
        return Comparison(name, name, (
            Level("exact", 0.9, 0.01, tf=True, description=f"same {column}", when=Exact(column)),
            Level("different", 0.1, 0.99, description=f"different {column}"),
        ), Missing(column), **common)  # type: ignore[arg-type]
    if kind in ("jaro_winkler", "token"):
        ts = tuple(thresholds or (0.92, 0.8))
        levels = [Level("exact", 0.8, 0.01, tf=True, description=f"same {column}", when=Exact(column))]
        m_left = 0.15
        for i, t in enumerate(ts):
            share = m_left / 2 if i < len(ts) - 1 else m_left
            m_left -= share if i < len(ts) - 1 else 0
            levels.append(Level(f"jw_{t:g}", share, 0.01 * (i + 1) * 2, description=f"Jaro-Winkler ≥ {t:g}",
                                when=_jw(column, t)))
        levels.append(Level("different", 0.05, 0.95, description=f"different {column}"))
        return Comparison(name, name, tuple(levels), Missing(column), **common)  # type: ignore[arg-type]
    if kind in ("levenshtein", "levenshtein_digits", "exact_digits"):
        ds = tuple(int(t) for t in (thresholds or (1, 2)))
        levels = [Level("exact", 0.85, 0.001, tf=True, description=f"same {column}", when=Exact(column))]
        levels += [Level(f"edit_{d}", 0.1 / len(ds), 0.002 * (i + 1), description=f"edit distance ≤ {d}",
                         when=Fuzzy(column, "levenshtein", d))
                   for i, d in enumerate(ds)]
        levels.append(Level("different", 0.05, 0.995, description=f"different {column}"))
        return Comparison(name, name, tuple(levels), Missing(column), **common)  # type: ignore[arg-type]
    if kind == "date":
        # dates as digit strings YYYYMMDD
        return Comparison(name, name, (
            Level("exact", 0.85, 0.0005, tf=True, description="same date", when=Exact(column)),
            Level("typo", 0.08, 0.002, description="one digit off, two digits transposed or day/month swapped",
                  when=AnyOf((Fuzzy(column, "levenshtein", 1), Predicate("digits_transposed", (column,)),
                              Predicate("day_month_swapped", (column,))))),
            # which part is replaced matters: two people share a month and day (1 in 365) far more often than a
            # year and day or a year and month, so u differs by part (estimate_u); m as EM fits it on RLdata10000
            # (0.046 / 0.020 / 0.024), where every duplicate has one error
            Level("other_year", 0.04, 0.003, description="the same month and day, another year",
                  when=Predicate("other_year", (column,))),
            Level("other_month", 0.02, 0.0005, description="the same year and day, another month",
                  when=Predicate("other_month", (column,))),
            Level("other_day", 0.02, 0.001, description="the same year and month, another day",
                  when=Predicate("other_day", (column,))),
            Level("close", 0.03, 0.01, description="two digits off", when=Fuzzy(column, "levenshtein", 2)),
            Level("different", 0.04, 0.99, description="different dates"),
        ), Missing(column), **common)  # type: ignore[arg-type]
    raise ValueError(f"unknown comparison type {kind!r}")
