"""App events and transactions: millions of rows, generated as numpy arrays.

Each customer's events come from their latent rates (see :mod:`generator.customers`):

- app sessions (a login, then page views and clicks) at a heavy-tailed personal rate, busier in
  the weeks after sign-up; every app event's Beijing hour is at night (0:00–4:59) with the
  customer's ``night_share``;
- ``loan_apply`` page views at ``loan_apply_views_30d`` per 30 days (appetite for credit, i.e.
  shopping around for loans), plus one just before each application made in the app;
- device changes at ``device_changes_30d`` and location changes (trips away from the home city
  and back) at ``location_changes_30d`` per 30 days; later events carry the new device or city;
- transactions at a personal rate, a ``risky_spend_share`` of them in online_gaming,
  cash_withdrawal or p2p_transfer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker import Faker

from generator import geography as geo
from generator.dates import (
    DAY,
    Timeline,
    at_local_time,
    local_day_of,
    local_seconds,
)
from generator.identities import device_ids, sequential_ids

APP_SHARE = 0.6  # share of the behaviour budget that is app events (the rest: transactions)
EVENT_TYPES = ("login", "page_view", "click", "device_change", "location_change")
_LOGIN, _PAGE_VIEW, _CLICK, _DEVICE_CHANGE, _LOCATION_CHANGE = range(5)
PAGES = (
    "home",
    "promo",
    "credit_limit",
    "bill",
    "repayment",
    "profile",
    "coupon",
    "customer_service",
    "loan_apply",
)
_LOAN_APPLY = PAGES.index("loan_apply")
_PAGE_P = np.array([0.32, 0.12, 0.12, 0.12, 0.10, 0.08, 0.08, 0.06, 0.0])
PAGE_VIEWS_PER_SESSION = 0.8
CLICKS_PER_SESSION = 0.4
_BURST, _BURST_DAYS = 2.0, 45.0  # activity is 3x higher right after sign-up, fading over ~45 days
_ANDROID = ("Android 11", "Android 12", "Android 13", "Android 14")
_IOS = ("iOS 16", "iOS 17", "iOS 18")

RISKY_CATEGORIES = ("online_gaming", "cash_withdrawal", "p2p_transfer")
#: What a distressed borrower does (generator.in_loan): borrow cash to repay.
DISTRESS_CATEGORIES = ("cash_withdrawal", "p2p_transfer")
_RISKY_P = np.array([0.35, 0.35, 0.30])
EVERYDAY_CATEGORIES = (
    "groceries",
    "dining",
    "transport",
    "shopping_online",
    "utilities",
    "entertainment",
    "healthcare",
    "travel",
    "electronics",
    "education",
    "luxury",
)
_EVERYDAY_P = np.array([0.22, 0.20, 0.12, 0.16, 0.06, 0.07, 0.04, 0.04, 0.03, 0.02, 0.01])
_EVERYDAY_P /= _EVERYDAY_P.sum()
CATEGORIES = EVERYDAY_CATEGORIES + RISKY_CATEGORIES
# median amount in CNY for a 6,000 CNY/month earner, and merchant pool size
_CATEGORY_MEDIAN = {
    "groceries": 45,
    "dining": 40,
    "transport": 18,
    "shopping_online": 120,
    "utilities": 150,
    "entertainment": 60,
    "healthcare": 120,
    "travel": 800,
    "electronics": 1500,
    "education": 1200,
    "luxury": 5000,
    "online_gaming": 48,
    "cash_withdrawal": 800,
    "p2p_transfer": 400,
}
_CHAINS = {
    "groceries": ("永辉超市", "华润万家", "物美超市", "盒马鲜生", "美宜佳", "罗森", "全家便利店"),
    "dining": ("肯德基", "麦当劳", "海底捞", "瑞幸咖啡", "星巴克", "喜茶", "蜜雪冰城"),
    "transport": ("滴滴出行", "中国石化", "中国石油", "哈啰出行", "铁路12306"),
    "shopping_online": ("淘宝", "天猫", "京东", "拼多多", "唯品会", "抖音商城"),
    "utilities": ("国家电网", "南方电网", "中国移动", "中国联通", "中国电信"),
    "entertainment": ("万达影城", "猫眼电影", "爱奇艺", "腾讯视频", "网易云音乐"),
    "healthcare": ("大参林", "老百姓大药房", "益丰大药房", "国大药房"),
    "travel": ("携程旅行", "飞猪", "去哪儿", "中国国际航空", "东方航空", "华住酒店"),
    "electronics": ("苏宁易购", "国美电器", "小米之家", "华为体验店", "Apple Store"),
    "education": ("新东方", "学而思", "粉笔教育", "网易有道"),
    "luxury": ("周大福", "老凤祥", "LV", "GUCCI", "卡地亚"),
    "online_gaming": ("腾讯游戏", "网易游戏", "米哈游", "完美世界", "三七互娱"),
    "cash_withdrawal": (
        "中国工商银行ATM",
        "中国建设银行ATM",
        "中国农业银行ATM",
        "中国银行ATM",
        "招商银行ATM",
        "交通银行ATM",
        "中国邮政储蓄银行ATM",
    ),
}
_LOCAL_SUFFIX = {
    "groceries": ("超市", "便利店", "生鲜店"),
    "dining": ("餐厅", "面馆", "火锅店", "小吃店"),
    "transport": ("加油站",),
    "shopping_online": ("旗舰店", "专营店"),
    "utilities": ("燃气公司", "水务公司"),
    "entertainment": ("KTV", "影城", "网咖"),
    "healthcare": ("诊所", "药房"),
    "travel": ("酒店", "旅行社"),
    "electronics": ("数码", "手机店"),
    "education": ("培训中心",),
    "luxury": ("珠宝",),
    "online_gaming": ("游戏",),
}
_POOL_SIZE = {
    "groceries": 300,
    "dining": 400,
    "transport": 40,
    "shopping_online": 80,
    "utilities": 20,
    "entertainment": 80,
    "healthcare": 60,
    "travel": 40,
    "electronics": 50,
    "education": 40,
    "luxury": 20,
    "online_gaming": 30,
    "cash_withdrawal": 7,
    "p2p_transfer": 2,
}


def _active_days(customers: pd.DataFrame, timeline: Timeline) -> np.ndarray:
    return np.maximum((timeline.end - customers["registered_at"].to_numpy()) / DAY, 0.0)


def _burst_weight(days: np.ndarray) -> np.ndarray:
    """Expected activity over ``days`` relative to a flat rate of one per day."""
    return days + _BURST * _BURST_DAYS * (1 - np.exp(-days / _BURST_DAYS))


def _poisson_times(
    rates_per_day: np.ndarray,
    start: np.ndarray,
    days: np.ndarray,
    rng: np.random.Generator,
    burst: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, UTC second) of a Poisson process per owner over ``[start, start + days]``."""
    weight = _burst_weight(days) if burst else days
    counts = rng.poisson(rates_per_day * weight)
    owner = np.repeat(np.arange(len(counts)), counts)
    d = days[owner]
    if burst:
        in_burst = rng.random(len(owner)) < 1 - d / np.maximum(_burst_weight(d), 1e-9)
        decay = 1 - np.exp(-d / _BURST_DAYS)
        offset = np.where(
            in_burst,
            -_BURST_DAYS * np.log1p(-rng.random(len(owner)) * decay),
            rng.random(len(owner)) * d,
        )
    else:
        offset = rng.random(len(owner)) * d
    return owner, start[owner] + (offset * DAY).astype("int64")


def _on_local_clock(t: np.ndarray, night_prob: np.ndarray, rng: np.random.Generator):
    return at_local_time(local_day_of(t), local_seconds(len(t), rng, night_prob))


def build_app_events(
    customers: pd.DataFrame,
    applications: pd.DataFrame,
    timeline: Timeline,
    budget: int,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """App events (landing columns plus ``customer_index``), sorted by time, and the device ids.

    Returns the events and, per application row, the device the customer used at that moment.
    """
    n = len(customers)
    registered = customers["registered_at"].to_numpy()
    days = _active_days(customers, timeline)
    night = customers["night_share"].to_numpy()
    app_apps = applications[applications["channel"] == "app"]

    rates = {
        _DEVICE_CHANGE: customers["device_changes_30d"].to_numpy() / 30,
        _LOCATION_CHANGE: customers["location_changes_30d"].to_numpy() / 30,
        _PAGE_VIEW: customers["loan_apply_views_30d"].to_numpy() / 30,
    }
    fixed = sum(float((r * days).sum()) for r in rates.values()) + len(app_apps)
    if fixed > 0.7 * budget:
        # a small budget: thin out every process alike, so the rates still rank customers
        shrink = 0.7 * budget / fixed
        rates = {kind: rate * shrink for kind, rate in rates.items()}
        fixed *= shrink
    per_session = 1 + PAGE_VIEWS_PER_SESSION + CLICKS_PER_SESSION
    activity = customers["app_activity"].to_numpy()
    scale = max(budget - fixed, 0.0) / (
        per_session * float((activity * _burst_weight(days)).sum()) or 1.0
    )

    start = registered + 60
    # sessions: a login, then page views and clicks within minutes
    s_owner, s_time = _poisson_times(scale * activity, start, days, rng, burst=True)
    s_time = _on_local_clock(s_time, night[s_owner], rng)
    n_views = rng.poisson(PAGE_VIEWS_PER_SESSION, len(s_owner))
    n_clicks = rng.poisson(CLICKS_PER_SESSION, len(s_owner))
    v_session = np.repeat(np.arange(len(s_owner)), n_views)
    c_session = np.repeat(np.arange(len(s_owner)), n_clicks)
    parts = [
        (s_owner, s_time, np.full(len(s_owner), _LOGIN), np.full(len(s_owner), -1)),
        (
            s_owner[v_session],
            s_time[v_session] + rng.integers(3, 600, len(v_session)),
            np.full(len(v_session), _PAGE_VIEW),
            rng.choice(len(PAGES), size=len(v_session), p=_PAGE_P),
        ),
        (
            s_owner[c_session],
            s_time[c_session] + rng.integers(5, 900, len(c_session)),
            np.full(len(c_session), _CLICK),
            rng.choice(len(PAGES), size=len(c_session), p=_PAGE_P),
        ),
    ]
    for kind, rate in rates.items():
        owner, t = _poisson_times(rate, start, days, rng, burst=False)
        t = _on_local_clock(t, night[owner], rng)
        page = np.full(len(owner), _LOAN_APPLY if kind == _PAGE_VIEW else -1)
        parts.append((owner, t, np.full(len(owner), kind), page))
    # the loan_apply page view right before applying in the app
    parts.append(
        (
            app_apps["customer_index"].to_numpy(),
            app_apps["applied_at"].to_numpy() - rng.integers(60, 900, len(app_apps)),
            np.full(len(app_apps), _PAGE_VIEW),
            np.full(len(app_apps), _LOAN_APPLY),
        )
    )
    owner = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts])
    page = np.concatenate([p[3] for p in parts])
    keep = (t >= registered[owner] + 1) & (t <= timeline.end)
    owner, t, kind, page = owner[keep], t[keep], kind[keep], page[keep]
    order = np.lexsort((kind, t, owner))
    owner, t, kind, page = owner[order], t[order], kind[order], page[order]

    # device epochs: each device change starts a new device for the events after it
    is_dc = kind == _DEVICE_CHANGE
    first_row = np.searchsorted(owner, np.arange(n))
    cum_dc = np.cumsum(is_dc)
    dc_before_customer = np.concatenate([[0], cum_dc])[first_row]
    device_number = cum_dc - dc_before_customer[owner]
    devices_per_customer = 1 + np.bincount(owner[is_dc], minlength=n)
    device_offset = np.concatenate([[0], np.cumsum(devices_per_customer)[:-1]])
    device_owner = np.repeat(np.arange(n), devices_per_customer)
    first_device = device_offset[device_owner] == np.arange(len(device_owner))
    is_ios = np.where(
        first_device | (rng.random(len(device_owner)) < 0.85),
        customers["is_ios_user"].to_numpy()[device_owner],
        ~customers["is_ios_user"].to_numpy()[device_owner],
    )
    device_table = device_ids(is_ios, rng)
    device_os = np.where(
        is_ios,
        np.array(_IOS)[rng.integers(0, len(_IOS), len(is_ios))],
        np.array(_ANDROID)[rng.integers(0, len(_ANDROID), len(is_ios))],
    )
    device = device_offset[owner] + device_number

    # location epochs: odd-numbered location changes leave home, even ones come back
    home = customers["city_index"].to_numpy()
    is_lc = kind == _LOCATION_CHANGE
    cum_lc = np.cumsum(is_lc)
    lc_number = cum_lc - np.concatenate([[0], cum_lc])[first_row][owner]
    destination = (home[owner] + 1 + rng.integers(0, len(geo.CITIES) - 1, len(owner))) % len(
        geo.CITIES
    )
    last_lc = np.maximum.accumulate(np.where(is_lc, np.arange(len(owner)), -1))
    away = (lc_number % 2 == 1) & (last_lc >= 0)
    city = np.where(away, destination[np.maximum(last_lc, 0)], home[owner])

    lat = np.round(geo.CITY_LATITUDES[city] + rng.normal(0, 0.03, len(city)), 6)
    lon = np.round(geo.CITY_LONGITUDES[city] + rng.normal(0, 0.03, len(city)), 6)

    # device used for each application: the one current at the application time
    dc_key = owner[is_dc].astype("int64") * (1 << 32) + t[is_dc]
    app_owner = applications["customer_index"].to_numpy().astype("int64")
    app_key = app_owner * (1 << 32) + applications["applied_at"].to_numpy()
    changes_before = np.searchsorted(dc_key, app_key, side="right") - np.searchsorted(
        dc_key, app_owner * (1 << 32), side="left"
    )
    application_devices = device_table[device_offset[app_owner] + changes_before]

    by_time = np.lexsort((kind, owner, t))
    owner, t, kind, page = owner[by_time], t[by_time], kind[by_time], page[by_time]
    device, city, lat, lon = device[by_time], city[by_time], lat[by_time], lon[by_time]
    os_names = np.array(_ANDROID + _IOS)
    os_index = np.searchsorted(np.sort(os_names), device_os)
    events = pd.DataFrame(
        {
            "event_id": sequential_ids("E", len(t), 11),
            "customer_id": pd.Categorical.from_codes(owner, customers["customer_id"].to_numpy()),
            "event_at": t,
            "event_type": pd.Categorical.from_codes(kind, EVENT_TYPES),
            "page": pd.Categorical.from_codes(page, PAGES),
            "device_id": pd.Categorical.from_codes(device, device_table),
            "os": pd.Categorical.from_codes(os_index[device], np.sort(os_names)),
            "city": pd.Categorical.from_codes(city, geo.CITY_NAMES),
            "latitude": lat,
            "longitude": lon,
            "customer_index": owner,
        }
    )
    return events, application_devices


def build_merchants(fake: Faker) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per category: merchant ids and names (chains first, then local businesses)."""
    merchants: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    number = 0
    for category in CATEGORIES:
        size = _POOL_SIZE[category]
        if category == "p2p_transfer":
            merchants[category] = (np.array(["P2P0000001", "P2P0000002"]), np.array([None, None]))
            continue
        chains = list(_CHAINS.get(category, ()))[:size]
        suffixes = _LOCAL_SUFFIX.get(category, ())
        local = [
            fake.company_prefix() + suffixes[i % len(suffixes)] for i in range(size - len(chains))
        ]
        names = chains + local
        ids = [f"M{number + i + 1:07d}" for i in range(len(names))]
        number += len(names)
        merchants[category] = (np.array(ids), np.array(names, dtype=object))
    return merchants


def build_transactions(
    customers: pd.DataFrame,
    timeline: Timeline,
    budget: int,
    merchants: dict[str, tuple[np.ndarray, np.ndarray]],
    rng: np.random.Generator,
    distress: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Card and wallet transactions (landing columns plus ``customer_index``), sorted by time.

    ``distress`` adds (customer_index, seconds) transactions of distressed months
    (:mod:`generator.in_loan`): cash withdrawals and peer transfers.
    """
    days = _active_days(customers, timeline)
    activity = customers["spend_activity"].to_numpy()
    scale = budget / max(float((activity * days).sum()), 1.0)
    owner, t = _poisson_times(
        scale * activity, customers["registered_at"].to_numpy() + 60, days, rng, burst=False
    )
    t = _on_local_clock(t, 0.03, rng)
    keep = (t > customers["registered_at"].to_numpy()[owner]) & (t <= timeline.end)
    owner, t = owner[keep], t[keep]
    forced = np.zeros(len(owner), dtype=bool)
    if distress is not None:
        in_range = distress[1] <= timeline.end
        owner = np.concatenate([owner, distress[0][in_range]])
        t = np.concatenate([t, distress[1][in_range]])
        forced = np.concatenate([forced, np.ones(int(in_range.sum()), dtype=bool)])
    m = len(owner)

    risky = rng.random(m) < customers["risky_spend_share"].to_numpy()[owner]
    category = np.where(
        risky,
        len(EVERYDAY_CATEGORIES) + rng.choice(len(RISKY_CATEGORIES), size=m, p=_RISKY_P),
        rng.choice(len(EVERYDAY_CATEGORIES), size=m, p=_EVERYDAY_P),
    )
    distress_category = np.array([CATEGORIES.index(c) for c in DISTRESS_CATEGORIES])
    category = np.where(forced, distress_category[rng.integers(0, 2, m)], category)
    income = customers["monthly_income_cny"].to_numpy()[owner] / 100
    median = np.array([_CATEGORY_MEDIAN[c] for c in CATEGORIES])[category]
    amount = median * (income / 6000) ** 0.4 * rng.lognormal(0, 0.7, m)
    cash = category == CATEGORIES.index("cash_withdrawal")
    amount = np.where(cash, np.maximum(np.round(amount, -2), 100), amount)
    amount_fen = np.maximum(np.round(amount * 100), 100).astype("int64")

    all_ids = np.concatenate([merchants[c][0] for c in CATEGORIES])
    all_names = np.concatenate([merchants[c][1] for c in CATEGORIES])
    first = np.cumsum([0] + [len(merchants[c][0]) for c in CATEGORIES])
    merchant = np.empty(m, dtype="int64")
    for c, name in enumerate(CATEGORIES):
        idx = np.flatnonzero(category == c)
        pool = len(merchants[name][0])
        popularity = 1.0 / (np.arange(pool) + 5.0)
        merchant[idx] = first[c] + rng.choice(pool, size=len(idx), p=popularity / popularity.sum())
    has_name = np.array([v is not None for v in all_names.tolist()])
    name_values, name_code = np.unique(
        np.where(has_name, all_names, "").astype(str), return_inverse=True
    )
    name_code = np.where(has_name, name_code, -1)

    order = np.lexsort((owner, t))
    owner, t, merchant = owner[order], t[order], merchant[order]
    return pd.DataFrame(
        {
            "transaction_id": sequential_ids("T", m, 11),
            "customer_id": pd.Categorical.from_codes(owner, customers["customer_id"].to_numpy()),
            "transacted_at": t,
            "amount_cny": amount_fen[order],
            "category": pd.Categorical.from_codes(category[order], CATEGORIES),
            "merchant_id": pd.Categorical.from_codes(merchant, all_ids),
            "merchant_name": pd.Categorical.from_codes(name_code[merchant], name_values),
            "customer_index": owner,
        }
    )
