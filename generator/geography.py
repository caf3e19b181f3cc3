"""Where customers live: real cities with their province, tier and coordinates.

Faker's ``zh_CN`` city names are partly invented and carry no province or location, so the
generator keeps its own small table of real prefecture-level cities. ID-number area codes come
from Faker's list of real GB/T 2260 district codes, filtered to the holder's province of origin.
"""

from __future__ import annotations

from functools import cache

import numpy as np

PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}

# city, province code, tier (1 = 北上广深 … 4), latitude, longitude, relative customer weight
CITIES: tuple[tuple[str, str, int, float, float, float], ...] = (
    ("北京市", "11", 1, 39.904, 116.407, 6.0),
    ("上海市", "31", 1, 31.230, 121.474, 6.0),
    ("广州市", "44", 1, 23.129, 113.264, 5.0),
    ("深圳市", "44", 1, 22.543, 114.058, 5.0),
    ("成都市", "51", 2, 30.573, 104.066, 4.5),
    ("重庆市", "50", 2, 29.563, 106.551, 4.5),
    ("杭州市", "33", 2, 30.274, 120.155, 3.5),
    ("武汉市", "42", 2, 30.593, 114.305, 3.5),
    ("西安市", "61", 2, 34.341, 108.940, 3.0),
    ("苏州市", "32", 2, 31.299, 120.585, 3.0),
    ("南京市", "32", 2, 32.060, 118.797, 3.0),
    ("天津市", "12", 2, 39.343, 117.362, 3.0),
    ("长沙市", "43", 2, 28.228, 112.939, 3.0),
    ("郑州市", "41", 2, 34.747, 113.625, 3.0),
    ("东莞市", "44", 2, 23.021, 113.752, 3.0),
    ("青岛市", "37", 2, 36.067, 120.383, 2.5),
    ("沈阳市", "21", 2, 41.806, 123.432, 2.5),
    ("宁波市", "33", 2, 29.868, 121.544, 2.0),
    ("昆明市", "53", 2, 25.038, 102.718, 2.0),
    ("合肥市", "34", 3, 31.821, 117.227, 2.0),
    ("佛山市", "44", 3, 23.022, 113.122, 2.0),
    ("福州市", "35", 3, 26.075, 119.297, 1.8),
    ("厦门市", "35", 3, 24.480, 118.089, 1.5),
    ("济南市", "37", 3, 36.651, 117.120, 1.8),
    ("哈尔滨市", "23", 3, 45.803, 126.535, 1.8),
    ("长春市", "22", 3, 43.817, 125.324, 1.5),
    ("大连市", "21", 3, 38.914, 121.615, 1.5),
    ("南昌市", "36", 3, 28.683, 115.858, 1.5),
    ("南宁市", "45", 3, 22.817, 108.366, 1.5),
    ("贵阳市", "52", 3, 26.647, 106.630, 1.5),
    ("石家庄市", "13", 3, 38.043, 114.515, 1.8),
    ("太原市", "14", 3, 37.871, 112.549, 1.4),
    ("无锡市", "32", 3, 31.491, 120.312, 1.4),
    ("温州市", "33", 3, 27.994, 120.699, 1.4),
    ("呼和浩特市", "15", 3, 40.842, 111.749, 0.9),
    ("兰州市", "62", 3, 36.061, 103.834, 1.0),
    ("乌鲁木齐市", "65", 3, 43.826, 87.617, 1.0),
    ("海口市", "46", 3, 20.044, 110.199, 0.8),
    ("银川市", "64", 3, 38.487, 106.231, 0.6),
    ("西宁市", "63", 3, 36.617, 101.778, 0.5),
    ("徐州市", "32", 3, 34.205, 117.285, 1.4),
    ("洛阳市", "41", 4, 34.620, 112.454, 1.2),
    ("商丘市", "41", 4, 34.415, 115.656, 1.0),
    ("周口市", "41", 4, 33.626, 114.697, 1.0),
    ("绵阳市", "51", 4, 31.468, 104.679, 1.0),
    ("南充市", "51", 4, 30.838, 106.111, 1.0),
    ("赣州市", "36", 4, 25.831, 114.935, 1.1),
    ("桂林市", "45", 4, 25.274, 110.290, 0.8),
    ("遵义市", "52", 4, 27.725, 106.927, 0.9),
    ("邯郸市", "13", 4, 36.625, 114.539, 1.0),
    ("保定市", "13", 4, 38.874, 115.465, 1.0),
    ("襄阳市", "42", 4, 32.009, 112.122, 0.9),
    ("岳阳市", "43", 4, 29.357, 113.129, 0.8),
    ("阜阳市", "34", 4, 32.890, 115.814, 1.0),
    ("六安市", "34", 4, 31.735, 116.523, 0.8),
    ("曲靖市", "53", 4, 25.490, 103.796, 0.8),
    ("汕头市", "44", 4, 23.354, 116.682, 0.9),
    ("湛江市", "44", 4, 21.271, 110.359, 0.8),
    ("临沂市", "37", 4, 35.104, 118.356, 1.1),
)

CITY_NAMES = np.array([c[0] for c in CITIES])
CITY_PROVINCE_CODES = np.array([c[1] for c in CITIES])
CITY_TIERS = np.array([c[2] for c in CITIES], dtype="int64")
CITY_LATITUDES = np.array([c[3] for c in CITIES])
CITY_LONGITUDES = np.array([c[4] for c in CITIES])
CITY_WEIGHTS = np.array([c[5] for c in CITIES]) / sum(c[5] for c in CITIES)

#: Provinces most migrant workers (新市民) come from, and how often.
MIGRANT_ORIGINS: dict[str, float] = {
    "41": 0.18,
    "51": 0.14,
    "34": 0.13,
    "43": 0.11,
    "36": 0.09,
    "42": 0.09,
    "45": 0.08,
    "52": 0.07,
    "37": 0.06,
    "13": 0.05,
}


@cache
def district_codes(province_code: str) -> tuple[str, ...]:
    """Real county-level area codes (first six ID digits) of a province."""
    from faker.providers.ssn.zh_CN import Provider

    codes = tuple(
        sorted(
            c for c in Provider.area_codes if c.startswith(province_code) and not c.endswith("00")
        )
    )
    if not codes:
        raise ValueError(f"no area codes known for province code {province_code!r}")
    return codes


def sample_area_codes(province_codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One district code per person, drawn within each person's province."""
    out = np.empty(len(province_codes), dtype="<U6")
    for code in sorted(set(province_codes.tolist())):
        idx = np.flatnonzero(province_codes == code)
        choices = np.array(district_codes(code))
        out[idx] = choices[rng.integers(0, len(choices), len(idx))]
    return out
