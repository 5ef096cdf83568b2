"""Journeys of referred people, practice by practice, turned into extract rows.

Rows are tuples in the generator's field order (FIELDS below, named as in the contracts); the
writer maps them onto each contract's column order. Dates are day ordinals and numbers stay
numbers until the writer formats them, so per-row work stays cheap.

Every practice has its own RNG (seeded by seed and practice code), so a practice's people do not
depend on the order practices are processed in, and a person's attributes come from an RNG seeded
by their NHS number, so the same number always means the same person.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from math import gcd
from random import Random

from ..identifiers import nhs_check_digit
from . import codes, config
from .organisations import Pcn, Practice, Provider
from .periods import Month, Window, weekday

# The generator's own field order per table. Names are contract column names; the writer
# reorders them to the contract (and refuses to run if a required contract column is missing).
ITEMS = tuple(f"item_{i}" for i in range(1, 8))
FIELDS: dict[str, tuple[str, ...]] = {
    "practice_events": (
        "practice_code", "nhs_number", "date_of_birth", "sex", "ethnic_category", "lsoa_code",
        "event_date", "snomed_code", "snomed_term",
    ),
    "practice_appointments": (
        "practice_code", "nhs_number", "appointment_date", "staff_role", "status",
    ),
    "provider_referrals": (
        "provider_code", "referral_id", "nhs_number", "practice_code", "referral_date",
        "referral_source", "referral_reasons", "link_worker_id", "first_contact_date",
        "care_plan_agreed_date", "discharge_date", "discharge_reason",
    ),
    "provider_contacts": (
        "provider_code", "referral_id", "contact_date", "mode", "duration_minutes", "attended",
        "activity_category", "activity_provider",
    ),
    "provider_costs": ("provider_code", "pcn_code", "period", "cost_type", "amount_gbp"),
    "outcome_measures": (
        "provider_code", "referral_id", "nhs_number", "assessment_date", "timepoint",
        "instrument", *ITEMS, "eq5d_vas",
    ),
}  # fmt: skip

Row = tuple[object, ...]


class Choice:
    """A weighted choice by bisection on cumulative weights (faster than Random.choices)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.values = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: Random) -> object:
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


SOURCES = Choice(config.REFERRAL_SOURCES)
REASON_COUNT = Choice(config.REASON_COUNT_WEIGHTS)
DISCHARGE = Choice(config.DISCHARGE_OUTCOMES)
MODES = Choice([(m, w) for m, w, _, _ in config.CONTACT_MODES])
MODE_MINUTES = {m: (lo, hi) for m, _, lo, hi in config.CONTACT_MODES}
ACTIVITY = Choice(codes.ACTIVITY_WEIGHTS)
ROLES = Choice(config.APPOINTMENT_ROLES)
SEXES = Choice(config.SEXES)
_ETHNIC: dict[float, Choice] = {}


def ethnic_choice(diversity: float) -> Choice:
    """Ethnic mix of an ICB: non-White-British categories scaled by the ICB's diversity."""
    if diversity not in _ETHNIC:
        _ETHNIC[diversity] = Choice(
            [(c, w if c in {"A", "Z", "99"} else w * diversity) for c, w in config.ETHNIC_CATEGORIES]
        )
    return _ETHNIC[diversity]


def poisson(rng: Random, lam: float) -> int:
    """Poisson draw: Knuth's method for small means, a normal approximation for large ones."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k = 0
        p = rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def to_weekday(day: int) -> int:
    """Move a Saturday back to Friday and a Sunday on to Monday: services work weekdays."""
    wd = weekday(day)
    return day - 1 if wd == 5 else day + 1 if wd == 6 else day


def next_weekday(day: int) -> int:
    wd = weekday(day)
    return day + 2 if wd == 5 else day + 1 if wd == 6 else day


def _clamp(value: float, lo: int, hi: int) -> int:
    v = round(value)
    return lo if v < lo else hi if v > hi else v


class NhsBlock:
    """A practice's share of the 999 test range: valid numbers in a per-practice shuffled order.

    Prefixes (first nine digits) 999000000-999999999 are cut into equal blocks in practice order;
    numbers are produced lazily by walking the block with a stride coprime to its length. When a
    block runs out (national scale: ~145 valid numbers a practice) numbers repeat, which the
    generator treats as the same person being referred again.
    """

    def __init__(self, index: int, practices: int, rng: Random) -> None:
        self.size = 1_000_000 // practices
        self.start = 999_000_000 + index * self.size
        stride = rng.randrange(1, max(2, self.size))
        while gcd(stride, self.size) != 1:
            stride += 1
        self.stride = stride
        self.offset = rng.randrange(self.size)
        self.walked = 0
        self.numbers: list[str] = []

    def get(self, slot: int) -> str:
        while len(self.numbers) <= slot and self.walked < self.size:
            prefix = self.start + (self.offset + self.walked * self.stride) % self.size
            self.walked += 1
            check = nhs_check_digit(str(prefix))
            if check is not None:
                self.numbers.append(f"{prefix}{check}")
        return self.numbers[slot % len(self.numbers)]


@dataclass(slots=True)
class Person:
    nhs: str
    dob: int
    age: float  # at the end of the window
    sex: str
    ethnic: str
    lsoa: str | None
    appointment_rate: float  # appointments a day
    covered_until: int = 0  # appointments are generated up to this day
    seen: bool = False  # appears in at least one written row
    died: int | None = None


@dataclass(slots=True)
class Contact:
    day: int
    mode: str
    minutes: int
    attended: str
    activity: str | None
    activity_provider: str | None


@dataclass(slots=True)
class Measure:
    day: int
    timepoint: str
    instrument: str
    items: tuple[int | None, ...]
    vas: int | None


@dataclass(slots=True)
class Referral:
    practice: Practice
    person: Person
    received: int
    source: str
    reasons: str
    link_worker: str | None
    allocated: int
    first_contact: int | None
    care_plan: int | None
    discharge: int
    discharge_reason: str
    contacts: list[Contact] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    id: str = ""


class PracticeSimulation:
    """Everything that happens to one practice's referred and signposted people."""

    def __init__(self, practice: Practice, provider: Provider, window: Window, seed: int, practices: int) -> None:
        self.practice = practice
        self.provider = provider
        self.window = window
        self.seed = seed
        self.rng = Random(f"sprx:practice:{seed}:{practice.code}")
        self.block = NhsBlock(practice.index, practices, self.rng)
        self.ethnic = ethnic_choice(practice.icb.diversity)
        self.people: dict[str, Person] = {}
        self.next_slot = 0
        self.finished: dict[str, int] = {}  # nhs -> discharge of their latest referral
        self.events: list[list[Row]] = [[] for _ in window.months]
        self.appointments: list[list[Row]] = [[] for _ in window.months]
        self.referrals: list[Referral] = []
        self.place = practice.address[2].title()

    # People -----------------------------------------------------------------------------

    def _person(self, nhs: str) -> Person:
        person = self.people.get(nhs)
        if person is not None:
            return person
        # Seeded by the number alone (numbers are unique to a practice), cheaper than a string.
        prng = Random(self.seed * 10_000_000_000 + int(nhs))
        young = prng.random() < 0.02  # a few children and young people are referred too
        age = prng.uniform(12, 18) if young else 18 + 77 * prng.betavariate(2.0, 1.7)
        dob = self.window.end - int(age * 365.25)
        sex = SEXES(prng)
        ethnic = self.ethnic(prng)
        lsoa = None
        if prng.random() < config.LSOA_FILLED:
            cum = self.practice.lsoa_cum
            lsoa = self.practice.lsoas[bisect_right(cum, prng.random() * cum[-1])].code
        rate = prng.gammavariate(2.0, 0.45) * (0.6 + age / 100) / 30.44
        person = Person(nhs, dob, age, str(sex), str(ethnic), lsoa, rate)
        self.people[nhs] = person
        return person

    def _new_person(self) -> Person:
        for _ in range(self.block.size):
            nhs = self.block.get(self.next_slot)
            self.next_slot += 1
            person = self._person(nhs)
            if person.died is None:  # a reused number (national scale) must not be a dead person
                return person
        raise RuntimeError(f"no living person left in the NHS number block of {self.practice.code}")

    def _referred_person(self, day: int) -> Person:
        """Mostly a new person; sometimes someone whose earlier referral has closed."""
        rng = self.rng
        if self.finished and rng.random() < config.RE_REFERRAL_RATE:
            eligible = [nhs for nhs, closed in self.finished.items() if closed < day - 30]
            if eligible:
                return self.people[rng.choice(eligible)]
        return self._new_person()

    # Dates ------------------------------------------------------------------------------

    def _day_in(self, month: Month) -> int:
        """A day of the month, mostly a weekday."""
        rng = self.rng
        day = month.start + rng.randrange(month.days)
        for _ in range(3):
            if weekday(day) < 5 or rng.random() < 0.1:
                break
            day = month.start + rng.randrange(month.days)
        return day

    # Simulation -------------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        window_months = set(self.window.months)
        for month in self.window.all_months:
            lam = self.practice.monthly_referrals * config.SEASONALITY[month.month - 1]
            for day in sorted(self._day_in(month) for _ in range(poisson(rng, lam))):
                self._referral(day)
            if month in window_months:
                for _ in range(poisson(rng, lam * config.SIGNPOST_ONLY_RATE)):
                    person = self._new_person()
                    self._event(person, self._day_in(month), codes.SCT_SIGNPOSTED)

    def _referral(self, day: int) -> None:
        rng = self.rng
        provider = self.provider
        person = self._referred_person(day)
        pcn: Pcn = self.practice.pcn_on(day)
        lw = pcn.link_workers[bisect_right(pcn.lw_cum, rng.random() * pcn.lw_cum[-1])].id
        source = str(SOURCES(rng))
        allocated = day + rng.randint(0, 4)
        contacts: list[int] = []
        care_plan = None
        if rng.random() < provider.decline_rate:
            outcome = "declined"
            if rng.random() < 0.25:
                first = next_weekday(day + max(1, round(rng.lognormvariate(math.log(7), 0.5))))
                contacts = [first]
                discharge = first
            else:
                first = None
                discharge = day + 1 + min(29, int(rng.expovariate(1 / 6)))
                if rng.random() < 0.4:
                    lw = None
        else:
            outcome = str(DISCHARGE(rng))
            if outcome == "deceased" and person.age < 70 and rng.random() < 0.7:
                outcome = "completed"
            wait = rng.lognormvariate(math.log(config.MEDIAN_WAIT_DAYS * provider.wait_multiplier), config.WAIT_SIGMA)
            first = next_weekday(day + min(120, round(wait)))
            planned = rng.randint(*config.CONTACTS_RANGE)
            if outcome == "completed":
                n = planned
            elif outcome == "disengaged":
                n = rng.randint(2, 5)
            else:
                n = rng.randint(1, planned)
            contacts = [first]
            latest = day + config.MAX_JOURNEY_DAYS - 14
            while len(contacts) < n:
                gap = -6.6 * math.log((1.0 - rng.random()) * (1.0 - rng.random()))  # gamma(2)
                nxt = next_weekday(contacts[-1] + max(3, round(gap)))
                if nxt > latest:
                    break
                contacts.append(nxt)
            last = contacts[-1]
            if outcome == "completed":
                discharge = last + rng.randint(0, 14)
            elif outcome == "disengaged":
                discharge = last + rng.randint(21, 56)
            else:
                discharge = last + rng.randint(0, 30)
            discharge = min(next_weekday(discharge), day + config.MAX_JOURNEY_DAYS)
        attended = self._attendance(len(contacts), outcome)
        if outcome != "declined" and rng.random() < config.CARE_PLAN_RATE:
            options = [d for d, a in zip(contacts, attended, strict=True) if a == "Y"][:3]
            care_plan = options[min(len(options) - 1, int(rng.triangular(0, 3, 1)))]
        # Closed before the window: never in a provider file, so skip what only those hold.
        visible = discharge >= self.window.start
        reasons = self._reasons() if visible else ""
        referral = Referral(
            practice=self.practice,
            person=person,
            received=day,
            source=source,
            reasons=reasons,
            link_worker=lw,
            allocated=allocated,
            first_contact=first,
            care_plan=care_plan,
            discharge=discharge,
            discharge_reason=outcome,
        )
        if visible:
            referral.contacts = self._contacts(contacts, attended)
        if visible and outcome != "declined" and rng.random() < provider.baseline_rate:
            referral.measures = self._measures(referral, contacts, attended)
        self.referrals.append(referral)
        if outcome == "deceased":
            person.died = discharge
            self.finished.pop(person.nhs, None)
        else:
            self.finished[person.nhs] = discharge
        self._practice_records(referral)

    def _reasons(self) -> str:
        rng = self.rng
        pool = list(config.REFERRAL_REASONS)
        chosen: list[str] = []
        for _ in range(int(REASON_COUNT(rng))):  # type: ignore[call-overload]
            total = sum(w for _, w in pool)
            x = rng.random() * total
            for i, (reason, w) in enumerate(pool):
                x -= w
                if x < 0 or i == len(pool) - 1:
                    chosen.append(reason)
                    pool.pop(i)
                    break
        return ";".join(chosen)

    def _attendance(self, n: int, outcome: str) -> list[str]:
        rng = self.rng
        attended = ["Y" if i == 0 or rng.random() >= config.DNA_RATE else "N" for i in range(n)]
        if outcome == "disengaged" and n > 2:
            attended[-1] = "N"
            if rng.random() < 0.5:
                attended[-2] = "N"
        return attended

    def _contacts(self, days: list[int], attended: list[str]) -> list[Contact]:
        """Contact rows, only for days inside the window (the rest are never written)."""
        rng = self.rng
        start, end = self.window.start, self.window.end
        out: list[Contact] = []
        for i, (day, att) in enumerate(zip(days, attended, strict=True)):
            if day < start or day > end:
                continue
            mode = str(MODES(rng))
            lo, hi = MODE_MINUTES[mode]
            minutes = 5 * round(rng.randint(lo, hi) / 5)
            activity = provider_name = None
            if i >= 1 and att == "Y" and rng.random() < config.ACTIVITY_RATE:
                activity = str(ACTIVITY(rng))
                provider_name = rng.choice(codes.ACTIVITIES[activity]).format(place=self.place)
            out.append(Contact(day, mode, minutes, att, activity, provider_name))
        return out

    def _measures(self, ref: Referral, days: list[int], attended: list[str]) -> list[Measure]:
        rng = self.rng
        assert ref.first_contact is not None
        seen = [d for d, a in zip(days, attended, strict=True) if a == "Y"]
        u = rng.random()
        if u < 0.6 or len(seen) < 2:
            base = ref.first_contact
        elif u < 0.9:
            base = seen[1]
        else:
            base = next_weekday(ref.first_contact + rng.randint(1, 14))
        base = min(base, ref.discharge)
        instruments = [n for n, p in self.provider.instruments if rng.random() < p] or ["SWEMWBS"]
        z = rng.gauss(0, 1)
        delta = rng.gauss(0.75, 0.9)
        age = ref.person.age
        measures = [self._measure(base, "baseline", i, z, age) for i in instruments]
        measures = [m for m in measures if m is not None]
        p = config.FOLLOW_UP_RATE.get(ref.discharge_reason, config.FOLLOW_UP_OTHER)
        if ref.discharge_reason == "deceased":
            p = 0.0
        if rng.random() < p:
            if ref.discharge_reason == "completed" and rng.random() < 0.4 and ref.discharge - base >= 56:
                day, timepoint = ref.discharge, "discharge"
            else:
                day, timepoint = next_weekday(base + rng.randint(56, 182)), "follow_up"
            # Only completed journeys are followed up after discharge (the 6-month call).
            if ref.discharge_reason == "completed" or day <= ref.discharge:
                later = [self._measure(day, timepoint, i, z + delta, age) for i in instruments]
                measures += [m for m in later if m is not None]
        return measures

    def _measure(self, day: int, timepoint: str, instrument: str, z: float, age: float) -> Measure | None:
        """Item scores around the person's latent wellbeing z; None outside the window (such
        measures are never written, so their scores are not drawn)."""
        if day < self.window.start or day > self.window.end:
            return None
        rng = self.rng
        g = rng.gauss
        vas = None
        if instrument == "SWEMWBS":
            items = [_clamp(2.75 + 0.7 * z + g(0, 0.55), 1, 5) for _ in range(7)]
        elif instrument == "ONS4":
            items = [
                _clamp(4.6 + 1.6 * z + g(0, 1.2), 0, 10),
                _clamp(5.4 + 1.5 * z + g(0, 1.3), 0, 10),
                _clamp(4.9 + 1.7 * z + g(0, 1.3), 0, 10),
                _clamp(5.6 - 1.6 * z + g(0, 1.5), 0, 10),  # anxiety: higher is worse
            ]
        elif instrument == "UCLA3":
            items = [_clamp(2.35 - 0.45 * z + g(0, 0.5), 1, 3) for _ in range(3)]
        else:  # EQ5D5L
            items = [
                _clamp(1.3 + 0.025 * (age - 45) + g(0, 0.8), 1, 5),
                _clamp(1.1 + 0.015 * (age - 45) + g(0, 0.6), 1, 5),
                _clamp(2.0 - 0.35 * z + g(0, 0.8), 1, 5),
                _clamp(2.3 - 0.2 * z + g(0, 0.9), 1, 5),
                _clamp(2.7 - 0.7 * z + g(0, 0.7), 1, 5),
            ]
            vas = _clamp(56 + 11 * z + g(0, 9), 0, 100)
        padded = tuple(items) + (None,) * (7 - len(items))
        return Measure(day, timepoint, instrument, padded, vas)

    # Practice records -------------------------------------------------------------------

    def _event(self, person: Person, day: int, code: str) -> None:
        m = self.window.index(day)
        if m is None:
            return
        person.seen = True
        self.events[m].append(
            (
                self.practice.code,
                person.nhs,
                person.dob,
                person.sex,
                person.ethnic,
                person.lsoa,
                day,
                code,
                codes.SNOMED_TERMS[code],
            )
        )

    def _practice_records(self, ref: Referral) -> None:
        """Coded events (incompletely, as in real records) and GP appointments around referral."""
        rng = self.rng
        person = ref.person
        from_practice = ref.source in config.PRACTICE_SOURCES
        coded = to_weekday(ref.received - rng.randint(0, 3))
        if from_practice and rng.random() < config.OFFERED_CODED:
            self._event(person, coded, codes.SCT_OFFERED)
        if (from_practice and rng.random() >= self.practice.referral_code_missing) or (
            not from_practice and rng.random() < config.NON_PRACTICE_REFERRAL_CODED
        ):
            self._event(person, coded, codes.SCT_REFERRAL)
        if from_practice and "mental_health" in ref.reasons and rng.random() < config.MENTAL_HEALTH_CODED:
            self._event(person, coded, codes.SCT_MENTAL_HEALTH)
        declined = ref.discharge_reason == "declined"
        if declined:
            if rng.random() < config.DECLINED_CODED:
                self._event(person, next_weekday(ref.discharge + rng.randint(0, 7)), codes.SCT_DECLINED)
        else:
            if ref.first_contact is not None and rng.random() < config.SEEN_CODED:
                self._event(person, next_weekday(ref.first_contact + rng.randint(0, 5)), codes.SCT_SEEN)
            if rng.random() < config.CLOSED_CODED:
                self._event(person, next_weekday(ref.discharge + rng.randint(0, 10)), codes.SCT_CLOSED)
        # GP appointments: six months either side; fewer after for people who engage.
        day = ref.received
        span = config.APPOINTMENT_WINDOW_DAYS
        rate = person.appointment_rate
        self._appointments(person, day - span, day - 1, rate, after=False, engaged=False)
        target = 1.0 if declined else config.AFTER_REFERRAL_FACTOR
        factor = target * rng.lognormvariate(0, 0.15 if declined else 0.25)
        end = day + span if person.died is None else min(day + span, person.died)
        self._appointments(person, day, end, rate * factor, after=True, engaged=not declined)
        person.covered_until = max(person.covered_until, day + span)

    def _appointments(self, person: Person, lo: int, hi: int, rate: float, *, after: bool, engaged: bool) -> None:
        lo = max(lo, self.window.start, person.covered_until + 1)
        hi = min(hi, self.window.end)
        if hi < lo:
            return
        rng = self.rng
        n = poisson(rng, rate * (hi - lo + 1))
        if not n:
            return
        person.seen = True
        code = self.practice.code
        index = self.window.index
        for _ in range(n):
            day = to_weekday(lo + rng.randrange(hi - lo + 1))
            if day < lo or day > hi:
                day = lo + rng.randrange(hi - lo + 1)
            role = str(ROLES(rng))
            if after and engaged and rng.random() < config.SPLW_APPOINTMENT_SHARE:
                role = "splw"  # link-worker appointments booked in the GP system
            status = "dna" if rng.random() < config.APPOINTMENT_DNA_RATE else "attended"
            self.appointments[index(day)].append((code, person.nhs, day, role, status))  # type: ignore[index]


def referral_rows(
    provider: Provider, referrals: list[Referral], window: Window
) -> tuple[dict[str, list[list[Row]]], int]:
    """Provider-side rows per window month, and how many referrals appear in the window.

    A referral is in month M's file when received by M's end and not discharged before M's start;
    its state is as known at M's end (later dates left empty).
    """
    months = window.months
    out: dict[str, list[list[Row]]] = {
        t: [[] for _ in months] for t in ("provider_referrals", "provider_contacts", "outcome_measures")
    }
    referrals.sort(key=lambda r: (r.received, r.practice.index))  # stable: creation order
    code = provider.code
    visible = 0
    for number, ref in enumerate(referrals, start=provider.referral_id_start):
        ref.id = f"R{number:06d}"
        if ref.discharge < window.start or ref.received > window.end:
            continue
        visible += 1
        ref.person.seen = True
        first = window.index(max(ref.received, window.start))
        last = window.index(min(ref.discharge, window.end))
        assert first is not None and last is not None
        for m in range(first, last + 1):
            end = months[m].end
            done = ref.discharge <= end
            out["provider_referrals"][m].append(
                (
                    code,
                    ref.id,
                    ref.person.nhs,
                    ref.practice.code,
                    ref.received,
                    ref.source,
                    ref.reasons,
                    ref.link_worker if ref.allocated <= end else None,
                    ref.first_contact if ref.first_contact and ref.first_contact <= end else None,
                    ref.care_plan if ref.care_plan and ref.care_plan <= end else None,
                    ref.discharge if done else None,
                    ref.discharge_reason if done else None,
                )
            )
        for c in ref.contacts:
            out["provider_contacts"][window.index(c.day)].append(  # type: ignore[index]
                (
                    code,
                    ref.id,
                    c.day,
                    c.mode,
                    c.minutes,
                    c.attended,
                    c.activity,
                    c.activity_provider,
                )
            )
        for ms in ref.measures:
            m = window.index(ms.day)
            if m is not None:
                out["outcome_measures"][m].append(
                    (
                        code,
                        ref.id,
                        ref.person.nhs,
                        ms.day,
                        ms.timepoint,
                        ms.instrument,
                        *ms.items,
                        ms.vas,
                    )
                )
    return out, visible


def cost_rows(provider: Provider, window: Window, seed: int) -> list[list[Row]]:
    """Monthly costs per PCN served: staff (link workers at ~£47/h), overheads, activities,
    volunteer time."""
    rng = Random(f"sprx:costs:{seed}:{provider.code}")
    out: list[list[Row]] = [[] for _ in window.months]
    for m, month in enumerate(window.months):
        for pcn in provider.pcns:
            wte = sum(lw.fte for lw in pcn.link_workers)
            staff = wte * config.HOURS_PER_WTE_MONTH * config.LINK_WORKER_HOURLY_GBP
            staff *= 1 + rng.gauss(0, 0.02)
            overheads = staff * rng.uniform(*config.OVERHEAD_SHARE_RANGE)
            scale = math.sqrt(max(0.2, sum(p.monthly_referrals for p in pcn.practices) / 40))
            activities = rng.uniform(*config.ACTIVITIES_RANGE_GBP) * scale
            volunteer = rng.uniform(*config.VOLUNTEER_HOURS_RANGE) * config.VOLUNTEER_HOURLY_GBP
            for cost_type, amount in (
                ("staff", staff),
                ("overheads", overheads),
                ("activities", activities),
                ("volunteer_time", volunteer),
            ):
                out[m].append((provider.code, pcn.code, month.period, cost_type, round(amount, 2)))
    return out
