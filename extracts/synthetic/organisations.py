"""A synthetic England: ICBs, sub-ICBs, PCNs, practices, link-worker providers and LSOAs.

Everything is drawn from one RNG seeded by (scale, seed), so the structure does not depend on the
window; the window only places PCN moves and closures in time.
"""

from __future__ import annotations

import bisect
import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from random import Random

from . import codes, config
from .config import ScaleConfig
from .periods import Window

PCN_START = date(2019, 7, 1).toordinal()  # PCNs began employing link workers in July 2019
ICB_START = date(2022, 7, 1).toordinal()  # ICBs replaced CCGs on 1 July 2022


@dataclass
class SubIcb:
    code: str
    ons_code: str
    name: str


@dataclass(eq=False)  # identity: organisations are unique objects
class Icb:
    index: int
    code: str
    name: str
    region_code: str
    area_letters: str
    sub_icbs: list[SubIcb] = field(default_factory=list)
    diversity: float = 1.0  # multiplies the odds of non-White-British ethnic categories


@dataclass(frozen=True)
class Lsoa:
    code: str
    name: str
    lad_code: str
    lad_name: str
    score: float
    rank: int
    decile: int


@dataclass(frozen=True)
class LinkWorker:
    id: str
    fte: float


@dataclass(eq=False)  # identity: organisations are unique objects
class Pcn:
    code: str
    name: str
    icb: Icb
    sub_icb: SubIcb
    district: int
    practices: list[Practice] = field(default_factory=list)
    lsoas: list[Lsoa] = field(default_factory=list)
    link_workers: list[LinkWorker] = field(default_factory=list)
    lw_cum: list[float] = field(default_factory=list)

    @property
    def list_size(self) -> int:
        return sum(p.list_size for p in self.practices)


@dataclass(frozen=True)
class Membership:
    pcn: Pcn
    start: int
    end: int | None


@dataclass(eq=False)  # identity: organisations are unique objects
class Practice:
    code: str
    name: str
    icb: Icb
    sub_icb: SubIcb
    address: tuple[str, str, str, str, str]
    postcode: str
    phone: str
    opened: int
    closed: int | None = None
    index: int = -1  # order among open practices: picks the NHS number block
    list_size: int = 0
    age_sex: list[tuple[str, int, int]] = field(default_factory=list)  # band, male, female
    memberships: list[Membership] = field(default_factory=list)
    monthly_referrals: float = 0.0
    referral_code_missing: float = 0.3
    lsoas: list[Lsoa] = field(default_factory=list)
    lsoa_cum: list[float] = field(default_factory=list)
    provider: Provider | None = None

    def pcn_on(self, day: int) -> Pcn:
        """The PCN the practice belonged to on a day (the first one before its first start)."""
        for m in reversed(self.memberships):
            if m.start <= day:
                return m.pcn
        return self.memberships[0].pcn


@dataclass(eq=False)  # identity: organisations are unique objects
class Provider:
    code: str
    name: str
    icb: Icb
    pcns: list[Pcn] = field(default_factory=list)
    workbook: bool = False
    decline_rate: float = 0.15
    wait_multiplier: float = 1.0
    baseline_rate: float = config.BASELINE_RATE
    instruments: tuple[tuple[str, float], ...] = ()
    referral_id_start: int = 1

    @property
    def practices(self) -> list[Practice]:
        """Every practice that is a member of one of the provider's PCNs, in a stable order."""
        seen: dict[str, Practice] = {}
        for pcn in self.pcns:
            for practice in pcn.practices:
                seen.setdefault(practice.code, practice)
        return list(seen.values())


@dataclass
class England:
    icbs: list[Icb]
    pcns: list[Pcn]
    practices: list[Practice]  # open, in NHS-number-block order
    closed_practices: list[Practice]
    providers: list[Provider]
    lsoas: list[Lsoa]


class _Names:
    """Fictional place names: unique ones for organisations, free ones for practice names."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        grid = [h + t for h in codes.PLACE_HEADS for t in codes.PLACE_TAILS]
        rng.shuffle(grid)
        qualified = [f"{q} {g}" for q in ("Upper", "Lower", "Great", "Little") for g in grid]
        rng.shuffle(qualified)
        self.unused = qualified + grid  # popped from the end: plain names first

    def place(self) -> str:
        if self.unused:
            return self.unused.pop()
        return self.any()

    def any(self) -> str:
        return self.rng.choice(codes.PLACE_HEADS) + self.rng.choice(codes.PLACE_TAILS)


def apportion(rng: Random, total: int, weights: list[float], minimum: int, maximum: int | None = None) -> list[int]:
    """Split total into len(weights) integers >= minimum (<= maximum), roughly by weight."""
    n = len(weights)
    counts = [minimum] * n
    remaining = total - minimum * n
    if remaining < 0:
        raise ValueError(f"cannot give {n} parts at least {minimum} from {total}")
    cum = list(accumulate(weights))
    while remaining > 0:
        i = bisect.bisect_right(cum, rng.random() * cum[-1])
        i = min(i, n - 1)
        if maximum is not None and counts[i] >= maximum:
            if all(c >= maximum for c in counts):
                raise ValueError("maximum too small for total")
            continue
        counts[i] += 1
        remaining -= 1
    return counts


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to weights that sum exactly to total."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _practice_sizes(rng: Random, k: int) -> list[int]:
    """List sizes of k practices (3k–20k each) whose PCN lands at 25k–70k patients."""
    lo_p, hi_p = config.PRACTICE_SIZE_RANGE
    lo_n, hi_n = config.PCN_SIZE_RANGE
    lo = max(lo_n + 3_000, int(lo_p * 1.1) * k)
    hi = min(hi_n - 4_000, int(hi_p * 0.9) * k)
    target = rng.uniform(lo, hi)
    for _ in range(100):
        weights = [rng.lognormvariate(0, 0.45) for _ in range(k)]
        s = sum(weights)
        sizes = [min(hi_p, max(lo_p, round(target * w / s))) for w in weights]
        if lo_n <= sum(sizes) <= hi_n:
            return sizes
    return [round(target / k)] * k


def _age_sex(rng: Random, size: int) -> list[tuple[str, int, int]]:
    """Registered list by five-year band and sex, summing exactly to size."""
    tilt = rng.gauss(0, 1)
    weights: list[float] = []
    for b, base in enumerate(config.AGE_BAND_WEIGHTS):
        mid = b * 5 + 2.5
        band = base * math.exp(tilt * 0.25 * (mid - 40) / 40)
        female = 0.5 if mid < 70 else (0.56 if mid < 85 else 0.65)
        weights += [band * (1 - female), band * female]
    counts = _largest_remainder(size, weights)
    return [(band, counts[2 * b], counts[2 * b + 1]) for b, band in enumerate(config.AGE_BANDS)]


def _icb_codes(rng: Random, n: int) -> list[str]:
    alnum = string.ascii_uppercase + string.digits
    chosen: list[str] = []
    while len(chosen) < n:
        code = "Q" + rng.choice(string.ascii_uppercase) + rng.choice(alnum)
        if code not in chosen:
            chosen.append(code)
    return chosen


def build_england(cfg: ScaleConfig, seed: int, window: Window) -> England:
    """Draw the organisations of one synthetic England for a scale and seed."""
    rng = Random(f"sprx:organisations:{cfg.name}:{seed}")
    names = _Names(rng)

    # ICBs and regions: the real 42-ICB split by region at national scale.
    if cfg.icbs == sum(r[2] for r in codes.REGIONS):
        regions = [r[0] for r in codes.REGIONS for _ in range(r[2])]
    else:
        regions = [rng.choice(codes.REGIONS)[0] for _ in range(cfg.icbs)]
    area_pool = [a + b for a in "BCDEGHKLMNPRSTW" for b in "ABDEHKLNRSTWXY" if a != b]
    rng.shuffle(area_pool)
    icbs: list[Icb] = []
    for i, code in enumerate(_icb_codes(rng, cfg.icbs)):
        place = names.place()
        icbs.append(
            Icb(
                index=i,
                code=code,
                name=f"NHS {place} Integrated Care Board",
                region_code=regions[i],
                area_letters=area_pool[i],
                diversity=2.2 if regions[i] == "Y56" else rng.uniform(0.4, 1.3),
            )
        )

    pcns_per_icb = apportion(rng, cfg.pcns, [rng.gammavariate(3, 1) for _ in icbs], 1)
    providers_per_icb = [max(1, min(n, round(cfg.providers * n / cfg.pcns))) for n in pcns_per_icb]
    _fix_total(providers_per_icb, cfg.providers, pcns_per_icb)

    # PCNs, with sub-ICBs holding contiguous runs of PCNs.
    pcns: list[Pcn] = []
    sub_icb_numbers = rng.sample(range(10, 99), k=min(89, max(1, cfg.pcns // 12 + 1)))
    sub_icb_pool = [f"{n:02d}{c}" for n in sub_icb_numbers for c in "ABCDEFGHJKLMNPQRTVWXY"]
    rng.shuffle(sub_icb_pool)
    for icb, n_pcns in zip(icbs, pcns_per_icb, strict=True):
        n_sub = 1 if n_pcns < 6 else min(6, max(2, round(n_pcns / 12)))
        for _ in range(n_sub):
            code = sub_icb_pool.pop()
            ons = f"E38{rng.randrange(0, 1_000_000):06d}"
            icb.sub_icbs.append(SubIcb(code, ons, f"{icb.name.replace('Integrated Care Board', 'ICB')} - {code}"))
        split = apportion(rng, n_pcns, [1.0] * n_sub, 1)
        sub_of = [s for s, c in zip(icb.sub_icbs, split, strict=True) for _ in range(c)]
        for j in range(n_pcns):
            place = names.place()
            style = rng.choice(codes.PCN_STYLES)
            pcns.append(
                Pcn(
                    code="",
                    name=style.format(place=place.upper()),
                    icb=icb,
                    sub_icb=sub_of[j],
                    district=j + 1,
                )
            )
    pcn_numbers = sorted(rng.sample(range(10_000, 99_999), k=len(pcns)))
    for pcn, number in zip(pcns, pcn_numbers, strict=True):
        pcn.code = f"U{number:05d}"

    # Practices per PCN (at least 2, at most 18 so that 3k-20k practices fit a 25k-70k PCN).
    per_pcn = apportion(rng, cfg.practices, [rng.gammavariate(2, 1) for _ in pcns], 2, 18)
    letters = "ABCDEFGHJKLMNPRSTVWY"
    next_number = {icb.code: 10_001 + (icb.index // len(letters)) * 3_000 for icb in icbs}
    next_y = [2_000]

    def practice_code(icb: Icb) -> str:
        if rng.random() < 0.03:
            next_y[0] += rng.randint(1, 9)
            return f"Y0{next_y[0]:04d}"
        number = next_number[icb.code]
        next_number[icb.code] += rng.randint(1, 3)
        return f"{letters[icb.index % len(letters)]}{number:05d}"

    def new_practice(pcn: Pcn) -> Practice:
        code = practice_code(pcn.icb)
        place = names.any().upper()
        street = rng.choice(codes.STREETS).upper()
        name = rng.choice(codes.PRACTICE_STYLES).format(
            place=place, street=street, surname=rng.choice(codes.SURNAMES).upper()
        )
        address = (
            rng.choice(codes.BUILDINGS),
            f"{rng.randint(1, 200)} {street}",
            place,
            rng.choice(codes.COUNTIES),
            "",
        )
        postcode = (
            f"{pcn.icb.area_letters}{pcn.district % 40 + 1} "
            f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        if code.startswith("Y"):
            opened = date(rng.randint(2005, 2018), rng.randint(1, 12), 1).toordinal()
        elif rng.random() < 0.7:
            opened = date(1974, 4, 1).toordinal()
        else:
            opened = date(rng.randint(1975, 2004), rng.randint(1, 12), 1).toordinal()
        return Practice(code, name, pcn.icb, pcn.sub_icb, address, postcode, "", opened)

    open_practices: list[Practice] = []
    for pcn, k in zip(pcns, per_pcn, strict=True):
        for size in _practice_sizes(rng, k):
            practice = new_practice(pcn)
            practice.list_size = size
            practice.age_sex = _age_sex(rng, size)
            joined = PCN_START if rng.random() < 0.9 else date(rng.choice((2020, 2021, 2022)), 4, 1).toordinal()
            practice.memberships = [Membership(pcn, max(joined, practice.opened), None)]
            pcn.practices.append(practice)
            open_practices.append(practice)
    for i, practice in enumerate(open_practices):
        practice.index = i
        prefix = codes.DRAMA_PHONE_PREFIXES[i // 1000 % len(codes.DRAMA_PHONE_PREFIXES)]
        practice.phone = f"{prefix}{'' if prefix.endswith('960') else ' 0'}{i % 1000:03d}"

    closed = _closed_practices(rng, cfg, pcns, window, new_practice)
    for j, practice in enumerate(closed):
        prefix = codes.DRAMA_PHONE_PREFIXES[-1]
        practice.phone = f"{prefix}{(999 - j) % 1000:03d}"

    lsoas = _lsoas(rng, names, icbs, pcns)
    providers = _providers(rng, names, cfg, icbs, pcns, pcns_per_icb, providers_per_icb)
    _moves(rng, cfg, providers, window)
    _rates(rng, cfg, providers)
    for practice in open_practices:
        _catchment(rng, practice)
    return England(icbs, pcns, open_practices, closed, providers, lsoas)


def _fix_total(counts: list[int], total: int, caps: list[int]) -> None:
    """Nudge per-ICB provider counts so they sum to the scale's total (1 <= count <= PCNs)."""
    i = 0
    while sum(counts) != total and i < 100_000:
        j = i % len(counts)
        if sum(counts) < total and counts[j] < caps[j]:
            counts[j] += 1
        elif sum(counts) > total and counts[j] > 1:
            counts[j] -= 1
        i += 1


def _closed_practices(
    rng: Random,
    cfg: ScaleConfig,
    pcns: list[Pcn],
    window: Window,
    new_practice: Callable[[Pcn], Practice],
) -> list[Practice]:
    """A few practices closed before the window: in ODS and PCN history, never in extracts."""
    closed: list[Practice] = []
    for _ in range(cfg.closed_practices):
        pcn = rng.choice(pcns)
        practice = new_practice(pcn)
        practice.closed = window.start - rng.randint(30, 3 * 365)
        practice.opened = min(practice.opened, practice.closed - 3650)
        if practice.closed > PCN_START:
            practice.memberships = [Membership(pcn, PCN_START, practice.closed)]
        closed.append(practice)
    return closed


def _lsoas(rng: Random, names: _Names, icbs: list[Icb], pcns: list[Pcn]) -> list[Lsoa]:
    """LSOAs around each PCN, with IoD2019-like scores, ranks and deciles."""
    total = sum(max(3, math.ceil(p.list_size / config.PATIENTS_PER_LSOA)) for p in pcns)
    universe = max(config.IMD_LSOAS_ENGLAND, total)
    next_code = rng.randrange(1_000, 999_999 - total - 1)
    drafts: list[tuple[float, str, str, str, str, Pcn]] = []
    lads: dict[str, tuple[str, str, int]] = {}
    icb_shape = {icb.code: (rng.uniform(0.7, 1.6), rng.uniform(0.7, 1.6)) for icb in icbs}
    for pcn in pcns:
        key = pcn.sub_icb.code
        if key not in lads:
            lad_code = f"E0{rng.choice('6789')}{rng.randrange(0, 1_000_000):06d}"
            lads[key] = (lad_code, names.place(), 1)
        lad_code, lad_name, msoa = lads[key]
        a, b = icb_shape[pcn.icb.code]
        a *= rng.uniform(0.7, 1.4)
        n = max(3, math.ceil(pcn.list_size / config.PATIENTS_PER_LSOA))
        for k in range(n):
            if k % 5 == 0 and k:
                msoa += 1
            p = rng.betavariate(a, b)
            name = f"{lad_name} {msoa:03d}{'ABCDE'[k % 5]}"
            drafts.append((p, f"E01{next_code:06d}", name, lad_code, lad_name, pcn))
            next_code += 1
        lads[key] = (lad_code, lad_name, msoa + 1)
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i][0], i))
    ranks = [0] * len(drafts)
    previous = 0
    for i in order:
        previous = max(previous + 1, math.ceil(drafts[i][0] * universe))
        ranks[i] = previous
    following = universe + 1
    for i in reversed(order):
        following = min(ranks[i], following - 1)
        ranks[i] = following
    lsoas: list[Lsoa] = []
    for (_, code, name, lad_code, lad_name, pcn), rank in zip(drafts, ranks, strict=True):
        q = rank / universe
        score = round(92.0 * math.exp(-3.38 * q) - 2.6 * q, 3)
        lsoa = Lsoa(code, name, lad_code, lad_name, score, rank, math.ceil(rank * 10 / universe))
        pcn.lsoas.append(lsoa)
        lsoas.append(lsoa)
    return lsoas


def _providers(
    rng: Random,
    names: _Names,
    cfg: ScaleConfig,
    icbs: list[Icb],
    pcns: list[Pcn],
    pcns_per_icb: list[int],
    providers_per_icb: list[int],
) -> list[Provider]:
    """Link-worker providers, each serving a run of PCNs inside one ICB."""
    providers: list[Provider] = []
    counters: dict[str, int] = {}
    offset = 0
    for icb, n_pcns, n_prov in zip(icbs, pcns_per_icb, providers_per_icb, strict=True):
        icb_pcns = pcns[offset : offset + n_pcns]
        offset += n_pcns
        split = apportion(rng, n_pcns, [rng.uniform(0.5, 1.5) for _ in range(n_prov)], 1)
        start = 0
        for count in split:
            prefix, pattern = rng.choice(codes.PROVIDER_KINDS)
            counters[prefix] = counters.get(prefix, 0) + 1
            use = tuple((name, min(1.0, p * rng.uniform(0.8, 1.1))) for name, p in config.INSTRUMENT_USE.items())
            provider = Provider(
                code=f"{prefix}{counters[prefix]:02d}",
                name=pattern.format(place=names.place()),
                icb=icb,
                pcns=icb_pcns[start : start + count],
                workbook=rng.random() < 0.5,
                decline_rate=rng.uniform(*config.DECLINE_RATE_RANGE),
                wait_multiplier=rng.lognormvariate(0, 0.2),
                baseline_rate=min(0.95, config.BASELINE_RATE * rng.uniform(0.9, 1.08)),
                instruments=use,
                referral_id_start=rng.randint(1_000, 40_000),
            )
            start += count
            providers.append(provider)
    if len(providers) >= 2 and len({p.workbook for p in providers}) == 1:
        providers[-1].workbook = not providers[-1].workbook
    return providers


def _moves(rng: Random, cfg: ScaleConfig, providers: list[Provider], window: Window) -> None:
    """Move a few practices to another PCN of the same provider partway through the window."""
    move_day = window.start + 15  # mid-month when the window is a single month
    if len(window.months) >= 2:
        move_day = window.months[len(window.months) // 2].start
    candidates = [
        (provider, pcn, practice)
        for provider in providers
        if len(provider.pcns) >= 2
        for pcn in provider.pcns
        for practice in pcn.practices
        if len(pcn.practices) > 2
    ]
    lo, hi = config.PCN_SIZE_RANGE
    moved = 0
    for provider, pcn, practice in rng.sample(candidates, k=len(candidates)):
        if moved >= cfg.practice_moves:
            break
        targets = [p for p in provider.pcns if p is not pcn and p.list_size + practice.list_size <= hi]
        if len(pcn.practices) <= 2 or pcn.list_size - practice.list_size < lo or not targets:
            continue
        target = rng.choice(targets)
        old = practice.memberships[-1]
        practice.memberships = [
            Membership(old.pcn, old.start, move_day - 1),
            Membership(target, move_day, None),
        ]
        pcn.practices.remove(practice)
        target.practices.append(practice)
        moved += 1


def _rates(rng: Random, cfg: ScaleConfig, providers: list[Provider]) -> None:
    """Expected referrals per practice-month, link workers per PCN, coding completeness."""
    weights: dict[str, float] = {}
    for provider in providers:
        provider_mult = rng.lognormvariate(0, 0.15)
        for practice in provider.practices:
            practice.provider = provider
            weights[practice.code] = practice.list_size * provider_mult * rng.lognormvariate(0, 0.3)
    total = sum(weights.values())
    for provider in providers:
        lw_number = 0
        for pcn in provider.pcns:
            for practice in pcn.practices:
                practice.monthly_referrals = cfg.referrals_per_year / 12 * weights[practice.code] / total
                practice.referral_code_missing = rng.uniform(*config.REFERRAL_CODE_MISSING_RANGE)
            annual = sum(p.monthly_referrals for p in pcn.practices) * 12
            n = round(annual / config.REFERRALS_PER_LINK_WORKER_YEAR + rng.uniform(-0.5, 0.5))
            pcn.link_workers = []
            for _ in range(min(4, max(2, n))):
                lw_number += 1
                fte = rng.choice((1.0, 1.0, 1.0, 1.0, 0.8))
                pcn.link_workers.append(LinkWorker(f"LW{lw_number:02d}", fte))
            pcn.lw_cum = list(accumulate(lw.fte for lw in pcn.link_workers))
    # Streaming writes a practice's files with its provider: a move must stay within it.
    for provider in providers:
        for pcn in provider.pcns:
            for practice in pcn.practices:
                for m in practice.memberships:
                    if m.pcn not in provider.pcns:
                        raise AssertionError("a practice moved between providers")


def _catchment(rng: Random, practice: Practice) -> None:
    """The LSOAs a practice's patients live in, weighted towards deprived areas (more referrals)."""
    pool = practice.memberships[0].pcn.lsoas
    k = min(len(pool), max(3, round(len(pool) * rng.uniform(0.4, 0.8))))
    practice.lsoas = rng.sample(pool, k)
    practice.lsoa_cum = list(
        accumulate(rng.lognormvariate(0, 0.5) * (1.6 if a.decile <= 3 else 1.0) for a in practice.lsoas)
    )
